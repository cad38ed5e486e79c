package adminapi

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/accounts"
)

// Each change of the fleet, run on a tenant of its own in each mode, gives
// the same documents.
func TestFleetChangesInBothModes(t *testing.T) {
	modes := map[string]func(*api) Conn{
		"local":  (*api).local,
		"remote": func(a *api) Conn { return a.remote(accounts.RoleAdmin) },
	}
	for name, conn := range modes {
		t.Run(name, func(t *testing.T) {
			a := newFleet(t)
			c, ctx := conn(a), context.Background()
			check := func(what string, ok bool, got any, err error) {
				t.Helper()
				if err != nil || !ok {
					t.Errorf("%s: %+v %v", what, got, err)
				}
			}

			u, err := Call(ctx, c, AddUser, UserRequest{Email: " Cy@Example.com", Name: "Cy"})
			check("user add", u.Email == "cy@example.com" && u.Name == "Cy" && u.CreatedAt != nil, u, err)
			g, err := Call(ctx, c, AddUserGroup, UserGroupRequest{Name: "ops", Description: "on call", Members: []string{"cy@example.com,bob@example.com"}})
			check("user group add", slices.Equal(g.Members, []string{"bob@example.com", "cy@example.com"}), g, err)
			g, err = Call(ctx, c, SetUserGroup, UserGroupChange{Name: "ops", Add: []string{"ada@example.com"}, Remove: []string{"BOB@example.com"}})
			check("user group set", slices.Equal(g.Members, []string{"ada@example.com", "cy@example.com"}), g, err)

			d, err := Call(ctx, c, SetDeviceGroups, DeviceGroupsRequest{ID: "dev_c3", Groups: []string{"qa,lab", "qa"}})
			check("device groups", slices.Equal(d.DeviceGroups, []string{"lab", "qa"}), d, err)
			d, err = Call(ctx, c, SetDeviceGroups, DeviceGroupsRequest{ID: "dev_c3", Groups: []string{"none"}})
			check("device groups none", d.DeviceGroups != nil && len(d.DeviceGroups) == 0, d, err)

			app, err := Call(ctx, c, AddApp, AppRequest{Name: "Viewer", Kind: protocol.AppKindAppsAndBooks, BundleID: "com.example.viewer", Version: "3"})
			check("app add", app.ID != "" && app.Kind == protocol.AppKindAppsAndBooks && !app.CreatedAt.IsZero(), app, err)
			icon := testPNG(t)
			info, err := Call(ctx, c, SetApp, AppChange{
				ID: app.ID, Publisher: new("Example IT"), Category: new("Utilities"),
				Icon:        &Image{Name: "icon.png", Data: icon},
				Screenshots: &[]Image{{Name: "shot.png", Data: icon, Alt: "Main window"}},
			})
			check("app set", info.Publisher == "Example IT" && info.Icon != nil && info.Icon.Alt == "Viewer icon" &&
				info.Icon.Size == int64(len(icon)) && len(info.Screenshots) == 1 && info.Screenshots[0].Alt == "Main window", info, err)
			info, err = Call(ctx, c, SetApp, AppChange{ID: app.ID, IconAlt: new("An eye"), Screenshots: &[]Image{}})
			check("app set keeps what it is not given", info.Publisher == "Example IT" && info.Icon != nil && info.Icon.Alt == "An eye" &&
				len(info.Screenshots) == 0, info, err)
			ds, err := Call(ctx, c, DistributeApp, DistributionRequest{ID: app.ID, To: []string{"user:ADA@example.com,group:lab"}})
			check("app distribute", len(ds.Distributions) == 2 && ds.Distributions[0].Target == "group:lab" && ds.Distributions[1].Target == "user:ada@example.com", ds, err)
			r, err := Call(ctx, c, ReviewApp, ReviewRequest{ID: app.ID, Author: "Ada", Rating: 4, Text: "fine"})
			check("app review", r.ID != "" && r.Rating == 4, r, err)
			apps, err := All(ctx, c, ListApps, ListRequest{})
			check("app list", len(apps) == 2 && apps[1].Rating == 4 && len(apps[1].Reviews) == 1 && len(apps[1].Distributions) == 2, apps, err)

			p, err := Call(ctx, c, AddProfile, ProfileRequest{Name: "VPN", Identifier: "com.example.vpn"})
			check("profile add", p.Distribution.Level == "all", p, err)
			pd, err := Call(ctx, c, DistributeProfile, ProfileDistributionRequest{ID: "com.example.vpn", To: []string{"group:lab"}, DryRun: true})
			check("profile distribute --dry-run", len(pd.Devices) == 2 && pd.Devices[0].ID == "dev_a1", pd, err)
			ps, err := All(ctx, c, ListProfiles, ListRequest{})
			check("a dry run changes nothing", len(ps) == 2 && ps[1].Distribution.Level == "all", ps, err)
			pd, err = Call(ctx, c, DistributeProfile, ProfileDistributionRequest{ID: p.ID, To: []string{"device:dev_c3"}})
			check("profile distribute", pd.Profile.Distribution.Level == "custom" && len(pd.Devices) == 1 && pd.Devices[0].ID == "dev_c3", pd, err)

			l, err := Call(ctx, c, CreateLink, LinkRequest{User: "ada@example.com", Uses: new(2), TTL: "3d"})
			check("link create", strings.HasPrefix(l.URL, "https://enroll.example.com/e/") && l.Uses == 2 && l.State == "active", l, err)
			ls, err := All(ctx, c, ListLinks, ListRequest{})
			check("link list shows no secret", len(ls) == 1 && ls[0].ID == l.ID && ls[0].URL == "", ls, err)
			l, err = Call(ctx, c, RevokeLink, IDRequest{ID: l.ID})
			check("link revoke", l.State == "revoked" && l.RevokedAt != nil, l, err)

			tu, err := Call(ctx, c, SetTenant, TenantChange{ServerURL: new("https://localhost:9443/"), EnrollURL: new("")})
			check("tenant set", tu.ServerURL == "https://localhost:9443" && tu.EnrollURL == "", tu, err)
			tu, err = Call(ctx, c, SetTenant, TenantChange{EnrollURL: new("https://enroll.example.org")})
			check("tenant set keeps what it is not given", tu.ServerURL == "https://localhost:9443" && tu.EnrollURL == "https://enroll.example.org", tu, err)
		})
	}
}

