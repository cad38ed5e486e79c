package inventory

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// testHookRead, when set, runs inside readFields' recover: tests make it
// panic to prove a failure while reading one file is contained.
var testHookRead func(b []byte)

// readFields reads the wanted top-level values of the property list b.
// The format is chosen once, from the header. Binary input is indexed by the
// guard and values are read from that index; XML input is guarded and read
// in the same token pass. Neither recurses, so no input can exhaust the
// stack, and a panic (a bug here) is turned into ErrMalformed: one file must
// not stop the daemon.
func readFields(b []byte, fields []field) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = malformed("reader panic: %v", r)
		}
	}()
	if testHookRead != nil {
		testHookRead(b)
	}
	if !bytes.HasPrefix(b, []byte("bplist")) {
		return scanXMLPlist(b, fields)
	}
	x, err := indexBinaryPlist(b)
	if err != nil {
		return err
	}
	return x.topLevel(fields)
}

// errNotRegular reports a plist path that is a FIFO, device or directory.
var errNotRegular = errors.New("not a regular file")

// readPlistFile reads at most MaxPlistSize bytes of a regular file. The open
// does not block (a FIFO planted as Info.plist would otherwise hang the
// reader until someone writes to it) and the type is checked on the open
// descriptor, so a swap after a separate stat cannot fool it.
func readPlistFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w (%s)", errNotRegular, fi.Mode().Type())
	}
	if fi.Size() > MaxPlistSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, fi.Size(), MaxPlistSize)
	}
	// One byte of slack shows whether the file grew since the stat.
	buf := make([]byte, 0, fi.Size()+1)
	for {
		if len(buf) == cap(buf) {
			if len(buf) > MaxPlistSize {
				return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, MaxPlistSize)
			}
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if len(buf) > MaxPlistSize {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, MaxPlistSize)
	}
	return buf, nil
}
