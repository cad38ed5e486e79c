package packaging

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mobileatwork/mobileatwork/packaging/launchd"
)

func TestScriptsSyntaxAndLint(t *testing.T) {
	scripts := map[string][]byte{"preinstall": preinstallScript, "postinstall": postinstallScript}
	for name, body := range scripts {
		t.Run(name, func(t *testing.T) {
			for _, want := range []string{"#!/bin/sh\n", "\nset -eu\n", "PATH=/usr/bin:/bin:/usr/sbin:/sbin\n", "LABEL=" + launchd.DaemonLabel + "\n"} {
				if !bytes.Contains(body, []byte(want)) {
					t.Errorf("missing %q", want)
				}
			}
			if regexp.MustCompile(`(^|[^a-z])eval([^a-z]|$)`).Match(body) {
				t.Error("scripts must not eval")
			}
			if out, err := exec.Command("sh", "-n", "-c", string(body)).CombinedOutput(); err != nil {
				t.Fatalf("sh -n: %v\n%s", err, out)
			}
			if _, err := exec.LookPath("shellcheck"); err != nil {
				t.Log("shellcheck not installed; lint skipped")
				return
			}
			cmd := exec.Command("shellcheck", "-s", "sh", "-")
			cmd.Stdin = bytes.NewReader(body)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("shellcheck: %v\n%s", err, out)
			}
		})
	}
	for _, p := range []string{launchd.BinaryPath, launchd.DaemonPlistPath, launchd.UIPlistPath, launchd.LogDir, launchd.StateDir, launchd.UILabel} {
		if !bytes.Contains(postinstallScript, []byte(p)) {
			t.Errorf("postinstall does not use %s", p)
		}
	}
}

// sandbox runs the postinstall against a fake root with fake launchctl,
// plutil, stat, chown and sleep, recording every call.
type sandbox struct {
	t      *testing.T
	root   string
	script string
	env    []string
}

const fakeTools = `
cat > launchctl <<'S'
#!/bin/sh
echo "$*" >> "$FAKE_LOG/launchctl"
if [ "$1" = bootstrap ] && [ "$2" = system ]; then
	n=$(cat "$FAKE_LOG/bootstrap-failures" 2>/dev/null || echo 0)
	if [ "$n" -gt 0 ]; then echo $((n - 1)) > "$FAKE_LOG/bootstrap-failures"; exit 5; fi
fi
exit 0
S
cat > plutil <<'S'
#!/bin/sh
[ "$1" = -extract ] && [ "$3" = raw ] || exit 64
exec python3 -c '
import json, plistlib, sys
key, path = sys.argv[1], sys.argv[2]
with open(path, "rb") as f:
    d = json.load(f) if path.endswith(".json") else plistlib.load(f)
if key not in d: sys.exit(1)
print(d[key])
' "$2" "$6"
S
cat > stat <<'S'
#!/bin/sh
case "$2" in %u) echo "$FAKE_CONSOLE_UID" ;; %Su) echo "$FAKE_CONSOLE_USER" ;; *) exit 1 ;; esac
S
printf '#!/bin/sh\nexit 0\n' > chown
printf '#!/bin/sh\nexit 0\n' > sleep
chmod +x launchctl plutil stat chown sleep
`

// fakeAgent records its argv one word a line, and the standard input of
// --token-file -; with --from-file it removes the file as the agent does
// once enrolled, unless FAKE_ENROLL_FAIL is set.
const fakeAgent = `#!/bin/sh
if [ "$1" = status ]; then echo "$FAKE_STATUS"; exit 0; fi
echo "agent $1" >> "$FAKE_LOG/launchctl"
for a in "$@"; do printf '%s\n' "$a"; done >> "$FAKE_LOG/agent"
case " $* " in *" --token-file - "*) cat >> "$FAKE_LOG/stdin" ;; esac
if [ "$2" = --from-file ]; then
	[ -z "${FAKE_ENROLL_FAIL:-}" ] || exit 1
	rm -f "$3"
fi
`

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed (used by the fake plutil)")
	}
	base := t.TempDir()
	s := &sandbox{t: t, root: filepath.Join(base, "root")}
	fake, logs := filepath.Join(base, "fakebin"), filepath.Join(base, "log")
	for _, d := range []string{fake, logs, filepath.Join(s.root, "Library/MobileAtWork/bin"), filepath.Join(s.root, "Library/Managed Preferences"), filepath.Join(base, "media")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("sh", "-c", fakeTools)
	cmd.Dir = fake
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("fake tools: %v\n%s", err, out)
	}
	s.write(filepath.Join(s.root, "Library/MobileAtWork/bin/mobileatwork"), fakeAgent, 0o755)

	// Point every absolute path of the script into the sandbox; count the
	// rewrites so a new unsandboxed path makes this test fail, not escape.
	script := string(postinstallScript)
	for _, r := range []struct {
		old   string
		count int
	}{{"=/Library/", 5}, {`="/Library/`, 2}, {"=/usr/local/bin", 1}} {
		if n := strings.Count(script, r.old); n != r.count {
			t.Fatalf("postinstall has %d occurrences of %q, sandbox expects %d", n, r.old, r.count)
		}
		script = strings.ReplaceAll(script, r.old, strings.Replace(r.old, "/", s.root+"/", 1))
	}
	script = strings.Replace(script, "PATH=/usr/bin:/bin:/usr/sbin:/sbin", "PATH="+fake+":/usr/bin:/bin", 1)
	s.script = filepath.Join(base, "postinstall")
	s.write(s.script, script, 0o755)
	s.env = []string{"FAKE_LOG=" + logs, "FAKE_STATUS={}", "FAKE_CONSOLE_UID=501", "FAKE_CONSOLE_USER=alice", "PATH=/usr/bin:/bin"}
	return s
}

