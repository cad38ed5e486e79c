//go:build !darwin

package localweb

import (
	"fmt"
	"os/exec"
)

// lookPath finds xdg-open; tests replace it.
var lookPath = exec.LookPath

// command opens url with xdg-open, the desktop-neutral opener of Linux.
func (o CommandOpener) command(url string) (string, []string, error) {
	p, err := lookPath("xdg-open")
	if err != nil {
		return "", nil, fmt.Errorf("open page: %w (xdg-open not found)", ErrNoBrowser)
	}
	return p, []string{url}, nil
}
