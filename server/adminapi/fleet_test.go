package adminapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/accounts"
	"github.com/mobileatwork/mobileatwork/server/store"
)

var fleetT0 = time.Date(2026, time.November, 27, 9, 0, 0, 0, time.UTC)

// newFleet is a tenant with two users, a user group, three devices (one
// with an inventory and an onboarding report), an app, a profile and its
// public URLs.
func newFleet(t *testing.T) *api {
	t.Helper()
	a := newAPI(t)
	ctx := t.Context()
	s := a.s
	for _, e := range []string{"ada@example.com", "bob@example.com"} {
		if _, err := s.AddUser(ctx, e, strings.ToUpper(e[:1])+e[1:3]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AddUserGroup(ctx, "lab-users", "the lab", []string{"ada@example.com"}); err != nil {
		t.Fatal(err)
	}
	for i, d := range []store.Device{
		{ID: "dev_a1", Facts: protocol.Facts{SerialNumber: "C02AAA", Hostname: "ada-mbp", Model: "Mac15,3"}, User: "ada@example.com", Groups: []string{"lab"}},
		{ID: "dev_b2", Facts: protocol.Facts{SerialNumber: "C02BBB", Hostname: "build-01"}, Groups: []string{"ci", "lab"}},
		{ID: "dev_c3", Facts: protocol.Facts{SerialNumber: "XYZ123", Hostname: "bob-air"}, User: "bob@example.com", LastCheckin: fleetT0},
	} {
		d.EnrolledAt = fleetT0.Add(time.Duration(i) * time.Minute)
		if err := s.Store.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
		if err := s.SetDeviceGroups(ctx, d.ID, d.Groups); err != nil {
			t.Fatal(err)
		}
	}
	inv := protocol.InventoryReport{
		DeviceID: "dev_a1", Hash: strings.Repeat("ab", 32), CollectedAt: fleetT0,
		Facts:    protocol.Facts{SerialNumber: "C02AAA"},
		Receipts: []protocol.InventoryReceipt{{PackageID: "com.example.tools", Version: "2.0", InstallPrefix: "/"}},
		Apps:     []protocol.InventoryApp{{BundleID: "com.example.viewer", Name: "Viewer", Version: "3.1", Path: "/Applications/Viewer.app"}},
	}
	if err := s.Store.PutInventory(ctx, "dev_a1", inv, fleetT0); err != nil {
		t.Fatal(err)
	}
	ob := protocol.OnboardingReport{
		DeviceID: "dev_a1", State: protocol.OnboardingTimedOut, StartedAt: fleetT0, EndedAt: fleetT0.Add(time.Hour),
		Stages: []protocol.OnboardingStage{{Name: "Configurations", Status: protocol.ItemPending, Items: []protocol.OnboardingItem{
			{Name: "Wi-Fi", Kind: protocol.ItemKindProfile, Status: protocol.ItemPending},
		}}},
		Background: []protocol.OnboardingItem{},
		Progress:   &protocol.OnboardingProgress{Outcome: protocol.OutcomeTimedOut, StagesTotal: 1, WaitingFor: []string{"Wi-Fi"}},
	}
	if err := s.Store.PutOnboarding(ctx, "dev_a1", ob, fleetT0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddApp(ctx, server.AddAppRequest{Name: "Tools", Kind: protocol.AppKindPackager, PackageID: "com.example.tools", Version: "1.5"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddProfile(ctx, "Wi-Fi", "com.example.wifi", []string{"group:lab"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetTenantURLs(ctx, []string{"server_url=https://127.0.0.1:8443", "enroll_url=https://enroll.example.com"}); err != nil {
		t.Fatal(err)
	}
	return a
}

// sameCall is same for one call of e with req, as an admin.
func sameCall[Req, Resp any](t *testing.T, a *api, e *Endpoint[Req, Resp], req Req) (Resp, error) {
	t.Helper()
	return same(t, a, accounts.RoleAdmin, func(c Conn) (Resp, error) { return Call(context.Background(), c, e, req) })
}

func TestDeviceListSearchesAndFiltersInBothModes(t *testing.T) {
	a := newFleet(t)
	tests := []struct {
		name string
		req  DeviceListRequest
		want string
	}{
		{"all", DeviceListRequest{}, "dev_a1,dev_b2,dev_c3"},
		{"serial", DeviceListRequest{Search: "c02"}, "dev_a1,dev_b2"},
		{"host name", DeviceListRequest{Search: "AIR"}, "dev_c3"},
		{"user in search", DeviceListRequest{Search: "ada@"}, "dev_a1"},
		{"group", DeviceListRequest{Group: "lab"}, "dev_a1,dev_b2"},
		{"user", DeviceListRequest{User: "Bob@example.com"}, "dev_c3"},
		{"search and group", DeviceListRequest{Search: "build", Group: "ci"}, "dev_b2"},
		{"nothing", DeviceListRequest{Search: "nope"}, ""},
		{"a page", DeviceListRequest{PageRequest: PageRequest{Limit: 2, Cursor: "2"}}, "dev_c3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := sameCall(t, a, ListDevices, tc.req)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, d := range p.Items {
				ids = append(ids, d.ID)
			}
			if got := strings.Join(ids, ","); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	// The brake on scripts shows on each device it holds.
	if _, err := a.s.StopScripts(context.Background(), []string{"dev_b2"}, "incident 42"); err != nil {
		t.Fatal(err)
	}
	p, err := sameCall(t, a, ListDevices, DeviceListRequest{Search: "dev_b2"})
	if err != nil || len(p.Items) != 1 || !strings.Contains(p.Items[0].ScriptsStopped, "incident 42") {
		t.Errorf("a stopped device: %+v %v", p.Items, err)
	}
}

func TestFleetReadsAreTheSameInBothModes(t *testing.T) {
	a := newFleet(t)
	d, err := sameCall(t, a, ShowDevice, IDRequest{ID: "dev_a1"})
	if err != nil || d.UserName != "Ada" || strings.Join(d.UserGroups, ",") != "lab-users" || d.InventoryAt == nil ||
		d.Onboarding == nil || d.Onboarding.Outcome != protocol.OutcomeTimedOut || len(d.PackagerApps) != 1 || !d.PackagerApps[0].Installed {
		t.Errorf("device show: %+v %v", d, err)
	}
	if d, err := sameCall(t, a, ShowDevice, IDRequest{ID: "dev_b2"}); err != nil || d.InventoryAt != nil || d.Onboarding != nil || d.PackagerApps == nil {
		t.Errorf("device show of a device that reported nothing: %+v %v", d, err)
	}
	inv, err := sameCall(t, a, DeviceInventory, IDRequest{ID: "dev_a1"})
	if err != nil || len(inv.Receipts) != 1 || len(inv.Apps) != 1 || len(inv.PackagerApps) != 1 {
		t.Errorf("inventory: %+v %v", inv, err)
	}
	ob, err := sameCall(t, a, DeviceOnboarding, IDRequest{ID: "dev_a1"})
	if err != nil || ob.State != protocol.OnboardingTimedOut || ob.StartedAt == nil || ob.Deadline != nil || len(ob.Stages) != 1 || ob.Log == nil {
		t.Errorf("onboarding: %+v %v", ob, err)
	}
	gs, err := sameCall(t, a, ListDeviceGroups, ListRequest{})
	if b, _ := json.Marshal(gs.Items); err != nil || string(b) != `[{"name":"ci","devices":["dev_b2"]},{"name":"lab","devices":["dev_a1","dev_b2"]}]` {
		t.Errorf("device groups: %s %v", b, err)
	}
	us, err := sameCall(t, a, ListUsers, ListRequest{})
	if err != nil || len(us.Items) != 2 || us.Items[0].Email != "ada@example.com" {
		t.Errorf("users: %+v %v", us, err)
	}
	ugs, err := sameCall(t, a, ListUserGroups, ListRequest{})
	if err != nil || len(ugs.Items) != 1 || strings.Join(ugs.Items[0].Members, ",") != "ada@example.com" {
		t.Errorf("user groups: %+v %v", ugs, err)
	}
	apps, err := sameCall(t, a, ListApps, ListRequest{})
	if err != nil || len(apps.Items) != 1 || apps.Items[0].Name != "Tools" || apps.Items[0].Screenshots == nil {
		t.Errorf("apps: %+v %v", apps, err)
	}
	ps, err := sameCall(t, a, ListProfiles, ListRequest{})
	if err != nil || len(ps.Items) != 1 || ps.Items[0].Distribution.Level != "custom" || ps.Items[0].Distribution.Targets[0].Text != "group:lab" {
		t.Errorf("profiles: %+v %v", ps, err)
	}
	if _, err := sameCall(t, a, ListLinks, ListRequest{}); err != nil {
		t.Error(err)
	}
	u, err := sameCall(t, a, ShowTenant, None{})
	if err != nil || u.ServerURL != "https://127.0.0.1:8443" || u.EnrollURL != "https://enroll.example.com" {
		t.Errorf("tenant: %+v %v", u, err)
	}
}

// Every refusal is the same sentence and the same sentinel in both modes,
// and changes nothing.
func TestFleetRefusalsAreTheSameInBothModes(t *testing.T) {
	a := newFleet(t)
	ctx := context.Background()
	png1 := testPNG(t)
	type call func(Conn) error
	do := func(f func(Conn) (any, error)) call { return func(c Conn) error { _, err := f(c); return err } }
	tests := []struct {
		name string
		call call
		want error
		says string
	}{
		{"unknown device", do(func(c Conn) (any, error) { return Call(ctx, c, ShowDevice, IDRequest{ID: "dev_nope"}) }), server.ErrInvalid, `no device "dev_nope"`},
		{"inventory of an unknown device", do(func(c Conn) (any, error) { return Call(ctx, c, DeviceInventory, IDRequest{ID: "dev_nope"}) }), server.ErrInvalid, "no device"},
		{"no inventory yet", do(func(c Conn) (any, error) { return Call(ctx, c, DeviceInventory, IDRequest{ID: "dev_b2"}) }), server.ErrNoInventory, "next check-in"},
		{"no onboarding yet", do(func(c Conn) (any, error) { return Call(ctx, c, DeviceOnboarding, IDRequest{ID: "dev_b2"}) }), store.ErrNotFound, "has not reported"},
		{"groups of an unknown device", do(func(c Conn) (any, error) {
			return Call(ctx, c, SetDeviceGroups, DeviceGroupsRequest{ID: "dev_nope", Groups: []string{"lab"}})
		}), server.ErrInvalid, "no device"},
		{"reserved group name", do(func(c Conn) (any, error) {
			return Call(ctx, c, SetDeviceGroups, DeviceGroupsRequest{ID: "dev_a1", Groups: []string{"lab", "all"}})
		}), server.ErrInvalid, "reserved"},
		{"list filtered by a bad email", do(func(c Conn) (any, error) { return Call(ctx, c, ListDevices, DeviceListRequest{User: "bob"}) }), server.ErrInvalid, "not an email"},
		{"bad email", do(func(c Conn) (any, error) { return Call(ctx, c, AddUser, UserRequest{Email: "not-an-email"}) }), server.ErrInvalid, "not an email address"},
		{"group of an unknown user", do(func(c Conn) (any, error) {
			return Call(ctx, c, AddUserGroup, UserGroupRequest{Name: "x", Members: []string{"zed@example.com"}})
		}), server.ErrInvalid, `no user "zed@example.com"`},
		{"group exists", do(func(c Conn) (any, error) { return Call(ctx, c, AddUserGroup, UserGroupRequest{Name: "lab-users"}) }), server.ErrInvalid, "exists already"},
		{"unknown user group", do(func(c Conn) (any, error) {
			return Call(ctx, c, SetUserGroup, UserGroupChange{Name: "nope", Add: []string{"bob@example.com"}})
		}), server.ErrInvalid, `no user group "nope"`},
		{"remove a non-member", do(func(c Conn) (any, error) {
			return Call(ctx, c, SetUserGroup, UserGroupChange{Name: "lab-users", Remove: []string{"bob@example.com"}})
		}), server.ErrInvalid, "not a member"},
		{"app of no kind", do(func(c Conn) (any, error) {
			return Call(ctx, c, AddApp, AppRequest{Name: "X", Kind: "vpp", BundleID: "a.b"})
		}), server.ErrInvalid, "--kind"},
		{"app already there", do(func(c Conn) (any, error) {
			return Call(ctx, c, AddApp, AppRequest{Name: "X", Kind: "packager", PackageID: "com.example.tools"})
		}), server.ErrInvalid, "already"},
		{"set an unknown app", do(func(c Conn) (any, error) { return Call(ctx, c, SetApp, AppChange{ID: "app_nope", Publisher: new("x")}) }), server.ErrInvalid, "no app"},
		{"an icon that is not an image", do(func(c Conn) (any, error) {
			return Call(ctx, c, SetApp, AppChange{ID: appID(t, a), Icon: &Image{Name: "evil.png", Data: []byte("<svg/>")}})
		}), server.ErrInvalid, "not a PNG or JPEG"},
		{"an empty icon", do(func(c Conn) (any, error) {
			return Call(ctx, c, SetApp, AppChange{ID: appID(t, a), Icon: &Image{Name: "/etc/hostname"}})
		}), server.ErrInvalid, "empty"},
		{"a screenshot without its text", do(func(c Conn) (any, error) {
			return Call(ctx, c, SetApp, AppChange{ID: appID(t, a), Screenshots: &[]Image{{Name: "s.png", Data: png1}}})
		}), server.ErrInvalid, "text alternative"},
		{"bad target", do(func(c Conn) (any, error) {
			return Call(ctx, c, DistributeApp, DistributionRequest{ID: appID(t, a), To: []string{"everyone"}})
		}), server.ErrInvalid, "--to"},
		{"distribute to an unknown device", do(func(c Conn) (any, error) {
			return Call(ctx, c, DistributeApp, DistributionRequest{ID: appID(t, a), To: []string{"device:dev_nope"}})
		}), server.ErrInvalid, "unknown device"},
		{"distribute an unknown app", do(func(c Conn) (any, error) {
			return Call(ctx, c, DistributeApp, DistributionRequest{ID: "app_nope", To: []string{"all"}})
		}), server.ErrInvalid, "no app"},
		{"rating out of range", do(func(c Conn) (any, error) {
			return Call(ctx, c, ReviewApp, ReviewRequest{ID: appID(t, a), Author: "Ada", Rating: 9})
		}), server.ErrInvalid, "want 1 to 5"},
		{"review of an unknown app", do(func(c Conn) (any, error) {
			return Call(ctx, c, ReviewApp, ReviewRequest{ID: "app_nope", Author: "Ada", Rating: 3})
		}), server.ErrInvalid, "no app"},
		{"profile to an unknown user", do(func(c Conn) (any, error) {
			return Call(ctx, c, AddProfile, ProfileRequest{Name: "VPN", Identifier: "com.example.vpn", To: []string{"user:zed@example.com"}})
		}), server.ErrInvalid, "unknown user"},
		{"distribute an unknown profile", do(func(c Conn) (any, error) {
			return Call(ctx, c, DistributeProfile, ProfileDistributionRequest{ID: "nope", To: []string{"all"}})
		}), server.ErrInvalid, "nope"},
		{"link with no uses", do(func(c Conn) (any, error) { return Call(ctx, c, CreateLink, LinkRequest{Uses: new(0)}) }), server.ErrInvalid, "--uses"},
		{"link with a bad ttl", do(func(c Conn) (any, error) { return Call(ctx, c, CreateLink, LinkRequest{TTL: "soon"}) }), server.ErrInvalid, "--ttl"},
		{"link for no email", do(func(c Conn) (any, error) { return Call(ctx, c, CreateLink, LinkRequest{User: "bob"}) }), server.ErrInvalid, "not an email"},
		{"revoke an unknown link", do(func(c Conn) (any, error) { return Call(ctx, c, RevokeLink, IDRequest{ID: "lnk_nope"}) }), server.ErrInvalid, "lnk_nope"},
		{"nothing to set", do(func(c Conn) (any, error) { return Call(ctx, c, SetTenant, TenantChange{}) }), server.ErrInvalid, "at least one"},
		{"server_url the certificate does not name", do(func(c Conn) (any, error) {
			return Call(ctx, c, SetTenant, TenantChange{ServerURL: new("https://mdm.example.com"), EnrollURL: new("")})
		}), server.ErrInvalid, "not named by the server's TLS certificate"},
		{"enroll_url not https", do(func(c Conn) (any, error) { return Call(ctx, c, SetTenant, TenantChange{EnrollURL: new("http://x")}) }), server.ErrInvalid, "want https://HOST[:PORT]"},
	}
	before := snapshot(t, a)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lerr := tc.call(a.local())
			rerr := tc.call(a.remote(accounts.RoleAdmin))
			if lerr == nil || rerr == nil {
				t.Fatalf("local %v, remote %v: want both refused", lerr, rerr)
			}
			if lerr.Error() != rerr.Error() {
				t.Errorf("local says %q, remote %q", lerr, rerr)
			}
			if !errors.Is(lerr, tc.want) || !errors.Is(rerr, tc.want) {
				t.Errorf("local %v, remote %v: want both %v", lerr, rerr, tc.want)
			}
			if !strings.Contains(lerr.Error(), tc.says) {
				t.Errorf("%q does not say %q", lerr, tc.says)
			}
		})
	}
	if after := snapshot(t, a); after != before {
		t.Errorf("refusals changed the tenant:\nbefore %s\nafter  %s", before, after)
	}
}

// snapshot is every list of the fleet, as one string.
func snapshot(t *testing.T, a *api) string {
	t.Helper()
	ctx, c := context.Background(), a.local()
	var parts []any
	add := func(v any, err error) {
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, v)
	}
	add(All(ctx, c, ListDevices, DeviceListRequest{}))
	add(All(ctx, c, ListUsers, ListRequest{}))
	add(All(ctx, c, ListUserGroups, ListRequest{}))
	add(All(ctx, c, ListApps, ListRequest{}))
	add(All(ctx, c, ListProfiles, ListRequest{}))
	add(All(ctx, c, ListLinks, ListRequest{}))
	add(Call(ctx, c, ShowTenant, None{}))
	b, err := json.Marshal(parts)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func appID(t *testing.T, a *api) string {
	t.Helper()
	apps, err := a.s.Catalog(context.Background())
	if err != nil || len(apps) == 0 {
		t.Fatalf("catalog: %v", err)
	}
	return apps[0].ID
}

func testPNG(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
