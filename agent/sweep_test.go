package agent

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Temp files that kill -9 left between create and rename are removed when
// the agent next starts check-ins.
func TestStartSweepsInterruptedWrites(t *testing.T) {
	e := newTestEnv(t)
	a := e.agent(t, Options{})
	old := time.Now().Add(-time.Hour)
	var leftovers []string
	for _, dir := range []string{e.state, filepath.Join(e.state, outboxDir), filepath.Join(e.state, ledgerDir)} {
		p := filepath.Join(dir, ".x.json.tmp-12345")
		if err := os.WriteFile(p, make([]byte, 1<<20), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, old, old)
		leftovers = append(leftovers, p)
	}
	release, err := a.start()
	if err != nil {
		t.Fatal(err)
	}
	release()
	for _, p := range leftovers {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s survived the start", p)
		}
	}
}