// No remote caller makes the server read one of its own files: a package
// path is dropped on the way, and an image always travels as bytes.
func TestRemoteCallersNameNoServerFile(t *testing.T) {
	a := newFleet(t)
	ctx := context.Background()
	c := a.remote(accounts.RoleAdmin)
	app, err := Call(ctx, c, AddApp, AppRequest{Name: "Tools 2", Kind: protocol.AppKindInHouse, PackageID: "com.example.tools2", File: "/etc/hostname"})
	if err != nil || app.FileSize != 0 || app.FileSHA256 != "" {
		t.Errorf("a remote app add with a server path: %+v %v; want the app without a file", app, err)
	}
	// Locally the same request reads the file, which is no PKG.
	if _, err := Call(ctx, a.local(), AddApp, AppRequest{Name: "Tools 3", Kind: protocol.AppKindInHouse, PackageID: "com.example.tools3", File: "/etc/hostname"}); err == nil || !strings.Contains(err.Error(), "flat PKG") {
		t.Errorf("a local app add reads --file: %v", err)
	}
	code, body := a.do(accounts.RoleAdmin, "POST", "/apps", map[string]any{"name": "Tools 4", "kind": "inhouse", "package_id": "com.example.tools4", "file": "/etc/hostname"})
	if code != 400 || !strings.Contains(string(body), "unknown field") {
		t.Errorf("a file in the body of app add: %d %s; want it refused", code, body)
	}
	code, body = a.do(accounts.RoleAdmin, "PATCH", "/apps/"+app.ID, map[string]any{"icon": map[string]any{"name": "/etc/hostname"}})
	if code != 400 || !strings.Contains(string(body), "empty") {
		t.Errorf("an icon named by a server path: %d %s; want it refused as empty", code, body)
	}
}

// The largest app set there is, an icon and a full gallery of images at
// the size limit, fits in one request.
func TestAFullGalleryTravels(t *testing.T) {
	a := newFleet(t)
	big := append(testPNG(t), make([]byte, 2<<20)...)[:2<<20]
	shots := []Image{}
	for i := range 10 {
		shots = append(shots, Image{Name: "shot.png", Data: append(big[:len(big)-1:len(big)-1], byte(i)), Alt: "screen"})
	}
	info, err := Call(context.Background(), a.remote(accounts.RoleAdmin), SetApp, AppChange{ID: appID(t, a), Icon: &Image{Name: "icon.png", Data: big}, Screenshots: &shots})
	if err != nil || len(info.Screenshots) != 10 || info.Icon == nil || info.Icon.Size != 2<<20 {
		t.Fatalf("a full gallery: %v %+v", err, info.Screenshots)
	}
}
