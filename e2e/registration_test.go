package e2e

import (
	"context"
	"errors"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/agent/appcatalog"
	"github.com/mobileatwork/mobileatwork/agent/installer"
	"github.com/mobileatwork/mobileatwork/agent/registration"
	"github.com/mobileatwork/mobileatwork/desktop"
	"github.com/mobileatwork/mobileatwork/executor"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// typeText types s into the focused element, one key event per character.
func (b *cdpBrowser) typeText(s string) {
	for _, r := range s {
		c := string(r)
		b.must(b.session, "Input.dispatchKeyEvent", map[string]any{"type": "keyDown", "key": c, "text": c, "unmodifiedText": c}, nil)
		b.must(b.session, "Input.dispatchKeyEvent", map[string]any{"type": "keyUp", "key": c}, nil)
	}
}

// pressEnter presses Enter as a keyboard does: the key's character is
// what submits a form from its text field.
func (b *cdpBrowser) pressEnter() {
	b.must(b.session, "Input.dispatchKeyEvent", map[string]any{
		"type": "keyDown", "key": "Enter", "code": "Enter", "text": "\r", "unmodifiedText": "\r",
		"windowsVirtualKeyCode": 13, "nativeVirtualKeyCode": 13,
	}, nil)
	b.must(b.session, "Input.dispatchKeyEvent", map[string]any{"type": "keyUp", "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13}, nil)
}

// tabTo presses Tab until the element with id has the focus.
func (b *cdpBrowser) tabTo(id string) {
	b.t.Helper()
	var at bool
	for range 6 {
		if b.eval(`document.activeElement && document.activeElement.id === '`+id+`'`, &at); at {
			return
		}
		b.pressKey("Tab", 9)
	}
	b.t.Fatalf("Tab never reached #%s", id)
}

// TestRegisterThisMacInChromium registers a Mac that the generic package
// left unenrolled: the waiting daemon offers its "Register this Mac" page,
// a user fills it with the keyboard alone in headless Chromium, a wrong
// token reads as plain words, the right one enrolls the device with the
// tenant, and the daemon that follows offers Apps@Work. The browser talks
// only to the page's loopback listener, which the test runs; the agent's
// enrollment checks the tenant server against the CA the token pins.
func TestRegisterThisMacInChromium(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addCatalogApp(catalogApp{
		name: "Team Tools", kind: protocol.AppKindInHouse, packageID: "com.example.teamtools",
		category: "Productivity", publisher: "Example Corp IT", short: "Shared drives, VPN and printers.",
		pkg:  mustPKG(t, "com.example.teamtools", "3.2.1", "Applications/Team Tools.app"),
		icon: pngImage(t, 64, 64, color.RGBA{11, 87, 208, 255}), to: []string{"all"},
	})
	shots := screenshotDir(t)
	state := filepath.Join(t.TempDir(), "state")
	offers := t.TempDir()
	me := executor.User{UID: uint32(os.Getuid()), GID: uint32(os.Getgid()), Name: "ada"}
	console := func() (executor.User, error) { return me, nil }

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	waited := make(chan error, 1)
	go func() {
		waited <- registration.Wait(ctx, registration.Options{
			StateDir: state,
			Enroll: func(ctx context.Context, serverURL, token string) (*agent.Identity, error) {
				return agent.Enroll(ctx, agent.EnrollOptions{StateDir: state, ServerURL: serverURL, Token: token, Facts: testFacts,
					Capabilities: []string{protocol.CapSchedule, protocol.CapInventory}})
			},
			OfferDir: offers, ConsoleUser: console,
		})
	}()
	var s desktop.Offer
	waitFor(t, 10*time.Second, "the registration page offered", func() (bool, error) {
		var err error
		s, err = desktop.ReadOffer(offers, os.Getuid(), "")
		return err == nil, nil
	})
	if !s.Registration() || s.CatalogURL != "" || s.DeviceID != "" {
		t.Fatalf("offer = %+v, want the registration page alone", s)
	}

	b := startCDP(t, 1440, 900)
	b.navigate(s.RegisterURL)
	b.waitFor("the form", `document.getElementById('register') !== null && document.title === 'Register this Mac'`)
	var path string
	b.eval(`location.pathname + location.search`, &path)
	if path != "/" {
		t.Fatalf("after the secret link the address is %q: the secret must not stay in it", path)
	}
	t.Logf("screenshot %s", b.screenshot(shots, "register-1440x900.png"))

	// A token the server never made: plain words, the token field to fix,
	// nothing enrolled.
	pin, err := protocol.ParseEnrollToken(e.token(1, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	unknown := protocol.EnrollToken{Secret: make([]byte, 32), CAPin: pin.CAPin}.String()
	b.tabTo("server")
	b.typeText(strings.TrimPrefix(e.url, "https://"))
	b.pressKey("Tab", 9)
	b.tabTo("token")
	b.typeText(unknown)
	b.pressEnter()
	b.waitFor("the plain-words error", `document.getElementById('error').textContent === `+jsString(registration.MsgTokenUnknown))
	b.waitFor("the token field focused to fix it", `document.activeElement.id === 'token' && !document.getElementById('submit').disabled`)
	if _, err := os.Stat(filepath.Join(state, "identity.json")); err == nil {
		t.Fatal("enrolled with an unknown token")
	}
	t.Logf("screenshot %s", b.screenshot(shots, "register-wrong-token-1440x900.png"))

	// The right token, typed over the wrong one.
	for range len(unknown) {
		b.pressKey("Backspace", 8)
	}
	b.waitFor("the token field empty", `document.getElementById('token').value === ''`)
	b.typeText(e.token(1, time.Hour))
	b.pressEnter()
	b.waitFor("registered", `!document.getElementById('done').hidden && document.getElementById('done').textContent.includes('registered') && document.getElementById('register').hidden`)
	t.Logf("screenshot %s", b.screenshot(shots, "register-done-1440x900.png"))
	var external []string
	b.eval(`performance.getEntriesByType('resource').map(e => e.name).filter(n => !n.startsWith(location.origin))`, &external)
	if len(external) > 0 {
		t.Fatalf("external requests: %v", external)
	}

	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("Wait = %v", err)
		}
	case <-ctx.Done():
		t.Fatal("the wait for registration did not end")
	}
	if _, err := desktop.ReadOffer(offers, os.Getuid(), ""); !errors.Is(err, desktop.ErrNoOffer) {
		t.Fatalf("registration page still offered: %v", err)
	}

	// The daemon that follows is the normal one: it checks in and offers
	// Apps@Work of the new enrollment.
	root := t.TempDir()
	a := newAgentWith(t, state, func(o *agent.Options) {
		o.InventoryRoot, o.UISessionDir, o.Interval, o.ConsoleUser = root, offers, time.Hour, console
	})
	devs, err := e.srv.Store.Devices(ctx)
	if err != nil || len(devs) != 1 || devs[0].ID != a.DeviceID() || devs[0].User != "ada@example.com" {
		t.Fatalf("devices on the server = %+v, %v; want %s", devs, err, a.DeviceID())
	}
	a.RegisterCatalogPage(appcatalog.New(appcatalog.Options{
		Source: a, Installer: installer.Twin{Root: root}, StateDir: a.StateDir(), InventoryRoot: root,
	}))
	dctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Daemon(dctx) }()
	defer func() { stop(); <-done }()
	waitFor(t, 15*time.Second, "Apps@Work offered after registration", func() (bool, error) {
		var err error
		s, err = desktop.ReadOffer(offers, os.Getuid(), "")
		return err == nil && s.CatalogURL != "", nil
	})
	if s.Registration() || s.DeviceID != a.DeviceID() {
		t.Fatalf("offer = %+v, want Apps@Work of %s", s, a.DeviceID())
	}
	b.navigate(s.CatalogURL)
	b.waitFor("Apps@Work with the tenant's app", `document.querySelectorAll('.grid > li').length === 1`)
	t.Logf("screenshot %s", b.screenshot(shots, "register-then-apps-at-work-1440x900.png"))
}

// jsString quotes s for a JavaScript expression.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
