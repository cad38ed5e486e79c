package adminapi

import (
	"context"

	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/accounts"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
)

// AppRequest adds an app to the catalog.
type AppRequest struct {
	Name      string `json:"name"`
	Kind      string `json:"kind"` // packager, inhouse or appsandbooks
	PackageID string `json:"package_id,omitempty"`
	BundleID  string `json:"bundle_id,omitempty"`
	Version   string `json:"version,omitempty"`
	Priority  bool   `json:"priority,omitempty"`
	// File is a flat PKG on the server's host, for local callers only: it
	// never travels, so no remote caller names a file of the server.
	File string `json:"-"`
}

// Image is an icon or a screenshot sent in a request: its bytes (base64
// in JSON), the file's name for messages, and its text alternative.
type Image struct {
	Name string `json:"name"`
	Data []byte `json:"data"`
	Alt  string `json:"alt,omitempty"`
}

// AppChange sets what Apps@Work shows about an app; absent fields keep
// their value, and Screenshots, when present, replaces the gallery.
type AppChange struct {
	ID               string   `json:"id"`
	Publisher        *string  `json:"publisher,omitempty"`
	Category         *string  `json:"category,omitempty"`
	ShortDescription *string  `json:"short_description,omitempty"`
	Description      *string  `json:"description,omitempty"`
	Icon             *Image   `json:"icon,omitempty"`
	IconAlt          *string  `json:"icon_alt,omitempty"`
	Screenshots      *[]Image `json:"screenshots,omitempty"`
}

// DistributionRequest replaces who an object is distributed to, with
// targets as --to takes them (all, none, user:EMAIL, usergroup:NAME,
// device:ID, group:NAME).
type DistributionRequest struct {
	ID string   `json:"id"`
	To []string `json:"to"`
}

// AppDistributions are an app's distributions, one a target.
type AppDistributions struct {
	Distributions []jsonview.AppDistribution `json:"distributions"`
}

// ReviewRequest adds a review of an app.
type ReviewRequest struct {
	ID     string `json:"id"`
	Author string `json:"author"`
	Rating int    `json:"rating"` // 1 to 5
	Text   string `json:"text,omitempty"`
}

// The app catalog and Apps@Work.
var (
	ListApps = register(&Endpoint[ListRequest, Page[jsonview.AppInfo]]{
		Name: "apps.list", Method: "GET", Path: "/apps", Class: accounts.ClassRead,
		Summary: "List the app catalog, with what Apps@Work shows of each app",
		Do: func(ctx context.Context, s *server.Server, req ListRequest) (Page[jsonview.AppInfo], error) {
			apps, err := s.Catalog(ctx)
			if err != nil {
				return Page[jsonview.AppInfo]{}, err
			}
			return paginate(mapSlice(apps, jsonview.NewAppInfo), req.PageRequest)
		},
	})
	AddApp = register(&Endpoint[AppRequest, jsonview.App]{
		Name: "apps.add", Method: "POST", Path: "/apps", Class: accounts.ClassAdmin,
		Summary: "Add an app to the catalog",
		Do: func(ctx context.Context, s *server.Server, req AppRequest) (jsonview.App, error) {
			a, err := s.AddApp(ctx, server.AddAppRequest{
				Name: req.Name, Kind: req.Kind, PackageID: req.PackageID, BundleID: req.BundleID,
				Version: req.Version, Priority: req.Priority, File: req.File,
			})
			return jsonview.NewApp(a), err
		},
	})
	SetApp = register(&Endpoint[AppChange, jsonview.AppInfo]{
		Name: "apps.set", Method: "PATCH", Path: "/apps/{id}", Class: accounts.ClassAdmin,
		Summary: "Set what Apps@Work shows about an app",
		Do: func(ctx context.Context, s *server.Server, req AppChange) (jsonview.AppInfo, error) {
			set := server.SetAppRequest{
				Publisher: req.Publisher, Category: req.Category, ShortDescription: req.ShortDescription,
				Description: req.Description, IconAlt: req.IconAlt,
			}
			if req.Icon != nil {
				set.Icon, set.IconData = &req.Icon.Name, nonNilBytes(req.Icon.Data)
			}
			if req.Screenshots != nil {
				set.Screenshots = []server.ScreenshotFile{}
				for _, sh := range *req.Screenshots {
					set.Screenshots = append(set.Screenshots, server.ScreenshotFile{Path: sh.Name, Data: nonNilBytes(sh.Data), Alt: sh.Alt})
				}
			}
			info, err := s.SetApp(ctx, req.ID, set)
			if err != nil {
				return jsonview.AppInfo{}, err
			}
			return jsonview.NewAppInfo(info), nil
		},
	})
	DistributeApp = register(&Endpoint[DistributionRequest, AppDistributions]{
		Name: "apps.distribute", Method: "POST", Path: "/apps/{id}/distribution", Class: accounts.ClassAdmin,
		Summary: "Replace who sees an app in Apps@Work",
		Do: func(ctx context.Context, s *server.Server, req DistributionRequest) (AppDistributions, error) {
			ds, err := s.DistributeApp(ctx, req.ID, req.To)
			return AppDistributions{Distributions: mapSlice(ds, jsonview.NewAppDistribution)}, err
		},
	})
	ReviewApp = register(&Endpoint[ReviewRequest, jsonview.Review]{
		Name: "apps.review", Method: "POST", Path: "/apps/{id}/reviews", Class: accounts.ClassAdmin,
		Summary: "Add a user review of an app",
		Do: func(ctx context.Context, s *server.Server, req ReviewRequest) (jsonview.Review, error) {
			r, err := s.AddReview(ctx, req.ID, req.Author, req.Rating, req.Text)
			return jsonview.NewReview(r), err
		},
	})
)

// nonNilBytes keeps an image sent empty an empty image, which the server
// refuses, rather than a file on the server's host to read.
func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
