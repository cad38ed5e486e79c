package desktop

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

func TestInboxWait(t *testing.T) {
	uid := os.Geteuid()
	offer := Offer{CatalogURL: "http://127.0.0.1:5001/?s=b", DeviceID: "dev-1", BootID: "boot-1"}
	for _, tc := range []struct {
		name    string
		writeAt time.Duration // after the start of the wait; <0: never
		file    string        // written instead of the offer when set
		wantErr error         // nil: the offer
		// polls is how many times the clock must move for Wait to return.
		polls int
	}{
		{"offer already there", 0, "", nil, 0},
		{"offer written while waiting", 3 * time.Second, "", nil, 3},
		{"no offer in time", -1, "", ErrNoOffer, 10},
		{"offer of an earlier boot", 0, `{"catalog_url":"http://127.0.0.1:5001/?s=b","boot_id":"boot-0"}`, ErrStaleOffer, 0},
		{"unreadable offer ends the wait", 0, `{not json`, errUnreadable, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "ui")
			clock := clockwork.NewFakeClock()
			write := func() {
				if tc.file != "" {
					os.MkdirAll(dir, 0o755)
					if err := os.WriteFile(offerPath(dir, uid), []byte(tc.file), 0o600); err != nil {
						t.Fatal(err)
					}
					return
				}
				if err := WriteOffer(dir, uid, offer); err != nil {
					t.Fatal(err)
				}
			}
			if tc.writeAt == 0 {
				write()
			}
			in := Inbox{Dir: dir, UID: uid, BootID: "boot-1", Clock: clock}
			type result struct {
				s   Offer
				err error
			}
			done := make(chan result, 1)
			go func() {
				s, err := in.Wait(t.Context(), 10*time.Second)
				done <- result{s, err}
			}()
			for i := range tc.polls {
				if err := clock.BlockUntilContext(t.Context(), 1); err != nil {
					t.Fatal(err)
				}
				if tc.writeAt > 0 && time.Duration(i+1)*time.Second == tc.writeAt {
					write()
				}
				clock.Advance(time.Second)
			}
			r := <-done
			switch {
			case tc.wantErr == errUnreadable:
				if r.err == nil || errors.Is(r.err, ErrNoOffer) {
					t.Errorf("Wait = %v, want a read error", r.err)
				}
			case tc.wantErr != nil:
				if !errors.Is(r.err, tc.wantErr) {
					t.Errorf("Wait = %v, want %v", r.err, tc.wantErr)
				}
			case r.err != nil || r.s != offer:
				t.Errorf("Wait = %+v, %v; want %+v", r.s, r.err, offer)
			}
		})
	}
	t.Run("cancelled", func(t *testing.T) {
		clock := clockwork.NewFakeClock()
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() {
			_, err := Inbox{Dir: t.TempDir(), UID: uid, Clock: clock}.Wait(ctx, time.Hour)
			done <- err
		}()
		if err := clock.BlockUntilContext(t.Context(), 1); err != nil {
			t.Fatal(err)
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Wait after cancel = %v, want context.Canceled", err)
		}
	})
}

// errUnreadable stands for any error other than the sentinels.
var errUnreadable = errors.New("unreadable")
