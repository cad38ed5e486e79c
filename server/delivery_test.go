package server

import (
	"bytes"
	"crypto/x509"
	"slices"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/protocol/schedule"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// deliveryRig is one enrolled device (user ada, a real certificate) that
// checks in as an agent does: naming the content it holds, keeping what a
// full answer carries.
type deliveryRig struct {
	t     *testing.T
	s     *Server
	cert  *x509.Certificate
	held  *protocol.CheckinPayload
	req   protocol.CheckinRequest
	clock time.Time
}

func newDeliveryRig(t *testing.T) (*deliveryRig, func() protocol.CheckinPayload) {
	s := newTenant(t)
	ctx := t.Context()
	if _, err := s.Distribute(ctx, "default", []string{"all"}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddUser(ctx, "ada@example.com", ""); err != nil {
		t.Fatal(err)
	}
	d, cert := benchDevice(t, s, "dev_rig")
	r := &deliveryRig{t: t, s: s, cert: cert, clock: time.Date(2026, 3, 14, 8, 0, 0, 0, time.UTC)}
	s.Now = func() time.Time { return r.clock }
	r.req = protocol.CheckinRequest{ProtocolVersion: protocol.Version, DeviceID: d.ID, AgentVersion: "1.80.0",
		Capabilities: d.Capabilities, Nonce: make([]byte, 32),
		Facts: protocol.Facts{SerialNumber: "C02RIG", Hostname: "mac-rig", AgentVersion: "1.80.0"}}
	checkin := func() protocol.CheckinPayload {
		t.Helper()
		dev, err := s.Store.Device(ctx, d.ID) // as the device API loads it
		if err != nil {
			t.Fatal(err)
		}
		req := r.req
		if r.held != nil {
			req.PayloadDigest = protocol.ContentDigest(*r.held)
		}
		answer, _, err := s.checkin(ctx, dev, req, cert)
		if err != nil {
			t.Fatal(err)
		}
		// Through the signature, as the agent sees it.
		signed, err := protocol.SignCheckin(answer, s.Tenant.Signing)
		if err != nil {
			t.Fatal(err)
		}
		opened, err := protocol.OpenCheckin(signed, protocol.Pinned{Cert: s.Tenant.Signing.Cert}, d.ID, req.Nonce, r.clock)
		if err != nil {
			t.Fatal(err)
		}
		// An unchanged answer must name the content held.
		if _, err := protocol.Resolve(opened, r.held); err != nil {
			t.Fatal(err)
		}
		if !opened.Unchanged {
			r.held = &opened
		}
		return opened
	}
	return r, checkin
}

func assignmentIDs(p protocol.CheckinPayload) []string {
	var out []string
	for _, a := range p.Assignments {
		out = append(out, a.ID)
	}
	return out
}

func inputValue(p protocol.CheckinPayload, id, name string) string {
	for _, a := range p.Assignments {
		for _, in := range a.Inputs {
			if a.ID == id && in.Name == name {
				return in.Value
			}
		}
	}
	return ""
}

// Every change that reaches the device ends the "unchanged" answers, and
// the next check-in carries it; after it, the device is answered
// "unchanged" again. A change that does not reach the device may rebuild
// the payload but answers "unchanged" when the content is the same.
func TestUnchangedUntilSomethingReachesTheDevice(t *testing.T) {
	r, checkin := newDeliveryRig(t)
	s, ctx := r.s, t.Context()
	sc := addScript(t, s, "hello", "echo hi\n",
		store.InputDecl{Name: "who", Default: "{$userDisplayName}"}, store.InputDecl{Name: "host", Default: "{$deviceName}"})
	base, _, err := s.Assign(ctx, "base", "", ScriptRequest{Script: sc.ID}, []string{"all"})
	if err != nil {
		t.Fatal(err)
	}
	if p := checkin(); p.Unchanged || !slices.Equal(assignmentIDs(p), []string{base.ID}) {
		t.Fatalf("first check-in: unchanged=%v assignments %v", p.Unchanged, assignmentIDs(p))
	}
	if p := checkin(); !p.Unchanged {
		t.Fatal("second check-in with nothing changed: not answered unchanged")
	}
	var groupCfg, userCfg, devCfg store.Configuration
	steps := []struct {
		name   string
		change func()
		check  func(p protocol.CheckinPayload) bool // on the full answer
		full   bool                                 // false: the content stays the same
	}{
		{"a configuration for another device", func() {
			if err := s.Store.CreateDevice(ctx, store.Device{ID: "dev_other", EnrolledAt: r.clock}); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.Assign(ctx, "other", "", ScriptRequest{Script: sc.ID}, []string{"device:dev_other"}); err != nil {
				t.Fatal(err)
			}
		}, nil, false},
		{"a new configuration for the device", func() {
			var err error
			if devCfg, _, err = s.Assign(ctx, "mine", "", ScriptRequest{Script: sc.ID}, []string{"device:dev_rig"}); err != nil {
				t.Fatal(err)
			}
		}, func(p protocol.CheckinPayload) bool { return slices.Contains(assignmentIDs(p), devCfg.ID) }, true},
		{"edited inputs", func() {
			if _, err := s.UpdateConfiguration(ctx, devCfg.ID, ConfigUpdate{Script: &ScriptRequest{Inputs: []string{"who=Grace"}}}); err != nil {
				t.Fatal(err)
			}
		}, func(p protocol.CheckinPayload) bool { return inputValue(p, devCfg.ID, "who") == "Grace" }, true},
		{"a new script body", func() {
			if _, err := s.UpdateScript(ctx, sc.ID, ScriptUpdate{Body: []byte("echo new\n")}); err != nil {
				t.Fatal(err)
			}
		}, func(p protocol.CheckinPayload) bool { return p.Assignments[0].Version > base.Version }, true},
		{"withdrawn", func() {
			if _, err := s.Distribute(ctx, devCfg.ID, []string{"none"}, false); err != nil {
				t.Fatal(err)
			}
		}, func(p protocol.CheckinPayload) bool { return !slices.Contains(assignmentIDs(p), devCfg.ID) }, true},
		{"Mobile@Work settings", func() {
			if _, err := s.UpdateConfiguration(ctx, "default", ConfigUpdate{Settings: []string{"checkin_interval_minutes=7"}}); err != nil {
				t.Fatal(err)
			}
		}, func(p protocol.CheckinPayload) bool { return p.Config.CheckinIntervalMinutes == 7 }, true},
		{"the user's name", func() {
			if _, err := s.AddUser(ctx, "ada@example.com", "Ada Lovelace"); err != nil {
				t.Fatal(err)
			}
		}, func(p protocol.CheckinPayload) bool { return inputValue(p, base.ID, "who") == "Ada Lovelace" }, true},
		{"a user group the user joins", func() {
			if _, err := s.AddUserGroup(ctx, "eng", "", nil); err != nil {
				t.Fatal(err)
			}
			var err error
			if userCfg, _, err = s.Assign(ctx, "for eng", "", ScriptRequest{Script: sc.ID}, []string{"usergroup:eng"}); err != nil {
				t.Fatal(err)
			}
			checkin() // not yet: nobody is in eng
			if _, err := s.SetUserGroup(ctx, "eng", []string{"ada@example.com"}, nil); err != nil {
				t.Fatal(err)
			}
		}, func(p protocol.CheckinPayload) bool { return slices.Contains(assignmentIDs(p), userCfg.ID) }, true},
		{"a device group", func() {
			if err := s.SetDeviceGroups(ctx, "dev_other", []string{"lab"}); err != nil {
				t.Fatal(err)
			}
			var err error
			if groupCfg, _, err = s.Assign(ctx, "for lab", "", ScriptRequest{Script: sc.ID}, []string{"group:lab"}); err != nil {
				t.Fatal(err)
			}
			checkin()
			if err := s.SetDeviceGroups(ctx, "dev_rig", []string{"lab"}); err != nil {
				t.Fatal(err)
			}
		}, func(p protocol.CheckinPayload) bool { return slices.Contains(assignmentIDs(p), groupCfg.ID) }, true},
		{"a catalog app distributed", func() {
			a, err := s.AddApp(ctx, AddAppRequest{Name: "Editor", Kind: protocol.AppKindAppsAndBooks, BundleID: "com.example.editor"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.DistributeApp(ctx, a.ID, []string{"user:ada@example.com"}); err != nil {
				t.Fatal(err)
			}
		}, func(p protocol.CheckinPayload) bool { return len(p.Apps) == 1 }, true},
		{"a review", func() {
			if _, err := s.AddReview(ctx, r.held.Apps[0].ID, "bob", 5, "good"); err != nil {
				t.Fatal(err)
			}
		}, func(p protocol.CheckinPayload) bool { return len(p.Apps[0].Reviews) == 1 }, true},
		{"onboarding enabled", func() {
			if _, err := s.UpdateConfiguration(ctx, "default", ConfigUpdate{Settings: []string{"onboarding.enabled=true"}}); err != nil {
				t.Fatal(err)
			}
		}, func(p protocol.CheckinPayload) bool { return p.Onboarding != nil && len(p.Onboarding.Profiles) == 0 }, true},
		{"an onboarding profile", func() {
			if _, err := s.AddProfile(ctx, "Wi-Fi", "com.example.wifi", nil); err != nil {
				t.Fatal(err)
			}
		}, func(p protocol.CheckinPayload) bool { return len(p.Onboarding.Profiles) == 1 }, true},
		{"the device's hostname", func() { r.req.Facts.Hostname = "mac-renamed" },
			func(p protocol.CheckinPayload) bool { return inputValue(p, base.ID, "host") == "mac-renamed" }, true},
		{"the agent's capabilities", func() {
			daily := schedule.Spec{Kind: schedule.Daily, At: "09:00"}
			if _, err := s.UpdateConfiguration(ctx, base.ID, ConfigUpdate{Script: &ScriptRequest{Schedule: &daily}}); err != nil {
				t.Fatal(err)
			}
			checkin()
			r.req.Capabilities = nil
		}, func(p protocol.CheckinPayload) bool { return p.Assignments[0].Schedule.Kind == schedule.Once }, true},
		{"a new agent version", func() { r.req.AgentVersion = "1.81.0" }, func(p protocol.CheckinPayload) bool { return p.Resend }, true},
	}
	for _, st := range steps {
		st.change()
		p := checkin()
		switch {
		case st.full && p.Unchanged:
			t.Fatalf("%s: answered unchanged", st.name)
		case st.full && !st.check(p):
			t.Fatalf("%s: the full answer does not carry it: %+v", st.name, p)
		case !st.full && !p.Unchanged:
			t.Fatalf("%s: the same content was sent again in full", st.name)
		}
		if p := checkin(); !p.Unchanged {
			t.Fatalf("after %s: the next check-in is not answered unchanged", st.name)
		}
	}
}

// The statuses follow the clock (a recurring script's next run): once it
// passes, the check-in records them again though the content is the same.
func TestUnchangedRefreshesStatusesWhenARunComes(t *testing.T) {
	r, checkin := newDeliveryRig(t)
	s, ctx := r.s, t.Context()
	sc := addScript(t, s, "daily", "true\n")
	daily := schedule.Spec{Kind: schedule.Daily, At: "09:00", TZ: "utc"}
	c, _, err := s.Assign(ctx, "daily", "", ScriptRequest{Script: sc.ID, Schedule: &daily}, []string{"all"})
	if err != nil {
		t.Fatal(err)
	}
	next := func() time.Time {
		t.Helper()
		sts, err := s.Store.DeviceStatuses(ctx, "dev_rig")
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range sts {
			if st.ConfigID == c.ID {
				return st.NextRun.UTC()
			}
		}
		t.Fatal("no status")
		return time.Time{}
	}
	checkin()
	first := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	if got := next(); !got.Equal(first) {
		t.Fatalf("next run %s, want %s", got, first)
	}
	r.clock = first.Add(-time.Minute)
	if p := checkin(); !p.Unchanged {
		t.Fatal("before the run: not unchanged")
	}
	r.clock = first.Add(time.Minute)
	if p := checkin(); !p.Unchanged {
		t.Fatal("after the run: the same content was sent again")
	}
	if got, want := next(), first.Add(24*time.Hour); !got.Equal(want) {
		t.Fatalf("after the run the next run is %s, want %s", got, want)
	}
}

// An answer that pages (more to come) or redistributes is never followed
// by "unchanged": the device must get the rest.
func TestNoUnchangedWhilePaging(t *testing.T) {
	r, checkin := newDeliveryRig(t)
	s, ctx := r.s, t.Context()
	sc := addScript(t, s, "many", "true\n")
	for i := range 3 {
		if _, _, err := s.Assign(ctx, "c"+string(rune('a'+i)), "", ScriptRequest{Script: sc.ID}, []string{"all"}); err != nil {
			t.Fatal(err)
		}
	}
	r.req.MaxResponseBytes = 1 // one assignment an answer
	for i := range 3 {
		p := checkin()
		if p.Unchanged || !p.More || len(p.Assignments) != 1 {
			t.Fatalf("check-in %d: unchanged=%v more=%v %d assignments; want one more page", i, p.Unchanged, p.More, len(p.Assignments))
		}
	}
	r.req.MaxResponseBytes = 0
	if p := checkin(); p.Unchanged || p.More || len(p.Assignments) != 3 {
		t.Fatalf("with room: unchanged=%v more=%v %d assignments", p.Unchanged, p.More, len(p.Assignments))
	}
	if p := checkin(); !p.Unchanged {
		t.Fatal("after the whole list: not unchanged")
	}
	// A digest the server never sent, or none, gets the payload in full.
	for _, digest := range []string{"", "00", protocol.ContentDigest(protocol.CheckinPayload{})} {
		dev, _ := s.Store.Device(ctx, "dev_rig")
		req := r.req
		req.PayloadDigest = digest
		if p, _, err := s.checkin(ctx, dev, req, r.cert); err != nil || p.Unchanged || len(p.Assignments) != 3 {
			t.Fatalf("digest %q: unchanged=%v, %d assignments, %v", digest, p.Unchanged, len(p.Assignments), err)
		}
	}
}

// Key envelopes are sealed once per device and configuration version, to
// the device's certificate, and sealed again when either changes.
func TestKeyEnvelopesSealedOnce(t *testing.T) {
	s := newTenant(t)
	ctx := t.Context()
	if _, err := s.Distribute(ctx, "default", []string{"all"}, false); err != nil {
		t.Fatal(err)
	}
	d, cert := benchDevice(t, s, "dev_env")
	sc := addScript(t, s, "sealed", "true\n")
	c, _, err := s.Assign(ctx, "sealed", "", ScriptRequest{Script: sc.ID}, []string{"all"})
	if err != nil {
		t.Fatal(err)
	}
	req := protocol.CheckinRequest{ProtocolVersion: protocol.Version, DeviceID: d.ID, AgentVersion: "1.80.0",
		Capabilities: d.Capabilities, Nonce: make([]byte, 32)}
	envelope := func(cert *x509.Certificate) []byte {
		t.Helper()
		p, _, err := s.checkin(ctx, d, req, cert)
		if err != nil {
			t.Fatal(err)
		}
		return p.Assignments[0].KeyEnvelope
	}
	first := envelope(cert)
	if again := envelope(cert); !bytes.Equal(first, again) {
		t.Fatal("the same version was sealed again")
	}
	if kept, err := s.Store.KeyEnvelopes(ctx, d.ID); err != nil || len(kept) != 1 || kept[0].ConfigVersion != c.Version {
		t.Fatalf("kept envelopes %+v, %v", kept, err)
	}
	if _, err := s.UpdateScript(ctx, sc.ID, ScriptUpdate{Body: []byte("false\n")}); err != nil {
		t.Fatal(err)
	}
	second := envelope(cert)
	if bytes.Equal(first, second) {
		t.Fatal("a new version reused the old envelope")
	}
	_, other := benchDevice(t, s, "dev_env2") // another key pair
	third := envelope(other)
	if bytes.Equal(second, third) {
		t.Fatal("an envelope sealed to another certificate was reused")
	}
}

// A run-once configuration the device finished is not sent again, so a
// device whose run ledger is lost cannot run it twice: its result ends
// the "unchanged" answers that carried it.
func TestFinishedRunOnceEndsUnchanged(t *testing.T) {
	r, checkin := newDeliveryRig(t)
	s, ctx := r.s, t.Context()
	sc := addScript(t, s, "once", "true\n")
	c, _, err := s.Assign(ctx, "once", "", ScriptRequest{Script: sc.ID}, []string{"all"})
	if err != nil {
		t.Fatal(err)
	}
	if p := checkin(); len(p.Assignments) != 1 {
		t.Fatalf("%d assignments, want 1", len(p.Assignments))
	}
	if p := checkin(); !p.Unchanged {
		t.Fatal("not unchanged before the run")
	}
	dev, _ := s.Store.Device(ctx, "dev_rig")
	if err := s.setRunStatus(ctx, dev, c.ID, c.Version, store.StatusRunning, "fetched", r.clock); err != nil {
		t.Fatal(err)
	}
	if p := checkin(); !p.Unchanged {
		t.Fatal("while it runs: the same content was sent again in full")
	}
	if err := s.setRunStatus(ctx, dev, c.ID, c.Version, protocol.StatusSucceeded, "exit 0", r.clock); err != nil {
		t.Fatal(err)
	}
	if p := checkin(); p.Unchanged || len(p.Assignments) != 0 {
		t.Fatalf("after the run: unchanged=%v, %d assignments; want it no longer sent", p.Unchanged, len(p.Assignments))
	}
	if p := checkin(); !p.Unchanged {
		t.Fatal("not unchanged after the run")
	}
}

// A run-now configuration the device holds but has not run ends the
// "unchanged" answers when it expires: the next answer no longer carries it.
func TestExpiryEndsUnchanged(t *testing.T) {
	r, checkin := newDeliveryRig(t)
	s, ctx := r.s, t.Context()
	addScript(t, s, "now", "true\n")
	if _, err := s.RunNow(ctx, RunNowRequest{Script: "now", Devices: []string{"dev_rig"}, Expires: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if p := checkin(); len(p.Assignments) != 1 {
		t.Fatalf("%d assignments, want 1", len(p.Assignments))
	}
	r.clock = r.clock.Add(59 * time.Minute)
	if p := checkin(); !p.Unchanged {
		t.Fatal("before the expiry: not unchanged")
	}
	r.clock = r.clock.Add(time.Minute)
	if p := checkin(); p.Unchanged || len(p.Assignments) != 0 {
		t.Fatalf("at the expiry: unchanged=%v, %d assignments; want it no longer sent", p.Unchanged, len(p.Assignments))
	}
	if p := checkin(); !p.Unchanged {
		t.Fatal("after the expiry: not unchanged")
	}
}
