package bom

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strings"
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

// open checks the header and reads the block table, and returns the index
// of the Paths tree's header block.
func open(b []byte) (*reader, uint32, error) {
	if len(b) < 32 || string(b[:8]) != "BOMStore" || be.Uint32(b[8:]) != 1 {
		return nil, 0, fmt.Errorf("bom: bad header: %w", ErrFormat)
	}
	r := &reader{b: b}
	table, err := span(b, be.Uint32(b[16:]), be.Uint32(b[20:]))
	if err != nil {
		return nil, 0, fmt.Errorf("bom: block table: %w", err)
	}
	if len(table) < 4 || uint64(len(table)-4)/8 < uint64(be.Uint32(table)) {
		return nil, 0, fmt.Errorf("bom: block table truncated: %w", ErrFormat)
	}
	for i := range be.Uint32(table) {
		e := table[4+8*i:]
		r.blocks = append(r.blocks, [2]uint32{be.Uint32(e), be.Uint32(e[4:])})
	}
	vars, err := span(b, be.Uint32(b[24:]), be.Uint32(b[28:]))
	if err != nil || len(vars) < 4 {
		return nil, 0, fmt.Errorf("bom: vars: %w", ErrFormat)
	}
	var pathsTree uint32
	rest := vars[4:]
	for range be.Uint32(vars) {
		if len(rest) < 5 || len(rest) < 5+int(rest[4]) {
			return nil, 0, fmt.Errorf("bom: vars truncated: %w", ErrFormat)
		}
		if string(rest[5:5+int(rest[4])]) == "Paths" {
			pathsTree = be.Uint32(rest)
		}
		rest = rest[5+int(rest[4]):]
	}
	if pathsTree == 0 {
		return nil, 0, fmt.Errorf("bom: no Paths variable: %w", ErrFormat)
	}
	return r, pathsTree, nil
}

// Unmarshal decodes the Paths tree of a BOMStore into entries, in tree
// (key) order. It rejects a tree whose leaves are not in key order, since a
// lookup by path, as Installer does, would miss entries of such a tree.
func Unmarshal(b []byte) ([]Entry, error) {
	r, tree, err := open(b)
	if err != nil {
		return nil, err
	}
	return r.paths(tree)
}

// Lookup finds one path ("." or "./a/b") the way a BOM reader does: one
// search by (parent id, name) key per path component, down the tree's index
// nodes to a leaf. It returns fs.ErrNotExist for a path the BOM lacks.
func Lookup(b []byte, p string) (Entry, error) {
	p, err := cleanPath(p)
	if err != nil {
		return Entry{}, err
	}
	r, tree, err := open(b)
	if err != nil {
		return Entry{}, err
	}
	root, _, err := r.treeRoot(tree)
	if err != nil {
		return Entry{}, err
	}
	names := []string{"."}
	if p != "." {
		names = append(names, strings.Split(p[2:], "/")...)
	}
	var parent uint32
	var rec rawPath
	for _, name := range names {
		if rec, err = r.search(root, parent, name); err != nil {
			return Entry{}, fmt.Errorf("bom: %s: %w", p, err)
		}
		parent = rec.id
	}
	e, err := r.metadata(rec.md, p)
	if err != nil {
		return Entry{}, err
	}
	e.Path = p
	return e, nil
}

// search descends from node to the leaf that would hold (parent, name). An
// index node's pairs carry the last key below each child, so the child to
// take is the first whose last key is not less than the one sought.
func (r *reader) search(node, parent uint32, name string) (rawPath, error) {
	for depth := 0; depth <= maxDepth; depth++ {
		leaf, pairs, err := r.node(node)
		if err != nil {
			return rawPath{}, err
		}
		if leaf {
			i, found, err := r.bisect(pairs, parent, name)
			if err != nil || !found {
				return rawPath{}, errors.Join(err, fs.ErrNotExist)
			}
			return r.raw(pairs[i])
		}
		i, _, err := r.bisect(pairs, parent, name)
		if err != nil {
			return rawPath{}, err
		}
		if i == len(pairs) {
			return rawPath{}, fs.ErrNotExist
		}
		node = pairs[i][0]
	}
	return rawPath{}, fmt.Errorf("paths tree deeper than %d: %w", maxDepth, ErrFormat)
}

