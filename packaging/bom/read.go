package bom

import (
	"bytes"
	"fmt"
	"time"
)

// reader resolves block indices of a BOMStore held in memory.
type reader struct {
	b      []byte
	blocks [][2]uint32
}

func (r *reader) block(i uint32) ([]byte, error) {
	if i == 0 || int(i) >= len(r.blocks) {
		return nil, fmt.Errorf("block %d out of range: %w", i, ErrFormat)
	}
	off, n := r.blocks[i][0], r.blocks[i][1]
	if uint64(off)+uint64(n) > uint64(len(r.b)) {
		return nil, fmt.Errorf("block %d beyond end of file: %w", i, ErrFormat)
	}
	return r.b[off : off+n], nil
}

func span(b []byte, off, n uint32) ([]byte, error) {
	if uint64(off)+uint64(n) > uint64(len(b)) {
		return nil, fmt.Errorf("range %d+%d beyond end of file: %w", off, n, ErrFormat)
	}
	return b[off : off+n], nil
}

// Unmarshal decodes the Paths tree of a BOMStore into entries, in tree order.
func Unmarshal(b []byte) ([]Entry, error) {
	if len(b) < 32 || string(b[:8]) != "BOMStore" || be.Uint32(b[8:]) != 1 {
		return nil, fmt.Errorf("bom: bad header: %w", ErrFormat)
	}
	r := &reader{b: b}
	table, err := span(b, be.Uint32(b[16:]), be.Uint32(b[20:]))
	if err != nil {
		return nil, fmt.Errorf("bom: block table: %w", err)
	}
	if len(table) < 4 || uint64(len(table)-4)/8 < uint64(be.Uint32(table)) {
		return nil, fmt.Errorf("bom: block table truncated: %w", ErrFormat)
	}
	for i := range be.Uint32(table) {
		e := table[4+8*i:]
		r.blocks = append(r.blocks, [2]uint32{be.Uint32(e), be.Uint32(e[4:])})
	}
	vars, err := span(b, be.Uint32(b[24:]), be.Uint32(b[28:]))
	if err != nil || len(vars) < 4 {
		return nil, fmt.Errorf("bom: vars: %w", ErrFormat)
	}
	var pathsTree uint32
	rest := vars[4:]
	for range be.Uint32(vars) {
		if len(rest) < 5 || len(rest) < 5+int(rest[4]) {
			return nil, fmt.Errorf("bom: vars truncated: %w", ErrFormat)
		}
		if string(rest[5:5+int(rest[4])]) == "Paths" {
			pathsTree = be.Uint32(rest)
		}
		rest = rest[5+int(rest[4]):]
	}
	if pathsTree == 0 {
		return nil, fmt.Errorf("bom: no Paths variable: %w", ErrFormat)
	}
	return r.paths(pathsTree)
}

func (r *reader) paths(treeIndex uint32) ([]Entry, error) {
	t, err := r.block(treeIndex)
	if err != nil {
		return nil, fmt.Errorf("bom: paths tree: %w", err)
	}
	if len(t) < 21 || string(t[:4]) != "tree" {
		return nil, fmt.Errorf("bom: paths tree header: %w", ErrFormat)
	}
	nodeIndex := be.Uint32(t[8:])
	want := be.Uint32(t[16:])
	// Descend to the leftmost leaf, then follow the leaf chain.
	for depth := 0; ; depth++ {
		n, err := r.block(nodeIndex)
		if err != nil || len(n) < nodeHeaderSize {
			return nil, fmt.Errorf("bom: paths node %d: %w", nodeIndex, ErrFormat)
		}
		if be.Uint16(n) == 1 {
			break
		}
		if be.Uint16(n[2:]) == 0 || len(n) < nodeHeaderSize+8 || depth > 32 {
			return nil, fmt.Errorf("bom: paths index node %d: %w", nodeIndex, ErrFormat)
		}
		nodeIndex = be.Uint32(n[nodeHeaderSize:])
	}
	byID := map[uint32]Entry{}
	var order []uint32
	seen := map[uint32]bool{}
	for nodeIndex != 0 {
		if seen[nodeIndex] {
			return nil, fmt.Errorf("bom: leaf chain loops at %d: %w", nodeIndex, ErrFormat)
		}
		seen[nodeIndex] = true
		n, err := r.block(nodeIndex)
		if err != nil {
			return nil, fmt.Errorf("bom: paths leaf: %w", err)
		}
		count := int(be.Uint16(n[2:]))
		if len(n) < nodeHeaderSize+8*count {
			return nil, fmt.Errorf("bom: paths leaf %d truncated: %w", nodeIndex, ErrFormat)
		}
		for i := range count {
			p := n[nodeHeaderSize+8*i:]
			id, e, err := r.entry(be.Uint32(p), be.Uint32(p[4:]), byID)
			if err != nil {
				return nil, err
			}
			byID[id] = e
			order = append(order, id)
		}
		nodeIndex = be.Uint32(n[4:])
	}
	if uint32(len(order)) != want {
		return nil, fmt.Errorf("bom: tree holds %d paths, header says %d: %w", len(order), want, ErrFormat)
	}
	out := make([]Entry, 0, len(order))
	for _, id := range order {
		out = append(out, byID[id])
	}
	return out, nil
}

