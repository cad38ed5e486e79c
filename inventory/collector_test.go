package inventory

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/inventory/invtest"
)

// collectBoth runs the collector and a full collection of the same files
// and fails unless both give the same report.
func collectBoth(t *testing.T, c *Collector, root string) (Report, Stats) {
	t.Helper()
	got, stats, err := c.Collect(context.Background())
	if err != nil {
		t.Fatalf("Collector.Collect: %v", err)
	}
	want, err := Collect(context.Background(), Options{Root: root})
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("incremental report differs from a full collection:\n got %+v\nwant %+v", got, want)
	}
	if got.Hash() != want.Hash() {
		t.Fatal("incremental report hashes differently")
	}
	return got, stats
}

// contents maps each receipt's package id to its version and each app's
// path to its bundle id and version.
func contents(rep Report) map[string]string {
	m := map[string]string{}
	for _, r := range rep.Receipts {
		m[r.PackageID] = r.Version
	}
	for _, a := range rep.Apps {
		m[a.Path] = a.BundleID + " " + a.Version
	}
	return m
}

// setMtime gives p a modification time unlike any the test wrote, so a
// coarse file-system clock cannot hide the change.
func setMtime(t *testing.T, p string, mt time.Time) {
	t.Helper()
	must(t, os.Chtimes(p, mt, mt))
}

func mtimeOf(t *testing.T, p string) time.Time {
	t.Helper()
	fi, err := os.Stat(p)
	must(t, err)
	return fi.ModTime()
}

