package agent

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server"
)

// enrollTenant is a tenant served on loopback that devices enroll with.
type enrollTenant struct {
	srv *server.Server
	url string
}

func newEnrollTenant(t *testing.T) *enrollTenant {
	t.Helper()
	srv, err := server.Init(filepath.Join(t.TempDir(), "data"), "Example Corp", nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.TLS = srv.TLSConfig()
	ts.StartTLS()
	t.Cleanup(func() { ts.Close(); srv.Close() })
	return &enrollTenant{srv: srv, url: ts.URL}
}

// file is the text of an enrollment file with a fresh token.
func (e *enrollTenant) file(t *testing.T) []byte {
	t.Helper()
	tok, err := e.srv.CreateToken(context.Background(), "", 1, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	b, err := protocol.EnrollFile{ServerURL: e.url, Token: tok, Organization: "Example Corp"}.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ownedBy(uid uint32) FileOwner { return func(fs.FileInfo) (uint32, bool) { return uid, true } }

func enrolled(state string) bool {
	_, err := os.Stat(filepath.Join(state, identityFile))
	return err == nil
}

func writeFile(t *testing.T, name string, b []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(name, b, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(name, mode); err != nil { // past the umask
		t.Fatal(err)
	}
}

func TestEnrollFromFile(t *testing.T) {
	e := newEnrollTenant(t)
	path := filepath.Join(t.TempDir(), "enroll.json")
	writeFile(t, path, e.file(t), 0o600)
	state := filepath.Join(t.TempDir(), "state")
	id, ef, err := EnrollFromFile(context.Background(), path, ownedBy(0), EnrollOptions{StateDir: state})
	if err != nil {
		t.Fatal(err)
	}
	if id.DeviceID == "" || id.ServerURL != e.url || ef.Organization != "Example Corp" || !enrolled(state) {
		t.Errorf("identity %+v, file %+v, enrolled %v", id, ef, enrolled(state))
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("enrollment file kept after enrolling: %v", err)
	}
}

func TestEnrollFromFileRefuses(t *testing.T) {
	e := newEnrollTenant(t)
	tests := []struct {
		name  string
		make  func(t *testing.T, path string) // makes path
		owner FileOwner
		want  string
	}{
		{"symlink", func(t *testing.T, path string) {
			real := path + ".real"
			writeFile(t, real, e.file(t), 0o600)
			if err := os.Symlink(real, path); err != nil {
				t.Fatal(err)
			}
		}, ownedBy(0), "symbolic link"},
		{"user-owned", func(t *testing.T, path string) { writeFile(t, path, e.file(t), 0o600) }, ownedBy(501), "owned by uid 501"},
		{"owner unreadable", func(t *testing.T, path string) { writeFile(t, path, e.file(t), 0o600) },
			func(fs.FileInfo) (uint32, bool) { return 0, false }, "owner cannot be read"},
		{"0644", func(t *testing.T, path string) { writeFile(t, path, e.file(t), 0o644) }, ownedBy(0), "mode 0644"},
		{"0640", func(t *testing.T, path string) { writeFile(t, path, e.file(t), 0o640) }, ownedBy(0), "mode 0640"},
		{"0400", func(t *testing.T, path string) { writeFile(t, path, e.file(t), 0o400) }, ownedBy(0), "mode 0400"},
		{"huge", func(t *testing.T, path string) {
			b := e.file(t)
			writeFile(t, path, append(b, bytes.Repeat([]byte(" "), protocol.MaxEnrollFileBytes)...), 0o600)
		}, ownedBy(0), "more than 65536"},
		{"bad JSON", func(t *testing.T, path string) { writeFile(t, path, []byte(`{"server_url": `), 0o600) }, ownedBy(0), "malformed enrollment file"},
		{"unknown field", func(t *testing.T, path string) {
			writeFile(t, path, bytes.Replace(e.file(t), []byte("{"), []byte(`{"extra": 1,`), 1), 0o600)
		}, ownedBy(0), "unknown field"},
		{"two objects", func(t *testing.T, path string) {
			b := e.file(t)
			writeFile(t, path, append(b, b...), 0o600)
		}, ownedBy(0), "data after"},
		{"http URL", func(t *testing.T, path string) {
			writeFile(t, path, bytes.Replace(e.file(t), []byte("https://"), []byte("http://"), 1), 0o600)
		}, ownedBy(0), "want https://HOST"},
		{"bad token", func(t *testing.T, path string) {
			writeFile(t, path, []byte(`{"server_url":"`+e.url+`","enrollment_token":"MAW1.nope"}`), 0o600)
		}, ownedBy(0), "enrollment_token"},
		{"directory", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o600); err != nil {
				t.Fatal(err)
			}
		}, ownedBy(0), "not a regular file"},
		{"missing", func(t *testing.T, path string) {}, ownedBy(0), "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "enroll.json")
			tc.make(t, path)
			before, _ := os.ReadFile(path)
			state := filepath.Join(t.TempDir(), "state")
			_, _, err := EnrollFromFile(context.Background(), path, tc.owner, EnrollOptions{StateDir: state})
			if !errors.Is(err, ErrEnrollFile) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line wrapping ErrEnrollFile and saying %q", err, tc.want)
			}
			if enrolled(state) {
				t.Error("enrolled from a refused file")
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Error("refused file changed")
			}
		})
	}
}

