package managed

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRecordAndLoad(t *testing.T) {
	dir := t.TempDir()
	if apps, err := Load(dir); err != nil || apps != nil {
		t.Fatalf("empty state dir: %v %v", apps, err)
	}
	at := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	slack := App{Path: "/Applications/Slack.app", PackageIDs: []string{"com.tinyspeck.slackmacgap"}, InstalledAt: at}
	zoom := App{Path: "/Applications/zoom.us.app", BundleID: "us.zoom.xos", InstalledAt: at}
	for _, a := range []App{slack, zoom} {
		if err := Record(dir, a); err != nil {
			t.Fatal(err)
		}
	}
	updated := slack
	updated.PackageIDs = []string{"com.tinyspeck.slackmacgap", "com.tinyspeck.helper"}
	if err := Record(dir, updated); err != nil {
		t.Fatal(err)
	}
	apps, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 2 || apps[0].Path != slack.Path || len(apps[0].PackageIDs) != 2 || apps[1].BundleID != "us.zoom.xos" {
		t.Fatalf("apps = %+v", apps)
	}
	st, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("record file: %v %v", st, err)
	}
}

func TestRecordRefusesInvalidEntries(t *testing.T) {
	tests := []struct {
		name string
		app  App
		want error
	}{
		{"relative", App{Path: "Applications/X.app"}, ErrInvalidPath},
		{"dot dot", App{Path: "/Applications/../System/X.app"}, ErrInvalidPath},
		{"not a bundle", App{Path: "/Applications/X"}, ErrInvalidPath},
		{"root", App{Path: "/"}, ErrInvalidPath},
		{"package id with slash", App{Path: "/Applications/X.app", PackageIDs: []string{"com.x/../../etc"}}, ErrInvalidPackageID},
		{"package id dot dot", App{Path: "/Applications/X.app", PackageIDs: []string{"com..x"}}, ErrInvalidPackageID},
		{"empty package id", App{Path: "/Applications/X.app", PackageIDs: []string{""}}, ErrInvalidPackageID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := Record(dir, tc.app); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if _, err := os.Stat(filepath.Join(dir, FileName)); !errors.Is(err, os.ErrNotExist) {
				t.Fatal("an invalid entry was written")
			}
		})
	}
}

func TestLoadRefusesUnknownVersion(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(`{"version": 2, "apps": []}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); !errors.Is(err, ErrFormat) {
		t.Fatalf("err = %v, want ErrFormat", err)
	}
	if err := Record(dir, App{Path: "/Applications/X.app"}); !errors.Is(err, ErrFormat) {
		t.Fatalf("record over a newer file: %v, want ErrFormat", err)
	}
}

func TestValidPackageID(t *testing.T) {
	for _, c := range []struct {
		id   string
		want bool
	}{
		{"com.tinyspeck.slackmacgap", true},
		{"a", true},
		{"A1_b-c.d", true},
		{"a" + strings.Repeat("b", maxPackageID-1), true},
		{"a" + strings.Repeat("b", maxPackageID), false},
		{"", false},
		{".hidden", false},
		{"-flag", false},
		{"com..x", false},
		{"com.x/y", false},
		{"com x", false},
		{"com.x\n", false},
		{"é.x", false},
	} {
		if got := ValidPackageID(c.id); got != c.want {
			t.Errorf("ValidPackageID(%q) = %v, want %v", c.id, got, c.want)
		}
	}
}