func TestCollectorReadsOnlyWhatChanged(t *testing.T) {
	root := writeDevice(t)
	receipts := filepath.Join(root, "var", "db", "receipts")
	apps := filepath.Join(root, "Applications")
	xmlReceipt := filepath.Join(receipts, "com.example.xml.plist")
	receipt := func(version string) map[string]any {
		return map[string]any{"PackageIdentifier": "com.example.xml", "PackageVersion": version,
			"InstallDate": installed, "InstallPrefixPath": "/Library", "InstallProcessName": "storedownloadd"}
	}
	info := func(id, version string) map[string]any {
		return map[string]any{"CFBundleIdentifier": id, "CFBundleName": "Some App",
			"CFBundleShortVersionString": version, "CFBundleVersion": "100"}
	}
	c := NewCollector(Options{Root: root})

	tests := []struct {
		name   string
		change func(t *testing.T)
		read   int               // files whose content the collection read
		want   map[string]string // in contents afterwards
		gone   []string          // not in contents afterwards
	}{
		{name: "first collection reads every file", change: func(*testing.T) {}, read: 15},
		{name: "nothing changed", change: func(*testing.T) {}, read: 0},
		{
			name: "receipt rewritten with the same size and a new mtime",
			change: func(t *testing.T) {
				before, err := os.ReadFile(xmlReceipt)
				must(t, err)
				must(t, invtest.WriteReceipt(root, "com.example.xml", receipt("4.6"), false))
				after, err := os.ReadFile(xmlReceipt)
				must(t, err)
				if len(after) != len(before) {
					t.Fatalf("rewrite changed the size: %d then %d bytes", len(before), len(after))
				}
				setMtime(t, xmlReceipt, installed.Add(time.Hour))
			},
			read: 1,
			want: map[string]string{"com.example.xml": "4.6"},
		},
		{
			name: "receipt resized with its mtime put back",
			change: func(t *testing.T) {
				mt := mtimeOf(t, xmlReceipt)
				must(t, invtest.WriteReceipt(root, "com.example.xml", receipt("4.7.1"), false))
				setMtime(t, xmlReceipt, mt)
				if got := mtimeOf(t, xmlReceipt); !got.Equal(mt) {
					t.Fatalf("mtime %v, want it kept at %v", got, mt)
				}
			},
			read: 1,
			want: map[string]string{"com.example.xml": "4.7.1"},
		},
		{
			name: "receipt added",
			change: func(t *testing.T) {
				must(t, invtest.WriteReceipt(root, "com.example.new", map[string]any{"PackageIdentifier": "com.example.new"}, true))
			},
			read: 1,
			want: map[string]string{"com.example.new": ""},
		},
		{
			name:   "receipt removed",
			change: func(t *testing.T) { must(t, os.Remove(filepath.Join(receipts, "com.example.bin.plist"))) },
			gone:   []string{"com.example.bin"},
		},
		{
			name: "malformed receipt repaired",
			change: func(t *testing.T) {
				must(t, invtest.WriteReceipt(root, "corrupt", map[string]any{"PackageIdentifier": "com.example.repaired"}, true))
			},
			read: 1,
			want: map[string]string{"com.example.repaired": ""},
		},
		{
			name: "app updated",
			change: func(t *testing.T) {
				must(t, invtest.WriteApp(root, "Binary.app", info("com.example.binary", "9.0"), true))
			},
			read: 1,
			want: map[string]string{"/Applications/Binary.app": "com.example.binary 9.0"},
		},
		{
			name: "app added to a folder",
			change: func(t *testing.T) {
				must(t, invtest.WriteApp(root, "Suite/Second.app", info("com.example.second", "1"), false))
			},
			read: 1,
			want: map[string]string{"/Applications/Suite/Second.app": "com.example.second 1"},
		},
		{
			name:   "app removed",
			change: func(t *testing.T) { must(t, os.RemoveAll(filepath.Join(apps, "Suite", "Member.app"))) },
			gone:   []string{"/Applications/Suite/Member.app"},
		},
		{
			name: "Info.plist appears where it is looked for first",
			change: func(t *testing.T) {
				must(t, invtest.WriteApp(root, "Game.app", info("com.example.native", "2"), true))
			},
			read: 1,
			want: map[string]string{"/Applications/Game.app": "com.example.native 2"},
		},
		{
			name: "missing Info.plist created",
			change: func(t *testing.T) {
				must(t, invtest.WriteApp(root, "NoInfo.app", info("com.example.noinfo", "1"), false))
			},
			read: 1,
			want: map[string]string{"/Applications/NoInfo.app": "com.example.noinfo 1"},
		},
		{
			name: "file replaced by a directory",
			change: func(t *testing.T) {
				p := filepath.Join(receipts, "com.example.sparse.plist")
				must(t, os.Remove(p))
				must(t, os.Mkdir(p, 0o755))
			},
			read: 0,
			gone: []string{"com.example.sparse"},
		},
		{name: "nothing changed again", change: func(*testing.T) {}, read: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.change(t)
			rep, stats := collectBoth(t, c, root)
			if stats.Read != tt.read {
				t.Errorf("read %d files, want %d", stats.Read, tt.read)
			}
			// writeDevice has no directory that cannot be listed: every
			// error is about one receipt or bundle.
			if stats.Files != len(rep.Receipts)+len(rep.Apps)+len(rep.Errors) {
				t.Errorf("stats %+v for %d receipts, %d apps, %d errors", stats, len(rep.Receipts), len(rep.Apps), len(rep.Errors))
			}
			got := contents(rep)
			for k, v := range tt.want {
				if g, ok := got[k]; !ok || g != v {
					t.Errorf("%s = %q (reported: %v), want %q", k, g, ok, v)
				}
			}
			for _, k := range tt.gone {
				if _, ok := got[k]; ok {
					t.Errorf("%s still reported", k)
				}
			}
		})
	}
	// What is gone from the tree is gone from the cache.
	for _, gone := range []string{"/var/db/receipts/com.example.bin.plist", "/Applications/Suite/Member.app"} {
		if c.lookup(gone) != nil {
			t.Errorf("cache still holds %s", gone)
		}
	}
}

