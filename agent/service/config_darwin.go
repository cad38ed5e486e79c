//go:build darwin

package service

import (
	kservice "github.com/kardianos/service"

	"github.com/mobileatwork/mobileatwork/packaging/launchd"
)

// defaultLogDir is where Console.app and sysdiagnose look.
const defaultLogDir = launchd.LogDir

// platformConfig replaces kardianos/service's generic plist with the PKG's.
func platformConfig(c *kservice.Config, exe string, args []string, logDir string) error {
	b, err := LaunchdPlist(exe, args, logDir)
	if err != nil {
		return err
	}
	c.Option["LaunchdConfig"] = string(b)
	return nil
}
