package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mobileatwork/mobileatwork/server/distribution"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// Limits of the texts an admin sets; they travel in every check-in
// response of the devices the app is distributed to.
const (
	maxShortText   = 256
	maxDescription = 8000
	maxReviewText  = 4000
	maxScreenshots = 10
	// offerReviews is how many reviews, the newest, a device receives.
	offerReviews = 20
)

// maxImage bounds one icon or screenshot.
const maxImage = 2 << 20

// Why an image is refused, tested with errors.Is.
var (
	errImageTooLarge = errors.New("image larger than 2 MB")
	errImageType     = errors.New("image is not a PNG or JPEG")
	errImageEmpty    = errors.New("image file is empty")
)

// checkImage returns the sniffed type of an image, or why it is refused.
// Images end up rendered by a browser on every managed Mac, so only PNG and
// JPEG are kept, decided by the bytes, never by the file name.
func checkImage(b []byte) (string, error) {
	switch {
	case len(b) == 0:
		return "", errImageEmpty
	case len(b) > maxImage:
		return "", fmt.Errorf("%w (%d bytes)", errImageTooLarge, len(b))
	}
	ct := http.DetectContentType(b)
	if ct != "image/png" && ct != "image/jpeg" {
		return "", fmt.Errorf("%w (the file looks like %s)", errImageType, ct)
	}
	return ct, nil
}

// MaxImageBytes bounds an image a caller reads for SetApp: one byte more
// than the limit lets the server say the image is too large.
const MaxImageBytes = maxImage + 1

// ReadImage reads at most MaxImageBytes of the image file at path.
func ReadImage(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read image: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxImageBytes))
	if err != nil {
		return nil, fmt.Errorf("read image %s: %w", path, err)
	}
	return b, nil
}

// importImage checks the image (data, or when nil the file at src) and
// keeps it in the file store.
func (s *Server) importImage(src string, data []byte, alt string) (store.Image, error) {
	b := data
	if b == nil {
		var err error
		if b, err = ReadImage(src); err != nil {
			return store.Image{}, err
		}
	}
	ct, err := checkImage(b)
	if err != nil {
		return store.Image{}, err
	}
	sum, err := s.Files.Put(b)
	if err != nil {
		return store.Image{}, fmt.Errorf("store image: %w", err)
	}
	return store.Image{SHA256: sum, Size: int64(len(b)), ContentType: ct, Alt: alt}, nil
}

// ScreenshotFile is one screenshot to import, with its text alternative:
// Data, or when nil the file at Path on the server's host. A caller that
// read the file itself (over the admin API) sends Data, Path naming it.
type ScreenshotFile struct {
	Path string
	Data []byte
	Alt  string
}

// SetAppRequest is what `app set` changes; nil fields stay as they are.
type SetAppRequest struct {
	Publisher        *string
	Category         *string
	ShortDescription *string
	Description      *string
	Icon             *string // path of a PNG or JPEG file, or its name when IconData is set
	IconData         []byte  // the icon itself; nil: read the file at Icon
	IconAlt          *string
	// Screenshots, when non-nil, replaces the whole gallery.
	Screenshots []ScreenshotFile
}

// AppInfo is a catalog entry with everything Apps@Work shows about it.
type AppInfo struct {
	store.App
	Details       store.AppDetails
	Rating        float64 // average, 0 when unrated
	Reviews       []store.Review
	Distributions []store.AppDistribution
}

func checkText(flag, v string, max int, multiline bool) error {
	switch {
	case !utf8.ValidString(v):
		return invalid("%s is not valid UTF-8", flag)
	case utf8.RuneCountInString(v) > max:
		return invalid("%s is longer than %d characters", flag, max)
	}
	for _, r := range v {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t')) {
			return invalid("%s contains control characters", flag)
		}
	}
	return nil
}

