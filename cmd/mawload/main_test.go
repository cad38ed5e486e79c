package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/internal/loadgen"
)

// mawload runs the command line in process and returns stdout, stderr and
// the exit code.
func mawload(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	root := newRoot()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	code := cli.Run(root)
	return out.String(), errOut.String(), code
}

// serverBin builds mobileatwork-server, which a local run starts.
func serverBin(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", dir+string(os.PathSeparator), "../mobileatwork-server")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the server: %v\n%s", err, out)
	}
	return filepath.Join(dir, "mobileatwork-server")
}

// A short local run: 50 devices enrolled, warmed up and driven for two
// seconds, with every kind of request in the mix, and no error.
func TestLocalRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a server")
	}
	bin := serverBin(t)
	state := filepath.Join(t.TempDir(), "state")
	out, errOut, code := mawload(t, "run", "--local", "--server-bin", bin, "--state", state, "--devices", "50", "--keys", "2",
		"--duration", "2s", "--concurrency", "8", "--script-share", "0.3", "--inventory-share", "0.3", "--progress", "1s", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep loadgen.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("the JSON report does not parse: %v\n%s", err, out)
	}
	if rep.Devices != 50 || rep.Warmup == nil || rep.Warmup.Checkins != 50 || rep.Warmup.Counts["results"] != 50 {
		t.Fatalf("warm-up = %+v, want every one of 50 devices checked in once and its script's result accepted", rep.Warmup)
	}
	if rep.Checkins < 10 || rep.CheckinsPerSecond <= 0 || rep.Latency.Count != rep.Checkins || rep.Latency.P99 <= 0 {
		t.Fatalf("window: %d check-ins, %.1f/s, latency %+v", rep.Checkins, rep.CheckinsPerSecond, rep.Latency)
	}
	if rep.ErrorCount != 0 || rep.Warmup.ErrorCount != 0 {
		t.Fatalf("errors: %v, warm-up %v; e.g. %v", rep.Errors, rep.Warmup.Errors, rep.ErrorExamples)
	}
	for _, req := range []string{"blob", "results", "inventory"} {
		if rep.Requests[req].Count == 0 {
			t.Errorf("no %s request in the window: %v", req, rep.Requests)
		}
	}
	if rep.Scenario == nil || rep.Scenario.ToAll != 1 {
		t.Errorf("scenario = %+v", rep.Scenario)
	}
	if runtime.GOOS == "linux" && (rep.ServerProcess == nil || rep.ServerProcess.CPUSeconds <= 0 || rep.ServerProcess.RSSMB <= 0) {
		t.Errorf("server process figures = %+v, want its CPU and RSS", rep.ServerProcess)
	}
	if !strings.Contains(errOut, "mawload: enrolling 50 devices") || !strings.Contains(errOut, "mawload: run ") {
		t.Errorf("stderr lacks enrollment or progress lines:\n%s", errOut)
	}

	// The devices are cached: a second run enrolls none, and an open loop
	// offers one check-in per device per interval; with --wake every
	// device then holds the wake channel, idle and beside the window.
	out, errOut, code = mawload(t, "run", "--local", "--server-bin", bin, "--state", state, "--devices", "50",
		"--duration", "1s", "--interval", "2s", "--warmup=false", "--progress", "0", "--wake")
	if code != 0 {
		t.Fatalf("second run: exit %d: %s", code, errOut)
	}
	if strings.Contains(errOut, "enrolling") {
		t.Errorf("second run enrolled again:\n%s", errOut)
	}
	for _, want := range []string{"25.0 check-ins/s offered", "errors      none", "check-ins   ",
		"wake        50 devices held the channel; 0 answers, 0 errors", "wake window "} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

// Each bad input gets one error line, and nothing is created.
func TestBadInputIsOneErrorLineAndChangesNothing(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	tokens := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokens, []byte("# none yet\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"neither local nor server", []string{"run", "--state", state}, "give --local"},
		{"both local and server", []string{"run", "--local", "--server", "https://127.0.0.1:1", "--state", state}, "give --local"},
		{"rate and interval", []string{"run", "--server", "https://127.0.0.1:1", "--state", state, "--rate", "5", "--interval", "1m"}, "not both"},
		{"no server binary", []string{"run", "--local", "--state", state, "--server-bin", filepath.Join(dir, "nope")}, "no server binary"},
		{"bad share", []string{"run", "--server", "https://127.0.0.1:1", "--state", state, "--script-share", "2"}, "--script-share"},
		{"remote without devices", []string{"run", "--server", "https://127.0.0.1:1", "--state", state, "--duration", "1s"}, "enroll them first"},
		{"enroll without tokens", []string{"enroll", "--server", "https://127.0.0.1:1", "--state", state}, "--tokens-from is required"},
		{"enroll with an empty token file", []string{"enroll", "--server", "https://127.0.0.1:1", "--state", state, "--tokens-from", tokens}, "holds no token"},
		{"enroll with a missing CA", []string{"enroll", "--server", "https://127.0.0.1:1", "--state", state, "--tokens-from", tokens + "x"}, "--tokens-from"},
		{"stray argument", []string{"run", "extra"}, "takes no arguments"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := mawload(t, tt.args...)
			lines := strings.Split(strings.TrimRight(errOut, "\n"), "\n")
			if code != 1 || len(lines) != 1 || !strings.HasPrefix(lines[0], "error: ") || !strings.Contains(lines[0], tt.want) {
				t.Fatalf("exit %d, stderr %q; want one error line with %q", code, errOut, tt.want)
			}
			if _, err := os.Stat(state); !os.IsNotExist(err) {
				t.Fatalf("%s was created", state)
			}
		})
	}
}
