// Package safefile opens the files a root process reads from places other
// users may reach (a token file, the enrollment file the package leaves, the
// managed preference): never through a symbolic link, judged on the file
// actually opened rather than on a path that can be swapped between a check
// and the open, and read only up to a bound.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

var (
	// ErrLink refuses a path whose last element is a symbolic link.
	ErrLink = errors.New("is a symbolic link, want the file itself")
	// ErrNotRegular refuses a directory, device, FIFO or socket.
	ErrNotRegular = errors.New("is not a regular file")
	// ErrTooLarge refuses more bytes than the bound.
	ErrTooLarge = errors.New("is larger than allowed")
)

// Open opens path for reading without following a last symbolic link and
// without blocking on a FIFO, checks that the opened file is a regular
// file, then asks check (nil accepts) about it. The file is returned, with
// its information, only if both accept; the caller closes it. Errors wrap
// ErrLink, ErrNotRegular, what check returned, or the open's own error
// (fs.ErrNotExist for a missing file).
func Open(path string, check func(fs.FileInfo) error) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, nil, ErrLink
	}
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	switch {
	case err != nil:
	case !fi.Mode().IsRegular():
		err = fmt.Errorf("%w (%s)", ErrNotRegular, fi.Mode().Type())
	case check != nil:
		err = check(fi)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// ReadAll reads r to its end, refusing with ErrTooLarge more than limit
// bytes.
func ReadAll(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
	}
	return b, nil
}
