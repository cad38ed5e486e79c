//go:build linux

package executor

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// systemProcesses reads /proc.
var systemProcesses processTable = procfs{root: "/proc"}

type procfs struct{ root string }

func (fs procfs) List() ([]process, error) {
	d, err := os.Open(fs.root)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	procs := make([]process, 0, len(names))
	// One buffer for every stat file: a snapshot runs several times a second
	// during a run and should not feed the garbage collector much.
	buf := make([]byte, 1024)
	for _, name := range names {
		if name[0] < '0' || name[0] > '9' {
			continue
		}
		b, err := readSmall(fs.root+"/"+name+"/stat", buf)
		if err != nil {
			continue // exited since readdir
		}
		if p, err := parseStat(b); err == nil {
			procs = append(procs, p)
		}
	}
	return procs, nil
}

// readSmall reads a small proc file into buf without allocating a File.
func readSmall(path string, buf []byte) ([]byte, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer syscall.Close(fd)
	n := 0
	for n < len(buf) {
		m, err := syscall.Read(fd, buf[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if m == 0 {
			break
		}
		n += m
	}
	return buf[:n], nil
}

func (fs procfs) HasEnv(pid int, kv string) bool {
	b, err := os.ReadFile(fs.root + "/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return false
	}
	return containsEntry(b, kv)
}

// containsEntry reports whether the NUL-separated list b holds kv exactly.
func containsEntry(b []byte, kv string) bool {
	for len(b) > 0 {
		entry := b
		if i := bytes.IndexByte(b, 0); i >= 0 {
			entry, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if string(entry) == kv {
			return true
		}
	}
	return false
}

// parseStat reads /proc/PID/stat. The command name is in parentheses and
// may itself contain spaces and parentheses, so fields are counted from the
// last ')'. It works on the bytes in place to stay allocation-free.
func parseStat(b []byte) (process, error) {
	open := bytes.IndexByte(b, '(')
	end := bytes.LastIndexByte(b, ')')
	if open < 1 || end < open {
		return process{}, errors.New("parse stat: no command name")
	}
	pid, ok := atou(bytes.TrimSpace(b[:open]))
	if !ok {
		return process{}, errors.New("parse stat: bad pid")
	}
	// After the name: state(3) ppid(4) pgrp(5) ... starttime(22).
	var f [20][]byte
	n := 0
	for rest := b[end+1:]; n < len(f); n++ {
		rest = bytes.TrimLeft(rest, " \n")
		if len(rest) == 0 {
			break
		}
		i := bytes.IndexAny(rest, " \n")
		if i < 0 {
			i = len(rest)
		}
		f[n], rest = rest[:i], rest[i:]
	}
	if n < len(f) {
		return process{}, fmt.Errorf("parse stat of %d: %d fields", pid, n)
	}
	ppid, ok1 := atou(f[1])
	pgid, ok2 := atou(f[2])
	start, ok3 := atou(f[19])
	if !ok1 || !ok2 || !ok3 {
		return process{}, fmt.Errorf("parse stat of %d: bad number", pid)
	}
	zombie := len(f[0]) == 1 && (f[0][0] == 'Z' || f[0][0] == 'X')
	return process{PID: int(pid), PPID: int(ppid), PGID: int(pgid), Start: start, Zombie: zombie}, nil
}

// atou parses a non-negative decimal number.
func atou(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}
