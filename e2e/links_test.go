package e2e

import (
	"context"
	"debug/macho"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/server"
)

// TestDownloadLinkInChromium opens a download link in headless Chromium:
// the page names the organisation and offers the package, the download
// works once, and then the page says the link is used; an expired link says
// so. The listener is a plain loopback test server the test controls (no
// TLS to trust); screenshots go to the test's temporary directory.
func TestDownloadLinkInChromium(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.srv.SetTenantURLs(ctx, []string{"server_url=https://127.0.0.1:8443", "enroll_url=https://enroll.example.com"}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(e.srv.NewLinkHandler(server.EnrollOptions{AgentDir: fakeAgentDir(t, macho.CpuArm64, macho.CpuAmd64)}))
	t.Cleanup(ts.Close)
	local := func(li server.LinkInfo) string {
		return ts.URL + strings.TrimPrefix(li.URL, "https://enroll.example.com")
	}
	once, err := e.srv.CreateLink(ctx, "ada@example.com", 1, 72*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	shots := screenshotDir(t)
	downloads := t.TempDir()

	b := startCDP(t, 1024, 700)
	b.must("", "Browser.setDownloadBehavior", map[string]any{"behavior": "allow", "downloadPath": downloads}, nil)
	b.navigate(local(once))
	b.waitFor("the organisation and the Download button", `document.querySelector('.org').textContent === 'Test tenant' && document.getElementById('download') !== null`)
	t.Logf("screenshot %s", b.screenshot(shots, "link-active.png"))
	b.eval(`document.getElementById('download').click()`, nil)
	if err := poll(20*time.Second, func() (bool, error) {
		ls, err := e.srv.Links(ctx)
		return err == nil && ls[0].Downloads == 1, err
	}); err != nil {
		t.Fatalf("the download was not served: %v", err)
	}
	if err := poll(20*time.Second, func() (bool, error) {
		_, err := os.Stat(filepath.Join(downloads, "MobileAtWork.pkg"))
		return err == nil, nil
	}); err != nil {
		t.Fatalf("the browser saved no MobileAtWork.pkg: %v", err)
	}
	b.navigate(local(once))
	b.waitFor("the refusal of a used link", `document.querySelector('main').dataset.state === 'used' && document.getElementById('download') === null && document.body.innerText.includes('Ask your IT team for a new one')`)
	t.Logf("screenshot %s", b.screenshot(shots, "link-used.png"))

	expired, err := e.srv.CreateLink(ctx, "", 1, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	e.srv.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	b.navigate(local(expired))
	b.waitFor("the refusal of an expired link", `document.querySelector('main').dataset.state === 'expired' && document.body.innerText.includes('no longer valid')`)
	t.Logf("screenshot %s", b.screenshot(shots, "link-expired.png"))
}

// TestLinkCLI drives tenant set/show and link create/list/revoke through
// the binary, and its refusals.
func TestLinkCLI(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	if _, stderr, code := run(t, "mobileatwork-server", "init", "--data", data); code != 0 {
		t.Fatal(stderr)
	}
	_, stderr, code := run(t, "mobileatwork-server", "link", "create", "--data", data)
	oneErrorLine(t, stderr, code, "tenant set enroll_url=")
	for _, bad := range [][]string{
		{"tenant", "set"},
		{"tenant", "set", "server_url=http://127.0.0.1"},
		{"tenant", "set", "server_url=https://mdm.example.com"},
		{"tenant", "set", "enroll_url=https://x/y"},
		{"tenant", "set", "color=blue"},
	} {
		_, stderr, code := run(t, "mobileatwork-server", append(bad, "--data", data)...)
		oneErrorLine(t, stderr, code, "")
	}
	out, _, _ := run(t, "mobileatwork-server", "tenant", "show", "--data", data, "--json")
	if strings.TrimSpace(out) != "{\n  \"server_url\": \"\",\n  \"enroll_url\": \"\"\n}" {
		t.Fatalf("refused sets kept something: %s", out)
	}
	if _, stderr, code := run(t, "mobileatwork-server", "tenant", "set", "--data", data, "server_url=https://127.0.0.1:8443", "enroll_url=https://enroll.example.com"); code != 0 {
		t.Fatal(stderr)
	}
	for _, bad := range [][]string{
		{"--uses", "0"}, {"--ttl", "soon"}, {"--user", "ada"},
	} {
		_, stderr, code := run(t, "mobileatwork-server", append([]string{"link", "create", "--data", data}, bad...)...)
		oneErrorLine(t, stderr, code, bad[0])
	}
	out, stderr, code = run(t, "mobileatwork-server", "link", "create", "--data", data, "--user", "ada@example.com", "--uses", "2", "--ttl", "3d")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	url := lines[len(lines)-1]
	if code != 0 || !strings.HasPrefix(url, "https://enroll.example.com/e/") || len(url) != len("https://enroll.example.com/e/")+43 {
		t.Fatalf("link create: %d %q %q", code, out, stderr)
	}
	out, _, _ = run(t, "mobileatwork-server", "link", "list", "--data", data, "--json")
	var ls []struct {
		ID, User, State, URL string
		Uses, Downloads      int
	}
	if err := json.Unmarshal([]byte(out), &ls); err != nil || len(ls) != 1 || ls[0].User != "ada@example.com" || ls[0].Uses != 2 || ls[0].State != "active" || ls[0].URL != "" {
		t.Fatalf("link list: %v %s", err, out)
	}
	if strings.Contains(out, url[len(url)-43:]) {
		t.Error("link list shows the secret")
	}
	_, stderr, code = run(t, "mobileatwork-server", "link", "revoke", "--data", data, "lnk_nope")
	oneErrorLine(t, stderr, code, "no link")
	if _, stderr, code := run(t, "mobileatwork-server", "link", "revoke", "--data", data, ls[0].ID); code != 0 {
		t.Fatal(stderr)
	}
	out, _, _ = run(t, "mobileatwork-server", "link", "list", "--data", data)
	if !strings.Contains(out, "revoked") || !strings.Contains(out, "LAST DOWNLOAD") {
		t.Errorf("link list after revoke:\n%s", out)
	}
	_, stderr, code = run(t, "mobileatwork-server", "serve", "--data", data, "--agent-dir", t.TempDir())
	oneErrorLine(t, stderr, code, "--agent-dir needs --enroll-listen")
}
