package launchd

// UpgradeLabel is the one-shot job that installs the agent's own package
// when Apps@Work upgrades it. The package's scripts boot out and restart
// the daemon's job, which would kill an installer the daemon ran as its
// child: the install runs in this job of its own instead.
const UpgradeLabel = DaemonLabel + ".upgrade"

// UpgradeLog is where the upgrade job's output goes.
const UpgradeLog = LogDir + "/upgrade.log"

// upgradeScript is the upgrade job's program: installer(8); then the
// daemon is loaded again if it is not (the preinstall boots it out, and a
// failed install runs no postinstall to load it); then the job's package
// and plist go and the job removes itself from launchd (`remove` returns
// at once, it does not wait for the job to stop). The paths arrive as $1
// and $2: nothing is spliced into the script.
const upgradeScript = `/usr/sbin/installer -pkg "$1" -target /
rc=$?
echo "mobileatwork upgrade: installer exited $rc"
/bin/launchctl print system/` + DaemonLabel + ` >/dev/null 2>&1 ||
	/bin/launchctl bootstrap system ` + DaemonPlistPath + `
/bin/rm -f "$1" "$2"
exec /bin/launchctl remove ` + UpgradeLabel + `
`

// Upgrade is the one-shot job that installs pkgPath. Its plist is loaded
// from plistPath, outside /Library/LaunchDaemons, so it never loads at
// boot; it runs once at load (no KeepAlive) and, being its own job, lives
// on while the package's scripts restart the daemon. AbandonProcessGroup
// lets what installer started finish after the script's last step.
func Upgrade(pkgPath, plistPath string) Job {
	return Job{
		Label:               UpgradeLabel,
		ProgramArguments:    []string{"/bin/sh", "-c", upgradeScript, "mobileatwork-upgrade", pkgPath, plistPath},
		RunAtLoad:           true,
		StandardOutPath:     UpgradeLog,
		StandardErrorPath:   UpgradeLog,
		AbandonProcessGroup: true,
	}
}
