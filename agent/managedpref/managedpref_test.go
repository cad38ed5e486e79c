package managedpref

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const good = `<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict>
<key>ServerURL</key><string>https://mdm.example.com</string>
<key>EnrollmentToken</key><string>MAW1.abc.def</string>
<key>Other</key><true/>
</dict></plist>`

func TestRead(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, path string)
		want    Enrollment
		wantErr error  // matched with errors.Is
		errText string // or contained in the error
	}{
		{name: "absent", setup: func(*testing.T, string) {}, wantErr: fs.ErrNotExist},
		{name: "xml", setup: write(good, 0o644), want: Enrollment{ServerURL: "https://mdm.example.com", Token: "MAW1.abc.def"}},
		{name: "no token", setup: write(`<plist version="1.0"><dict><key>ServerURL</key><string>https://x</string></dict></plist>`, 0o600), errText: "both needed"},
		{name: "not a plist", setup: write("hello", 0o600), errText: "managed preference"},
		{name: "writable by others", setup: write(good, 0o666), wantErr: ErrUntrusted},
		{name: "a directory", setup: func(t *testing.T, p string) { mkdir(t, p) }, wantErr: ErrUntrusted},
		{name: "a link", setup: func(t *testing.T, p string) {
			write(good, 0o600)(t, p+".real")
			if err := os.Symlink(p+".real", p); err != nil {
				t.Fatal(err)
			}
		}, wantErr: ErrUntrusted},
		{name: "too large", setup: write("<plist>"+strings.Repeat(" ", MaxSize)+"</plist>", 0o600), errText: "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "com.mobileatwork.agent.plist")
			tt.setup(t, path)
			got, err := Read(path)
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Read = %+v, %v; want %v", got, err, tt.wantErr)
				}
			case tt.errText != "":
				if err == nil || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("Read = %+v, %v; want an error with %q", got, err, tt.errText)
				}
			case err != nil || got != tt.want:
				t.Fatalf("Read = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func write(body string, mode os.FileMode) func(*testing.T, string) {
	return func(t *testing.T, p string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
}

func mkdir(t *testing.T, p string) {
	t.Helper()
	if err := os.Mkdir(p, 0o700); err != nil {
		t.Fatal(err)
	}
}