// SetApp updates the details of a catalog app; images are checked (PNG or
// JPEG, at most 2 MB) and kept under the data directory. Nothing is
// stored on error.
func (s *Server) SetApp(ctx context.Context, id string, req SetAppRequest) (AppInfo, error) {
	a, err := s.Store.App(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return AppInfo{}, invalid("no app %q; see `mobileatwork-server app list`", id)
	} else if err != nil {
		return AppInfo{}, err
	}
	d, err := s.Store.AppDetails(ctx, id)
	if err != nil {
		return AppInfo{}, err
	}
	before := d
	before.Screenshots = slices.Clone(d.Screenshots)
	if d.Icon != nil {
		icon := *d.Icon
		before.Icon = &icon
	}
	texts := []struct {
		flag      string
		v         *string
		dst       *string
		max       int
		multiline bool
	}{
		{"--publisher", req.Publisher, &d.Publisher, maxShortText, false},
		{"--category", req.Category, &d.Category, 64, false},
		{"--short-description", req.ShortDescription, &d.ShortDescription, maxShortText, false},
		{"--description", req.Description, &d.Description, maxDescription, true},
	}
	for _, t := range texts {
		if t.v == nil {
			continue
		}
		v := strings.TrimSpace(*t.v)
		if err := checkText(t.flag, v, t.max, t.multiline); err != nil {
			return AppInfo{}, err
		}
		*t.dst = v
	}
	if req.IconAlt != nil && req.Icon == nil && d.Icon == nil {
		return AppInfo{}, invalid("--icon-alt without an icon: give --icon FILE too")
	}
	if req.IconAlt != nil {
		if err := checkText("--icon-alt", strings.TrimSpace(*req.IconAlt), maxShortText, false); err != nil {
			return AppInfo{}, err
		}
	}
	if len(req.Screenshots) > maxScreenshots {
		return AppInfo{}, invalid("at most %d screenshots, got %d", maxScreenshots, len(req.Screenshots))
	}
	for _, sh := range req.Screenshots {
		if strings.TrimSpace(sh.Alt) == "" {
			return AppInfo{}, invalid("--screenshot %s: give a text alternative, as FILE=DESCRIPTION", sh.Path)
		}
		if err := checkText("--screenshot description", sh.Alt, maxShortText, false); err != nil {
			return AppInfo{}, err
		}
	}
	if req.Icon != nil {
		alt := a.Name + " icon"
		if req.IconAlt != nil {
			alt = strings.TrimSpace(*req.IconAlt)
		}
		img, err := s.importImage(*req.Icon, req.IconData, alt)
		if err != nil {
			return AppInfo{}, fmt.Errorf("%w: --icon %s: %v", ErrInvalid, *req.Icon, err)
		}
		d.Icon = &img
	} else if req.IconAlt != nil {
		d.Icon.Alt = strings.TrimSpace(*req.IconAlt)
	}
	if req.Screenshots != nil {
		d.Screenshots = d.Screenshots[:0:0]
		for _, sh := range req.Screenshots {
			img, err := s.importImage(sh.Path, sh.Data, strings.TrimSpace(sh.Alt))
			if err != nil {
				return AppInfo{}, fmt.Errorf("%w: --screenshot %s: %v", ErrInvalid, sh.Path, err)
			}
			d.Screenshots = append(d.Screenshots, img)
		}
	}
	d.AppID, d.UpdatedAt = id, s.now()
	if err := s.Store.PutAppDetails(ctx, d); err != nil {
		return AppInfo{}, fmt.Errorf("store app details: %w", err)
	}
	info, err := s.AppInfo(ctx, id)
	if err != nil {
		return AppInfo{}, err
	}
	return info, s.audit(ctx, "app.set", appObject(a), appDetailChanges(before, d))
}

func appObject(a store.App) string { return object("app", a.ID, a.Name) }

// appDetailChanges names the details an edit changed: short ones with
// their values, long ones and images by name.
func appDetailChanges(a, b store.AppDetails) string {
	parts := []string{change("publisher", a.Publisher, b.Publisher), change("category", a.Category, b.Category)}
	for _, f := range []struct {
		name    string
		changed bool
	}{
		{"short description", a.ShortDescription != b.ShortDescription},
		{"description", a.Description != b.Description},
		{"icon", !reflect.DeepEqual(a.Icon, b.Icon)},
		{"screenshots", !reflect.DeepEqual(a.Screenshots, b.Screenshots)},
	} {
		if f.changed {
			parts = append(parts, f.name+" changed")
		}
	}
	return orNoChange(changes(parts...))
}