// bisect returns the first pair whose key is not less than (parent, name)
// and whether it equals it. Leaf and index pairs alike hold a key block
// second.
func (r *reader) bisect(pairs [][2]uint32, parent uint32, name string) (int, bool, error) {
	key := func(p [2]uint32) (uint32, string, error) { return r.file(p[1]) }
	var ferr error
	i := sort.Search(len(pairs), func(i int) bool {
		p, n, err := key(pairs[i])
		if err != nil {
			ferr = err
			return true
		}
		return !keyLess(p, n, parent, name)
	})
	if ferr != nil || i == len(pairs) {
		return i, false, ferr
	}
	p, n, err := key(pairs[i])
	return i, err == nil && p == parent && n == name, err
}

// maxDepth bounds a hostile tree; two levels hold far more than a package.
const maxDepth = 32

// treeRoot reads a "tree" header block: its root node and path count.
func (r *reader) treeRoot(treeIndex uint32) (root, count uint32, err error) {
	t, err := r.block(treeIndex)
	if err != nil {
		return 0, 0, fmt.Errorf("bom: paths tree: %w", err)
	}
	if len(t) < 21 || string(t[:4]) != "tree" {
		return 0, 0, fmt.Errorf("bom: paths tree header: %w", ErrFormat)
	}
	return be.Uint32(t[8:]), be.Uint32(t[16:]), nil
}

// node decodes a tree node into its pairs.
func (r *reader) node(i uint32) (leaf bool, pairs [][2]uint32, err error) {
	n, err := r.block(i)
	if err != nil || len(n) < nodeHeaderSize {
		return false, nil, fmt.Errorf("bom: paths node %d: %w", i, ErrFormat)
	}
	count := int(be.Uint16(n[2:]))
	if len(n) < nodeHeaderSize+8*count {
		return false, nil, fmt.Errorf("bom: paths node %d truncated: %w", i, ErrFormat)
	}
	leaf = be.Uint16(n) == 1
	if !leaf && count == 0 {
		return false, nil, fmt.Errorf("bom: empty paths index node %d: %w", i, ErrFormat)
	}
	for k := range count {
		p := n[nodeHeaderSize+8*k:]
		pairs = append(pairs, [2]uint32{be.Uint32(p), be.Uint32(p[4:])})
	}
	return leaf, pairs, nil
}

// rawPath is a leaf entry before its full path is known.
type rawPath struct {
	id, parent, md uint32
	name           string
}

// file decodes a key block: parent id and NUL-terminated name.
func (r *reader) file(i uint32) (uint32, string, error) {
	val, err := r.block(i)
	if err != nil || len(val) < 5 {
		return 0, "", fmt.Errorf("bom: path key %d: %w", i, ErrFormat)
	}
	name, _, ok := bytes.Cut(val[4:], []byte{0})
	if !ok {
		return 0, "", fmt.Errorf("bom: path key %d: name unterminated: %w", i, ErrFormat)
	}
	return be.Uint32(val), string(name), nil
}

// raw decodes one leaf pair: (id, metadata) block and key block.
func (r *reader) raw(p [2]uint32) (rawPath, error) {
	info, err := r.block(p[0])
	if err != nil || len(info) < 8 {
		return rawPath{}, fmt.Errorf("bom: path info %d: %w", p[0], ErrFormat)
	}
	parent, name, err := r.file(p[1])
	if err != nil {
		return rawPath{}, err
	}
	return rawPath{id: be.Uint32(info), md: be.Uint32(info[4:]), parent: parent, name: name}, nil
}

