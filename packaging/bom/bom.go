// Package bom reads and writes Apple "BOMStore" bills of materials, the Bom
// member of a flat package that Installer uses to record receipts and check
// what a package lays down (lsbom, pkgutil --files).
//
// The format is undocumented by Apple; this implementation follows the layout
// described by the open-source bomutils and stuckliste projects: a big-endian
// block store whose named blocks ("BomInfo", "Paths", "HLIndex", "VIndex",
// "Size64") point into B-trees of fixed-size nodes.
package bom

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"
)

// ErrFormat reports a byte sequence that is not a well-formed BOMStore.
var ErrFormat = errors.New("bom: malformed BOMStore")

// Entry describes one path of the installed tree, as Installer records it.
type Entry struct {
	// Path is "." for the install root and "./a/b" below it, the form lsbom prints.
	Path     string
	Mode     fs.FileMode // permission bits plus fs.ModeDir / fs.ModeSymlink
	UID, GID uint32
	ModTime  time.Time
	Size     uint64
	// Checksum is the POSIX cksum CRC of a file's contents, or of a symlink's target.
	Checksum   uint32
	LinkTarget string
}

// Entry kinds stored in the first byte of a path's metadata block.
const (
	kindFile = 1
	kindDir  = 2
	kindLink = 3
)

const (
	headerSize     = 512
	pathsBlockSize = 4096 // node size of the Paths and HLIndex trees
	smallBlockSize = 128  // node size of the Size64 and VIndex trees
	nodeHeaderSize = 12   // isLeaf u16, count u16, forward u32, backward u32
	// fullMetadata marks metadata carrying mode, owner, size and checksum
	// (as opposed to a path-only BOM made by mkbom -s).
	fullMetadata = 0x000f
)

var be = binary.BigEndian

// store accumulates numbered blocks; index 0 is the null block.
type store struct{ blocks [][]byte }

func (s *store) add(b []byte) uint32 {
	if len(s.blocks) == 0 {
		s.blocks = append(s.blocks, nil)
	}
	s.blocks = append(s.blocks, b)
	return uint32(len(s.blocks) - 1)
}

// reserve allocates an index now and fills it later, so trees can point at
// nodes that are written after them.
func (s *store) reserve() uint32 { return s.add(nil) }

func (s *store) set(i uint32, b []byte) { s.blocks[i] = b }

type buf struct{ bytes.Buffer }

func (b *buf) u8(v uint8)   { b.WriteByte(v) }
func (b *buf) u16(v uint16) { b.Write(be.AppendUint16(nil, v)) }
func (b *buf) u32(v uint32) { b.Write(be.AppendUint32(nil, v)) }

func unixMode(m fs.FileMode) uint16 {
	v := uint16(m.Perm())
	if m&fs.ModeSetuid != 0 {
		v |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		v |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		v |= 0o1000
	}
	switch {
	case m.IsDir():
		return v | 0o040000
	case m&fs.ModeSymlink != 0:
		return v | 0o120000
	default:
		return v | 0o100000
	}
}

func goMode(v uint16) (fs.FileMode, int, error) {
	m := fs.FileMode(v & 0o777)
	if v&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if v&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if v&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	switch v & 0o170000 {
	case 0o100000:
		return m, kindFile, nil
	case 0o040000:
		return m | fs.ModeDir, kindDir, nil
	case 0o120000:
		return m | fs.ModeSymlink, kindLink, nil
	}
	return 0, 0, fmt.Errorf("unsupported file type in mode %#o: %w", v, ErrFormat)
}

// metadata encodes the per-path block (what bomutils calls BOMPathInfo2).
func metadata(e Entry) ([]byte, error) {
	if e.Size > 1<<32-1 {
		return nil, fmt.Errorf("bom: %s: files over 4 GiB are not supported", e.Path)
	}
	mode := unixMode(e.Mode)
	_, kind, _ := goMode(mode)
	var b buf
	b.u8(uint8(kind))
	b.u8(1)
	b.u16(fullMetadata)
	b.u16(mode)
	b.u32(e.UID)
	b.u32(e.GID)
	b.u32(uint32(e.ModTime.Unix()))
	b.u32(uint32(e.Size))
	b.u8(1)
	switch kind {
	case kindFile:
		b.u32(e.Checksum)
	case kindLink:
		b.u32(e.Checksum)
		b.u32(uint32(len(e.LinkTarget) + 1))
		b.WriteString(e.LinkTarget)
		b.u8(0)
	}
	b.Write(make([]byte, 8))
	return b.Bytes(), nil
}

