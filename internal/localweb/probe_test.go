package localweb

import (
	"context"
	"errors"
	"net/http"
	"testing"
)

func TestProbe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	live, err := New(hello(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	go live.Serve(ctx)
	failing, err := New(http.NotFoundHandler(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	go failing.Serve(ctx)
	gone, err := New(hello(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	gone.ln.Close()

	for _, tc := range []struct {
		name, url string
		wantErr   bool
	}{
		{"live page with its secret", live.URL(), false},
		{"wrong secret", "http://" + live.Addr().String() + "/?s=wrong", true},
		{"no secret", "http://" + live.Addr().String() + "/", true},
		{"page answering an error", failing.URL(), true},
		{"server gone", gone.URL(), true},
		{"not an http address", "file:///etc/passwd", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Probe(ctx, tc.url)
			if tc.wantErr && !errors.Is(err, ErrPageDown) {
				t.Errorf("Probe = %v, want ErrPageDown", err)
			}
			if !tc.wantErr && err != nil {
				t.Errorf("Probe = %v, want nil", err)
			}
		})
	}
}
