//go:build !unix

package inventory

const openFlags = 0
