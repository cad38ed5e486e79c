//go:build darwin

package localweb

import (
	"errors"
	"slices"
	"testing"
)

func stubLookPath(t *testing.T) func() { return func() {} }

func TestOpenCommandDarwin(t *testing.T) {
	url := "http://127.0.0.1:9/?s=x"
	name, args, err := CommandOpener{Euid: 501}.command(url)
	if err != nil || name != "/usr/bin/open" || !slices.Equal(args, []string{url}) {
		t.Fatalf("as a user: %s %q %v", name, args, err)
	}
	root := CommandOpener{Console: func() (ConsoleUser, error) { return ConsoleUser{UID: 501, Name: "ada"}, nil }}
	name, args, err = root.command(url)
	want := []string{"asuser", "501", "/usr/bin/sudo", "-u", "ada", "/usr/bin/open", url}
	if err != nil || name != "/bin/launchctl" || !slices.Equal(args, want) {
		t.Fatalf("as root: %s %q %v", name, args, err)
	}
	nobody := CommandOpener{Console: func() (ConsoleUser, error) { return ConsoleUser{UID: 0, Name: "root"}, nil }}
	if _, _, err := nobody.command(url); !errors.Is(err, ErrNoBrowser) {
		t.Fatalf("at the login window: %v, want ErrNoBrowser", err)
	}
}
