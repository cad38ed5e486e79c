package launchd

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/micromdm/plist"
)

var update = flag.Bool("update", false, "rewrite the golden plists in testdata")

func jobs() []struct {
	file string
	job  Job
} {
	return []struct {
		file string
		job  Job
	}{
		{DaemonLabel + ".plist", Daemon()},
		{UILabel + ".plist", UIAgent()},
		{UpgradeLabel + ".plist", Upgrade(StateDir+"/upgrade/MobileAtWork.pkg", StateDir+"/upgrade/"+UpgradeLabel+".plist")},
	}
}

func TestGolden(t *testing.T) {
	for _, tc := range jobs() {
		t.Run(tc.file, func(t *testing.T) {
			got, err := Marshal(tc.job)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("plist differs from %s (run go test -update after review):\n%s", golden, got)
			}
		})
	}
}

func TestParsesBack(t *testing.T) {
	tests := []struct {
		job  Job
		want map[string]any
	}{
		{Daemon(), map[string]any{
			"Label":             "com.mobileatwork.agent",
			"ProgramArguments":  []any{"/Library/MobileAtWork/bin/mobileatwork", "run"},
			"RunAtLoad":         true,
			"KeepAlive":         true,
			"ThrottleInterval":  uint64(10),
			"ProcessType":       "Standard",
			"StandardOutPath":   "/Library/Logs/MobileAtWork/agent.out.log",
			"StandardErrorPath": "/Library/Logs/MobileAtWork/agent.err.log",
		}},
		{UIAgent(), map[string]any{
			"Label":                  "com.mobileatwork.agent.ui",
			"ProgramArguments":       []any{"/Library/MobileAtWork/bin/mobileatwork", "ui", "--session"},
			"RunAtLoad":              true,
			"KeepAlive":              map[string]any{"SuccessfulExit": false},
			"LimitLoadToSessionType": "Aqua",
			"ProcessType":            "Interactive",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.job.Label, func(t *testing.T) {
			b, err := Marshal(tc.job)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := plist.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v\nwant %#v", got, tc.want)
			}
			var back Job
			if err := plist.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if back.Label != tc.job.Label || !reflect.DeepEqual(back.ProgramArguments, tc.job.ProgramArguments) {
				t.Errorf("round trip: %+v", back)
			}
		})
	}
}

// TestPythonPlistlibAccepts checks the plists with an independent Apple-plist
// parser when one is available.
func TestPythonPlistlibAccepts(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	for _, tc := range jobs() {
		t.Run(tc.file, func(t *testing.T) {
			b, _ := Marshal(tc.job)
			cmd := exec.Command(py, "-c", "import plistlib,sys; d=plistlib.loads(sys.stdin.buffer.read()); assert d['Label'] and d['ProgramArguments'] and d['RunAtLoad'] is True, d")
			cmd.Stdin = bytes.NewReader(b)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("plistlib: %v\n%s", err, out)
			}
		})
	}
}

func TestMarshalRejectsIncompleteJob(t *testing.T) {
	for _, j := range []Job{{}, {Label: "x"}, {ProgramArguments: []string{"/bin/true"}}} {
		if _, err := Marshal(j); err == nil {
			t.Errorf("Marshal(%+v) accepted", j)
		}
	}
}
