package e2e

import (
	"context"
	"fmt"
	"image/color"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mobileatwork/mobileatwork/internal/localweb"
)

// screenshotsEnv names the directory browser tests leave their screenshots
// in for people to look at.
const screenshotsEnv = "MAW_SCREENSHOTS"

// screenshotDir is $MAW_SCREENSHOTS, or the test's temporary directory.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv(screenshotsEnv); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

func (b *cdpBrowser) pressKey(key string, code int) {
	for _, typ := range []string{"rawKeyDown", "keyUp"} {
		b.must(b.session, "Input.dispatchKeyEvent", map[string]any{
			"type": typ, "key": key, "code": key, "windowsVirtualKeyCode": code, "nativeVirtualKeyCode": code,
		}, nil)
	}
}

// TestAppsAtWorkInChromium opens the catalog of a running agent in
// headless Chromium: grid, search and category filter, a refused image,
// the detail page, keyboard use, and an install that turns live into
// "installed" through the Linux installer twin.
func TestAppsAtWorkInChromium(t *testing.T) {
	t.Parallel()
	f := newCatalogFixture(t)
	shots := screenshotDir(t)
	// The browser app's icon is changed on the server after it was signed:
	// the page must show it as refused, not display it.
	iconPath, err := filePath(f.e.srv, f.browser.Details.Icon.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(iconPath, pngImage(t, 128, 128, color.RGBA{255, 0, 0, 255}), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := servePage(t, f.svc.Handler())

	b := startCDP(t, 1280, 800)
	b.navigate(srv.URL())
	b.waitFor("three tiles", `document.querySelectorAll('.grid > li').length === 3`)
	var path string
	b.eval(`location.pathname + location.search`, &path)
	if path != "/" {
		t.Fatalf("after the secret link the address is %q: the secret must not stay in it", path)
	}
	sel := func(id string) string { return fmt.Sprintf(`document.querySelector('li[data-app=%q]')`, id) }
	b.waitFor("installed packager app", sel(f.browser.ID)+`.dataset.status === 'installed'`)
	b.waitFor("Install button of the in-house app", sel(f.tools.ID)+`.querySelector('button.install') !== null`)
	b.waitFor("refused icon shown as an error", sel(f.browser.ID)+`.querySelector('.img-error') && `+sel(f.browser.ID)+`.querySelector('.img-error').textContent.includes('Image refused')`)
	b.waitFor("verified icon displayed", sel(f.tools.ID)+`.querySelector('img.icon').naturalWidth === 128`)
	t.Logf("screenshot %s", b.screenshot(shots, "catalog-grid-1280x800.png"))

	// Search and category filter, driven through the address as a user's
	// bookmark would, and by typing.
	b.eval(`location.hash = '#/?q=team'`, nil)
	b.waitFor("search by name", `document.querySelectorAll('.grid > li').length === 1 && `+sel(f.tools.ID)+` !== null`)
	b.eval(`location.hash = '#/?cat=Internet'`, nil)
	b.waitFor("category filter", `document.querySelectorAll('.grid > li').length === 1 && `+sel(f.browser.ID)+` !== null && document.getElementById('cat').value === 'Internet'`)
	b.eval(`location.hash = '#/'`, nil)
	b.waitFor("all apps again", `document.querySelectorAll('.grid > li').length === 3`)
	b.eval(`const q = document.getElementById('q'); q.focus(); q.value = 'meeting notes'; q.dispatchEvent(new Event('input'))`, nil)
	b.waitFor("typed search matches the description", `document.querySelectorAll('.grid > li').length === 1 && `+sel(f.notes.ID)+` !== null`)
	b.eval(`const q2 = document.getElementById('q'); q2.value = 'zzz'; q2.dispatchEvent(new Event('input'))`, nil)
	b.waitFor("empty search state", `document.querySelector('.empty') && document.querySelector('.empty').textContent.includes('No matching apps')`)
	t.Logf("screenshot %s", b.screenshot(shots, "catalog-no-match-1280x800.png"))

	// Keyboard: Tab reaches a tile with a visible focus ring; Enter opens it.
	b.eval(`document.getElementById('q').value = ''; location.hash = '#/'; document.activeElement.blur()`, nil)
	b.waitFor("grid back", `document.querySelectorAll('.grid > li').length === 3`)
	var focused bool
	for range 8 {
		b.pressKey("Tab", 9)
		if b.eval(`document.activeElement.classList.contains('tile-link')`, &focused); focused {
			break
		}
	}
	if !focused {
		t.Fatal("Tab never reached an app tile")
	}
	var outline string
	b.eval(`getComputedStyle(document.activeElement).outlineStyle + ' ' + getComputedStyle(document.activeElement).outlineWidth`, &outline)
	if !strings.HasPrefix(outline, "solid") {
		t.Fatalf("focused tile outline %q: focus must be visible", outline)
	}
	var firstApp string
	b.eval(`document.activeElement.closest('li').dataset.app`, &firstApp)
	b.pressKey("Enter", 13)
	b.waitFor("detail page opened with Enter", fmt.Sprintf(`location.hash === '#/app/%s' && document.activeElement.id === 'app-title'`, firstApp))

	// The detail page of the in-house app.
	b.eval(fmt.Sprintf(`location.hash = '#/app/%s'`, f.tools.ID), nil)
	b.waitFor("detail title", `document.getElementById('app-title') && document.getElementById('app-title').textContent === 'Team Tools'`)
	checks := map[string]string{
		"description":       `document.querySelector('.desc').textContent.includes('shared drives, VPN and printers')`,
		"two screenshots":   `document.querySelectorAll('#gallery img').length === 2`,
		"screenshot alt":    `[...document.querySelectorAll('#gallery img')].map(i => i.alt).join('|') === 'Main window listing shared drives|Printer setup in two clicks'`,
		"screenshots shown": `[...document.querySelectorAll('#gallery img')].every(i => i.complete && i.naturalWidth === 640)`,
		"rating text":       `document.querySelector('#rating [role=img]').getAttribute('aria-label') === 'Rated 4.3 out of 5' && document.getElementById('rating').textContent.includes('3 reviews')`,
		"reviews":           `[...document.querySelectorAll('#reviews li strong')].map(s => s.textContent).sort().join('|') === 'Ada Lovelace|Alan Turing|Grace Hopper'`,
		"review stars":      `document.querySelectorAll('#reviews [role=img][aria-label^="Rated "]').length === 3`,
		"icon alt":          `document.querySelector('.detail-head img.icon').alt === 'Team Tools icon'`,
		"publisher":         `document.querySelector('.detail-head .meta').textContent.includes('Example Corp IT')`,
	}
	for name, expr := range checks {
		b.waitFor(name, expr)
	}
	t.Logf("screenshot %s", b.screenshot(shots, "catalog-detail-1280x800.png"))

	// Install: the button starts it, the status changes live (no reload).
	b.eval(`window.__noReload = true; document.querySelector('button.install[data-app="`+f.tools.ID+`"]').click()`, nil)
	b.waitFor("installed, live", `document.querySelector('.detail-head .pill.installed') !== null && window.__noReload === true`)
	b.waitFor("installed version", `document.querySelector('.detail-head').textContent.includes('Version 3.2.1 on this Mac')`)
	if _, err := os.Stat(filepath.Join(f.root, "var", "db", "receipts", "com.example.teamtools.plist")); err != nil {
		t.Fatalf("no receipt after the install: %v", err)
	}
	t.Logf("screenshot %s", b.screenshot(shots, "catalog-detail-installed-1280x800.png"))
	b.eval(`document.getElementById('h-reviews').scrollIntoView()`, nil)
	t.Logf("screenshot %s", b.screenshot(shots, "catalog-reviews-1280x800.png"))

	// A package changed on the server after it was signed: the install
	// fails visibly and nothing is installed.
	pkgPath, err := filePath(f.e.srv, f.notes.FileSHA256)
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := os.ReadFile(pkgPath)
	if err != nil {
		t.Fatal(err)
	}
	pkg[len(pkg)-1] ^= 0xff
	if err := os.WriteFile(pkgPath, pkg, 0o600); err != nil {
		t.Fatal(err)
	}
	b.eval(fmt.Sprintf(`location.hash = '#/app/%s'`, f.notes.ID), nil)
	b.waitFor("Notes Sync detail", `document.getElementById('app-title') && document.getElementById('app-title').textContent === 'Notes Sync'`)
	b.eval(`document.querySelector('button.install[data-app="`+f.notes.ID+`"]').click()`, nil)
	b.waitFor("failed install shown", `document.getElementById('install-error') && document.getElementById('install-error').textContent.includes('SHA-256') && document.querySelector('button.install').textContent === 'Try again'`)
	if _, err := os.Stat(filepath.Join(f.root, "var", "db", "receipts", "com.example.notessync.plist")); err == nil {
		t.Fatal("the tampered package was installed")
	}
	t.Logf("screenshot %s", b.screenshot(shots, "catalog-install-refused-1280x800.png"))

	// Nothing left the machine: every resource came from the page's origin.
	var external []string
	b.eval(`performance.getEntriesByType('resource').map(e => e.name).filter(n => !n.startsWith(location.origin))`, &external)
	if len(external) > 0 {
		t.Fatalf("external requests: %v", external)
	}

	// The small window.
	b.resize(800, 600)
	b.eval(`location.hash = '#/'`, nil)
	b.waitFor("grid at 800×600", `document.querySelectorAll('.grid > li').length === 3`)
	var overflow bool
	b.eval(`document.documentElement.scrollWidth > window.innerWidth`, &overflow)
	if overflow {
		t.Fatal("the grid scrolls sideways at 800×600")
	}
	t.Logf("screenshot %s", b.screenshot(shots, "catalog-grid-800x600.png"))
	b.eval(fmt.Sprintf(`location.hash = '#/app/%s'`, f.tools.ID), nil)
	b.waitFor("detail at 800×600", `document.getElementById('app-title') !== null`)
	b.eval(`document.documentElement.scrollWidth > window.innerWidth`, &overflow)
	if overflow {
		t.Fatal("the detail page scrolls sideways at 800×600")
	}
	t.Logf("screenshot %s", b.screenshot(shots, "catalog-detail-800x600.png"))
}

// TestAppsAtWorkPageRefusesWithoutSecret checks the page is not served to a
// browser that did not get the secret link.
func TestAppsAtWorkPageRefusesWithoutSecret(t *testing.T) {
	t.Parallel()
	f := newCatalogFixture(t)
	srv := servePage(t, f.svc.Handler())
	b := startCDP(t, 800, 600)
	b.navigate("http://" + srv.Addr().String() + "/")
	b.waitFor("refusal", `document.body && document.body.innerText.includes('forbidden')`)
	var tiles int
	b.eval(`document.querySelectorAll('.grid > li').length`, &tiles)
	if tiles != 0 {
		t.Fatal("the catalog was shown without the secret")
	}
}

// servePage serves h on loopback, as `catalog ui` does, until the test ends.
func servePage(t *testing.T, h http.Handler) *localweb.Server {
	t.Helper()
	srv, err := localweb.New(h, localweb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return srv
}
