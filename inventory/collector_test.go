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

func findReceipt(rep Report, id string) (Receipt, bool) {
	for _, r := range rep.Receipts {
		if r.PackageID == id {
			return r, true
		}
	}
	return Receipt{}, false
}

func findApp(rep Report, path string) (App, bool) {
	for _, a := range rep.Apps {
		if a.Path == path {
			return a, true
		}
	}
	return App{}, false
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
		read   int // files whose content the collection read
		check  func(t *testing.T, rep Report)
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
			check: func(t *testing.T, rep Report) {
				if r, _ := findReceipt(rep, "com.example.xml"); r.Version != "4.6" {
					t.Errorf("receipt = %+v, want version 4.6", r)
				}
			},
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
			check: func(t *testing.T, rep Report) {
				if r, _ := findReceipt(rep, "com.example.xml"); r.Version != "4.7.1" {
					t.Errorf("receipt = %+v, want version 4.7.1", r)
				}
			},
		},
		{
			name: "receipt added",
			change: func(t *testing.T) {
				must(t, invtest.WriteReceipt(root, "com.example.new", map[string]any{"PackageIdentifier": "com.example.new"}, true))
			},
			read: 1,
			check: func(t *testing.T, rep Report) {
				if _, ok := findReceipt(rep, "com.example.new"); !ok {
					t.Error("added receipt missing")
				}
			},
		},
		{
			name:   "receipt removed",
			change: func(t *testing.T) { must(t, os.Remove(filepath.Join(receipts, "com.example.bin.plist"))) },
			read:   0,
			check: func(t *testing.T, rep Report) {
				if _, ok := findReceipt(rep, "com.example.bin"); ok {
					t.Error("removed receipt still reported")
				}
			},
		},
		{
			name: "malformed receipt repaired",
			change: func(t *testing.T) {
				must(t, invtest.WriteReceipt(root, "corrupt", map[string]any{"PackageIdentifier": "com.example.repaired"}, true))
			},
			read: 1,
			check: func(t *testing.T, rep Report) {
				if _, ok := findReceipt(rep, "com.example.repaired"); !ok {
					t.Error("repaired receipt missing")
				}
			},
		},
		{
			name: "app updated",
			change: func(t *testing.T) {
				must(t, invtest.WriteApp(root, "Binary.app", info("com.example.binary", "9.0"), true))
			},
			read: 1,
			check: func(t *testing.T, rep Report) {
				if a, _ := findApp(rep, "/Applications/Binary.app"); a.Version != "9.0" {
					t.Errorf("app = %+v, want version 9.0", a)
				}
			},
		},
		{
			name: "app added to a folder",
			change: func(t *testing.T) {
				must(t, invtest.WriteApp(root, "Suite/Second.app", info("com.example.second", "1"), false))
			},
			read: 1,
		},
		{
			name:   "app removed",
			change: func(t *testing.T) { must(t, os.RemoveAll(filepath.Join(apps, "Suite", "Member.app"))) },
			read:   0,
			check: func(t *testing.T, rep Report) {
				if _, ok := findApp(rep, "/Applications/Suite/Member.app"); ok {
					t.Error("removed app still reported")
				}
			},
		},
		{
			name: "Info.plist appears where it is looked for first",
			change: func(t *testing.T) {
				must(t, invtest.WriteApp(root, "Game.app", info("com.example.native", "2"), true))
			},
			read: 1,
			check: func(t *testing.T, rep Report) {
				if a, _ := findApp(rep, "/Applications/Game.app"); a.BundleID != "com.example.native" {
					t.Errorf("app = %+v, want the Contents/Info.plist one", a)
				}
			},
		},
		{
			name: "missing Info.plist created",
			change: func(t *testing.T) {
				must(t, invtest.WriteApp(root, "NoInfo.app", info("com.example.noinfo", "1"), false))
			},
			read: 1,
		},
		{
			name: "file replaced by a directory",
			change: func(t *testing.T) {
				p := filepath.Join(receipts, "com.example.sparse.plist")
				must(t, os.Remove(p))
				must(t, os.Mkdir(p, 0o755))
			},
			read: 0,
			check: func(t *testing.T, rep Report) {
				if _, ok := findReceipt(rep, "com.example.sparse"); ok {
					t.Error("receipt replaced by a directory still reported")
				}
			},
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
			if tt.check != nil {
				tt.check(t, rep)
			}
		})
	}
	// What is gone from the tree is gone from the cache.
	for _, gone := range []string{"/var/db/receipts/com.example.bin.plist", "/Applications/Suite/Member.app"} {
		if _, ok := c.cache[gone]; ok {
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