func treeHeader(root, blockSize, count uint32) []byte {
	var b buf
	b.WriteString("tree")
	b.u32(1)
	b.u32(root)
	b.u32(blockSize)
	b.u32(count)
	b.u8(0)
	return b.Bytes()
}

// pair is one entry of a tree node. In the Paths tree a leaf's pair points
// at the path's (id, metadata) block and at its key, the (parent id, name)
// block; an index node's pair points at a child node and at the last key
// below that child.
type pair struct{ key, value uint32 }

// pathKey is a Paths entry with its key decoded, for sorting.
type pathKey struct {
	parent uint32
	name   string
	pair
}

// keyLess orders Paths keys: by parent id, then by the name's bytes.
func keyLess(parentA uint32, nameA string, parentB uint32, nameB string) bool {
	if parentA != parentB {
		return parentA < parentB
	}
	return nameA < nameB
}

func node(leaf bool, pairs []pair, forward, backward uint32, size int) []byte {
	var b buf
	if leaf {
		b.u16(1)
	} else {
		b.u16(0)
	}
	b.u16(uint16(len(pairs)))
	b.u32(forward)
	b.u32(backward)
	for _, p := range pairs {
		b.u32(p.key)
		b.u32(p.value)
	}
	out := b.Bytes()
	if len(out) < size {
		out = append(out, make([]byte, size-len(out))...)
	}
	return out
}

// tree writes a B-tree of pairs with nodes of blockSize bytes and returns the
// index of its "tree" header block.
func (s *store) tree(pairs []pair, blockSize int) uint32 {
	perNode := (blockSize - nodeHeaderSize) / 8
	hdr := s.reserve()
	if len(pairs) <= perNode {
		root := s.add(node(true, pairs, 0, 0, blockSize))
		s.set(hdr, treeHeader(root, uint32(blockSize), uint32(len(pairs))))
		return hdr
	}
	// Two levels: leaves chained forward/backward under one index node whose
	// keys point at the leaves and whose values repeat each leaf's last value.
	var leaves []uint32
	for i := 0; i < len(pairs); i += perNode {
		leaves = append(leaves, s.reserve())
	}
	var index []pair
	for n, at := range leaves {
		chunk := pairs[n*perNode : min((n+1)*perNode, len(pairs))]
		var fwd, back uint32
		if n+1 < len(leaves) {
			fwd = leaves[n+1]
		}
		if n > 0 {
			back = leaves[n-1]
		}
		s.set(at, node(true, chunk, fwd, back, blockSize))
		index = append(index, pair{at, chunk[len(chunk)-1].value})
	}
	root := s.add(node(false, index, 0, 0, max(blockSize, nodeHeaderSize+8*len(index))))
	s.set(hdr, treeHeader(root, uint32(blockSize), uint32(len(pairs))))
	return hdr
}

func cleanPath(p string) (string, error) {
	if p == "." {
		return p, nil
	}
	if !strings.HasPrefix(p, "./") || path.Clean(p) != p[2:] || strings.HasPrefix(path.Clean(p), "..") {
		return "", fmt.Errorf("bom: path %q is not of the form ./a/b", p)
	}
	return p, nil
}

func parentOf(p string) string {
	if d := path.Dir(p[2:]); d != "." {
		return "./" + d
	}
	return "."
}

