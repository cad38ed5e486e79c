package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The README's walk-through runs as written: scripts/walkthrough.sh runs
// it with the binaries built for these tests and fails when any command
// does or when "Say hello" did not succeed.
func TestWalkthrough(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "../scripts/walkthrough.sh")
	// The walk-through sets what it needs; nothing of the caller's agent
	// or server settings leaks in.
	cmd.Env = []string{"BIN=" + binDir}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MAW_") && !strings.HasPrefix(kv, "BIN=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("scripts/walkthrough.sh: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), `"Say hello" succeeded`) {
		t.Fatalf("scripts/walkthrough.sh did not get to its end:\n%s", out.String())
	}
}

// Every command of the README's walk-through is in scripts/walkthrough.sh,
// in the same order, changed only as the script's header says: no sudo,
// the port the server got instead of 8443, the server's output in a file.
func TestWalkthroughFollowsREADME(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile("../scripts/walkthrough.sh")
	if err != nil {
		t.Fatal(err)
	}
	section := string(readme)
	start := strings.Index(section, "\n## A walk through by hand\n")
	if start < 0 {
		t.Fatal(`README.md has no section "A walk through by hand"`)
	}
	section = section[start+1:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	var block []string
	inBlock := false
	for _, l := range strings.Split(section, "\n") {
		switch {
		case strings.HasPrefix(l, "    "):
			inBlock = true
			block = append(block, strings.TrimPrefix(l, "    "))
		case inBlock && strings.TrimSpace(l) != "":
			inBlock = false // the text after the block
		}
		if !inBlock && len(block) > 0 {
			break
		}
	}
	sudo := regexp.MustCompile(`(^|\$\(|\| )sudo `)
	var want []string
	for _, c := range commands(block) {
		if c == "make build" {
			continue // the script builds unless it is given the binaries
		}
		c = sudo.ReplaceAllString(c, "$1")
		want = append(want, strings.ReplaceAll(c, "127.0.0.1:8443", "127.0.0.1:PORT"))
	}
	if len(want) < 20 {
		t.Fatalf("found %d commands in the README's walk-through, want more: %q", len(want), want)
	}
	var have []string
	for _, c := range commands(strings.Split(string(script), "\n")) {
		c = strings.ReplaceAll(c, " 2>serve.log", "")
		c = strings.NewReplacer("127.0.0.1:0", "127.0.0.1:PORT", "127.0.0.1:$PORT", "127.0.0.1:PORT").Replace(c)
		have = append(have, c)
	}
	i := 0
	for _, c := range want {
		for i < len(have) && have[i] != c {
			i++
		}
		if i == len(have) {
			t.Fatalf("scripts/walkthrough.sh does not run, in the README's order, the walk-through's command\n\t%s", c)
		}
		i++
	}
}

var (
	trailingComment = regexp.MustCompile(`\s+#\s.*$`)
	spaces          = regexp.MustCompile(`\s+`)
)

// commands joins continued lines and drops comments, blank lines and
// differences of spacing.
func commands(lines []string) []string {
	var out []string
	cur := ""
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if cur == "" && (l == "" || strings.HasPrefix(l, "#")) {
			continue
		}
		if strings.HasSuffix(l, `\`) {
			cur += strings.TrimSuffix(l, `\`) + " "
			continue
		}
		c := strings.TrimSpace(spaces.ReplaceAllString(trailingComment.ReplaceAllString(cur+l, ""), " "))
		cur = ""
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}
