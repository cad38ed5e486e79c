//go:build !darwin

package localweb

import (
	"context"
	"errors"
	"os/exec"
	"slices"
	"testing"
)

func stubLookPath(t *testing.T) func() {
	old := lookPath
	lookPath = func(string) (string, error) { return "/usr/bin/xdg-open", nil }
	return func() { lookPath = old }
}

func TestOpenXdg(t *testing.T) {
	defer stubLookPath(t)()
	var got []string
	o := CommandOpener{Run: func(ctx context.Context, name string, args ...string) ([]byte, error) {
		got = append([]string{name}, args...)
		return nil, nil
	}}
	if err := o.Open(context.Background(), "http://127.0.0.1:9/?s=x"); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"/usr/bin/xdg-open", "http://127.0.0.1:9/?s=x"}) {
		t.Fatalf("ran %q", got)
	}
	lookPath = func(string) (string, error) { return "", exec.ErrNotFound }
	if err := o.Open(context.Background(), "http://127.0.0.1:9/"); !errors.Is(err, ErrNoBrowser) {
		t.Fatalf("without xdg-open: %v, want ErrNoBrowser", err)
	}
}