// entry decodes one key/value pair; parents must precede children, as they do
// in BOMs written by mkbom and by Marshal.
func (r *reader) entry(keyIndex, valueIndex uint32, byID map[uint32]Entry) (uint32, Entry, error) {
	key, err := r.block(keyIndex)
	if err != nil || len(key) < 8 {
		return 0, Entry{}, fmt.Errorf("bom: path key %d: %w", keyIndex, ErrFormat)
	}
	val, err := r.block(valueIndex)
	if err != nil || len(val) < 5 {
		return 0, Entry{}, fmt.Errorf("bom: path value %d: %w", valueIndex, ErrFormat)
	}
	id, parent := be.Uint32(key), be.Uint32(val)
	name, _, ok := bytes.Cut(val[4:], []byte{0})
	if !ok {
		return 0, Entry{}, fmt.Errorf("bom: path %d name unterminated: %w", id, ErrFormat)
	}
	var e Entry
	if parent == 0 {
		e.Path = string(name)
	} else {
		p, ok := byID[parent]
		if !ok {
			return 0, Entry{}, fmt.Errorf("bom: path %d has unknown parent %d: %w", id, parent, ErrFormat)
		}
		e.Path = p.Path + "/" + string(name)
	}
	md, err := r.block(be.Uint32(key[4:]))
	if err != nil || len(md) < 23 {
		return 0, Entry{}, fmt.Errorf("bom: metadata of %s: %w", e.Path, ErrFormat)
	}
	if be.Uint16(md[2:])&0xf != fullMetadata {
		return 0, Entry{}, fmt.Errorf("bom: %s: path-only BOMs are not supported: %w", e.Path, ErrFormat)
	}
	mode, kind, err := goMode(be.Uint16(md[4:]))
	if err != nil {
		return 0, Entry{}, fmt.Errorf("bom: %s: %w", e.Path, err)
	}
	if int(md[0]) != kind {
		return 0, Entry{}, fmt.Errorf("bom: %s: kind %d disagrees with mode: %w", e.Path, md[0], ErrFormat)
	}
	e.Mode = mode
	e.UID, e.GID = be.Uint32(md[6:]), be.Uint32(md[10:])
	e.ModTime = time.Unix(int64(be.Uint32(md[14:])), 0)
	e.Size = uint64(be.Uint32(md[18:]))
	tail := md[23:]
	switch kind {
	case kindFile:
		if len(tail) < 4 {
			return 0, Entry{}, fmt.Errorf("bom: %s: checksum missing: %w", e.Path, ErrFormat)
		}
		e.Checksum = be.Uint32(tail)
	case kindLink:
		if len(tail) < 8 || uint64(len(tail)-8) < uint64(be.Uint32(tail[4:])) || be.Uint32(tail[4:]) == 0 {
			return 0, Entry{}, fmt.Errorf("bom: %s: link target truncated: %w", e.Path, ErrFormat)
		}
		e.Checksum = be.Uint32(tail)
		e.LinkTarget = string(bytes.TrimRight(tail[8:8+be.Uint32(tail[4:])], "\x00"))
	}
	return id, e, nil
}