func TestEnrollFromFileKeepsFileWhenServerUnreachable(t *testing.T) {
	e := newEnrollTenant(t)
	ts := httptest.NewUnstartedServer(nil)
	gone := "https://" + ts.Listener.Addr().String()
	ts.Listener.Close()
	b := bytes.Replace(e.file(t), []byte(e.url), []byte(gone), 1)
	path := filepath.Join(t.TempDir(), "enroll.json")
	writeFile(t, path, b, 0o600)
	state := filepath.Join(t.TempDir(), "state")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, _, err := EnrollFromFile(ctx, path, ownedBy(0), EnrollOptions{StateDir: state}); err == nil || errors.Is(err, ErrEnrollFile) {
		t.Fatalf("err = %v, want a failure to reach the server", err)
	}
	if enrolled(state) {
		t.Error("enrolled without a server")
	}
	if after, err := os.ReadFile(path); err != nil || !bytes.Equal(after, b) {
		t.Errorf("enrollment file not kept: %v", err)
	}
}

func TestEnrollAtStart(t *testing.T) {
	e := newEnrollTenant(t)
	ctx := context.Background()
	t.Run("not enrolled: enrolls from the file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "enroll.json")
		writeFile(t, path, e.file(t), 0o600)
		state := filepath.Join(t.TempDir(), "state")
		EnrollAtStart(ctx, path, ownedBy(0), EnrollOptions{StateDir: state}, zap.NewNop())
		if !enrolled(state) {
			t.Fatal("not enrolled")
		}
		if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("enrollment file kept: %v", err)
		}
	})
	t.Run("enrolled already: the file is left alone", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "enroll.json")
		writeFile(t, path, e.file(t), 0o600)
		state := filepath.Join(t.TempDir(), "state")
		if err := os.MkdirAll(state, 0o700); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(state, identityFile), []byte("{}"), 0o600)
		EnrollAtStart(ctx, path, func(fs.FileInfo) (uint32, bool) { t.Error("file read"); return 0, true }, EnrollOptions{StateDir: state}, zap.NewNop())
		if _, err := os.Lstat(path); err != nil {
			t.Errorf("enrollment file gone: %v", err)
		}
	})
	t.Run("no file: nothing happens", func(t *testing.T) {
		state := filepath.Join(t.TempDir(), "state")
		EnrollAtStart(ctx, filepath.Join(t.TempDir(), "enroll.json"), ownedBy(0), EnrollOptions{StateDir: state}, zap.NewNop())
		if _, err := os.Lstat(state); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("state directory made: %v", err)
		}
	})
	t.Run("refused file: not enrolled, file kept", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "enroll.json")
		writeFile(t, path, e.file(t), 0o644)
		state := filepath.Join(t.TempDir(), "state")
		EnrollAtStart(ctx, path, ownedBy(0), EnrollOptions{StateDir: state}, zap.NewNop())
		if enrolled(state) {
			t.Error("enrolled from a 0644 file")
		}
		if _, err := os.Lstat(path); err != nil {
			t.Errorf("enrollment file gone: %v", err)
		}
	})
}

// TestFileOwner checks the real owner function on a file of this test's
// user, root or not.
func TestFileOwner(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	writeFile(t, path, nil, 0o600)
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if uid, ok := fileOwner(fi); !ok || int(uid) != os.Getuid() {
		t.Errorf("fileOwner = %d, %v; want %d", uid, ok, os.Getuid())
	}
}
