package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// flakyScript fails until the marker file in its directory says otherwise;
// its second attempt leaves the marker, so the third succeeds. Each
// attempt first waits for the test's go-ahead (go.N), so that what the
// administrator sees while it runs is checked before it ends.
const flakyScript = `#!/bin/sh
d="$MAW_INPUT_DIR"
n=$(( $(cat "$d/count" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$d/count"
i=0
while [ ! -f "$d/go.$n" ] && [ "$i" -lt 600 ]; do sleep 0.1; i=$((i+1)); done
if [ -f "$d/marker" ]; then echo "attempt $n: ok"; exit 0; fi
if [ "$n" -ge 2 ]; then touch "$d/marker"; fi
echo "attempt $n: not yet"
exit 1
`

// run --retries 3 --wait follows a script that fails twice on a daemon:
// each attempt is shown running before its result, the failures with the
// time of the next attempt, the success last; the server holds three
// results, attempts 1 to 3, and the script ran three times.
func TestRunRetriesUntilSuccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.watchWakes(t)
	state := e.enroll()
	// A retry waits a minute at first; the test's daemon waits 200 ms.
	a := newAgentWith(t, state, func(o *agent.Options) {
		o.Interval = 15 * time.Minute
		o.Capabilities = []string{protocol.CapSchedule, protocol.CapRetries, protocol.CapRunStarted}
		o.RetryBase = 200 * time.Millisecond
	})
	sc := e.addScript(flakyScript, []store.InputDecl{{Label: "Directory", Name: "dir"}})
	dir := t.TempDir()
	daemon(t, a)
	checkedIn(t, e.srv, a.DeviceID())

	cmd := exec.Command(filepath.Join(binDir, "mobileatwork-server"), "run", "--data", e.data, "--script", sc.Name,
		"--device", a.DeviceID(), "--input", "dir="+dir, "--retries", "3", "--wait", "90s")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	started := regexp.MustCompile(`\trunning\tattempt (\d+) started at `)
	var lines []string
	sc2 := bufio.NewScanner(out)
	for sc2.Scan() {
		line := sc2.Text()
		lines = append(lines, line)
		if m := started.FindStringSubmatch(line); m != nil {
			// Running is shown while the attempt runs: let it end now.
			if err := os.WriteFile(filepath.Join(dir, "go."+m[1]), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("run --wait: %v\nstdout %s\nstderr %s", err, strings.Join(lines, "\n"), stderr.String())
	}
	dev := a.DeviceID()
	want := []*regexp.Regexp{
		regexp.MustCompile(`^` + dev + `\trunning\tattempt 1 started at .* \(run .*\)$`),
		regexp.MustCompile(`^` + dev + `\tfailed\texit 1\t.*\tattempt 1: not yet\tattempt 1; next at `),
		regexp.MustCompile(`^` + dev + `\trunning\tattempt 2 started at `),
		regexp.MustCompile(`^` + dev + `\tfailed\texit 1\t.*\tattempt 2: not yet\tattempt 2; next at `),
		regexp.MustCompile(`^` + dev + `\trunning\tattempt 3 started at `),
		regexp.MustCompile(`^` + dev + `\tsucceeded\texit 0\t.*\tattempt 3: ok\tattempt 3$`),
	}
	if len(lines) != len(want) {
		t.Fatalf("run --wait printed %d lines, want %d:\n%s", len(lines), len(want), strings.Join(lines, "\n"))
	}
	for i, re := range want {
		if !re.MatchString(lines[i]) {
			t.Fatalf("line %d %q, want %s; all:\n%s", i+1, lines[i], re, strings.Join(lines, "\n"))
		}
	}
	if !strings.Contains(stderr.String(), "1 of 1 device(s) answered: 1 succeeded") {
		t.Fatalf("summary: %s", stderr.String())
	}

	rs, err := e.srv.Store.Results(context.Background(), store.ResultFilter{DeviceID: dev})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 3 {
		t.Fatalf("%d results, want 3", len(rs))
	}
	for i, r := range rs {
		if r.Attempt != i+1 || (i < 2) != !r.RetryAt.IsZero() {
			t.Fatalf("result %d: attempt %d, retry at %v", i+1, r.Attempt, r.RetryAt)
		}
	}
	if n, _ := os.ReadFile(filepath.Join(dir, "count")); strings.TrimSpace(string(n)) != "3" {
		t.Fatalf("the script ran %s times, want 3", n)
	}
	sts, err := e.srv.Store.ConfigStatuses(context.Background(), rs[0].AssignmentID)
	if err != nil || len(sts) != 1 || sts[0].Status != protocol.StatusSucceeded || sts[0].Detail != "exit 0 in "+
		(time.Duration(rs[2].DurationMS)*time.Millisecond).String()+" (attempt 3)" {
		t.Fatalf("status %+v, %v; want succeeded at attempt 3", sts, err)
	}

	// results shows the attempts, in the table and as JSON.
	stdout, errOut, code := run(t, "mobileatwork-server", "results", "--data", e.data, "--device", dev, "--json")
	var doc []struct {
		Attempt int        `json:"attempt"`
		RetryAt *time.Time `json:"retry_at"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); code != 0 || err != nil || len(doc) != 3 {
		t.Fatalf("results --json: exit %d, %v\n%s%s", code, err, stdout, errOut)
	}
	for i, r := range doc {
		if r.Attempt != i+1 || (i < 2) != (r.RetryAt != nil) {
			t.Fatalf("results --json %d: %+v", i+1, r)
		}
	}
	stdout, _, _ = run(t, "mobileatwork-server", "results", "--data", e.data, "--device", dev)
	if !strings.Contains(stdout, "ATTEMPT") || !strings.Contains(stdout, "1, next at ") {
		t.Fatalf("results table:\n%s", stdout)
	}

	// --retries outside 0 to 10 is refused and makes nothing.
	before, _ := e.srv.Store.Configurations(context.Background())
	_, errOut, code = run(t, "mobileatwork-server", "run", "--data", e.data, "--script", sc.Name, "--device", dev, "--retries", "11")
	oneErrorLine(t, errOut, code, fmt.Sprintf("--retries 11: want 0 (run once) to %d", protocol.MaxRetries))
	if after, _ := e.srv.Store.Configurations(context.Background()); len(after) != len(before) {
		t.Fatalf("a refused run left %d configurations", len(after)-len(before))
	}
}
