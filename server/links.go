package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mobileatwork/mobileatwork/server/store"
)

// LinkTokenGrace is how long the token inside a link's package outlives
// the link: a package downloaded at the link's last moment still has that
// long to be installed.
const LinkTokenGrace = 7 * 24 * time.Hour

// linkSecretLen is the length of a link's secret: 32 random bytes,
// base64url without padding.
const linkSecretLen = 43

// LinkInfo is a download link as the administrator sees it.
type LinkInfo struct {
	ID             string
	URL            string // only when created: the one time the secret is shown
	User           string
	Uses           int
	Downloads      int
	LastDownloadAt time.Time
	State          string // store.LinkActive, LinkUsed, LinkExpired, LinkRevoked
	ExpiresAt      time.Time
	CreatedAt      time.Time
	RevokedAt      time.Time
	PackageSHA256  string // once built
	TokenID        string // the package's token, once built
}

func (s *Server) linkInfo(l store.Link) LinkInfo {
	return LinkInfo{
		ID: l.ID, User: l.User, Uses: l.Uses, Downloads: l.Downloads, LastDownloadAt: l.LastDownloadAt,
		State: l.State(s.now()), ExpiresAt: l.ExpiresAt, CreatedAt: l.CreatedAt, RevokedAt: l.RevokedAt,
		PackageSHA256: l.PackageSHA256, TokenID: l.TokenID,
	}
}

// CreateLink makes a download link of an enrolling package for user (may
// be empty), good for uses downloads within ttl. Its URL, returned once,
// is the only place its secret appears; the store keeps its hash.
func (s *Server) CreateLink(ctx context.Context, user string, uses int, ttl time.Duration) (LinkInfo, error) {
	if err := checkTokenArgs(user, uses, ttl); err != nil {
		return LinkInfo{}, err
	}
	urls, err := s.TenantURLs(ctx)
	if err != nil {
		return LinkInfo{}, err
	}
	if urls.EnrollURL == "" {
		return LinkInfo{}, invalid("the tenant keeps no %s: set the public address of `serve --enroll-listen` with `mobileatwork-server tenant set %s=https://HOST[:PORT]`", KeyEnrollURL, KeyEnrollURL)
	}
	if urls.ServerURL == "" {
		return LinkInfo{}, invalid("the tenant keeps no %s, which the link's package needs: set the device API's public address with `mobileatwork-server tenant set %s=https://HOST[:PORT]`", KeyServerURL, KeyServerURL)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return LinkInfo{}, err
	}
	secret := base64.RawURLEncoding.EncodeToString(b)
	now := s.now()
	l := store.Link{
		ID: newID("lnk"), Hash: linkHash(secret), User: strings.ToLower(strings.TrimSpace(user)), Uses: uses,
		ExpiresAt: now.Add(ttl), CreatedAt: now,
	}
	if err := s.Store.CreateLink(ctx, l); err != nil {
		return LinkInfo{}, err
	}
	li := s.linkInfo(l)
	li.URL = urls.EnrollURL + "/e/" + secret
	return li, s.audit(ctx, "link.create", "link "+l.ID, fmt.Sprintf("user: %s; uses: %d; expires: %s", orNone(l.User), l.Uses, stampOrNever(l.ExpiresAt)))
}

func linkHash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// Links lists the download links, the oldest first.
func (s *Server) Links(ctx context.Context) ([]LinkInfo, error) {
	ls, err := s.Store.Links(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]LinkInfo, 0, len(ls))
	for _, l := range ls {
		out = append(out, s.linkInfo(l))
	}
	return out, nil
}

// RevokeLink makes a link unusable at once. The token of its package is
// revoked with it, and the package is no longer kept: a package downloaded
// before no longer enrolls.
func (s *Server) RevokeLink(ctx context.Context, id string) (LinkInfo, error) {
	before, err := s.Store.Links(ctx)
	if err != nil {
		return LinkInfo{}, err
	}
	l, err := s.Store.RevokeLink(ctx, strings.TrimSpace(id), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return LinkInfo{}, invalid("no link %q; see `mobileatwork-server link list`", id)
	} else if err != nil {
		return LinkInfo{}, err
	}
	if l.TokenID != "" {
		if _, err := s.Store.RevokeToken(ctx, l.TokenID, s.now()); err != nil && !errors.Is(err, store.ErrNotFound) {
			return LinkInfo{}, err
		}
	}
	if l.PackageSHA256 != "" {
		if err := s.Files.Delete(l.PackageSHA256); err != nil {
			return LinkInfo{}, err
		}
	}
	was := ""
	for _, b := range before {
		if b.ID == l.ID {
			was = s.linkInfo(b).State
		}
	}
	if was == store.LinkRevoked { // nothing changed
		return s.linkInfo(l), nil
	}
	return s.linkInfo(l), s.audit(ctx, "link.revoke", "link "+l.ID, changes(change("state", was, store.LinkRevoked), "package token: "+orNone(l.TokenID)))
}
