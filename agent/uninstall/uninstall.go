// Package uninstall removes the agent from a device: it tells the server the
// device leaves, unloads the agent's jobs, and removes exactly the files the
// installer and the agent created, plus the apps the agent installed when
// asked to.
//
// The work is split into a Plan (a list of actions computed from what is on
// disk, changing nothing) and its execution, so `--dry-run` prints the very
// list that a real run would carry out.
package uninstall

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/mobileatwork/mobileatwork/agent/managed"
	"github.com/mobileatwork/mobileatwork/packaging/launchd"
)

// Sentinel errors, tested with errors.Is.
var (
	// ErrNotRoot: removing the agent from the running system needs root.
	ErrNotRoot = errors.New("uninstall must run as root: use `sudo mobileatwork uninstall`")
	// ErrIncomplete: some paths could not be removed; the report says which.
	ErrIncomplete = errors.New("uninstall incomplete")
	// ErrUnsafePath: a path to remove is not where the agent puts it, or
	// reaches it through a symbolic link.
	ErrUnsafePath = errors.New("refusing to remove")
)

// DefaultLeaveTimeout bounds how long an unreachable server can delay an
// uninstall: leaving is a courtesy, removal must happen offline too.
const DefaultLeaveTimeout = 20 * time.Second

// PackageID is the agent's package receipt identifier.
const PackageID = "com.mobileatwork.agent"

// Layout is where the agent lives on a device: absolute paths, without any
// test root.
type Layout struct {
	BinaryDir   string   // removed whole
	Binary      string   // what the command symlink must point to
	Symlink     string   // command-line link, removed only if it points to Binary
	JobFiles    []string // launchd plists or the systemd unit
	StateDir    string
	LogDir      string
	ReceiptsDir string // holds PackageID.plist and PackageID.bom
	AppsDir     string // managed apps are removed only below it
}

// DarwinLayout is what the PKG and the agent lay down on a Mac.
func DarwinLayout() Layout {
	return Layout{
		BinaryDir:   path.Dir(path.Dir(launchd.BinaryPath)),
		Binary:      launchd.BinaryPath,
		Symlink:     "/usr/local/bin/mobileatwork",
		JobFiles:    []string{launchd.DaemonPlistPath, launchd.UIPlistPath, HandOffPlistPath},
		StateDir:    launchd.StateDir,
		LogDir:      launchd.LogDir,
		ReceiptsDir: "/var/db/receipts",
		AppsDir:     "/Applications",
	}
}

// LinuxLayout is the FHS twin used to run the agent on Linux: the binary
// under /opt, the unit `service install` writes, state and logs where the
// agent's defaults put them.
func LinuxLayout() Layout {
	return Layout{
		BinaryDir:   "/opt/mobileatwork",
		Binary:      "/opt/mobileatwork/bin/mobileatwork",
		Symlink:     "/usr/local/bin/mobileatwork",
		JobFiles:    []string{"/etc/systemd/system/" + launchd.DaemonLabel + ".service"},
		StateDir:    "/var/lib/mobileatwork",
		LogDir:      "/var/log/mobileatwork",
		ReceiptsDir: "/var/db/receipts",
		AppsDir:     "/Applications",
	}
}

// DefaultLayout is the layout of the running OS.
func DefaultLayout() Layout {
	if runtime.GOOS == "darwin" {
		return DarwinLayout()
	}
	return LinuxLayout()
}

// Options describe one uninstall.
type Options struct {
	// Root prefixes every path; "" or "/" is the running system.
	Root string
	// Layout defaults to DefaultLayout().
	Layout Layout
	// RemoveManagedApps also removes the apps listed in the state
	// directory's managed-apps.json (only below Layout.AppsDir).
	RemoveManagedApps bool
	// Platform unloads jobs and forgets receipts; nil picks the running OS's
	// for the real root and no commands for a test root.
	Platform Platform
	// Server and Leave tell the server the device leaves; nil Leave (not
	// enrolled) skips that step. Server only labels the action.
	Server string
	Leave  func(context.Context) error
	// LeaveTimeout defaults to DefaultLeaveTimeout.
	LeaveTimeout time.Duration
	// Geteuid defaults to os.Geteuid.
	Geteuid func() int
}

// Kind is what an action does.
type Kind string

// Kinds of action, in the order a plan runs them.
const (
	KindLeave  Kind = "leave"
	KindRun    Kind = "run"
	KindRemove Kind = "remove"
)

