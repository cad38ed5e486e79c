package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadTokenFile(t *testing.T) {
	dir := t.TempDir()
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := file("good", "MAW1.a.b\n")
	link := filepath.Join(dir, "link")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, stdin string
		want, wantErr     string
	}{
		{"stdin", "-", "MAW1.a.b\n", "MAW1.a.b", ""},
		{"stdin without newline", "-", "MAW1.a.b", "MAW1.a.b", ""},
		{"file", good, "", "MAW1.a.b", ""},
		{"CRLF", file("crlf", "MAW1.a.b\r\n"), "", "MAW1.a.b", ""},
		{"symlink", link, "", "", "symbolic link"},
		{"directory", dir, "", "", "not a regular file"},
		{"missing", filepath.Join(dir, "nope"), "", "", "no such file"},
		{"empty file", file("empty", ""), "", "", "is empty"},
		{"empty stdin", "-", "", "", "standard input is empty"},
		{"two lines", file("two", "MAW1.a.b\nMAW1.c.d\n"), "", "", "more than one line"},
		{"huge", file("huge", strings.Repeat("x", maxTokenFileBytes+1)), "", "", "more than 4096 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadTokenFile(tc.path, strings.NewReader(tc.stdin))
			if tc.wantErr == "" {
				if err != nil || got != tc.want {
					t.Fatalf("got %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.HasPrefix(err.Error(), "--token-file") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line about --token-file saying %q", err, tc.wantErr)
			}
		})
	}
}
