//go:build !darwin

package appcatalog

import (
	"path/filepath"
	"testing"
)

func TestDefaultShownDir(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, tc := range []struct{ name, xdg, want string }{
		{"XDG_STATE_HOME set", "/var/state/ada", "/var/state/ada/mobileatwork"},
		{"XDG_STATE_HOME unset", "", filepath.Join(home, ".local", "state", "mobileatwork")},
		{"relative XDG_STATE_HOME is ignored", "state", filepath.Join(home, ".local", "state", "mobileatwork")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("XDG_STATE_HOME", tc.xdg)
			got, err := DefaultShownDir()
			if err != nil || got != tc.want {
				t.Errorf("DefaultShownDir = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
