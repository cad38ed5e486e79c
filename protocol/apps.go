package protocol

import "time"

// App kinds, as the catalog and the onboarding plan name them.
const (
	AppKindPackager     = "packager"     // a PKG app of the tenant's packager catalog; not an onboarding stage
	AppKindInHouse      = "inhouse"      // the tenant's own PKG, installed by the agent
	AppKindAppsAndBooks = "appsandbooks" // bought through Apple Business Manager, installed by MDM
)

// Asset is a file the device may fetch from the tenant server over mutual
// TLS: an in-house PKG, an icon, a screenshot. Its digest travels inside the
// signed check-in response, so a download is trusted only if it hashes to it.
type Asset struct {
	URL         string `json:"url"` // a path on the tenant server
	SHA256      string `json:"sha256"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type,omitempty"`
	Alt         string `json:"alt,omitempty"` // text alternative of an image
}

// PackageETag is the entity tag the server gives a package: its SHA-256,
// quoted, a strong validator. The agent, knowing the digest from the
// signed check-in, resumes a download with it in If-Range: a file that
// changed under the same URL comes back whole, not spliced.
func PackageETag(sha256Hex string) string { return `"` + sha256Hex + `"` }

// Review is one user review of a catalog app.
type Review struct {
	Author string    `json:"author"`
	Rating int       `json:"rating"` // 1..5
	Text   string    `json:"text"`
	Date   time.Time `json:"date,omitzero"`
}

// AppOffer is an app of the catalog distributed to this device.
type AppOffer struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Kind      string `json:"kind"` // AppKind...
	PackageID string `json:"package_id,omitempty"`
	BundleID  string `json:"bundle_id,omitempty"`
	Version   string `json:"version,omitempty"`
	Priority  bool   `json:"priority,omitempty"` // an onboarding stage of its own

	Publisher        string   `json:"publisher,omitempty"`
	Category         string   `json:"category,omitempty"`
	ShortDescription string   `json:"short_description,omitempty"`
	Description      string   `json:"description,omitempty"`
	Icon             *Asset   `json:"icon,omitempty"`
	Screenshots      []Asset  `json:"screenshots,omitempty"`
	Rating           float64  `json:"rating,omitempty"` // average, 0 when unrated
	Reviews          []Review `json:"reviews,omitempty"`

	// Package is the in-house PKG to install, for AppKindInHouse.
	Package *Asset `json:"package,omitempty"`
}

// Profile is a configuration (profile) the onboarding waits for.
type Profile struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Identifier string `json:"identifier"` // PayloadIdentifier, as `profiles` lists it
}

// OnboardingPlan is the staged setup after automated enrollment.
type OnboardingPlan struct {
	Enabled             bool      `json:"enabled"`
	SetupTimeoutSeconds int       `json:"setup_timeout_seconds"`
	WindowMinutes       int       `json:"window_minutes"`
	LandingURL          string    `json:"landing_url,omitempty"`
	Profiles            []Profile `json:"profiles"`
}

// Catalog is the Apps@Work catalog as a device last received it: the
// offers of its latest verified check-in, kept in its state directory.
type Catalog struct {
	ReceivedAt time.Time  `json:"received_at"`
	Apps       []AppOffer `json:"apps"`
}
