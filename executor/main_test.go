package executor

import (
	"os"
	"testing"
)

// The drop-mode tests run this test binary as launchctl would run the agent.
func TestMain(m *testing.M) {
	ExecAsUserIfAsked()
	os.Exit(m.Run())
}
