package executor

import (
	"slices"
	"strings"
	"testing"
)

func TestSessionArgv(t *testing.T) {
	argv := []string{"/bin/sh", "/tmp/maw-run-1/script", "a b", "$(reboot)", "--", ""}
	tests := []struct {
		name string
		u    User
		want []string
	}{
		{"user with groups", User{UID: 501, GID: 20, Groups: []uint32{20, 12, 61, 79}, Name: "ann"},
			[]string{"/bin/launchctl", "asuser", "501", "/agent", dropMode, "501", "20", "20,12,61,79", "--"}},
		{"no supplementary groups", User{UID: 502, GID: 20, Name: "bob"},
			[]string{"/bin/launchctl", "asuser", "502", "/agent", dropMode, "502", "20", "", "--"}},
		{"large ids", User{UID: 1<<32 - 2, GID: 1<<32 - 3, Groups: []uint32{1<<32 - 3}},
			[]string{"/bin/launchctl", "asuser", "4294967294", "/agent", dropMode, "4294967294", "4294967293", "4294967293", "--"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := sessionArgv(launchctlPath, "/agent", &tc.u, argv)
			want := append(tc.want, argv...)
			if !slices.Equal(got, want) {
				t.Fatalf("argv\n%q\nwant\n%q", got, want)
			}
			// What launchctl hands the drop parses back to the same user
			// and the script's argv, entry for entry.
			c, rest, err := parseDrop(got[5:])
			if err != nil {
				t.Fatal(err)
			}
			if c.uid != tc.u.UID || c.gid != tc.u.GID || !slices.Equal(c.groups, tc.u.Groups) || !slices.Equal(rest, argv) {
				t.Errorf("parsed %+v %q", c, rest)
			}
		})
	}
}

func TestParseDropRejects(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"nothing", nil, "usage"},
		{"no separator", []string{"501", "20", "20", "/bin/sh"}, "usage"},
		{"no program", []string{"501", "20", "20", "--"}, "usage"},
		{"uid not a number", []string{"ann", "20", "20", "--", "/bin/sh"}, `uid "ann"`},
		{"negative gid", []string{"501", "-1", "20", "--", "/bin/sh"}, `gid "-1"`},
		{"root", []string{"0", "0", "0", "--", "/bin/sh"}, "uid 0"},
		{"bad group", []string{"501", "20", "20,,12", "--", "/bin/sh"}, `group ""`},
		{"too many groups", []string{"501", "20", strings.Repeat("1,", 16) + "1", "--", "/bin/sh"}, "at most 16"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := parseDrop(tc.args)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestDropAndExecRefusesBadArgs(t *testing.T) {
	var stderr strings.Builder
	if code := dropAndExec([]string{"0", "0", "", "--", "/bin/true"}, &stderr); code != 126 {
		t.Errorf("exit %d, want 126", code)
	}
	if got := stderr.String(); !strings.HasPrefix(got, "error: ") || strings.Count(got, "\n") != 1 {
		t.Errorf("stderr %q, want one error: line", got)
	}
}
