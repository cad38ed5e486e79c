//go:build !darwin && !linux

package inventory

import (
	"io/fs"
	"os"
)

// statKey is the key of the file at p: size, mode and modification time
// only, as the platform gives no inode or change time through fs.FileInfo.
func statKey(p string, which int) (fileKey, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return fileKey{}, err
	}
	return infoKey(fi, which), nil
}

func keyOf(fi fs.FileInfo, which int) fileKey { return infoKey(fi, which) }
