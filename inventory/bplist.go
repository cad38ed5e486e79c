package inventory

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Limits for property lists read by a root process from places that
// unprivileged admins can write to. Real receipts and Info.plist files are a
// few kilobytes; these bounds are far above that and far below what would hurt.
const (
	// MaxPlistSize is the largest property list file that is read at all.
	MaxPlistSize = 1 << 20
	// maxDepth bounds container nesting: recursive decoders (the plist
	// module's among them) go one call deeper per level.
	maxDepth = 512
	// maxExpanded bounds the number of values a copying decoder materialises.
	// A binary plist may reference one object from many places and such a
	// decoder copies it at each place, so a few hundred bytes of shared
	// references can expand exponentially. Real Info.plist files hold a few
	// thousand values at most.
	maxExpanded = 1 << 16
)

var (
	// ErrTooLarge reports a property list above MaxPlistSize.
	ErrTooLarge = errors.New("property list too large")
	// ErrMalformed reports a property list that is not well formed, or that
	// is shaped to exhaust the decoder (cycles, deep nesting, blow-up).
	ErrMalformed = errors.New("malformed property list")
)

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

const (
	bplistHeader  = "bplist00"
	bplistTrailer = 32
)

// Object kinds: the high nibble of a binary plist marker byte.
const (
	kindSingleton = 0x0
	kindInt       = 0x1
	kindReal      = 0x2
	kindDate      = 0x3
	kindData      = 0x4
	kindASCII     = 0x5
	kindUTF16     = 0x6
	kindUID       = 0x8
	kindArray     = 0xa
	kindSet       = 0xc
	kindDict      = 0xd
)

// bobject is what the guard remembers about one object: its kind and, for
// containers, where its references start and how many there are.
type bobject struct {
	kind   uint8
	off    uint32 // marker byte
	nrefs  uint32
	refsAt uint32
}

// bplistIndex is a binary plist that passed the guard, with its objects
// located, so values can be read without walking the file again.
type bplistIndex struct {
	b       []byte
	objs    []bobject
	top     int
	refSize uint64
}

// CheckBinaryPlist checks that b is a binary property list that a decoder
// can walk safely: sizes and offsets in range, every reference pointing at an
// object, dictionary keys that are strings, no reference cycle, nesting at
// most 512 levels and a bounded number of values once shared references are
// expanded. It never recurses, so it is safe on any input; it says nothing
// about the keys a caller expects. Code that decodes untrusted binary plists
// with the plist module must call it first.
func CheckBinaryPlist(b []byte) error {
	_, err := indexBinaryPlist(b)
	return err
}

func indexBinaryPlist(b []byte) (*bplistIndex, error) {
	if len(b) > MaxPlistSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(b), MaxPlistSize)
	}
	if len(b) < len(bplistHeader)+2+bplistTrailer {
		return nil, malformed("binary plist of %d bytes is too short", len(b))
	}
	if string(b[:len(bplistHeader)]) != bplistHeader {
		return nil, malformed("bad binary plist header %q", b[:len(bplistHeader)])
	}
	t := b[len(b)-bplistTrailer:]
	offSize, refSize := uint64(t[6]), uint64(t[7])
	numObjects := binary.BigEndian.Uint64(t[8:])
	top := binary.BigEndian.Uint64(t[16:])
	tableAt := binary.BigEndian.Uint64(t[24:])
	tableEnd := uint64(len(b) - bplistTrailer)
	switch {
	case offSize < 1 || offSize > 8:
		return nil, malformed("offset size %d", offSize)
	case refSize < 1 || refSize > 8:
		return nil, malformed("reference size %d", refSize)
	case numObjects == 0 || numObjects > uint64(len(b)):
		return nil, malformed("object count %d", numObjects)
	case top >= numObjects:
		return nil, malformed("top object %d of %d", top, numObjects)
	case tableAt <= uint64(len(bplistHeader)) || tableAt > tableEnd:
		return nil, malformed("offset table at %d", tableAt)
	case numObjects*offSize > tableEnd-tableAt:
		return nil, malformed("offset table of %d entries overruns the trailer", numObjects)
	}

	n := int(numObjects)
	objs := make([]bobject, n)
	for i := range objs {
		off := readUint(b[tableAt+uint64(i)*offSize:], int(offSize))
		if off < uint64(len(bplistHeader)) || off >= tableAt {
			return nil, malformed("object %d at offset %d outside the object area", i, off)
		}
		o, err := parseObject(b, off, tableAt, refSize)
		if err != nil {
			return nil, fmt.Errorf("object %d: %w", i, err)
		}
		o.off = uint32(off)
		objs[i] = o
	}
	for i, o := range objs {
		for j := uint32(0); j < o.nrefs; j++ {
			r := readUint(b[uint64(o.refsAt)+uint64(j)*refSize:], int(refSize))
			if r >= numObjects {
				return nil, malformed("object %d references object %d of %d", i, r, n)
			}
			if o.kind == kindDict && j < o.nrefs/2 {
				if k := objs[r].kind; k != kindASCII && k != kindUTF16 {
					return nil, malformed("object %d has a dictionary key that is not a string", i)
				}
			}
		}
	}
	if err := checkGraph(b, objs, int(top), refSize); err != nil {
		return nil, err
	}
	return &bplistIndex{b: b, objs: objs, top: int(top), refSize: refSize}, nil
}

