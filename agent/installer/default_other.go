//go:build !darwin

package installer

// Default is the twin under root, the volume the agent's inventory reads.
func Default(root string) Installer { return Twin{Root: root} }
