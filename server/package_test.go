package server

import (
	"debug/macho"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
)

// fakeAgent is a minimal thin Mach-O executable header debug/macho accepts.
func fakeAgent(cpu macho.Cpu) []byte {
	b := make([]byte, 4096)
	binary.LittleEndian.PutUint32(b[0:], macho.Magic64)
	binary.LittleEndian.PutUint32(b[4:], uint32(cpu))
	binary.LittleEndian.PutUint32(b[12:], uint32(macho.TypeExec))
	return b
}

func agentDir(t *testing.T, arm64, amd64 macho.Cpu) string {
	t.Helper()
	dir := t.TempDir()
	for name, cpu := range map[string]macho.Cpu{AgentARM64: arm64, AgentAMD64: amd64} {
		if err := os.WriteFile(filepath.Join(dir, name), fakeAgent(cpu), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestBuildPackage(t *testing.T) {
	s := newTenant(t)
	out := filepath.Join(t.TempDir(), "MobileAtWork.pkg")
	p, err := s.BuildPackage(t.Context(), PackageOptions{
		AgentDir: agentDir(t, macho.CpuArm64, macho.CpuAmd64), Out: out, User: "Ada@example.com",
		Uses: 3, TTL: 48 * time.Hour, ServerURL: "https://127.0.0.1:8443/", Version: "v1.4.2",
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(out)
	if err != nil || st.Mode().Perm() != 0o600 || st.Size() != p.Size {
		t.Fatalf("package file %v %v, want 0600 of %d bytes", st, err, p.Size)
	}
	if p.ServerURL != "https://127.0.0.1:8443" || p.Version != "1.4.2" || len(p.SHA256) != 64 || p.Signed {
		t.Errorf("info %+v", p)
	}
	ts, err := s.Tokens(t.Context())
	if err != nil || len(ts) != 1 {
		t.Fatalf("tokens %+v %v, want the package's one", ts, err)
	}
	if tok := ts[0]; tok.ID != p.Token.ID || tok.User != "ada@example.com" || tok.UsesLeft != 3 || tok.State != "active" ||
		!tok.ExpiresAt.Equal(tok.CreatedAt.Add(48*time.Hour)) {
		t.Errorf("token %+v, package says %+v", tok, p.Token)
	}
}

func TestBuildPackageRefusesAndLeavesNothing(t *testing.T) {
	s := newTenant(t)
	good := agentDir(t, macho.CpuArm64, macho.CpuAmd64)
	swapped := agentDir(t, macho.CpuAmd64, macho.CpuArm64)
	tmp := t.TempDir()
	ok := func(o PackageOptions) PackageOptions {
		if o.AgentDir == "" {
			o.AgentDir = good
		}
		if o.Out == "" {
			o.Out = filepath.Join(tmp, "out.pkg")
		}
		if o.Uses == 0 {
			o.Uses = 1
		}
		if o.TTL == 0 {
			o.TTL = time.Hour
		}
		if o.ServerURL == "" {
			o.ServerURL = "https://localhost:8443"
		}
		if o.Version == "" {
			o.Version = "1.4.2"
		}
		return o
	}
	tests := []struct {
		name string
		o    PackageOptions
		want string
	}{
		{"no server URL", PackageOptions{ServerURL: "-"}, "--server-url is required"},
		{"http server URL", PackageOptions{ServerURL: "http://localhost"}, "want https://HOST"},
		{"server URL with a path", PackageOptions{ServerURL: "https://localhost/x"}, "want https://HOST"},
		{"host the certificate does not name", PackageOptions{ServerURL: "https://mdm.example.com"}, "not named by the server's TLS certificate"},
		{"zero uses", PackageOptions{Uses: -1}, "--uses"},
		{"negative ttl", PackageOptions{TTL: -time.Hour}, "--ttl"},
		{"bad user", PackageOptions{User: "ada"}, "--user"},
		{"bad version", PackageOptions{Version: "latest"}, "--version"},
		{"missing agent dir", PackageOptions{AgentDir: filepath.Join(tmp, "nope")}, "no " + filepath.Join(tmp, "nope", AgentARM64)},
		{"swapped executables", PackageOptions{AgentDir: swapped}, filepath.Join(swapped, AgentAMD64) + " is built for"},
		{"out is a directory", PackageOptions{Out: tmp}, "is a directory"},
		{"out in a missing directory", PackageOptions{Out: filepath.Join(tmp, "no", "x.pkg")}, "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := ok(tc.o)
			if o.ServerURL == "-" {
				o.ServerURL = ""
			}
			_, err := s.BuildPackage(t.Context(), o)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrInvalid saying %q", err, tc.want)
			}
			if ts, _ := s.Tokens(t.Context()); len(ts) != 0 {
				t.Errorf("token left created: %+v", ts)
			}
			if names, _ := filepath.Glob(filepath.Join(tmp, "*")); len(names) != 0 {
				t.Errorf("files written: %v", names)
			}
		})
	}
}

func TestBuildPackageRevokesTokenWhenWriteFails(t *testing.T) {
	s := newTenant(t)
	dir := t.TempDir()
	writePackage = func(string, []byte, os.FileMode) error { return errors.New("disk full") }
	t.Cleanup(func() { writePackage = atomicfile.WriteFile })
	_, err := s.BuildPackage(t.Context(), PackageOptions{
		AgentDir: agentDir(t, macho.CpuArm64, macho.CpuAmd64), Out: filepath.Join(dir, "x.pkg"),
		Uses: 1, TTL: time.Hour, ServerURL: "https://localhost", Version: "1.4.2",
	})
	if err == nil || !strings.Contains(err.Error(), "disk full") || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("err = %v, want a write failure with the token revoked", err)
	}
	if ts, _ := s.Tokens(t.Context()); len(ts) != 1 || ts[0].State != "revoked" {
		t.Errorf("tokens %+v, want one revoked", ts)
	}
}

func TestParseTTL(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"7d", 7 * 24 * time.Hour, true}, {"36h", 36 * time.Hour, true}, {"90m", 90 * time.Minute, true},
		{"0d", 0, false}, {"-1h", 0, false}, {"d", 0, false}, {"1.5d", 0, false}, {"3651d", 0, false}, {"", 0, false}, {"week", 0, false},
	} {
		got, err := ParseTTL(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseTTL(%q) = %v, %v", tc.in, got, err)
		}
	}
}
