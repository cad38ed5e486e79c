package inventory

import "encoding/binary"

// rawBplist assembles a binary plist from raw object encodings, so tests can
// build shapes no encoder would write: cycles, deep chains, bad references.
func rawBplist(refSize byte, top uint64, objects ...[]byte) []byte {
	out := []byte("bplist00")
	offsets := make([]uint64, len(objects))
	for i, o := range objects {
		offsets[i] = uint64(len(out))
		out = append(out, o...)
	}
	tableAt := uint64(len(out))
	offSize := byte(4)
	for _, o := range offsets {
		out = binary.BigEndian.AppendUint32(out, uint32(o))
	}
	out = append(out, 0, 0, 0, 0, 0, 0, offSize, refSize)
	out = binary.BigEndian.AppendUint64(out, uint64(len(objects)))
	out = binary.BigEndian.AppendUint64(out, top)
	out = binary.BigEndian.AppendUint64(out, tableAt)
	return out
}

// selfReferentialBplist is the smallest hostile input: one array whose only
// element is itself. The decoder follows it until the stack overflows, which
// kills the process without a chance to recover.
func selfReferentialBplist() []byte {
	b := []byte("bplist00")
	b = append(b, 0xa1, 0x00) // object 0: array of one element, object 0
	b = append(b, 0x08)       // offset table: object 0 at byte 8
	b = append(b, 0, 0, 0, 0, 0, 0, 1, 1)
	b = binary.BigEndian.AppendUint64(b, 1)  // one object
	b = binary.BigEndian.AppendUint64(b, 0)  // top object
	b = binary.BigEndian.AppendUint64(b, 10) // offset table at byte 10
	return b
}

// nestedArraysBplist is depth arrays, each the only element of the one before.
func nestedArraysBplist(depth int) []byte {
	objs := make([][]byte, depth)
	for i := range depth - 1 {
		objs[i] = []byte{0xa1, byte((i + 1) >> 8), byte(i + 1)}
	}
	objs[depth-1] = []byte{0xa0}
	return rawBplist(2, 0, objs...)
}

// sharedArraysBplist is levels arrays, each holding the next one twice: a
// few hundred bytes that a decoder copying shared values expands to 2^levels.
func sharedArraysBplist(levels int) []byte {
	objs := make([][]byte, levels+1)
	for i := range levels {
		objs[i] = []byte{0xa2, byte(i + 1), byte(i + 1)}
	}
	objs[levels] = []byte{0x09}
	return rawBplist(1, 0, objs...)
}
