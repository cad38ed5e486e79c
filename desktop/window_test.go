package desktop

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// opener is a browser that records the pages it was asked to open, as
// fakeWindow does.
type opener struct{ fakeWindow }

func (o *opener) Open(ctx context.Context, u string) error { return o.Show(ctx, u) }

func TestBrowserWindow(t *testing.T) {
	const page = "http://127.0.0.1:5001/?s=c"
	for _, tc := range []struct {
		name      string
		opener    *opener
		wantPrint bool
	}{
		{"browser opens it", &opener{}, false},
		{"browser fails: address printed", &opener{fakeWindow{err: errors.New("xdg-open: not found")}}, true},
		{"no browser: address printed", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			w := BrowserWindow{Out: &out}
			if tc.opener != nil {
				w.Opener = tc.opener
			}
			if err := w.Show(t.Context(), page); err != nil {
				t.Fatalf("Show = %v", err)
			}
			if tc.opener != nil && (len(tc.opener.shown) != 1 || tc.opener.shown[0] != page) {
				t.Errorf("browser asked for %q, want %q once", tc.opener.shown, page)
			}
			if printed := strings.Contains(out.String(), page); printed != tc.wantPrint {
				t.Errorf("printed %q; want the address printed: %v", out.String(), tc.wantPrint)
			}
		})
	}
}

func TestBrowserKioskWaitsForTheEnd(t *testing.T) {
	const page = "http://127.0.0.1:5000/?s=p"
	r, w := io.Pipe()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- BrowserKiosk{Out: w}.Show(ctx, page) }()
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil || !strings.Contains(line, page) {
		t.Fatalf("printed %q, %v; want the page's address", line, err)
	}
	select {
	case err := <-done:
		t.Fatalf("Show returned %v before the end of onboarding", err)
	case <-time.After(20 * time.Millisecond):
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Show = %v, want nil at the end", err)
	}
}
