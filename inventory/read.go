package inventory

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
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

// maxKeptBuffer bounds the read buffer a worker keeps between files: real
// receipts and Info.plist files are a few kilobytes, and one outsized file
// must not pin a megabyte per worker for the rest of the collection.
const maxKeptBuffer = 64 << 10

// readPlistFile reads at most MaxPlistSize bytes of a regular file into buf
// (reused when large enough) and returns the bytes with the file's status
// as read from the open descriptor. The open does not block (a FIFO planted
// as Info.plist would otherwise hang the reader until someone writes to it)
// and the type is checked on the open descriptor, so a swap after a
// separate stat cannot fool it.
func readPlistFile(path string, buf []byte) ([]byte, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return buf, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return buf, nil, err
	}
	if !fi.Mode().IsRegular() {
		return buf, nil, fmt.Errorf("%w (%s)", errNotRegular, fi.Mode().Type())
	}
	if fi.Size() > MaxPlistSize {
		return buf, nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, fi.Size(), MaxPlistSize)
	}
	// One byte of slack shows whether the file grew since the stat.
	if int64(cap(buf)) < fi.Size()+1 {
		buf = make([]byte, 0, fi.Size()+1)
	}
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			if len(buf) > MaxPlistSize {
				return buf, nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, MaxPlistSize)
			}
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return buf, nil, err
		}
	}
	if len(buf) > MaxPlistSize {
		return buf, nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, MaxPlistSize)
	}
	return buf, fi, nil
}
