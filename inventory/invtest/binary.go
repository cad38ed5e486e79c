package invtest

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"time"
	"unicode/utf16"
)

// The plist module decodes binary property lists but only writes XML, so
// fixtures carry this small writer. It writes what macOS writes for the
// types used here (strings as ASCII or UTF-16, 8-byte integers, dates,
// booleans, arrays, dictionaries) without sharing equal values.

type bnode struct {
	marker  byte   // type in the high nibble
	count   uint64 // element count for strings, arrays and dictionaries
	sized   bool   // whether count is written after the marker
	payload []byte
	refs    []int
}

// appleEpoch is the reference date of binary plist dates.
var appleEpoch = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)

// BinaryPlist encodes v as a binary property list ("bplist00"). Dictionary
// keys are written in sorted order so the output is deterministic.
func BinaryPlist(v map[string]any) ([]byte, error) {
	var nodes []bnode
	var add func(v any) (int, error)
	add = func(v any) (int, error) {
		i := len(nodes)
		nodes = append(nodes, bnode{})
		var n bnode
		switch x := v.(type) {
		case string:
			n = stringNode(x)
		case bool:
			n.marker = 0x08
			if x {
				n.marker = 0x09
			}
		case int:
			n.marker = 0x13
			n.payload = binary.BigEndian.AppendUint64(nil, uint64(x))
		case time.Time:
			n.marker = 0x33
			secs := x.Sub(appleEpoch).Seconds()
			n.payload = binary.BigEndian.AppendUint64(nil, math.Float64bits(secs))
		case []any:
			n = bnode{marker: 0xa0, count: uint64(len(x)), sized: true}
			for _, e := range x {
				r, err := add(e)
				if err != nil {
					return 0, err
				}
				n.refs = append(n.refs, r)
			}
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			n = bnode{marker: 0xd0, count: uint64(len(x)), sized: true}
			for _, k := range keys {
				r, _ := add(k)
				n.refs = append(n.refs, r)
			}
			for _, k := range keys {
				r, err := add(x[k])
				if err != nil {
					return 0, err
				}
				n.refs = append(n.refs, r)
			}
		default:
			return 0, fmt.Errorf("binary plist: unsupported type %T", v)
		}
		nodes[i] = n
		return i, nil
	}
	if _, err := add(v); err != nil {
		return nil, err
	}

	refSize := uintSize(uint64(len(nodes) - 1))
	out := []byte("bplist00")
	offsets := make([]uint64, len(nodes))
	for i, n := range nodes {
		offsets[i] = uint64(len(out))
		if n.sized {
			out = appendCount(out, n.marker, n.count)
		} else {
			out = append(out, n.marker)
		}
		out = append(out, n.payload...)
		for _, r := range n.refs {
			out = appendUint(out, uint64(r), refSize)
		}
	}
	tableAt := uint64(len(out))
	offSize := uintSize(tableAt)
	for _, o := range offsets {
		out = appendUint(out, o, offSize)
	}
	out = append(out, 0, 0, 0, 0, 0, 0, byte(offSize), byte(refSize))
	out = binary.BigEndian.AppendUint64(out, uint64(len(nodes)))
	out = binary.BigEndian.AppendUint64(out, 0) // top object
	out = binary.BigEndian.AppendUint64(out, tableAt)
	return out, nil
}

func stringNode(s string) bnode {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return bnode{marker: 0x50, count: uint64(len(s)), sized: true, payload: []byte(s)}
	}
	units := utf16.Encode([]rune(s))
	payload := make([]byte, 0, 2*len(units))
	for _, u := range units {
		payload = binary.BigEndian.AppendUint16(payload, u)
	}
	return bnode{marker: 0x60, count: uint64(len(units)), sized: true, payload: payload}
}

// appendCount writes a marker whose low nibble holds count, or 0xf followed
// by count as an integer object when it does not fit.
func appendCount(out []byte, marker byte, count uint64) []byte {
	if count < 15 {
		return append(out, marker|byte(count))
	}
	out = append(out, marker|0xf)
	size := uintSize(count)
	exp := map[int]byte{1: 0, 2: 1, 4: 2, 8: 3}[size]
	out = append(out, 0x10|exp)
	return appendUint(out, count, size)
}

// uintSize is the smallest of 1, 2, 4 or 8 bytes that holds v.
func uintSize(v uint64) int {
	switch {
	case v <= math.MaxUint8:
		return 1
	case v <= math.MaxUint16:
		return 2
	case v <= math.MaxUint32:
		return 4
	}
	return 8
}

func appendUint(out []byte, v uint64, size int) []byte {
	for i := size - 1; i >= 0; i-- {
		out = append(out, byte(v>>(8*i)))
	}
	return out
}
