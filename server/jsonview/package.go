package jsonview

import (
	"time"

	"github.com/mobileatwork/mobileatwork/server"
)

// Package is an enrolling package: never its token, only the token's id.
type Package struct {
	Path      string     `json:"path"`
	SHA256    string     `json:"sha256"`
	Size      int64      `json:"size"`
	Version   string     `json:"version"`
	ServerURL string     `json:"server_url"`
	Signed    bool       `json:"signed"`
	TokenID   string     `json:"token_id"`
	User      string     `json:"user,omitempty"`
	Uses      int        `json:"uses"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// NewPackage shapes an enrolling package.
func NewPackage(p server.PackageInfo) Package {
	return Package{
		Path: p.Path, SHA256: p.SHA256, Size: p.Size, Version: p.Version, ServerURL: p.ServerURL, Signed: p.Signed,
		TokenID: p.Token.ID, User: p.Token.User, Uses: p.Token.UsesLeft, ExpiresAt: when(p.Token.ExpiresAt),
	}
}
