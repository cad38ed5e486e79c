package server

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

var (
	testPNG  = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01")
	testJPEG = []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01")
)

func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDeviceOffers checks that each device gets exactly the apps
// distributed to it, with details, rating, reviews and file digests.
func TestDeviceOffers(t *testing.T) {
	s, _ := newTestServer(t)
	ctx := t.Context()
	devs := []store.Device{
		{ID: "dev_a", User: "ada@example.com", Groups: []string{"design"}, EnrolledAt: t0},
		{ID: "dev_b", User: "bob@example.com", EnrolledAt: t0},
		{ID: "dev_c", EnrolledAt: t0},
	}
	for _, d := range devs {
		if err := s.Store.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
		if d.User != "" {
			if _, err := s.AddUser(ctx, d.User, ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	pkg := writeTemp(t, "Tools.pkg", append([]byte("xar!"), make([]byte, 100)...))
	add := func(name, pkgID, file string) store.App {
		a, err := s.AddApp(ctx, AddAppRequest{Name: name, Kind: protocol.AppKindInHouse, PackageID: pkgID, File: file})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	tools, viewer, hidden := add("Tools", "com.example.tools", pkg), add("Viewer", "com.example.viewer", ""), add("Hidden", "com.example.hidden", "")
	if _, err := s.DistributeApp(ctx, tools.ID, []string{"all"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DistributeApp(ctx, viewer.ID, []string{"group:design", "user:bob@example.com"}); err != nil {
		t.Fatal(err)
	}
	pub, desc := "Example Corp", "Everything the team needs."
	if _, err := s.SetApp(ctx, tools.ID, SetAppRequest{
		Publisher: &pub, Description: &desc, Icon: ptr(writeTemp(t, "icon.png", testPNG)),
		Screenshots: []ScreenshotFile{{Path: writeTemp(t, "s.jpg", testJPEG), Alt: "Main window"}},
	}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []int{5, 4, 4} {
		if _, err := s.AddReview(ctx, tools.ID, "Ada", r, "ok"); err != nil {
			t.Fatal(err)
		}
	}

	want := map[string][]string{"dev_a": {tools.ID, viewer.ID}, "dev_b": {tools.ID, viewer.ID}, "dev_c": {tools.ID}}
	for _, d := range devs {
		t.Run(d.ID, func(t *testing.T) {
			aud, err := s.audience(ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			offers, err := s.deviceOffers(ctx, aud)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, o := range offers {
				ids = append(ids, o.ID)
				if o.ID == hidden.ID {
					t.Fatal("an app distributed to nobody was offered")
				}
			}
			if !slices.Equal(ids, want[d.ID]) {
				t.Fatalf("offered %v, want %v", ids, want[d.ID])
			}
			o := offers[0]
			if o.Publisher != pub || o.Description != desc || o.Rating != 4.3 || len(o.Reviews) != 3 {
				t.Fatalf("offer %+v", o)
			}
			if o.Icon == nil || o.Icon.SHA256 != protocol.SHA256Hex(testPNG) || o.Icon.ContentType != "image/png" || o.Icon.Alt != "Tools icon" {
				t.Fatalf("icon %+v", o.Icon)
			}
			if len(o.Screenshots) != 1 || o.Screenshots[0].Alt != "Main window" || o.Screenshots[0].ContentType != "image/jpeg" {
				t.Fatalf("screenshots %+v", o.Screenshots)
			}
			if o.Package == nil || o.Package.SHA256 != tools.FileSHA256 || o.Package.Size != 104 || o.Package.URL != "/v1/apps/"+tools.ID+"/package" {
				t.Fatalf("package %+v", o.Package)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestSetAppRefusals(t *testing.T) {
	s, _ := newTestServer(t)
	ctx := t.Context()
	a, err := s.AddApp(ctx, AddAppRequest{Name: "Tools", Kind: protocol.AppKindInHouse, PackageID: "com.example.tools"})
	if err != nil {
		t.Fatal(err)
	}
	big := append(append([]byte{}, testPNG...), make([]byte, 2<<20)...)
	tests := []struct {
		name string
		id   string
		req  SetAppRequest
	}{
		{"unknown app", "app_nope", SetAppRequest{Publisher: ptr("x")}},
		{"svg icon", a.ID, SetAppRequest{Icon: ptr(writeTemp(t, "i.png", []byte("<svg xmlns='http://www.w3.org/2000/svg'/>")))}},
		{"icon over 2 MB", a.ID, SetAppRequest{Icon: ptr(writeTemp(t, "big.png", big))}},
		{"missing icon file", a.ID, SetAppRequest{Icon: ptr(filepath.Join(t.TempDir(), "none.png"))}},
		{"screenshot without alt", a.ID, SetAppRequest{Screenshots: []ScreenshotFile{{Path: writeTemp(t, "s.png", testPNG)}}}},
		{"control characters", a.ID, SetAppRequest{Category: ptr("Tools\x1b[31m")}},
		{"icon alt without icon", a.ID, SetAppRequest{IconAlt: ptr("x")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.SetApp(ctx, tt.id, tt.req); !errors.Is(err, ErrInvalid) {
				t.Fatalf("SetApp = %v, want ErrInvalid", err)
			}
			d, err := s.Store.AppDetails(ctx, a.ID)
			if err != nil || d.Icon != nil || d.Category != "" || d.Screenshots != nil {
				t.Fatalf("details changed: %+v, %v", d, err)
			}
		})
	}
}

func TestReviewsAndDistributionRefusals(t *testing.T) {
	s, _ := newTestServer(t)
	ctx := t.Context()
	a, err := s.AddApp(ctx, AddAppRequest{Name: "Tools", Kind: protocol.AppKindInHouse, PackageID: "com.example.tools"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		app, author string
		rating      int
	}{{a.ID, "Ada", 0}, {a.ID, "Ada", 6}, {a.ID, " ", 3}, {"app_nope", "Ada", 3}} {
		if _, err := s.AddReview(ctx, r.app, r.author, r.rating, "x"); !errors.Is(err, ErrInvalid) {
			t.Errorf("AddReview(%q, %q, %d) = %v, want ErrInvalid", r.app, r.author, r.rating, err)
		}
	}
	for _, c := range [][2]string{{a.ID, "everyone"}, {a.ID, "device:dev_nope"}, {"app_nope", "all"}, {a.ID, "none,all"},
		{a.ID, "user:nobody@example.com"}, {a.ID, "usergroup:ghosts"}, {a.ID, "group:nobody-has-it"}} {
		if _, err := s.DistributeApp(ctx, c[0], []string{c[1]}); !errors.Is(err, ErrInvalid) {
			t.Errorf("DistributeApp(%q, %q) = %v, want ErrInvalid", c[0], c[1], err)
		}
	}
	if _, err := s.DistributeApp(ctx, a.ID, []string{"all"}); err != nil {
		t.Fatal(err)
	}
	// Distributing again replaces; none withdraws.
	if ds, err := s.DistributeApp(ctx, a.ID, []string{"all"}); err != nil || len(ds) != 1 {
		t.Fatalf("second distribution to all = %v, %v; want it replaced", ds, err)
	}
	if ds, err := s.DistributeApp(ctx, a.ID, []string{"none"}); err != nil || len(ds) != 0 {
		t.Fatalf("withdrawing = %v, %v", ds, err)
	}
	if info, _ := s.AppInfo(ctx, a.ID); len(info.Distributions) != 0 {
		t.Fatalf("withdrawn app still distributed: %+v", info.Distributions)
	}
}

func TestAverageRating(t *testing.T) {
	rs := func(n ...int) []store.Review {
		var out []store.Review
		for _, r := range n {
			out = append(out, store.Review{Rating: r})
		}
		return out
	}
	for _, tt := range []struct {
		in   []store.Review
		want float64
	}{{nil, 0}, {rs(5), 5}, {rs(5, 4, 4), 4.3}, {rs(1, 2), 1.5}, {rs(5, 5, 4), 4.7}} {
		if got := averageRating(tt.in); got != tt.want {
			t.Errorf("averageRating(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestCheckImage(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		ct   string
		want error
	}{
		{"png", testPNG, "image/png", nil},
		{"jpeg", testJPEG, "image/jpeg", nil},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"></svg>`), "", errImageType},
		{"html named .png", []byte("<html><script>alert(1)</script>"), "", errImageType},
		{"gif", []byte("GIF89a\x01\x00"), "", errImageType},
		{"empty", nil, "", errImageEmpty},
		{"too large png", append(bytes.Clone(testPNG), make([]byte, maxImage)...), "", errImageTooLarge},
		{"exactly the limit", append(bytes.Clone(testPNG), make([]byte, maxImage-len(testPNG))...), "image/png", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, err := checkImage(tt.b)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) || ct != tt.ct {
				t.Fatalf("checkImage = %q, %v; want %q, %v", ct, err, tt.ct, tt.want)
			}
		})
	}
}

// Images are kept by digest: the same icon for two apps is one file, and
// what a device is served is what was imported.
func TestImagesInTheFileStore(t *testing.T) {
	s, files := newTestServer(t)
	ctx := t.Context()
	var apps []store.App
	for _, id := range []string{"com.example.one", "com.example.two"} {
		a, err := s.AddApp(ctx, AddAppRequest{Name: id, Kind: protocol.AppKindPackager, PackageID: id})
		if err != nil {
			t.Fatal(err)
		}
		apps = append(apps, a)
	}
	icon := writeTemp(t, "icon.png", testPNG)
	for _, a := range apps {
		info, err := s.SetApp(ctx, a.ID, SetAppRequest{Icon: &icon})
		if err != nil {
			t.Fatal(err)
		}
		if img := info.Details.Icon; img == nil || img.SHA256 != protocol.SHA256Hex(testPNG) || img.ContentType != "image/png" {
			t.Fatalf("icon = %+v", img)
		}
	}
	if left := storedFiles(t, s); len(left) != 1 || left[0] != protocol.SHA256Hex(testPNG) {
		t.Fatalf("file store holds %v, want the one icon", left)
	}
	if b, err := files.Get(protocol.SHA256Hex(testPNG), maxImage); err != nil || !bytes.Equal(b, testPNG) {
		t.Fatalf("stored icon %q, %v", b, err)
	}
}
