package uninstall

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/agent/managed"
)

// fakePlatform records the commands it is asked to run. When stop runs it
// checks that the job files are still there: jobs are unloaded before their
// definitions disappear.
type fakePlatform struct {
	t       *testing.T
	root    string
	forget  bool // receipts forgotten by command instead of file removal
	failRun error
	ran     []string
}

func (f *fakePlatform) StopJobs() []Command {
	return []Command{{"launchctl", "bootout", "system/com.mobileatwork.agent"}}
}

func (f *fakePlatform) Forget(id string) Command {
	if !f.forget {
		return nil
	}
	return Command{"pkgutil", "--forget", id}
}

func (f *fakePlatform) Reload() []Command { return []Command{{"reload"}} }

func (f *fakePlatform) Run(_ context.Context, c Command) error {
	line := strings.Join(c, " ")
	if len(c) > 1 && c[1] == "bootout" {
		if _, err := os.Stat(filepath.Join(f.root, "Library/LaunchDaemons/com.mobileatwork.agent.plist")); err != nil {
			f.t.Errorf("%s ran after the plist was removed", line)
		}
	}
	f.ran = append(f.ran, line)
	return f.failRun
}

// fakeRoot lays out an installed agent, two managed apps and the things
// around them that belong to others.
func fakeRoot(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "root")
	files := []string{
		"Library/MobileAtWork/bin/mobileatwork",
		"Library/LaunchDaemons/com.mobileatwork.agent.plist",
		"Library/LaunchDaemons/com.example.other.plist",
		"Library/LaunchAgents/com.mobileatwork.agent.ui.plist",
		"Library/Application Support/MobileAtWork/identity.json",
		"Library/Application Support/MobileAtWork/outbox/r1.json",
		"Library/Application Support/Other/data",
		"Library/Logs/MobileAtWork/agent.log",
		"Library/Logs/Other.log",
		"var/db/receipts/com.mobileatwork.agent.plist",
		"var/db/receipts/com.mobileatwork.agent.bom",
		"var/db/receipts/com.tinyspeck.slackmacgap.plist",
		"var/db/receipts/com.tinyspeck.slackmacgap.bom",
		"var/db/receipts/com.apple.pkg.Safari.plist",
		"Applications/Slack.app/Contents/Info.plist",
		"Applications/Utilities/Tool.app/Contents/MacOS/tool",
		"Applications/Utilities/Other.app/Contents/Info.plist",
		"Applications/Safari.app/Contents/Info.plist",
		"Users/ada/Apps/Evil.app/Contents/Info.plist",
		"usr/local/bin/other",
	}
	for _, f := range files {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/Library/MobileAtWork/bin/mobileatwork", filepath.Join(root, "usr/local/bin/mobileatwork")); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(root, "Library/Application Support/MobileAtWork")
	for _, a := range []managed.App{
		{Path: "/Applications/Slack.app", PackageIDs: []string{"com.tinyspeck.slackmacgap"}},
		{Path: "/Applications/Utilities/Tool.app"},
		{Path: "/Users/ada/Apps/Evil.app"},
	} {
		if err := managed.Record(state, a); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// snapshot lists every path below root without following links.
func snapshot(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// removedBetween returns the top-most paths present before and gone after.
func removedBetween(before, after []string) []string {
	var gone []string
	for _, p := range before {
		if slices.Contains(after, p) {
			continue
		}
		if i := len(gone); i > 0 && strings.HasPrefix(p, gone[i-1]+"/") {
			continue
		}
		gone = append(gone, p)
	}
	sort.Strings(gone)
	return gone
}

func planPaths(root string, r Report) []string {
	var out []string
	for _, res := range r.Results {
		if res.Kind == KindRemove {
			rel, _ := filepath.Rel(root, res.Path)
			out = append(out, filepath.ToSlash(rel))
		}
	}
	sort.Strings(out)
	return out
}

var agentPaths = []string{
	"Library/Application Support/MobileAtWork",
	"Library/LaunchAgents/com.mobileatwork.agent.ui.plist",
	"Library/LaunchDaemons/com.mobileatwork.agent.plist",
	"Library/Logs/MobileAtWork",
	"Library/MobileAtWork",
	"usr/local/bin/mobileatwork",
	"var/db/receipts/com.mobileatwork.agent.bom",
	"var/db/receipts/com.mobileatwork.agent.plist",
}

func TestUninstall(t *testing.T) {
	withApps := append(slices.Clone(agentPaths),
		"Applications/Slack.app",
		"Applications/Utilities/Tool.app",
		"var/db/receipts/com.tinyspeck.slackmacgap.bom",
		"var/db/receipts/com.tinyspeck.slackmacgap.plist",
	)
	sort.Strings(withApps)
	tests := []struct {
		name        string
		removeApps  bool
		wantRemoved []string
		wantKept    []string // substrings of Kept paths
	}{
		{"agent only, apps kept", false, agentPaths, []string{"Applications/Slack.app", "Applications/Utilities/Tool.app"}},
		{"with managed apps", true, withApps, []string{"Users/ada/Apps/Evil.app"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := fakeRoot(t)
			before := snapshot(t, root)
			fp := &fakePlatform{t: t, root: root}
			left := 0
			opt := Options{
				Root: root, Layout: DarwinLayout(), RemoveManagedApps: tc.removeApps, Platform: fp,
				Server: "https://mdm.example.com", Leave: func(context.Context) error { left++; return nil },
			}

			// A dry run first: it must change nothing and list what the real run removes.
			plan, err := NewPlan(opt)
			if err != nil {
				t.Fatal(err)
			}
			dry := plan.DryRun()
			if got := snapshot(t, root); !slices.Equal(got, before) {
				t.Fatal("the dry run changed the file system")
			}
			if left != 0 || len(fp.ran) != 0 {
				t.Fatalf("the dry run acted: leave %d, commands %v", left, fp.ran)
			}

			plan, err = NewPlan(opt)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := plan.Execute(context.Background())
			if err != nil {
				t.Fatalf("execute: %v\n%+v", err, rep)
			}
			gone := removedBetween(before, snapshot(t, root))
			if !slices.Equal(gone, tc.wantRemoved) {
				t.Errorf("removed:\n%s\nwant:\n%s", strings.Join(gone, "\n"), strings.Join(tc.wantRemoved, "\n"))
			}
			if got := planPaths(root, dry); !slices.Equal(got, gone) {
				t.Errorf("dry run listed:\n%s\nreal run removed:\n%s", strings.Join(got, "\n"), strings.Join(gone, "\n"))
			}
			if left != 1 {
				t.Errorf("server told %d times, want once", left)
			}
			if want := []string{"launchctl bootout system/com.mobileatwork.agent", "reload"}; !slices.Equal(fp.ran, want) {
				t.Errorf("commands %q, want %q", fp.ran, want)
			}
			for _, r := range rep.Results {
				if r.Status != StatusDone {
					t.Errorf("%s %s: %s %s", r.Kind, r.Path, r.Status, r.Error)
				}
			}
			for _, k := range tc.wantKept {
				if !slices.ContainsFunc(rep.Kept, func(x Kept) bool { return strings.HasSuffix(x.Path, k) }) {
					t.Errorf("kept list %+v lacks %s", rep.Kept, k)
				}
			}
			if tc.removeApps && !slices.ContainsFunc(rep.Kept, func(k Kept) bool {
				return strings.HasSuffix(k.Path, "Evil.app") && strings.Contains(k.Reason, "outside /Applications")
			}) {
				t.Errorf("kept list %+v does not say Evil.app is outside /Applications", rep.Kept)
			}
			for _, p := range []string{"Applications/Safari.app", "Applications/Utilities/Other.app", "Users/ada/Apps/Evil.app", "usr/local/bin/other", "var/db/receipts/com.apple.pkg.Safari.plist"} {
				if _, err := os.Lstat(filepath.Join(root, p)); err != nil {
					t.Errorf("%s was removed: %v", p, err)
				}
			}
		})
	}
}

func TestForeignSymlinkKept(t *testing.T) {
	tests := []struct {
		name    string
		make    func(link string) error
		removed bool
	}{
		{"points to our binary inside the root", func(l string) error {
			return os.Symlink(filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(filepath.Dir(l)))), "Library/MobileAtWork/bin/mobileatwork"), l)
		}, true},
		{"points elsewhere", func(l string) error { return os.Symlink("/opt/homebrew/bin/mobileatwork", l) }, false},
		{"a regular file", func(l string) error { return os.WriteFile(l, []byte("#!/bin/sh\n"), 0o755) }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := fakeRoot(t)
			link := filepath.Join(root, "usr/local/bin/mobileatwork")
			os.Remove(link)
			if err := tc.make(link); err != nil {
				t.Fatal(err)
			}
			plan, err := NewPlan(Options{Root: root, Layout: DarwinLayout(), Platform: &fakePlatform{t: t, root: root}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := plan.Execute(context.Background()); err != nil {
				t.Fatal(err)
			}
			_, err = os.Lstat(link)
			if gone := errors.Is(err, fs.ErrNotExist); gone != tc.removed {
				t.Fatalf("link removed = %v, want %v", gone, tc.removed)
			}
			if !tc.removed && !slices.ContainsFunc(plan.Kept, func(k Kept) bool { return k.Path == link }) {
				t.Errorf("kept list %+v does not explain %s", plan.Kept, link)
			}
		})
	}
}

func TestUnreachableServerDoesNotBlock(t *testing.T) {
	tests := []struct {
		name  string
		leave func(ctx context.Context) error
	}{
		{"refused", func(context.Context) error { return errors.New("dial tcp 127.0.0.1:8443: connection refused") }},
		{"hangs", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := fakeRoot(t)
			fp := &fakePlatform{t: t, root: root, failRun: errors.New("exit status 3: no such process")}
			plan, err := NewPlan(Options{Root: root, Layout: DarwinLayout(), Platform: fp, Leave: tc.leave, LeaveTimeout: 50 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			rep, err := plan.Execute(context.Background())
			if err != nil {
				t.Fatalf("execute: %v", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("uninstall waited %v for the server", d)
			}
			if rep.Results[0].Kind != KindLeave || rep.Results[0].Status != StatusWarning {
				t.Errorf("leave result %+v, want a warning", rep.Results[0])
			}
			if gone := removedBetween(snapshot(t, fakeRoot(t)), snapshot(t, root)); !slices.Equal(gone, agentPaths) {
				t.Errorf("removed %v, want %v", gone, agentPaths)
			}
		})
	}
}

func TestReceiptsForgottenByCommand(t *testing.T) {
	root := fakeRoot(t)
	fp := &fakePlatform{t: t, root: root, forget: true}
	plan, err := NewPlan(Options{Root: root, Layout: DarwinLayout(), Platform: fp, RemoveManagedApps: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plan.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"pkgutil --forget com.tinyspeck.slackmacgap", "pkgutil --forget com.mobileatwork.agent"} {
		if !slices.Contains(fp.ran, want) {
			t.Errorf("commands %q lack %q", fp.ran, want)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "var/db/receipts/com.mobileatwork.agent.plist")); err != nil {
		t.Error("receipt file removed although the platform forgets receipts itself")
	}
}

func TestManagedAppThroughSymlinkKept(t *testing.T) {
	root := fakeRoot(t)
	outside := filepath.Join(root, "System/Important")
	if err := os.MkdirAll(filepath.Join(outside, "Thing.app/Contents"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "Applications/Linked")); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(root, "Library/Application Support/MobileAtWork")
	if err := managed.Record(state, managed.App{Path: "/Applications/Linked/Thing.app"}); err != nil {
		t.Fatal(err)
	}
	plan, err := NewPlan(Options{Root: root, Layout: DarwinLayout(), Platform: Offline{}, RemoveManagedApps: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plan.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(outside, "Thing.app/Contents")); err != nil {
		t.Fatal("an app reached through a symbolic link was removed")
	}
	if !slices.ContainsFunc(plan.Kept, func(k Kept) bool { return strings.HasSuffix(k.Path, "Linked/Thing.app") }) {
		t.Errorf("kept list %+v does not explain Linked/Thing.app", plan.Kept)
	}
}

func TestUnfamiliarStateDirKept(t *testing.T) {
	root := fakeRoot(t)
	l := DarwinLayout()
	l.StateDir = "/Library"
	plan, err := NewPlan(Options{Root: root, Layout: l, Platform: Offline{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range plan.Actions {
		if a.Path == filepath.Join(root, "Library") {
			t.Fatal("plan removes /Library given as the state directory")
		}
	}
	if !slices.ContainsFunc(plan.Kept, func(k Kept) bool { return k.Path == filepath.Join(root, "Library") }) {
		t.Errorf("kept list %+v does not explain /Library", plan.Kept)
	}
}

func TestRefusesNonRootOnRunningSystem(t *testing.T) {
	for _, root := range []string{"", "/", "//"} {
		_, err := NewPlan(Options{Root: root, Geteuid: func() int { return 501 }, Platform: Offline{}})
		if !errors.Is(err, ErrNotRoot) {
			t.Errorf("root %q: err = %v, want ErrNotRoot", root, err)
		}
	}
	// A test root needs no privileges.
	if _, err := NewPlan(Options{Root: t.TempDir(), Geteuid: func() int { return 501 }}); err != nil {
		t.Errorf("test root: %v", err)
	}
}

func TestRemoveContained(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, base string) (anchor, target string)
		wantErr error
		kept    string // must survive, relative to base
	}{
		{"plain directory", func(t *testing.T, base string) (string, string) {
			mk(t, base, "a/App.app/x")
			return filepath.Join(base, "a"), filepath.Join(base, "a/App.app")
		}, nil, ""},
		{"link on the way", func(t *testing.T, base string) (string, string) {
			mk(t, base, "outside/App.app/x")
			mk(t, base, "a/")
			if err := os.Symlink(filepath.Join(base, "outside"), filepath.Join(base, "a/l")); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(base, "a"), filepath.Join(base, "a/l/App.app")
		}, ErrUnsafePath, "outside/App.app/x"},
		{"target is a link: only the link goes", func(t *testing.T, base string) (string, string) {
			mk(t, base, "outside/keep")
			mk(t, base, "a/")
			if err := os.Symlink(filepath.Join(base, "outside"), filepath.Join(base, "a/App.app")); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(base, "a"), filepath.Join(base, "a/App.app")
		}, nil, "outside/keep"},
		{"links inside the target are not followed", func(t *testing.T, base string) (string, string) {
			mk(t, base, "outside/keep")
			mk(t, base, "a/App.app/Contents/")
			if err := os.Symlink(filepath.Join(base, "outside"), filepath.Join(base, "a/App.app/Contents/Frameworks")); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(base, "a"), filepath.Join(base, "a/App.app")
		}, nil, "outside/keep"},
		{"the anchor itself", func(t *testing.T, base string) (string, string) {
			mk(t, base, "a/x")
			return filepath.Join(base, "a"), filepath.Join(base, "a")
		}, ErrUnsafePath, "a/x"},
		{"escapes with dot dot", func(t *testing.T, base string) (string, string) {
			mk(t, base, "b/x")
			mk(t, base, "a/")
			return filepath.Join(base, "a"), filepath.Join(base, "a/../b")
		}, ErrUnsafePath, "b/x"},
		{"already gone", func(t *testing.T, base string) (string, string) {
			mk(t, base, "a/")
			return filepath.Join(base, "a"), filepath.Join(base, "a/missing/App.app")
		}, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			anchor, target := tc.setup(t, base)
			err := removeContained(anchor, target)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil {
				if _, err := os.Lstat(target); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s still there", target)
				}
			}
			if tc.kept != "" {
				if _, err := os.Stat(filepath.Join(base, tc.kept)); err != nil {
					t.Errorf("%s removed: %v", tc.kept, err)
				}
			}
		})
	}
}

// mk creates base/rel; a trailing slash makes a directory, else a file.
func mk(t *testing.T, base, rel string) {
	t.Helper()
	p := filepath.Join(base, rel)
	if strings.HasSuffix(rel, "/") {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(rel), 0o644); err != nil {
		t.Fatal(err)
	}
}