func (r *reader) paths(treeIndex uint32) ([]Entry, error) {
	nodeIndex, want, err := r.treeRoot(treeIndex)
	if err != nil {
		return nil, err
	}
	// Descend to the leftmost leaf, then follow the leaf chain.
	for depth := 0; ; depth++ {
		leaf, pairs, err := r.node(nodeIndex)
		if err != nil {
			return nil, err
		}
		if leaf {
			break
		}
		if depth >= maxDepth {
			return nil, fmt.Errorf("bom: paths index node %d: %w", nodeIndex, ErrFormat)
		}
		nodeIndex = pairs[0][0]
	}
	var order []rawPath
	seen := map[uint32]bool{}
	for nodeIndex != 0 {
		if seen[nodeIndex] {
			return nil, fmt.Errorf("bom: leaf chain loops at %d: %w", nodeIndex, ErrFormat)
		}
		seen[nodeIndex] = true
		_, pairs, err := r.node(nodeIndex)
		if err != nil {
			return nil, err
		}
		for _, p := range pairs {
			rec, err := r.raw(p)
			if err != nil {
				return nil, err
			}
			if n := len(order); n > 0 && !keyLess(order[n-1].parent, order[n-1].name, rec.parent, rec.name) {
				return nil, fmt.Errorf("bom: paths out of key order at (%d, %q): %w", rec.parent, rec.name, ErrFormat)
			}
			order = append(order, rec)
		}
		n, _ := r.block(nodeIndex)
		nodeIndex = be.Uint32(n[4:])
	}
	if uint32(len(order)) != want {
		return nil, fmt.Errorf("bom: tree holds %d paths, header says %d: %w", len(order), want, ErrFormat)
	}
	byID := make(map[uint32]*rawPath, len(order))
	for i := range order {
		if byID[order[i].id] != nil {
			return nil, fmt.Errorf("bom: path id %d used twice: %w", order[i].id, ErrFormat)
		}
		byID[order[i].id] = &order[i]
	}
	out := make([]Entry, 0, len(order))
	for _, rec := range order {
		p, err := fullPath(rec, byID)
		if err != nil {
			return nil, err
		}
		e, err := r.metadata(rec.md, p)
		if err != nil {
			return nil, err
		}
		e.Path = p
		out = append(out, e)
	}
	return out, nil
}

// fullPath joins the names from the root down to rec.
func fullPath(rec rawPath, byID map[uint32]*rawPath) (string, error) {
	parts := []string{rec.name}
	for at := rec; at.parent != 0; {
		up, ok := byID[at.parent]
		if !ok || len(parts) > len(byID) {
			return "", fmt.Errorf("bom: path %d has unknown parent %d: %w", rec.id, at.parent, ErrFormat)
		}
		parts = append(parts, up.name)
		at = *up
	}
	slices.Reverse(parts)
	return strings.Join(parts, "/"), nil
}

// metadata decodes a path's metadata block.
func (r *reader) metadata(i uint32, p string) (Entry, error) {
	var e Entry
	md, err := r.block(i)
	if err != nil || len(md) < 23 {
		return Entry{}, fmt.Errorf("bom: metadata of %s: %w", p, ErrFormat)
	}
	if be.Uint16(md[2:])&0xf != fullMetadata {
		return Entry{}, fmt.Errorf("bom: %s: path-only BOMs are not supported: %w", p, ErrFormat)
	}
	mode, kind, err := goMode(be.Uint16(md[4:]))
	if err != nil {
		return Entry{}, fmt.Errorf("bom: %s: %w", p, err)
	}
	if int(md[0]) != kind {
		return Entry{}, fmt.Errorf("bom: %s: kind %d disagrees with mode: %w", p, md[0], ErrFormat)
	}
	e.Mode = mode
	e.UID, e.GID = be.Uint32(md[6:]), be.Uint32(md[10:])
	e.ModTime = time.Unix(int64(be.Uint32(md[14:])), 0)
	e.Size = uint64(be.Uint32(md[18:]))
	tail := md[23:]
	switch kind {
	case kindFile:
		if len(tail) < 4 {
			return Entry{}, fmt.Errorf("bom: %s: checksum missing: %w", p, ErrFormat)
		}
		e.Checksum = be.Uint32(tail)
	case kindLink:
		if len(tail) < 8 || uint64(len(tail)-8) < uint64(be.Uint32(tail[4:])) || be.Uint32(tail[4:]) == 0 {
			return Entry{}, fmt.Errorf("bom: %s: link target truncated: %w", p, ErrFormat)
		}
		e.Checksum = be.Uint32(tail)
		e.LinkTarget = string(bytes.TrimRight(tail[8:8+be.Uint32(tail[4:])], "\x00"))
	}
	return e, nil
}
