package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/server/store"
)

func newLink(id string, uses int) store.Link {
	return store.Link{ID: id, Hash: tokenHash(id), User: "ada@example.com", Uses: uses, ExpiresAt: at(time.Hour), CreatedAt: at(0)}
}

func testLinks(t *testing.T, newStore NewStore) {
	t.Run("create and read", func(t *testing.T) {
		s := newStore(t)
		l := newLink("lnk_1", 2)
		if err := s.CreateLink(ctx(t), l); err != nil {
			t.Fatal(err)
		}
		for _, dup := range []store.Link{l, {ID: "lnk_2", Hash: l.Hash, Uses: 1, ExpiresAt: at(time.Hour), CreatedAt: at(0)}} {
			if err := s.CreateLink(ctx(t), dup); !errors.Is(err, store.ErrExists) {
				t.Errorf("CreateLink(%s) again = %v, want ErrExists", dup.ID, err)
			}
		}
		got, err := s.LinkByHash(ctx(t), l.Hash)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != l.ID || !bytes.Equal(got.Hash, l.Hash) || got.User != l.User || got.Uses != 2 || got.Downloads != 0 ||
			!got.ExpiresAt.Equal(l.ExpiresAt) || !got.CreatedAt.Equal(l.CreatedAt) || !got.RevokedAt.IsZero() ||
			!got.LastDownloadAt.IsZero() || got.PackageSHA256 != "" || !got.BuiltAt.IsZero() || got.State(at(0)) != store.LinkActive {
			t.Errorf("LinkByHash = %+v, want %+v", got, l)
		}
		if _, err := s.LinkByHash(ctx(t), tokenHash("other")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown hash: %v, want ErrNotFound", err)
		}
	})
	t.Run("list oldest first", func(t *testing.T) {
		s := newStore(t)
		for i, id := range []string{"lnk_b", "lnk_a", "lnk_c"} {
			l := newLink(id, 1)
			l.CreatedAt = at(time.Duration(i) * time.Minute)
			if err := s.CreateLink(ctx(t), l); err != nil {
				t.Fatal(err)
			}
		}
		ls, err := s.Links(ctx(t))
		if err != nil || len(ls) != 3 || ls[0].ID != "lnk_b" || ls[1].ID != "lnk_a" || ls[2].ID != "lnk_c" {
			t.Fatalf("Links = %+v %v", ls, err)
		}
	})
	t.Run("count downloads", func(t *testing.T) {
		tests := []struct {
			name    string
			uses    int
			revoke  bool
			now     time.Time
			wantErr error
		}{
			{name: "active", uses: 1, now: at(0)},
			{name: "one tick before expiry", uses: 1, now: at(time.Hour - tick)},
			{name: "used", uses: 0, now: at(0), wantErr: store.ErrLinkUsed},
			{name: "expires at this instant", uses: 1, now: at(time.Hour), wantErr: store.ErrLinkExpired},
			{name: "used and expired reports used", uses: 0, now: at(2 * time.Hour), wantErr: store.ErrLinkUsed},
			{name: "revoked", uses: 1, revoke: true, now: at(0), wantErr: store.ErrLinkRevoked},
			{name: "revoked and expired reports revoked", uses: 1, revoke: true, now: at(2 * time.Hour), wantErr: store.ErrLinkRevoked},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := newStore(t)
				if err := s.CreateLink(ctx(t), newLink("lnk_1", tt.uses)); err != nil {
					t.Fatal(err)
				}
				if tt.revoke {
					if _, err := s.RevokeLink(ctx(t), "lnk_1", at(time.Minute)); err != nil {
						t.Fatal(err)
					}
				}
				got, err := s.CountLinkDownload(ctx(t), "lnk_1", tt.now)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("CountLinkDownload = %v, want %v", err, tt.wantErr)
				}
				after, _ := s.LinkByHash(ctx(t), tokenHash("lnk_1"))
				if tt.wantErr != nil {
					if after.Downloads != 0 || !after.LastDownloadAt.IsZero() {
						t.Errorf("a refused download changed the link: %+v", after)
					}
					return
				}
				if got.Downloads != 1 || !got.LastDownloadAt.Equal(tt.now) || after.Downloads != 1 || !after.LastDownloadAt.Equal(tt.now) {
					t.Errorf("after one download %+v, stored %+v", got, after)
				}
			})
		}
		s := newStore(t)
		if _, err := s.CountLinkDownload(ctx(t), "lnk_none", at(0)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown link: %v, want ErrNotFound", err)
		}
	})
	t.Run("last use goes to one caller", func(t *testing.T) {
		s := newStore(t)
		if err := s.CreateLink(ctx(t), newLink("lnk_1", 3)); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Go(func() {
				_, err := s.CountLinkDownload(ctx(t), "lnk_1", at(0))
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		ok := 0
		for err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, store.ErrLinkUsed) && !errors.Is(err, store.ErrBusy):
				t.Errorf("concurrent download: %v", err)
			}
		}
		l, _ := s.LinkByHash(ctx(t), tokenHash("lnk_1"))
		if ok > 3 || l.Downloads != ok {
			t.Errorf("%d downloads counted, link says %d; at most 3 allowed", ok, l.Downloads)
		}
	})
	t.Run("revoke", func(t *testing.T) {
		s := newStore(t)
		if err := s.CreateLink(ctx(t), newLink("lnk_1", 1)); err != nil {
			t.Fatal(err)
		}
		first, err := s.RevokeLink(ctx(t), "lnk_1", at(time.Minute))
		if err != nil || !first.RevokedAt.Equal(at(time.Minute)) || first.State(at(time.Minute)) != store.LinkRevoked {
			t.Fatalf("RevokeLink = %+v %v", first, err)
		}
		again, err := s.RevokeLink(ctx(t), "lnk_1", at(2*time.Minute))
		if err != nil || !again.RevokedAt.Equal(at(time.Minute)) {
			t.Errorf("second RevokeLink = %+v %v, want the first time kept", again, err)
		}
		if _, err := s.RevokeLink(ctx(t), "lnk_none", at(0)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("revoke unknown: %v, want ErrNotFound", err)
		}
	})
	t.Run("package recorded once", func(t *testing.T) {
		s := newStore(t)
		if err := s.CreateLink(ctx(t), newLink("lnk_1", 1)); err != nil {
			t.Fatal(err)
		}
		p := store.Link{PackageSHA256: "aa", PackageSize: 10, TokenID: "tok_1", BuiltAt: at(time.Second)}
		got, err := s.SetLinkPackage(ctx(t), "lnk_1", p)
		if err != nil || got.PackageSHA256 != "aa" || got.PackageSize != 10 || got.TokenID != "tok_1" || !got.BuiltAt.Equal(at(time.Second)) {
			t.Fatalf("SetLinkPackage = %+v %v", got, err)
		}
		got, err = s.SetLinkPackage(ctx(t), "lnk_1", store.Link{PackageSHA256: "bb", PackageSize: 20, TokenID: "tok_2", BuiltAt: at(2 * time.Second)})
		if err != nil || got.PackageSHA256 != "aa" || got.TokenID != "tok_1" {
			t.Errorf("second SetLinkPackage = %+v %v, want the first package kept", got, err)
		}
		if _, err := s.SetLinkPackage(ctx(t), "lnk_none", p); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown link: %v, want ErrNotFound", err)
		}
	})
}

func testTenantValues(t *testing.T, newStore NewStore) {
	s := newStore(t)
	if kv, err := s.TenantValues(ctx(t)); err != nil || len(kv) != 0 {
		t.Fatalf("new store: %v %v, want none", kv, err)
	}
	if err := s.SetTenantValues(ctx(t), map[string]string{"server_url": "https://a", "enroll_url": "https://b"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetTenantValues(ctx(t), map[string]string{"server_url": "https://c", "enroll_url": ""}); err != nil {
		t.Fatal(err)
	}
	kv, err := s.TenantValues(ctx(t))
	if err != nil || fmt.Sprint(kv) != "map[server_url:https://c]" {
		t.Errorf("TenantValues = %v %v, want server_url replaced and enroll_url removed", kv, err)
	}
}
