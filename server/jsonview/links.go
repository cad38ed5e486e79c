package jsonview

import (
	"time"

	"github.com/mobileatwork/mobileatwork/server"
)

// Link is a download link; URL only when it was just created.
type Link struct {
	ID             string     `json:"id"`
	URL            string     `json:"url,omitempty"`
	User           string     `json:"user,omitempty"`
	Uses           int        `json:"uses"`
	Downloads      int        `json:"downloads"`
	LastDownloadAt *time.Time `json:"last_download_at,omitempty"`
	State          string     `json:"state"`
	ExpiresAt      *time.Time `json:"expires_at,omitempty"`
	CreatedAt      *time.Time `json:"created_at,omitempty"`
	RevokedAt      *time.Time `json:"revoked_at,omitempty"`
	PackageSHA256  string     `json:"package_sha256,omitempty"`
	TokenID        string     `json:"token_id,omitempty"`
}

// NewLink shapes a download link.
func NewLink(l server.LinkInfo) Link {
	return Link{
		ID: l.ID, URL: l.URL, User: l.User, Uses: l.Uses, Downloads: l.Downloads, LastDownloadAt: when(l.LastDownloadAt),
		State: l.State, ExpiresAt: when(l.ExpiresAt), CreatedAt: when(l.CreatedAt), RevokedAt: when(l.RevokedAt),
		PackageSHA256: l.PackageSHA256, TokenID: l.TokenID,
	}
}

// TenantURLs are the tenant's public URLs; empty strings when unset.
type TenantURLs struct {
	ServerURL string `json:"server_url"`
	EnrollURL string `json:"enroll_url"`
}

// NewTenantURLs shapes the tenant's public URLs.
func NewTenantURLs(u server.TenantURLs) TenantURLs {
	return TenantURLs{ServerURL: u.ServerURL, EnrollURL: u.EnrollURL}
}
