//go:build !darwin

package managedpref

// DefaultPath is the Linux twin's file of the same content, for
// development and tests: no MDM writes it.
const DefaultPath = "/etc/mobileatwork/com.mobileatwork.agent.plist"
