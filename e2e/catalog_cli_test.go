package e2e

import (
	"encoding/json"
	"image/color"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mobileatwork/mobileatwork/agent"
)

// TestAppsAtWorkCLI drives `app set`, `app review add`, `app distribute`,
// `app list --json` on the server and `catalog list --json` on the agent.
func TestAppsAtWorkCLI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	state := e.enroll()
	srv := func(args ...string) (string, string, int) {
		return run(t, "mobileatwork-server", append(args, "--data", e.data)...)
	}
	dir := t.TempDir()
	pkg := writeFile(t, dir, "Tools.pkg", mustPKG(t, "com.example.tools", "2.0", "Applications/Tools.app"))
	out, stderr, code := srv("app", "add", "--name", "Tools", "--kind", "inhouse", "--package-id", "com.example.tools", "--file", pkg)
	if code != 0 {
		t.Fatalf("app add: %s", stderr)
	}
	id := strings.TrimSpace(out)
	icon := writeFile(t, dir, "icon.png", pngImage(t, 64, 64, color.RGBA{0, 90, 200, 255}))
	shot := writeFile(t, dir, "shot.png", pngImage(t, 320, 200, color.RGBA{30, 30, 30, 255}))
	if _, stderr, code := srv("app", "set", id, "--publisher", "Example IT", "--category", "Utilities",
		"--short-description", "Everyday tools", "--description", "Line one.\nLine two.",
		"--icon", icon, "--screenshot", shot+"=Main window, with the toolbar"); code != 0 {
		t.Fatalf("app set: %s", stderr)
	}
	svg := writeFile(t, dir, "evil.png", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`))
	_, stderr, code = srv("app", "set", id, "--icon", svg)
	oneErrorLine(t, stderr, code, "not a PNG or JPEG")
	for _, r := range []string{"5", "3"} {
		if _, stderr, code := srv("app", "review", "add", "--app", id, "--author", "Ada", "--rating", r, "--text", "fine"); code != 0 {
			t.Fatalf("review add: %s", stderr)
		}
	}
	_, stderr, code = srv("app", "review", "add", "--app", id, "--author", "Ada", "--rating", "9")
	oneErrorLine(t, stderr, code, "want 1 to 5")
	if _, stderr, code := srv("app", "distribute", "--app", id, "--to", "user:ADA@example.com"); code != 0 {
		t.Fatalf("distribute: %s", stderr)
	}
	_, stderr, code = srv("app", "distribute", "--app", id, "--to", "everyone")
	oneErrorLine(t, stderr, code, "--to")

	out, _, code = srv("app", "list", "--json")
	var apps []struct {
		ID          string  `json:"id"`
		Publisher   string  `json:"publisher"`
		Category    string  `json:"category"`
		Rating      float64 `json:"rating"`
		Screenshots []struct {
			Alt string `json:"alt"`
		} `json:"screenshots"`
		Reviews       []json.RawMessage `json:"reviews"`
		Distributions []struct {
			Target string `json:"target"`
		} `json:"distributions"`
	}
	if err := json.Unmarshal([]byte(out), &apps); err != nil || code != 0 || len(apps) != 1 {
		t.Fatalf("app list --json: %d %v %s", code, err, out)
	}
	a := apps[0]
	if a.ID != id || a.Publisher != "Example IT" || a.Category != "Utilities" || a.Rating != 4 || len(a.Reviews) != 2 ||
		len(a.Screenshots) != 1 || a.Screenshots[0].Alt != "Main window, with the toolbar" ||
		len(a.Distributions) != 1 || a.Distributions[0].Target != "user:ada@example.com" {
		t.Fatalf("app list --json: %+v", a)
	}

	checkin(t, newAgent(t, state))
	out, stderr, code = run(t, "mobileatwork", "catalog", "list", "--json", "--state-dir", state, "--root", t.TempDir())
	var st struct {
		Apps []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"apps"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || code != 0 || len(st.Apps) != 1 || st.Apps[0].ID != id || st.Apps[0].Status != "available" {
		t.Fatalf("catalog list --json: %d %v %s %s", code, err, out, stderr)
	}
	if c, err := agent.LoadCatalog(filepath.Clean(state)); err != nil || c.ReceivedAt.IsZero() {
		t.Fatalf("saved catalog: %+v %v", c, err)
	}
}
