package agent

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/mobileatwork/mobileatwork/internal/safefile"
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
		f, _, err := safefile.Open(path, nil)
		if err != nil {
			return "", fmt.Errorf("--token-file %s: %w", path, err)
		}
		defer f.Close()
		r = f
	}
	b, err := safefile.ReadAll(r, maxTokenFileBytes)
	if errors.Is(err, safefile.ErrTooLarge) {
		return "", fmt.Errorf("--token-file: %s holds more than %d bytes; want the token alone", name, maxTokenFileBytes)
	}
	if err != nil {
		return "", fmt.Errorf("--token-file: read %s: %w", name, err)
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
