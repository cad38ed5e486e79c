// Command mobileatwork is the Mobile@Work for macOS agent: the daemon that
// launchd keeps alive and the commands administrators run on a Mac.
package main

import "github.com/mobileatwork/mobileatwork/internal/cli"

func main() { cli.Main(newRoot()) }
