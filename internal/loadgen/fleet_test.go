package loadgen

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mobileatwork/mobileatwork/protocol"
)

func token(t *testing.T, pin byte) string {
	t.Helper()
	tok, err := protocol.NewEnrollToken([32]byte{pin})
	if err != nil {
		t.Fatal(err)
	}
	return tok.String()
}

// Every bad input is refused before anything is written.
func TestEnrollRefusesBadInputAndWritesNothing(t *testing.T) {
	tokA, tokB := token(t, 1), token(t, 2)
	for _, tt := range []struct {
		name string
		edit func(*EnrollOptions)
		want string
	}{
		{"no devices", func(o *EnrollOptions) { o.Devices = 0 }, "--devices must be at least 1"},
		{"no state", func(o *EnrollOptions) { o.State = "" }, "--state is required"},
		{"negative keys", func(o *EnrollOptions) { o.Keys = -1 }, "--keys must be"},
		{"no token", func(o *EnrollOptions) { o.Tokens = nil }, "no enrollment token"},
		{"not a token", func(o *EnrollOptions) { o.Tokens = []string{tokA, "hello"} }, "token 2"},
		{"tokens of two tenants", func(o *EnrollOptions) { o.Tokens = []string{tokA, tokB} }, "another tenant CA"},
		{"another CA", func(o *EnrollOptions) { o.CA = []byte("not the pinned CA") }, "do not pin the CA given with --ca"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			state := filepath.Join(t.TempDir(), "state")
			o := EnrollOptions{State: state, Server: "https://127.0.0.1:1", Tokens: []string{tokA}, Devices: 3}
			tt.edit(&o)
			if o.State == "" {
				state = ""
			}
			_, err := Enroll(context.Background(), o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if state != "" {
				if _, err := os.Stat(state); !os.IsNotExist(err) {
					t.Fatalf("the state directory was created: %v", err)
				}
			}
		})
	}
}

func TestEnrollRefusesAStateDirectoryOpenToOthers(t *testing.T) {
	state := t.TempDir()
	if err := os.Chmod(state, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Enroll(context.Background(), EnrollOptions{State: state, Server: "https://127.0.0.1:1", Tokens: []string{token(t, 1)}, Devices: 1})
	if err == nil || !strings.Contains(err.Error(), "open to other users") {
		t.Fatalf("err = %v, want a refusal of the open directory", err)
	}
	if fi, _ := os.Stat(state); fi.Mode().Perm() != 0o755 {
		t.Fatalf("mode changed to %s", fi.Mode().Perm())
	}
	if entries, _ := os.ReadDir(state); len(entries) != 0 {
		t.Fatalf("wrote %d entries", len(entries))
	}
}
