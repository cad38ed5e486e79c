//go:build darwin

package localweb

import (
	"fmt"
	"strconv"
)

// command opens url with open(1). A root daemon has no window server of its
// own: it runs open inside the console user's GUI session (launchctl asuser)
// and as that user (sudo -u), so the page appears in the user's browser with
// the user's profile, never as root.
func (o CommandOpener) command(url string) (string, []string, error) {
	if o.Euid != 0 {
		return "/usr/bin/open", []string{url}, nil
	}
	if o.Console == nil {
		return "", nil, fmt.Errorf("open page as root: %w: no console user lookup", ErrNoBrowser)
	}
	u, err := o.Console()
	if err != nil {
		return "", nil, fmt.Errorf("open page: find the console user: %w", err)
	}
	if u.UID == 0 || u.Name == "" || u.Name == "root" {
		return "", nil, fmt.Errorf("open page: %w: nobody is logged in at the console", ErrNoBrowser)
	}
	return "/bin/launchctl", []string{"asuser", strconv.FormatUint(uint64(u.UID), 10),
		"/usr/bin/sudo", "-u", u.Name, "/usr/bin/open", url}, nil
}