// AddReview stores a user review of a catalog app.
func (s *Server) AddReview(ctx context.Context, appID, author string, rating int, text string) (store.Review, error) {
	author, text = strings.TrimSpace(author), strings.TrimSpace(text)
	switch {
	case author == "":
		return store.Review{}, invalid("--author is required")
	case rating < 1 || rating > 5:
		return store.Review{}, invalid("--rating %d: want 1 to 5", rating)
	}
	if err := checkText("--author", author, 128, false); err != nil {
		return store.Review{}, err
	}
	if err := checkText("--text", text, maxReviewText, true); err != nil {
		return store.Review{}, err
	}
	r := store.Review{ID: newID("rev"), AppID: appID, Author: author, Rating: rating, Text: text, CreatedAt: s.now()}
	if err := s.Store.AddReview(ctx, r); errors.Is(err, store.ErrNotFound) {
		return store.Review{}, invalid("no app %q; see `mobileatwork-server app list`", appID)
	} else if err != nil {
		return store.Review{}, fmt.Errorf("store review: %w", err)
	}
	return r, s.audit(ctx, "review.add", fmt.Sprintf("review %s of app %s", r.ID, r.AppID), fmt.Sprintf("rating: %d; author: %s", r.Rating, r.Author))
}

// DistributeApp replaces the distribution of a catalog app with the targets
// of the --to words (all, none, device:ID, group:NAME, user:EMAIL,
// usergroup:NAME, repeatable and comma-separated), read, checked and
// resolved as configurations' are. --to none withdraws the app.
func (s *Server) DistributeApp(ctx context.Context, appID string, words []string) ([]store.AppDistribution, error) {
	a, err := s.Store.App(ctx, appID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, invalid("no app %q; see `mobileatwork-server app list`", appID)
	} else if err != nil {
		return nil, err
	}
	before, err := s.appTargets(ctx, appID)
	if err != nil {
		return nil, err
	}
	ts, err := s.parseTargets(ctx, words)
	if err != nil {
		return nil, err
	}
	out := []store.AppDistribution{}
	for _, t := range ts {
		out = append(out, store.AppDistribution{ID: newID("dst"), AppID: appID, Target: t.Kind, TargetID: t.Value, CreatedAt: s.now()})
	}
	if err := s.Store.SetAppDistributions(ctx, appID, out); err != nil {
		return nil, fmt.Errorf("store distribution: %w", err)
	}
	return out, s.audit(ctx, "app.distribute", appObject(a), change("distribution", reachWords(before), reachWords(ts)))
}

// appTargets is an app's distribution as targets.
func (s *Server) appTargets(ctx context.Context, appID string) ([]distribution.Target, error) {
	ds, err := s.Store.AppDistributions(ctx)
	if err != nil {
		return nil, err
	}
	var out []distribution.Target
	for _, d := range ds {
		if d.AppID == appID {
			out = append(out, distribution.Target{Kind: d.Target, Value: d.TargetID})
		}
	}
	return out, nil
}

// AppInfo returns one catalog entry with its details, reviews and
// distributions.
func (s *Server) AppInfo(ctx context.Context, id string) (AppInfo, error) {
	a, err := s.Store.App(ctx, id)
	if err != nil {
		return AppInfo{}, err
	}
	all, err := s.Store.AppDistributions(ctx)
	if err != nil {
		return AppInfo{}, err
	}
	return s.appInfo(ctx, a, all)
}

// Catalog returns every catalog entry with its details, the oldest first.
func (s *Server) Catalog(ctx context.Context) ([]AppInfo, error) {
	apps, err := s.Store.Apps(ctx)
	if err != nil {
		return nil, fmt.Errorf("list apps: %w", err)
	}
	all, err := s.Store.AppDistributions(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]AppInfo, 0, len(apps))
	for _, a := range apps {
		info, err := s.appInfo(ctx, a, all)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

func (s *Server) appInfo(ctx context.Context, a store.App, all []store.AppDistribution) (AppInfo, error) {
	d, err := s.Store.AppDetails(ctx, a.ID)
	if err != nil {
		return AppInfo{}, err
	}
	rs, err := s.Store.Reviews(ctx, a.ID)
	if err != nil {
		return AppInfo{}, err
	}
	info := AppInfo{App: a, Details: d, Rating: averageRating(rs), Reviews: nonNil(rs), Distributions: []store.AppDistribution{}}
	for _, dist := range all {
		if dist.AppID == a.ID {
			info.Distributions = append(info.Distributions, dist)
		}
	}
	return info, nil
}

// averageRating is the mean rating rounded to one decimal, 0 when unrated.
func averageRating(rs []store.Review) float64 {
	if len(rs) == 0 {
		return 0
	}
	sum := 0
	for _, r := range rs {
		sum += r.Rating
	}
	return float64(int(float64(sum)/float64(len(rs))*10+0.5)) / 10
}
