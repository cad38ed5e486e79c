// Command mobileatwork-server is the reference tenant server of Mobile@Work
// for macOS: it serves the device API and administers the tenant.
package main

import (
	"github.com/mobileatwork/mobileatwork/internal/cli"
)

func main() { cli.Main(newRoot()) }
