package jsonview

import (
	"time"

	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// App is a catalog entry. CreatedAt is always set: an entry exists only
// once created.
type App struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Kind       string    `json:"kind"`
	PackageID  string    `json:"package_id,omitempty"`
	BundleID   string    `json:"bundle_id,omitempty"`
	Version    string    `json:"version"`
	Priority   bool      `json:"priority"`
	FileSHA256 string    `json:"file_sha256,omitempty"`
	FileSize   int64     `json:"file_size,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// NewApp shapes a catalog entry.
func NewApp(a store.App) App {
	return App{a.ID, a.Name, a.Kind, a.PackageID, a.BundleID, a.Version, a.Priority, a.FileSHA256, a.FileSize, a.CreatedAt}
}

// AppInfo is a catalog entry with what Apps@Work shows about it.
type AppInfo struct {
	App
	Publisher        string            `json:"publisher,omitempty"`
	Category         string            `json:"category,omitempty"`
	ShortDescription string            `json:"short_description,omitempty"`
	Description      string            `json:"description,omitempty"`
	Icon             *Image            `json:"icon,omitempty"`
	Screenshots      []Image           `json:"screenshots"`
	Rating           float64           `json:"rating"`
	Reviews          []Review          `json:"reviews"`
	Distributions    []AppDistribution `json:"distributions"`
}

// Image is an icon or a screenshot kept in the file store.
type Image struct {
	SHA256      string `json:"sha256"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
	Alt         string `json:"alt"`
}

// Review is a user review of a catalog app.
type Review struct {
	ID     string    `json:"id"`
	Author string    `json:"author"`
	Rating int       `json:"rating"`
	Text   string    `json:"text"`
	Date   time.Time `json:"date"`
}

// NewReview shapes a review.
func NewReview(r store.Review) Review { return Review{r.ID, r.Author, r.Rating, r.Text, r.CreatedAt} }

// AppDistribution is one target an app is distributed to.
type AppDistribution struct {
	ID     string `json:"id"`
	Target string `json:"target"` // as given to --to
}

// NewAppDistribution shapes a distribution.
func NewAppDistribution(d store.AppDistribution) AppDistribution {
	t := d.Target
	if d.TargetID != "" {
		t += ":" + d.TargetID
	}
	return AppDistribution{d.ID, t}
}

func newImage(i store.Image) Image { return Image{i.SHA256, i.Size, i.ContentType, i.Alt} }

// NewAppInfo shapes a catalog entry with its details.
func NewAppInfo(info server.AppInfo) AppInfo {
	d := info.Details
	out := AppInfo{
		App: NewApp(info.App), Publisher: d.Publisher, Category: d.Category,
		ShortDescription: d.ShortDescription, Description: d.Description, Rating: info.Rating,
		Screenshots: []Image{}, Reviews: []Review{}, Distributions: []AppDistribution{},
	}
	if d.Icon != nil {
		icon := newImage(*d.Icon)
		out.Icon = &icon
	}
	for _, s := range d.Screenshots {
		out.Screenshots = append(out.Screenshots, newImage(s))
	}
	for _, r := range info.Reviews {
		out.Reviews = append(out.Reviews, NewReview(r))
	}
	for _, dist := range info.Distributions {
		out.Distributions = append(out.Distributions, NewAppDistribution(dist))
	}
	return out
}

// Profile is a configuration profile the onboarding waits for.
type Profile struct {
	ID           string       `json:"id"`
	Name         string       `json:"name"`
	Identifier   string       `json:"identifier"`
	Distribution Distribution `json:"distribution"`
	CreatedAt    time.Time    `json:"created_at"`
}

// NewProfile shapes a profile.
func NewProfile(p store.Profile) Profile {
	return Profile{p.ID, p.Name, p.Identifier, NewDistribution(p.Targets), p.CreatedAt}
}