func (s *sandbox) write(name, body string, mode os.FileMode) {
	s.t.Helper()
	if err := os.WriteFile(name, []byte(body), mode); err != nil {
		s.t.Fatal(err)
	}
}

func (s *sandbox) enrollFile() string {
	return filepath.Join(s.root, strings.TrimPrefix(launchd.EnrollFilePath, "/"))
}

func (s *sandbox) log(name string) string {
	b, _ := os.ReadFile(filepath.Join(strings.TrimPrefix(s.env[0], "FAKE_LOG="), name))
	return string(b)
}

// run executes the postinstall as Installer would: $1 package, $2 location, $3 volume.
func (s *sandbox) run(pkg string, env ...string) (string, error) {
	cmd := exec.Command("sh", s.script, pkg, "/", "/")
	cmd.Dir = filepath.Dir(s.root)
	cmd.Env = append(append([]string(nil), s.env...), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestPostinstall(t *testing.T) {
	const hostile = `tok en$(touch pwned)"';`
	tests := []struct {
		name       string
		setup      func(s *sandbox) string // returns $1
		env        []string
		wantErr    bool
		wantAgent  string
		wantLaunch []string
		absent     []string
		wantStdin  string                                     // what the agent read on stdin
		check      func(t *testing.T, s *sandbox, out string) // more to check, may be nil
	}{
		{
			name: "managed preferences enroll and load both jobs",
			setup: func(s *sandbox) string {
				if err := os.MkdirAll(filepath.Join(s.root, "Library/LaunchAgents"), 0o755); err != nil {
					s.t.Fatal(err)
				}
				s.write(filepath.Join(s.root, "Library/LaunchAgents/com.mobileatwork.agent.ui.plist"), "<plist/>", 0o644)
				s.write(filepath.Join(s.root, "Library/Managed Preferences/com.mobileatwork.agent.plist"),
					`<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>ServerURL</key><string>https://mdm.example.com/a b</string><key>EnrollmentToken</key><string>`+strings.ReplaceAll(hostile, `"`, "&quot;")+`</string></dict></plist>`, 0o644)
				return filepath.Join(filepath.Dir(s.root), "media", "MobileAtWork.pkg")
			},
			wantAgent: "enroll\n--server\nhttps://mdm.example.com/a b\n--token-file\n-\n",
			wantStdin: hostile,
			wantLaunch: []string{
				"bootout system/com.mobileatwork.agent",
				"agent enroll",
				"bootstrap system ROOT/Library/LaunchDaemons/com.mobileatwork.agent.plist",
				"kickstart -k system/com.mobileatwork.agent",
				"bootout gui/501/com.mobileatwork.agent.ui",
				"bootstrap gui/501 ROOT/Library/LaunchAgents/com.mobileatwork.agent.ui.plist",
			},
		},
		{
			name: "json next to the package",
			setup: func(s *sandbox) string {
				s.write(filepath.Join(filepath.Dir(s.root), "media", "mobileatwork.json"), `{"ServerURL":"https://x.example","EnrollmentToken":"T1"}`, 0o644)
				return filepath.Join(filepath.Dir(s.root), "media", "MobileAtWork.pkg")
			},
			wantAgent: "enroll\n--server\nhttps://x.example\n--token-file\n-\n",
			wantStdin: "T1",
		},
		{
			name: "the package's enrollment file comes first and is removed once enrolled",
			setup: func(s *sandbox) string {
				s.write(s.enrollFile(), `{"server_url":"https://x.example","enrollment_token":"T2"}`, 0o600)
				s.write(filepath.Join(s.root, "Library/Managed Preferences/com.mobileatwork.agent.plist"),
					`<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>ServerURL</key><string>https://mdm.example.com</string><key>EnrollmentToken</key><string>T3</string></dict></plist>`, 0o644)
				return filepath.Join(filepath.Dir(s.root), "media", "MobileAtWork.pkg")
			},
			wantAgent:  "enroll\n--from-file\nROOT/Library/MobileAtWork/enroll.json\n",
			wantLaunch: []string{"bootout system/com.mobileatwork.agent", "agent enroll", "bootstrap system", "kickstart -k"},
			check: func(t *testing.T, s *sandbox, out string) {
				if _, err := os.Lstat(s.enrollFile()); !os.IsNotExist(err) {
					t.Errorf("enrollment file still there: %v", err)
				}
			},
		},
		{
			name: "an enrollment file that fails is kept for the daemon",
			setup: func(s *sandbox) string {
				s.write(s.enrollFile(), `{"server_url":"https://x.example","enrollment_token":"T2"}`, 0o600)
				return ""
			},
			env:       []string{"FAKE_ENROLL_FAIL=1"},
			wantAgent: "enroll\n--from-file\nROOT/Library/MobileAtWork/enroll.json\n",
			check: func(t *testing.T, s *sandbox, out string) {
				if _, err := os.Lstat(s.enrollFile()); err != nil {
					t.Errorf("enrollment file gone: %v", err)
				}
				if !strings.Contains(out, "is kept and the agent tries again each time it starts") {
					t.Errorf("output does not say the file is kept:\n%s", out)
				}
			},
		},
		{
			name: "already enrolled: the enrollment file is removed unused",
			setup: func(s *sandbox) string {
				s.write(s.enrollFile(), `{"server_url":"https://x.example","enrollment_token":"T2"}`, 0o600)
				return ""
			},
			env: []string{`FAKE_STATUS={"enrolled": true}`},
			check: func(t *testing.T, s *sandbox, out string) {
				if _, err := os.Lstat(s.enrollFile()); !os.IsNotExist(err) {
					t.Errorf("enrollment file still there: %v", err)
				}
			},
		},
		{
			name: "already enrolled",
			setup: func(s *sandbox) string {
				s.write(filepath.Join(filepath.Dir(s.root), "media", "mobileatwork.json"), `{"ServerURL":"https://x.example","EnrollmentToken":"T1"}`, 0o644)
				return filepath.Join(filepath.Dir(s.root), "media", "MobileAtWork.pkg")
			},
			env:       []string{`FAKE_STATUS={"enrolled": true}`},
			wantAgent: "",
		},
		{
			name:       "no LaunchAgent shipped: only the daemon loads",
			setup:      func(s *sandbox) string { return "" },
			wantLaunch: []string{"bootstrap system", "kickstart -k"},
			absent:     []string{"gui/"},
		},
		{
			name:   "no settings and nobody logged in",
			setup:  func(s *sandbox) string { return "" },
			env:    []string{"FAKE_CONSOLE_UID=0", "FAKE_CONSOLE_USER=root"},
			absent: []string{"gui/"},
		},
		{
			name: "bootstrap retried",
			setup: func(s *sandbox) string {
				s.write(filepath.Join(strings.TrimPrefix(s.env[0], "FAKE_LOG="), "bootstrap-failures"), "2\n", 0o644)
				return ""
			},
			wantLaunch: []string{"bootstrap system", "bootstrap system", "bootstrap system", "kickstart -k"},
		},
		{
			name: "bootstrap keeps failing",
			setup: func(s *sandbox) string {
				s.write(filepath.Join(strings.TrimPrefix(s.env[0], "FAKE_LOG="), "bootstrap-failures"), "9\n", 0o644)
				return ""
			},
			wantErr: true,
			absent:  []string{"kickstart"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			out, err := s.run(tc.setup(s), tc.env...)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v\n%s", err, tc.wantErr, out)
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(s.root), "pwned")); err == nil {
				t.Fatal("a value read from settings was executed")
			}
			argv := strings.ReplaceAll(s.log("agent"), s.root, "ROOT")
			if got := argv; got != tc.wantAgent {
				t.Errorf("agent called with:\n%q\nwant:\n%q\noutput:\n%s", got, tc.wantAgent, out)
			}
			if got := s.log("stdin"); got != tc.wantStdin {
				t.Errorf("agent read %q on stdin, want %q", got, tc.wantStdin)
			}
			// A token in argv is readable by every local user.
			for _, tok := range []string{hostile, "T1", "T2", "T3"} {
				if strings.Contains(argv, tok) {
					t.Errorf("token %q in the agent's argv:\n%s", tok, argv)
				}
			}
			if tc.check != nil {
				tc.check(t, s, out)
			}
			calls := strings.ReplaceAll(s.log("launchctl"), s.root, "ROOT")
			at := 0
			for _, w := range tc.wantLaunch {
				i := strings.Index(calls[at:], w)
				if i < 0 {
					t.Fatalf("launchctl calls lack %q after offset %d:\n%s", w, at, calls)
				}
				at += i + len(w)
			}
			for _, a := range tc.absent {
				if strings.Contains(calls, a) {
					t.Errorf("unexpected launchctl %q:\n%s", a, calls)
				}
			}
			if tc.wantErr {
				return
			}
			for dir, mode := range map[string]os.FileMode{"Library/Logs/MobileAtWork": 0o755, "Library/Application Support/MobileAtWork": 0o700} {
				st, err := os.Stat(filepath.Join(s.root, dir))
				if err != nil || st.Mode().Perm() != mode {
					t.Errorf("%s: %v %v, want mode %o", dir, st, err, mode)
				}
			}
			if target, err := os.Readlink(filepath.Join(s.root, "usr/local/bin/mobileatwork")); err != nil || target != filepath.Join(s.root, "Library/MobileAtWork/bin/mobileatwork") {
				t.Errorf("symlink %q %v", target, err)
			}
		})
	}
}
