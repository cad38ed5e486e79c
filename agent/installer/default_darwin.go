//go:build darwin

package installer

// Default is installer(8); root is ignored: macOS installs on the boot volume.
func Default(root string) Installer { return System{} }
