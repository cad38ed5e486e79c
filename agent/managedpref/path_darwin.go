//go:build darwin

package managedpref

// DefaultPath is where macOS puts the device-wide managed preferences of
// the com.mobileatwork.agent domain.
const DefaultPath = "/Library/Managed Preferences/com.mobileatwork.agent.plist"