// A symbolic link to a bundle, pointed at another bundle whose Info.plist
// has the same size and mtime, is read again: device, inode and change
// time tell them apart.
func TestCollectorFollowsRetargetedLink(t *testing.T) {
	root := t.TempDir()
	apps := filepath.Join(root, "Applications")
	mt := installed.Add(48 * time.Hour)
	for _, id := range []string{"com.example.aaa", "com.example.bbb"} {
		rel := filepath.Join("..", "Store", id+".app")
		must(t, invtest.WriteApp(root, rel, map[string]any{"CFBundleIdentifier": id}, true))
		setMtime(t, filepath.Join(apps, rel, "Contents", "Info.plist"), mt)
	}
	must(t, os.MkdirAll(apps, 0o755))
	link := filepath.Join(apps, "Linked.app")
	mustSymlink(t, filepath.Join("..", "Store", "com.example.aaa.app"), link)
	if k, err := statKey(link, 0); err != nil {
		t.Fatal(err)
	} else if k.ino == 0 {
		t.Skip("no inode numbers on this platform")
	}
	c := NewCollector(Options{Root: root})
	collectBoth(t, c, root)
	must(t, os.Remove(link))
	mustSymlink(t, filepath.Join("..", "Store", "com.example.bbb.app"), link)
	rep, stats := collectBoth(t, c, root)
	if stats.Read != 1 || len(rep.Apps) != 1 || rep.Apps[0].BundleID != "com.example.bbb" {
		t.Errorf("read %d, apps %+v; want the new target read", stats.Read, rep.Apps)
	}
}

// A collection that fails changes nothing: the next one still reads only
// what changed.
func TestCollectorFailureKeepsCache(t *testing.T) {
	root := t.TempDir()
	must(t, invtest.WriteFixture(root, 20, 10))
	c := NewCollector(Options{Root: root})
	collectBoth(t, c, root)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := c.Collect(cancelled); err == nil {
		t.Fatal("Collect with a cancelled context succeeded")
	}
	if len(c.cache) != 30 {
		t.Errorf("cache holds %d entries after a failed collection, want 30", len(c.cache))
	}
	if _, stats := collectBoth(t, c, root); stats.Read != 0 || stats.Files != 30 {
		t.Errorf("stats %+v after a failed collection, want 30 files and nothing read", stats)
	}
}

func TestCollectorConcurrentUse(t *testing.T) {
	root := t.TempDir()
	must(t, invtest.WriteFixture(root, 30, 10))
	c := NewCollector(Options{Root: root})
	var wg sync.WaitGroup
	reads := make([]int, 4)
	for i := range reads {
		wg.Go(func() {
			rep, stats, err := c.Collect(context.Background())
			if err != nil || len(rep.Receipts) != 30 || len(rep.Apps) != 10 {
				t.Errorf("Collect: %d receipts, %d apps, %v", len(rep.Receipts), len(rep.Apps), err)
			}
			reads[i] = stats.Read
		})
	}
	wg.Wait()
	total := 0
	for _, n := range reads {
		total += n
	}
	// Collections take turns, so the files are read once in all.
	if total != 40 {
		t.Errorf("files read %v, want 40 in all", reads)
	}
}

type fakeInfo struct {
	size int64
	mode fs.FileMode
	mt   time.Time
}

func (f fakeInfo) Name() string       { return "Info.plist" }
func (f fakeInfo) Size() int64        { return f.size }
func (f fakeInfo) Mode() fs.FileMode  { return f.mode }
func (f fakeInfo) ModTime() time.Time { return f.mt }
func (f fakeInfo) IsDir() bool        { return f.mode.IsDir() }
func (f fakeInfo) Sys() any           { return nil }

func TestKeyOf(t *testing.T) {
	base := fakeInfo{size: 100, mode: 0o644, mt: installed}
	tests := []struct {
		name  string
		fi    fakeInfo
		which int
		same  bool
	}{
		{"identical", base, 0, true},
		{"same instant in another zone", fakeInfo{100, 0o644, installed.In(time.FixedZone("X", 3600))}, 0, true},
		{"size", fakeInfo{101, 0o644, installed}, 0, false},
		{"mtime", fakeInfo{100, 0o644, installed.Add(time.Nanosecond)}, 0, false},
		{"mode", fakeInfo{100, 0o600, installed}, 0, false},
		{"type", fakeInfo{100, fs.ModeNamedPipe | 0o644, installed}, 0, false},
		{"other Info.plist path", base, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := keyOf(tt.fi, tt.which) == keyOf(base, 0); got != tt.same {
				t.Errorf("same key = %v, want %v", got, tt.same)
			}
		})
	}
}
