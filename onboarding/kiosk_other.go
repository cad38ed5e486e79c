//go:build !darwin

package onboarding

import "os"

// DefaultKiosk prints the page's address for a browser: there is no kiosk
// window outside macOS.
func DefaultKiosk() Kiosk { return BrowserKiosk{Out: os.Stdout} }
