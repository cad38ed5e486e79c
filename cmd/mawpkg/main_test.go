package main

import (
	"bytes"
	"debug/macho"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/mobileatwork/mobileatwork/packaging/xar"
)

func thin(t *testing.T, dir, name string, cpu macho.Cpu) string {
	t.Helper()
	b := make([]byte, 4096)
	binary.LittleEndian.PutUint32(b[0:], macho.Magic64)
	binary.LittleEndian.PutUint32(b[4:], uint32(cpu))
	binary.LittleEndian.PutUint32(b[12:], uint32(macho.TypeExec))
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	arm, amd := thin(t, dir, "arm64", macho.CpuArm64), thin(t, dir, "amd64", macho.CpuAmd64)
	out := filepath.Join(dir, "dist", "MobileAtWork-1.0.0.pkg")
	tests := []struct {
		name string
		args []string
		ok   bool
	}{
		{"complete", []string{"--version", "1.0.0", "--arm64", arm, "--amd64", amd, "--out", out}, true},
		{"missing out", []string{"--version", "1.0.0", "--arm64", arm, "--amd64", amd}, false},
		{"cert without key", []string{"--version", "1.0.0", "--arm64", arm, "--amd64", amd, "--out", out, "--sign-cert", arm}, false},
		{"binaries swapped", []string{"--version", "1.0.0", "--arm64", amd, "--amd64", arm, "--out", out + ".2"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := run(tc.args); (err == nil) != tc.ok {
				t.Fatalf("run = %v, want ok=%v", err, tc.ok)
			}
		})
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := xar.Verify(bytes.NewReader(b), int64(len(b))); !errors.Is(err, xar.ErrNotSigned) {
		t.Errorf("Verify = %v, want an intact unsigned package", err)
	}
}

func TestExitCode(t *testing.T) {
	var b bytes.Buffer
	if code := exitCode(run([]string{"-h"}), &b); code != 0 || b.Len() != 0 {
		t.Fatalf("-h: exit %d, stderr %q; want 0 and no error line", code, b.String())
	}
	b.Reset()
	if code := exitCode(run([]string{"--version", "1"}), &b); code != 1 || !bytes.HasPrefix(b.Bytes(), []byte("error: --version, --arm64")) {
		t.Fatalf("missing flags: exit %d, stderr %q", code, b.String())
	}
}
