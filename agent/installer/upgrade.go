package installer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
	"github.com/mobileatwork/mobileatwork/packaging/launchd"
)

// Upgrader installs the agent's own package. Its scripts stop and restart
// the agent's daemon, so where the daemon runs as a launchd job the
// install must run outside that job: Upgrade may hand the package over and
// return before the install ends, and the daemon may be restarted at any
// moment after. It may move pkgPath; the caller removes what is left.
//
// Callers verify the package (size, SHA-256 from the signed check-in)
// before they hand it here, as for Installer.
type Upgrader interface {
	Upgrade(ctx context.Context, pkgPath string) error
}

// Direct upgrades in place, with Installer, and returns when it is done:
// off macOS no service manager restarts the agent from the package.
type Direct struct{ Installer Installer }

// Upgrade installs the package.
func (d Direct) Upgrade(ctx context.Context, pkgPath string) error {
	return d.Installer.Install(ctx, pkgPath)
}

// ErrUpgradeRunning refuses an upgrade while another one runs.
var ErrUpgradeRunning = errors.New("an upgrade of the agent is already running")

// Names in LaunchdJob.Dir.
const (
	upgradePackage = "MobileAtWork.pkg"
	upgradePlist   = launchd.UpgradeLabel + ".plist"
)

// launchctlPath is launchctl(1); absolute, so PATH cannot swap it.
const launchctlPath = "/bin/launchctl"

// LaunchdJob upgrades through the one-shot launchd job launchd.Upgrade:
// the package and the job's plist go into Dir, the job is bootstrapped in
// the system domain and runs installer(8) as a job of its own, which the
// package's scripts do not stop when they restart the daemon. The job
// removes its files and itself when installer exits.
type LaunchdJob struct {
	// Dir holds the package and the plist while the job runs: root only
	// (0700), on the volume of the download so the package is moved.
	Dir string
	// Run runs launchctl; nil runs it. Tests replace it.
	Run Runner
	// Chown makes a file root:wheel, which launchd demands of a job's
	// plist (with no group or other write); nil is os.Chown to 0:0.
	// Tests replace it.
	Chown func(name string) error
}

// Upgrade hands pkgPath to the upgrade job.
func (j LaunchdJob) Upgrade(ctx context.Context, pkgPath string) error {
	run, chown := j.Run, j.Chown
	if run == nil {
		run = execRunner
	}
	if chown == nil {
		chown = func(name string) error { return os.Chown(name, 0, 0) }
	}
	if err := os.MkdirAll(j.Dir, 0o700); err != nil {
		return fmt.Errorf("upgrade: %w", err)
	}
	pkg, plistPath := filepath.Join(j.Dir, upgradePackage), filepath.Join(j.Dir, upgradePlist)
	// The job removes itself when it ends: while it is loaded an upgrade
	// runs, which booting it out would cut short.
	if _, err := run(ctx, launchctlPath, "print", "system/"+launchd.UpgradeLabel); err == nil {
		return fmt.Errorf("upgrade: %w (launchd job %s; see %s)", ErrUpgradeRunning, launchd.UpgradeLabel, launchd.UpgradeLog)
	}
	if err := os.Rename(pkgPath, pkg); err != nil {
		return fmt.Errorf("upgrade: %w", err)
	}
	b, err := launchd.Marshal(launchd.Upgrade(pkg, plistPath))
	if err == nil {
		err = atomicfile.WriteFile(plistPath, b, 0o644)
	}
	if err == nil {
		err = chown(plistPath)
	}
	if err == nil {
		var out []byte
		if out, err = run(ctx, launchctlPath, "bootstrap", "system", plistPath); err != nil {
			err = fmt.Errorf("launchctl bootstrap system %s: %w: %s", plistPath, err, trimOutput(out))
		}
	}
	if err != nil {
		os.Remove(pkg)
		os.Remove(plistPath)
		return fmt.Errorf("upgrade: %w", err)
	}
	return nil
}