// Marshal encodes entries as a BOMStore. Every entry's parent directory must be
// among the entries. Ids are numbered depth-first in lexical path order and
// the Paths leaves are stored in key order, (parent id, name), as pkgbuild
// and mkbom write them.
func Marshal(entries []Entry) ([]byte, error) {
	sorted := append([]Entry(nil), entries...)
	for i := range sorted {
		p, err := cleanPath(sorted[i].Path)
		if err != nil {
			return nil, err
		}
		sorted[i].Path = p
	}
	sort.Slice(sorted, func(i, j int) bool { return pathLess(sorted[i].Path, sorted[j].Path) })

	var s store
	ids := map[string]uint32{}
	var keyed []pathKey
	var totalSize uint32
	for i, e := range sorted {
		if _, dup := ids[e.Path]; dup {
			return nil, fmt.Errorf("bom: duplicate path %s", e.Path)
		}
		var parent uint32
		name := "."
		if e.Path != "." {
			var ok bool
			if parent, ok = ids[parentOf(e.Path)]; !ok {
				return nil, fmt.Errorf("bom: parent of %s is missing", e.Path)
			}
			if !sorted[parent-1].Mode.IsDir() {
				return nil, fmt.Errorf("bom: parent of %s is not a directory", e.Path)
			}
			name = path.Base(e.Path)
		}
		// Ids are handed out depth-first, as pkgbuild does.
		id := uint32(i + 1)
		ids[e.Path] = id
		md, err := metadata(e)
		if err != nil {
			return nil, err
		}
		var info buf
		info.u32(id)
		info.u32(s.add(md))
		var file buf
		file.u32(parent)
		file.WriteString(name)
		file.u8(0)
		keyed = append(keyed, pathKey{parent, name, pair{s.add(info.Bytes()), s.add(file.Bytes())}})
		if !e.Mode.IsDir() {
			totalSize += uint32(e.Size)
		}
	}
	// The tree is searched by its key, (parent id, name): its leaves must be
	// in key order, not in the depth-first order of the ids.
	sort.Slice(keyed, func(i, j int) bool { return keyLess(keyed[i].parent, keyed[i].name, keyed[j].parent, keyed[j].name) })
	paths := make([]pair, len(keyed))
	for i, k := range keyed {
		paths[i] = k.pair
	}

	var info buf
	info.u32(1)
	info.u32(uint32(len(sorted) + 1)) // what mkbom and pkgbuild write
	info.u32(1)                       // one statistics entry: cpu type 0, i.e. all files
	info.u32(0)
	info.u32(0)
	info.u32(totalSize)
	info.u32(0)
	bomInfo := s.add(info.Bytes())
	pathsTree := s.tree(paths, pathsBlockSize)
	hlIndex := s.tree(nil, pathsBlockSize)
	var vi buf
	vi.u32(1)
	vi.u32(s.tree(nil, smallBlockSize))
	vi.u32(0)
	vi.u8(1)
	vIndex := s.add(vi.Bytes())
	size64 := s.tree(nil, smallBlockSize)

	vars := []struct {
		name  string
		index uint32
	}{{"BomInfo", bomInfo}, {"Paths", pathsTree}, {"HLIndex", hlIndex}, {"VIndex", vIndex}, {"Size64", size64}}
	var vb buf
	vb.u32(uint32(len(vars)))
	for _, v := range vars {
		vb.u32(v.index)
		vb.u8(uint8(len(v.name)))
		vb.WriteString(v.name)
	}

	// Layout: header, vars, blocks, block table.
	out := make([]byte, headerSize)
	varsOff := uint32(len(out))
	out = append(out, vb.Bytes()...)
	var table buf
	table.u32(uint32(len(s.blocks)))
	nonNull := uint32(0)
	for i, b := range s.blocks {
		if i == 0 {
			table.u32(0)
			table.u32(0)
			continue
		}
		table.u32(uint32(len(out)))
		table.u32(uint32(len(b)))
		out = append(out, b...)
		nonNull++
	}
	table.u32(0) // no free blocks
	tableOff := uint32(len(out))
	out = append(out, table.Bytes()...)

	copy(out, "BOMStore")
	be.PutUint32(out[8:], 1)
	be.PutUint32(out[12:], nonNull)
	be.PutUint32(out[16:], tableOff)
	be.PutUint32(out[20:], uint32(table.Len()))
	be.PutUint32(out[24:], varsOff)
	be.PutUint32(out[28:], uint32(vb.Len()))
	return out, nil
}

// pathLess orders paths component by component, so that a directory sorts
// before everything below it.
func pathLess(a, b string) bool {
	x, y := strings.Split(a, "/"), strings.Split(b, "/")
	for i := 0; i < len(x) && i < len(y); i++ {
		if x[i] != y[i] {
			return x[i] < y[i]
		}
	}
	return len(x) < len(y)
}
