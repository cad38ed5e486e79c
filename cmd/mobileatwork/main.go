// Command mobileatwork is the Mobile@Work for macOS agent: the daemon that
// launchd keeps alive and the commands administrators run on a Mac.
package main

import (
	"github.com/mobileatwork/mobileatwork/executor"
	"github.com/mobileatwork/mobileatwork/internal/cli"
)

func main() {
	// A console-user script starts as this binary in drop mode, in the
	// user's session: it becomes the user and execs the script.
	executor.ExecAsUserIfAsked()
	cli.Main(newRoot())
}