// parseObject validates the object at off, which must end before end.
func parseObject(b []byte, off, end, refSize uint64) (bobject, error) {
	marker := b[off]
	kind, low := marker>>4, marker&0xf
	p := off + 1
	fits := func(n uint64) bool { return n <= end-p }
	o := bobject{kind: kind}
	switch kind {
	case kindSingleton:
		if low != 0x0 && low != 0x8 && low != 0x9 && low != 0xf {
			return o, malformed("unknown marker 0x%02x", marker)
		}
	case kindInt:
		if low > 4 || !fits(1<<low) {
			return o, malformed("bad integer marker 0x%02x", marker)
		}
	case kindReal:
		if (low != 2 && low != 3) || !fits(1<<low) {
			return o, malformed("bad real marker 0x%02x", marker)
		}
	case kindDate:
		if low != 3 || !fits(8) {
			return o, malformed("bad date marker 0x%02x", marker)
		}
	case kindUID:
		if !fits(uint64(low) + 1) {
			return o, malformed("truncated uid")
		}
	case kindData, kindASCII, kindUTF16, kindArray, kindSet, kindDict:
		count, q, err := readCount(b, p, end, low)
		if err != nil {
			return o, err
		}
		p = q
		unit := uint64(1)
		switch kind {
		case kindUTF16:
			unit = 2
		case kindArray, kindSet:
			unit = refSize
		case kindDict:
			unit = 2 * refSize
		}
		if count > (end-p)/unit {
			return o, malformed("%d elements overrun the object area", count)
		}
		if kind == kindArray || kind == kindSet || kind == kindDict {
			o.nrefs = uint32(count * unit / refSize)
			o.refsAt = uint32(p)
		}
	default:
		return o, malformed("unknown marker 0x%02x", marker)
	}
	return o, nil
}

// readCount decodes the element count of a variable-length object: the low
// nibble of the marker, or 0xf followed by an integer object of 1 to 8 bytes.
func readCount(b []byte, p, end uint64, low byte) (count, next uint64, err error) {
	if low != 0xf {
		return uint64(low), p, nil
	}
	if p >= end {
		return 0, 0, malformed("truncated count")
	}
	m := b[p]
	if m>>4 != kindInt || m&0xf > 3 {
		return 0, 0, malformed("bad count marker 0x%02x", m)
	}
	size := uint64(1) << (m & 0xf)
	if size > end-p-1 {
		return 0, 0, malformed("truncated count")
	}
	return readUint(b[p+1:], int(size)), p + 1 + size, nil
}

// checkGraph walks the references from top without recursion. Colours find
// cycles; per-object height and expanded size are computed in post-order so
// that shared sub-trees are measured once but counted as often as the
// decoder will copy them.
func checkGraph(b []byte, objs []bobject, top int, refSize uint64) error {
	const (
		white = iota
		grey
		black
	)
	colour := make([]uint8, len(objs))
	height := make([]uint16, len(objs))
	size := make([]uint32, len(objs))
	ref := func(o bobject, j uint32) int {
		return int(readUint(b[uint64(o.refsAt)+uint64(j)*refSize:], int(refSize)))
	}
	type frame struct {
		obj  int
		next uint32
	}
	stack := []frame{{obj: top}}
	colour[top] = grey
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		o := objs[f.obj]
		if f.next < o.nrefs {
			c := ref(o, f.next)
			f.next++
			switch colour[c] {
			case grey:
				return malformed("reference cycle through object %d", c)
			case black:
				continue
			}
			if objs[c].nrefs == 0 {
				colour[c], height[c], size[c] = black, 1, 1
				continue
			}
			if len(stack) >= maxDepth {
				return malformed("nesting deeper than %d", maxDepth)
			}
			colour[c] = grey
			stack = append(stack, frame{obj: c})
			continue
		}
		h, s := uint16(0), uint32(1)
		for j := uint32(0); j < o.nrefs; j++ {
			c := ref(o, j)
			h = max(h, height[c])
			s = min(s+size[c], maxExpanded+1)
		}
		if int(h)+1 > maxDepth {
			return malformed("nesting deeper than %d", maxDepth)
		}
		if s > maxExpanded {
			return malformed("expands to more than %d values", maxExpanded)
		}
		colour[f.obj], height[f.obj], size[f.obj] = black, h+1, s
		stack = stack[:len(stack)-1]
	}
	return nil
}

// readUint reads a big-endian unsigned integer of size bytes (1 to 8).
func readUint(b []byte, size int) uint64 {
	var v uint64
	for _, c := range b[:size] {
		v = v<<8 | uint64(c)
	}
	return v
}