// Action is one step of a plan.
type Action struct {
	Kind    Kind     `json:"action"`
	What    string   `json:"what"`
	Path    string   `json:"path,omitempty"`    // as acted on, root included
	Command []string `json:"command,omitempty"` // argv, never a shell line
	// anchor is the directory under which Path must stay; no component
	// between them may be a symbolic link.
	anchor string
	// late commands run after every removal (service manager reload).
	late bool
}

// Kept is something the plan deliberately leaves in place, and why.
type Kept struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// Plan is the complete list of what an uninstall does.
type Plan struct {
	Root    string   `json:"root"`
	Actions []Action `json:"actions"`
	Kept    []Kept   `json:"kept"`

	opt Options
}

func (o *Options) realRoot() bool {
	return o.Root == "" || filepath.Clean(o.Root) == "/"
}

// at returns abs (a device path) under the root.
func (o *Options) at(abs string) string {
	if o.realRoot() {
		return filepath.Clean(abs)
	}
	return filepath.Join(o.Root, abs)
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// NewPlan inspects the device and lists the actions of the uninstall. It
// changes nothing.
func NewPlan(opt Options) (*Plan, error) {
	if opt.Geteuid == nil {
		opt.Geteuid = os.Geteuid
	}
	if opt.realRoot() && opt.Geteuid() != 0 {
		return nil, ErrNotRoot
	}
	if opt.Layout.StateDir == "" {
		opt.Layout = DefaultLayout()
	}
	if opt.Platform == nil {
		if opt.realRoot() {
			opt.Platform = systemPlatform()
		} else {
			opt.Platform = Offline{}
		}
	}
	if opt.LeaveTimeout <= 0 {
		opt.LeaveTimeout = DefaultLeaveTimeout
	}
	l := opt.Layout
	p := &Plan{Root: opt.Root, Actions: []Action{}, Kept: []Kept{}, opt: opt}
	if p.Root == "" {
		p.Root = "/"
	}
	owned := func(what, abs string) {
		full := opt.at(abs)
		if !exists(full) {
			return
		}
		if !strings.Contains(strings.ToLower(filepath.Base(full)), "mobileatwork") {
			p.Kept = append(p.Kept, Kept{full, "its name is not the agent's; remove it by hand if it is"})
			return
		}
		p.Actions = append(p.Actions, Action{Kind: KindRemove, What: what, Path: full, anchor: filepath.Dir(full)})
	}

	if opt.Leave != nil {
		p.Actions = append(p.Actions, Action{Kind: KindLeave, What: "tell " + opt.Server + " that this device leaves"})
	}
	for _, c := range opt.Platform.StopJobs() {
		p.Actions = append(p.Actions, Action{Kind: KindRun, What: "unload a job of the agent", Command: c})
	}
	if err := p.managedApps(); err != nil {
		return nil, err
	}
	for _, f := range l.JobFiles {
		owned("job definition", f)
	}
	p.symlink()
	owned("agent binaries", l.BinaryDir)
	owned("agent state", l.StateDir)
	owned("agent logs", l.LogDir)
	p.receipt(PackageID, "package receipt of the agent")
	for _, c := range opt.Platform.Reload() {
		p.Actions = append(p.Actions, Action{Kind: KindRun, What: "reload the service manager", Command: c, late: true})
	}
	return p, nil
}

// symlink removes the command link only when it is ours: a link of the same
// name pointing anywhere else belongs to someone else.
func (p *Plan) symlink() {
	o, l := &p.opt, p.opt.Layout
	full := o.at(l.Symlink)
	fi, err := os.Lstat(full)
	if err != nil {
		return
	}
	if fi.Mode()&os.ModeSymlink == 0 {
		p.Kept = append(p.Kept, Kept{full, "not a symbolic link to the agent"})
		return
	}
	target, err := os.Readlink(full)
	if err != nil {
		p.Kept = append(p.Kept, Kept{full, fmt.Sprintf("unreadable link: %v", err)})
		return
	}
	if t := filepath.Clean(target); t != l.Binary && t != o.at(l.Binary) {
		p.Kept = append(p.Kept, Kept{full, "points to " + target + ", not to this agent"})
		return
	}
	p.Actions = append(p.Actions, Action{Kind: KindRemove, What: "command link", Path: full, anchor: filepath.Dir(full)})
}

// receipt forgets a package: with pkgutil on a Mac, else by removing the
// receipt files when present.
func (p *Plan) receipt(id, what string) {
	o := &p.opt
	dir := o.at(o.Layout.ReceiptsDir)
	var files []string
	for _, ext := range []string{".plist", ".bom"} {
		if f := filepath.Join(dir, id+ext); exists(f) {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		return
	}
	if c := o.Platform.Forget(id); c != nil {
		p.Actions = append(p.Actions, Action{Kind: KindRun, What: what, Command: c})
		return
	}
	for _, f := range files {
		p.Actions = append(p.Actions, Action{Kind: KindRemove, What: what, Path: f, anchor: dir})
	}
}

// managedApps plans the removal of the apps the agent installed, or records
// that they are kept.
func (p *Plan) managedApps() error {
	o := &p.opt
	apps, err := managed.Load(o.at(o.Layout.StateDir))
	if err != nil {
		if !o.RemoveManagedApps {
			return nil // nothing to do with them anyway
		}
		return fmt.Errorf("list managed apps: %w", err)
	}
	appsDir := path.Clean(o.Layout.AppsDir)
	for _, a := range apps {
		full := o.at(a.Path)
		if !o.RemoveManagedApps {
			if exists(full) {
				p.Kept = append(p.Kept, Kept{full, "managed app; pass --remove-managed-apps to remove it"})
			}
			continue
		}
		if err := a.Validate(); err != nil {
			p.Kept = append(p.Kept, Kept{full, err.Error()})
			continue
		}
		if !strings.HasPrefix(a.Path, appsDir+"/") {
			p.Kept = append(p.Kept, Kept{full, "managed app outside " + appsDir + "; remove it by hand"})
			continue
		}
		if exists(full) {
			if _, err := contained(o.at(appsDir), full); err != nil {
				p.Kept = append(p.Kept, Kept{full, err.Error()})
				continue
			}
			p.Actions = append(p.Actions, Action{Kind: KindRemove, What: "managed app", Path: full, anchor: o.at(appsDir)})
		}
		for _, id := range a.PackageIDs {
			p.receipt(id, "package receipt of managed app "+path.Base(a.Path))
		}
	}
	return nil
}

// Status of an executed action.
const (
	StatusDone    = "done"
	StatusWarning = "warning" // failed, but uninstall goes on: leave, unload
	StatusFailed  = "failed"
	StatusPlanned = "planned" // dry run
)

// Result is one executed (or, in a dry run, planned) action.
type Result struct {
	Action
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// Report is what an uninstall did.
type Report struct {
	DryRun  bool     `json:"dry_run"`
	Root    string   `json:"root"`
	Results []Result `json:"results"`
	Kept    []Kept   `json:"kept"`
}

// DryRun reports the plan without acting on it.
func (p *Plan) DryRun() Report {
	r := Report{DryRun: true, Root: p.Root, Results: []Result{}, Kept: p.Kept}
	for _, a := range p.Actions {
		r.Results = append(r.Results, Result{Action: a, Status: StatusPlanned})
	}
	return r
}

// Execute carries out the plan in order. Telling the server and unloading
// jobs may fail without stopping the rest; a path that cannot be removed
// makes the returned error wrap ErrIncomplete, after every other action ran.
func (p *Plan) Execute(ctx context.Context) (Report, error) {
	r := Report{Root: p.Root, Results: []Result{}, Kept: p.Kept}
	var failed []string
	for _, a := range p.Actions {
		res := Result{Action: a, Status: StatusDone}
		var err error
		switch a.Kind {
		case KindLeave:
			lctx, cancel := context.WithTimeout(ctx, p.opt.LeaveTimeout)
			err = p.opt.Leave(lctx)
			cancel()
		case KindRun:
			err = p.opt.Platform.Run(ctx, a.Command)
		case KindRemove:
			err = removeContained(a.anchor, a.Path)
		}
		if err != nil {
			res.Error = err.Error()
			res.Status = StatusWarning
			if a.Kind == KindRemove {
				res.Status = StatusFailed
				failed = append(failed, a.Path)
			}
		}
		r.Results = append(r.Results, res)
	}
	if len(failed) > 0 {
		return r, fmt.Errorf("%w: could not remove %s", ErrIncomplete, strings.Join(failed, ", "))
	}
	return r, nil
}
