//go:build !darwin

package desktop

import (
	"os"

	"github.com/mobileatwork/mobileatwork/internal/localweb"
)

// DefaultKiosk prints the page's address for a browser: there is no kiosk
// window outside macOS.
func DefaultKiosk() Kiosk { return BrowserKiosk{Out: os.Stdout} }

// DefaultPageWindow opens the page with xdg-open as this user, or prints its
// address.
func DefaultPageWindow(string) Window {
	return BrowserWindow{Opener: localweb.CommandOpener{Euid: os.Geteuid()}, Out: os.Stdout}
}
