//go:build darwin

package main

import "runtime"

// The kiosk and the Apps@Work window use AppKit, which runs only on the
// process's main thread. Locking the main goroutine to it in init is how Go
// keeps main() there; the program that needs it does so, not the library.
func init() { runtime.LockOSThread() }
