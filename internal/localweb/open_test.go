package localweb

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestOpenReportsFailure(t *testing.T) {
	o := CommandOpener{
		Euid: 501,
		Run: func(ctx context.Context, name string, args ...string) ([]byte, error) {
			return []byte("no display"), errors.New("exit status 3")
		},
	}
	restore := stubLookPath(t)
	defer restore()
	err := o.Open(context.Background(), "http://127.0.0.1:1/")
	if err == nil || !strings.Contains(err.Error(), "no display") {
		t.Fatalf("Open = %v, want the command's output in the error", err)
	}
}
