package main

import (
	"bytes"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mobileatwork/mobileatwork/internal/cli"
)

// runCLI runs the server command in-process: stdout, stderr, exit code.
func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	root := newRoot()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	code := cli.Run(root)
	return out.String(), errb.String(), code
}

// The commands that need the server's host refuse --server with one error
// line before they touch anything.
func TestHostOnlyCommandsRefuseServer(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"init", []string{"init"}},
		{"serve", []string{"serve"}},
		{"backup", []string{"backup", "--out", filepath.Join(dir, "backup")}},
		{"restore", []string{"restore", "--from", dir}},
		{"package", []string{"package", "--agent-dir", dir, "--out", filepath.Join(dir, "a.pkg")}},
		{"package --catalog", []string{"package", "--catalog", "--agent-dir", dir}},
		{"pki rotate-signing", []string{"pki", "rotate-signing"}},
		{"pki retire-signing", []string{"pki", "retire-signing", "--force"}},
		{"doctor", []string{"doctor"}},
		{"pki renew-tls", []string{"pki", "renew-tls"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, append(tc.args, "--data", data, "--server", "https://127.0.0.1:1")...)
			lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
			if code == 0 || len(lines) != 1 || !strings.HasPrefix(lines[0], "error: ") || !strings.Contains(lines[0], "works on the server's host only") {
				t.Errorf("exit %d, stderr %q; want one error line saying it works on the server's host only", code, stderr)
			}
			for _, p := range []string{data, filepath.Join(dir, "backup"), filepath.Join(dir, "a.pkg")} {
				if _, err := os.Stat(p); err == nil {
					t.Errorf("%s was made", p)
				}
			}
		})
	}
}

// app add --file names a file of the server's host: remotely it is refused
// before anything is sent.
func TestAppAddFileRefusedRemotely(t *testing.T) {
	calls := 0
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls++ }))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MAW_API_TOKEN", "mawat_anything")
	_, stderr, code := runCLI(t, "app", "add", "--name", "Tools", "--kind", "inhouse", "--package-id", "com.example.tools",
		"--file", "/etc/hostname", "--server", srv.URL, "--ca", ca)
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	if code == 0 || len(lines) != 1 || !strings.Contains(lines[0], "--file names a package on the server's host") {
		t.Errorf("exit %d, stderr %q; want one error line refusing --file", code, stderr)
	}
	if calls != 0 {
		t.Errorf("%d request(s) reached the server", calls)
	}
}
