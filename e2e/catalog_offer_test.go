package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"image/color"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/agent/appcatalog"
	"github.com/mobileatwork/mobileatwork/agent/installer"
	"github.com/mobileatwork/mobileatwork/desktop"
	"github.com/mobileatwork/mobileatwork/executor"
	"github.com/mobileatwork/mobileatwork/internal/localweb"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// Right after registration the daemon serves Apps@Work and offers it to the
// console user's login, without onboarding; it withdraws it when it stops.
func TestDaemonOffersCatalogToConsoleUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.addCatalogApp(catalogApp{
		name: "Team Tools", kind: protocol.AppKindInHouse, packageID: "com.example.teamtools",
		category: "Productivity", publisher: "Example Corp IT", short: "Shared drives, VPN and printers.",
		pkg:  mustPKG(t, "com.example.teamtools", "3.2.1", "Applications/Team Tools.app"),
		icon: pngImage(t, 64, 64, color.RGBA{11, 87, 208, 255}), to: []string{"all"},
	})
	offers := t.TempDir()
	root := t.TempDir()
	me := executor.User{UID: uint32(os.Getuid()), GID: uint32(os.Getgid()), Name: "ada"}
	a := newAgentWith(t, e.enroll(), func(o *agent.Options) {
		o.InventoryRoot = root
		o.UISessionDir = offers
		o.Interval = time.Hour
		o.ConsoleUser = func() (executor.User, error) { return me, nil }
	})
	a.RegisterCatalogPage(appcatalog.New(appcatalog.Options{
		Source: a, Installer: installer.Twin{Root: root}, StateDir: a.StateDir(), InventoryRoot: root,
	}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Daemon(ctx) }()
	stop := func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Fatal("daemon did not stop")
		}
	}
	defer func() {
		if ctx.Err() == nil {
			stop()
		}
	}()

	var s desktop.Offer
	waitFor(t, 10*time.Second, "Apps@Work offered to the console user", func() (bool, error) {
		var err error
		s, err = desktop.ReadOffer(offers, os.Getuid(), "")
		return err == nil, err
	})
	if s.Onboarding() || s.CatalogURL == "" || s.DeviceID != a.DeviceID() || s.CatalogURL != a.CatalogPageURL() {
		t.Fatalf("offer = %+v, want Apps@Work alone for device %s", s, a.DeviceID())
	}

	// The offered address opens the catalog of the check-in, as the
	// window of the user's login does.
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	if res, err := hc.Get(s.CatalogURL); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("open %s: %v %v", s.CatalogURL, res, err)
	} else {
		res.Body.Close()
	}
	u, _ := url.Parse(s.CatalogURL)
	res, err := hc.Get("http://" + u.Host + "/api/state")
	if err != nil {
		t.Fatal(err)
	}
	var st appcatalog.State
	err = json.NewDecoder(res.Body).Decode(&st)
	res.Body.Close()
	if err != nil || len(st.Apps) != 1 || st.Apps[0].Name != "Team Tools" || st.Apps[0].Status != appcatalog.StatusAvailable {
		t.Fatalf("catalog = %+v, %v; want Team Tools, available", st, err)
	}

	stop()
	if _, err := desktop.ReadOffer(offers, os.Getuid(), ""); !errors.Is(err, desktop.ErrNoOffer) {
		t.Errorf("offer left after the daemon stopped: %v", err)
	}
	if err := localweb.Probe(context.Background(), s.CatalogURL); !errors.Is(err, localweb.ErrPageDown) {
		t.Errorf("Apps@Work still answers after the daemon stopped: %v", err)
	}
}
