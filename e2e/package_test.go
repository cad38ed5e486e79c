package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"debug/macho"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/packaging/bom"
	"github.com/mobileatwork/mobileatwork/packaging/xar"
	"github.com/mobileatwork/mobileatwork/protocol"
)

const enrollEntry = "./Library/MobileAtWork/enroll.json"

// fakeAgentDir holds thin Mach-O executable headers that debug/macho
// accepts, named as `make pkg` names the two darwin builds.
func fakeAgentDir(t *testing.T, arm64, amd64 macho.Cpu) string {
	t.Helper()
	dir := t.TempDir()
	for name, cpu := range map[string]macho.Cpu{"mobileatwork-arm64": arm64, "mobileatwork-amd64": amd64} {
		b := make([]byte, 8192)
		binary.LittleEndian.PutUint32(b[0:], macho.Magic64)
		binary.LittleEndian.PutUint32(b[4:], uint32(cpu))
		binary.LittleEndian.PutUint32(b[12:], uint32(macho.TypeExec))
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type cpioEntry struct {
	mode, uid, gid uint64
	data           []byte
}

// readPayload reads the gzip'd odc cpio of a component package's Payload.
func readPayload(t *testing.T, gz []byte) map[string]cpioEntry {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]cpioEntry{}
	for len(b) >= 76 && string(b[:6]) == "070707" {
		field := func(off, n int) uint64 {
			v, err := strconv.ParseUint(string(b[off:off+n]), 8, 64)
			if err != nil {
				t.Fatalf("cpio header: %v", err)
			}
			return v
		}
		nl, size := int(field(59, 6)), int(field(65, 11))
		name := string(b[76 : 76+nl-1])
		if name == "TRAILER!!!" {
			return out
		}
		out[name] = cpioEntry{mode: field(18, 6), uid: field(24, 6), gid: field(30, 6), data: b[76+nl : 76+nl+size]}
		b = b[76+nl+size:]
	}
	t.Fatal("cpio archive without trailer")
	return nil
}

type packageJSON struct {
	Path      string `json:"path"`
	SHA256    string `json:"sha256"`
	ServerURL string `json:"server_url"`
	TokenID   string `json:"token_id"`
	User      string `json:"user"`
	Uses      int    `json:"uses"`
	ExpiresAt string `json:"expires_at"`
}

func tokenCount(t *testing.T, data string) int {
	t.Helper()
	out, stderr, code := run(t, "mobileatwork-server", "tokens", "--data", data, "--json")
	if code != 0 {
		t.Fatalf("tokens: %s", stderr)
	}
	var ts []map[string]any
	if err := json.Unmarshal([]byte(out), &ts); err != nil {
		t.Fatal(err)
	}
	return len(ts)
}

// TestServerPackageEnrollsTheMac builds an enrolling package with the CLI,
// reads it back as Installer would and enrolls with the file it installs.
func TestServerPackageEnrollsTheMac(t *testing.T) {
	e := newEnv(t)
	out := filepath.Join(t.TempDir(), "MobileAtWork.pkg")
	stdout, stderr, code := run(t, "mobileatwork-server", "package", "--data", e.data,
		"--agent-dir", fakeAgentDir(t, macho.CpuArm64, macho.CpuAmd64), "--out", out,
		"--server-url", e.url, "--user", "ada@example.com", "--uses", "2", "--ttl", "7d", "--json")
	if code != 0 {
		t.Fatalf("package: %s", stderr)
	}
	var p packageJSON
	if err := json.Unmarshal([]byte(stdout), &p); err != nil {
		t.Fatalf("package --json: %v\n%s", err, stdout)
	}
	pkg, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(pkg)
	if p.Path != out || p.SHA256 != hex.EncodeToString(sum[:]) || p.ServerURL != e.url || p.User != "ada@example.com" || p.Uses != 2 || p.TokenID == "" || p.ExpiresAt == "" {
		t.Errorf("package info %+v", p)
	}
	if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("package file %v %v, want 0600", st, err)
	}

	a, err := xar.Open(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		t.Fatal(err)
	}
	payloadGz, err := a.ReadFile("mobileatwork.pkg/Payload")
	if err != nil {
		t.Fatal(err)
	}
	m, ok := readPayload(t, payloadGz)[enrollEntry]
	if !ok || m.mode != 0o100600 || m.uid != 0 || m.gid != 0 {
		t.Fatalf("payload %s: %+v (present %v), want root:wheel 0600", enrollEntry, m, ok)
	}
	bomData, err := a.ReadFile("mobileatwork.pkg/Bom")
	if err != nil {
		t.Fatal(err)
	}
	if be, err := bom.Lookup(bomData, enrollEntry); err != nil || be.Mode != 0o600 || be.UID != 0 || be.GID != 0 || be.Checksum != bom.Cksum(m.data) {
		t.Errorf("bom %s: %+v %v", enrollEntry, be, err)
	}
	ef, err := protocol.ParseEnrollFile(m.data)
	if err != nil {
		t.Fatal(err)
	}
	if ef.ServerURL != e.url || ef.Organization != "Test tenant" {
		t.Errorf("enrollment file %+v", ef)
	}
	if strings.Contains(stdout+stderr, ef.Token) {
		t.Error("package printed its token")
	}

	// What Installer would put on the Mac, owned by root.
	installed := filepath.Join(t.TempDir(), "enroll.json")
	if err := os.WriteFile(installed, m.data, 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(t.TempDir(), "state")
	root := func(fs.FileInfo) (uint32, bool) { return 0, true }
	id, _, err := agent.EnrollFromFile(context.Background(), installed, root, agent.EnrollOptions{StateDir: state, Facts: testFacts})
	if err != nil {
		t.Fatalf("enroll from the package's file: %v", err)
	}
	dev, err := e.srv.Store.Device(context.Background(), id.DeviceID)
	if err != nil || dev.User != "ada@example.com" {
		t.Errorf("device %+v %v, want ada's", dev, err)
	}
	if _, err := os.Lstat(installed); err == nil {
		t.Error("enrollment file kept after enrolling")
	}
	ts, err := e.srv.Tokens(context.Background())
	if err != nil || len(ts) != 1 || ts[0].ID != p.TokenID || ts[0].UsesLeft != 1 {
		t.Errorf("tokens %+v %v, want the package's with one use left", ts, err)
	}

	// The table view ends with the package's path alone, for $(... | tail -1).
	out2 := filepath.Join(t.TempDir(), "second.pkg")
	stdout, stderr, code = run(t, "mobileatwork-server", "package", "--data", e.data,
		"--agent-dir", fakeAgentDir(t, macho.CpuArm64, macho.CpuAmd64), "--out", out2, "--server-url", e.url)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != 0 || lines[len(lines)-1] != out2 || !strings.Contains(stdout, "sha256:") || !strings.Contains(stderr, "0600") {
		t.Errorf("package: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestServerPackageRefusesBadInput(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	if _, stderr, code := run(t, "mobileatwork-server", "init", "--data", data); code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	good := fakeAgentDir(t, macho.CpuArm64, macho.CpuAmd64)
	swapped := fakeAgentDir(t, macho.CpuAmd64, macho.CpuArm64)
	outDir := t.TempDir()
	out := filepath.Join(outDir, "x.pkg")
	key := filepath.Join(t.TempDir(), "key.pem")
	os.WriteFile(key, []byte("not a key"), 0o600)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no agent dir", []string{"--out", out, "--server-url", "https://localhost"}, "--agent-dir DIR is required"},
		{"no out", []string{"--agent-dir", good, "--server-url", "https://localhost"}, "--out FILE is required"},
		{"no server URL", []string{"--agent-dir", good, "--out", out}, "--server-url is required"},
		{"server URL not in the certificate", []string{"--agent-dir", good, "--out", out, "--server-url", "https://mdm.example.com"}, "not named by the server's TLS certificate"},
		{"bad ttl", []string{"--agent-dir", good, "--out", out, "--server-url", "https://localhost", "--ttl", "1w"}, "--ttl"},
		{"zero uses", []string{"--agent-dir", good, "--out", out, "--server-url", "https://localhost", "--uses", "0"}, "--uses"},
		{"bad user", []string{"--agent-dir", good, "--out", out, "--server-url", "https://localhost", "--user", "ada"}, "--user"},
		{"wrong CPU", []string{"--agent-dir", swapped, "--out", out, "--server-url", "https://localhost"}, filepath.Join(swapped, "mobileatwork-amd64")},
		{"missing executables", []string{"--agent-dir", outDir, "--out", out, "--server-url", "https://localhost"}, "mobileatwork-arm64"},
		{"sign key alone", []string{"--agent-dir", good, "--out", out, "--server-url", "https://localhost", "--sign-key", key}, "go together"},
		{"bad signing identity", []string{"--agent-dir", good, "--out", out, "--server-url", "https://localhost", "--sign-key", key, "--sign-cert", key}, "CERTIFICATE"},
		{"out is a directory", []string{"--agent-dir", good, "--out", outDir, "--server-url", "https://localhost"}, "is a directory"},
	}
	for _, tc := range tests {
		_, stderr, code := run(t, "mobileatwork-server", append([]string{"package", "--data", data}, tc.args...)...)
		t.Run(tc.name, func(t *testing.T) {
			oneErrorLine(t, stderr, code, tc.want)
			if names, _ := filepath.Glob(filepath.Join(outDir, "*")); len(names) != 0 {
				t.Errorf("files written: %v", names)
			}
		})
	}
	if n := tokenCount(t, data); n != 0 {
		t.Errorf("%d tokens left created", n)
	}
}

// TestAgentEnrollTokenFile enrolls through the CLI with the token on
// standard input, and refuses bad token files and enrollment files.
func TestAgentEnrollTokenFile(t *testing.T) {
	e := newEnv(t)
	state := filepath.Join(t.TempDir(), "state")
	cmd := exec.Command(filepath.Join(binDir, "mobileatwork"), "enroll", "--state-dir", state, "--server", e.url, "--token-file", "-")
	cmd.Stdin = strings.NewReader(e.token(1, time.Hour) + "\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("enroll --token-file -: %v\n%s", err, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(state, "identity.json")); err != nil || strings.TrimSpace(stdout.String()) == "" {
		t.Errorf("not enrolled (%v), stdout %q", err, stdout.String())
	}

	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	os.WriteFile(tokenFile, []byte(e.token(1, time.Hour)+"\n"), 0o600)
	link := filepath.Join(dir, "link")
	os.Symlink(tokenFile, link)
	loose := filepath.Join(dir, "loose.json")
	b, _ := protocol.EnrollFile{ServerURL: e.url, Token: e.token(1, time.Hour)}.Marshal()
	os.WriteFile(loose, b, 0o644)
	os.Chmod(loose, 0o644)
	notJSON := filepath.Join(dir, "bad.json")
	os.WriteFile(notJSON, []byte("{"), 0o600)
	fresh := filepath.Join(t.TempDir(), "state")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"symlink token file", []string{"--server", e.url, "--token-file", link}, "symbolic link"},
		{"token twice", []string{"--server", e.url, "--token-file", tokenFile, "--token", "x"}, "not both"},
		{"no token", []string{"--server", e.url}, "--token-file PATH"},
		{"no server", []string{"--token-file", tokenFile}, "--server is required"},
		{"from-file with server", []string{"--from-file", loose, "--server", e.url}, "give no --server"},
		{"0644 enrollment file", []string{"--from-file", loose}, "want 0600"},
		{"bad JSON enrollment file", []string{"--from-file", notJSON}, "malformed enrollment file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := run(t, "mobileatwork", append([]string{"enroll", "--state-dir", fresh}, tc.args...)...)
			oneErrorLine(t, stderr, code, tc.want)
			if _, err := os.Stat(filepath.Join(fresh, "identity.json")); err == nil {
				t.Fatal("enrolled despite the error")
			}
		})
	}
	if os.Geteuid() != 0 {
		t.Log("not root: enroll --from-file of a root-owned file is covered by the agent's tests")
		return
	}
	good := filepath.Join(dir, "enroll.json")
	b, _ = protocol.EnrollFile{ServerURL: e.url, Token: e.token(1, time.Hour), Organization: "Test tenant"}.Marshal()
	os.WriteFile(good, b, 0o600)
	stdoutS, stderrS, code := run(t, "mobileatwork", "enroll", "--state-dir", fresh, "--from-file", good)
	if code != 0 || strings.TrimSpace(stdoutS) == "" || !strings.Contains(stderrS, "(Test tenant)") {
		t.Fatalf("enroll --from-file: exit %d, stdout %q, stderr %q", code, stdoutS, stderrS)
	}
	if _, err := os.Lstat(good); err == nil {
		t.Errorf("%s kept after enrolling", good)
	}
}
