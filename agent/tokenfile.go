package agent

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// maxTokenFileBytes is far above a token's 93 characters and small enough
// to refuse a file named by mistake.
const maxTokenFileBytes = 4 << 10

// ReadTokenFile reads an enrollment token from a file, or from stdin when
// path is "-", so that scripts never put the token in argv, where every
// local user can read it. The file must be a regular file, not a symlink;
// the trailing newline is dropped.
func ReadTokenFile(path string, stdin io.Reader) (string, error) {
	var r io.Reader = stdin
	name := "standard input"
	if path != "-" {
		name = path
		fi, err := os.Lstat(path)
		if err != nil {
			return "", fmt.Errorf("--token-file: %w", err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return "", fmt.Errorf("--token-file %s is a symbolic link; give the file itself", path)
		}
		if !fi.Mode().IsRegular() {
			return "", fmt.Errorf("--token-file %s is not a regular file", path)
		}
		f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW, 0)
		if err != nil {
			return "", fmt.Errorf("--token-file: %w", err)
		}
		defer f.Close()
		if ofi, err := f.Stat(); err != nil || !os.SameFile(fi, ofi) {
			return "", fmt.Errorf("--token-file %s changed while being opened", path)
		}
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxTokenFileBytes+1))
	if err != nil {
		return "", fmt.Errorf("--token-file: read %s: %w", name, err)
	}
	if len(b) > maxTokenFileBytes {
		return "", fmt.Errorf("--token-file: %s holds more than %d bytes; want the token alone", name, maxTokenFileBytes)
	}
	tok := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	switch {
	case tok == "":
		return "", fmt.Errorf("--token-file: %s is empty; want the token printed by `mobileatwork-server token create`", name)
	case strings.ContainsAny(tok, "\r\n"):
		return "", fmt.Errorf("--token-file: %s holds more than one line; want the token alone", name)
	}
	return tok, nil
}
