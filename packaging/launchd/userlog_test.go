package launchd

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestUIJobLeavesLoggingToTheCommand(t *testing.T) {
	j := UIAgent()
	// launchd would create a literal "~" path, or one file for all users.
	if j.StandardOutPath != "" || j.StandardErrorPath != "" {
		t.Errorf("UI job has StandardOutPath %q StandardErrorPath %q", j.StandardOutPath, j.StandardErrorPath)
	}
	if got := UILogPath("/Users/ann"); got != "/Users/ann/Library/Logs/MobileAtWork/ui.log" {
		t.Errorf("UILogPath = %s", got)
	}
}

func TestOpenUserLog(t *testing.T) {
	home := t.TempDir()
	for i, line := range []string{"first\n", "second\n"} {
		f, err := OpenUserLog(home)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		f.WriteString(line)
		f.Close()
	}
	p := UILogPath(home)
	if b, _ := os.ReadFile(p); string(b) != "first\nsecond\n" {
		t.Errorf("log holds %q, want both lines appended", b)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	di, _ := os.Stat(filepath.Dir(p))
	if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
		t.Errorf("file %v dir %v, want 0600 and 0700", fi.Mode(), di.Mode())
	}

	t.Run("rotates past 1 MiB", func(t *testing.T) {
		if err := os.WriteFile(p, bytes.Repeat([]byte("x"), uiLogMax+1), 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := OpenUserLog(home)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if fi, _ := os.Stat(p); fi.Size() != 0 {
			t.Errorf("log not rotated: %d bytes", fi.Size())
		}
		if fi, err := os.Stat(p + ".1"); err != nil || fi.Size() != uiLogMax+1 {
			t.Errorf("previous log: %v", err)
		}
	})
}

func TestOpenUserLogRefuses(t *testing.T) {
	linked := t.TempDir()
	dir := filepath.Join(linked, UserLogDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.Symlink(target, filepath.Join(dir, UILogName)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, home, want string }{
		{"relative home", "Users/ann", "not an absolute path"},
		{"no home", "", "not an absolute path"},
		{"log is a symlink", linked, "symbolic link"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := OpenUserLog(tc.home)
			if err == nil {
				f.Close()
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := os.Lstat(target); !os.IsNotExist(err) {
		t.Errorf("symlink target was created: %v", err)
	}
}

// TestRedirectStdio runs this test binary again so that it redirects its
// own stdout and stderr into the log.
func TestRedirectStdio(t *testing.T) {
	if home := os.Getenv("MAW_TEST_UI_HOME"); home != "" {
		f, err := OpenUserLog(home)
		if err == nil {
			err = RedirectStdio(f)
		}
		if err != nil {
			t.Fatal(err)
		}
		os.Stdout.WriteString("to stdout\n")
		os.Stderr.WriteString("to stderr\n")
		return
	}
	home := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRedirectStdio$")
	cmd.Env = append(os.Environ(), "MAW_TEST_UI_HOME="+home)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	b, _ := os.ReadFile(UILogPath(home))
	if !strings.Contains(string(b), "to stdout\n") || !strings.Contains(string(b), "to stderr\n") {
		t.Errorf("log holds %q", b)
	}
	if strings.Contains(string(out), "to stdout") {
		t.Errorf("output still reached the terminal: %q", out)
	}
}
