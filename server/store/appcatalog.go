package store

import (
	"context"
	"time"

	"github.com/mobileatwork/mobileatwork/server/distribution"
)

// Image is an icon or screenshot of a catalog app, kept under the data
// directory and named by its SHA-256.
type Image struct {
	SHA256      string `json:"sha256"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"` // image/png or image/jpeg, sniffed
	Alt         string `json:"alt"`          // text alternative, shown to screen readers
}

// AppDetails is what the Apps@Work detail page shows beyond the catalog
// entry itself.
type AppDetails struct {
	AppID            string
	Publisher        string
	Category         string
	ShortDescription string
	Description      string
	Icon             *Image
	Screenshots      []Image
	UpdatedAt        time.Time
}

// Review is one user review of a catalog app.
type Review struct {
	ID        string
	AppID     string
	Author    string
	Rating    int // 1..5
	Text      string
	CreatedAt time.Time
}

// AppDistribution makes a catalog app available to a set of devices,
// targeted like assignments (Target...).
type AppDistribution struct {
	ID        string
	AppID     string
	Target    string
	TargetID  string
	CreatedAt time.Time
}

// AppCatalogStore keeps what Apps@Work shows and who sees which app.
type AppCatalogStore interface {
	// PutAppDetails replaces the details of an app; ErrNotFound if the
	// app is not in the catalog.
	PutAppDetails(ctx context.Context, d AppDetails) error
	// AppDetails returns an app's details; an app without any has zero
	// details with AppID set. ErrNotFound if the app is unknown.
	AppDetails(ctx context.Context, appID string) (AppDetails, error)
	// AddReview stores a review; ErrNotFound if the app is unknown,
	// ErrExists for a known review id.
	AddReview(ctx context.Context, r Review) error
	// Reviews returns an app's reviews, the newest first.
	Reviews(ctx context.Context, appID string) ([]Review, error)
	// AddAppDistribution stores a distribution; ErrNotFound if the app is
	// unknown; ErrExists when the app already has the same target.
	AddAppDistribution(ctx context.Context, d AppDistribution) error
	// AppDistributions returns every distribution, oldest first.
	AppDistributions(ctx context.Context) ([]AppDistribution, error)
	// AppDistributionsFor returns, through a targets index, oldest first,
	// every distribution whose target may reach the audience: a superset of
	// those distribution.Reaches accepts, never missing one.
	AppDistributionsFor(ctx context.Context, a distribution.Audience) ([]AppDistribution, error)
	// SetAppDistributions replaces all of an app's distributions with ds
	// (all for appID), in one transaction; ErrNotFound if the app is unknown.
	SetAppDistributions(ctx context.Context, appID string, ds []AppDistribution) error
}
