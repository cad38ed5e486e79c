package inventory

import (
	"encoding/binary"
	"math"
	"strconv"
	"time"
	"unicode/utf16"
)

// field is one top-level key the inventory reads and, after reading, its
// value. Numbers written where a string belongs (seen in hand-made
// Info.plist files) become their decimal text; arrays, dictionaries, data
// and booleans are ignored, so one odd field never fails the whole file.
type field struct {
	key  string
	str  string
	date time.Time
}

func setField(fields []field, key []byte) *field {
	for i := range fields {
		if string(key) == fields[i].key {
			return &fields[i]
		}
	}
	return nil
}

// appleEpoch is the reference date of binary plist dates, in Unix seconds.
const appleEpoch = 978307200

// topLevel reads fields from the top-level dictionary. Only the wanted
// values are decoded; the guard already checked every object's bounds.
func (x *bplistIndex) topLevel(fields []field) error {
	o := x.objs[x.top]
	if o.kind != kindDict {
		return malformed("top-level object is not a dictionary")
	}
	n := o.nrefs / 2
	for j := uint32(0); j < n; j++ {
		kind, start, count := x.payload(x.ref(o, j))
		if kind != kindASCII {
			continue // wanted keys are ASCII
		}
		if f := setField(fields, x.b[start:start+count]); f != nil {
			x.scalar(x.ref(o, n+j), f)
		}
	}
	return nil
}

func (x *bplistIndex) ref(o bobject, j uint32) int {
	return int(readUint(x.b[uint64(o.refsAt)+uint64(j)*x.refSize:], int(x.refSize)))
}

// payload returns the kind of object i, where its content starts and its
// length in bytes (strings, data, numbers, dates).
func (x *bplistIndex) payload(i int) (kind uint8, start, length uint64) {
	off := uint64(x.objs[i].off)
	marker := x.b[off]
	kind, low := marker>>4, marker&0xf
	switch kind {
	case kindInt, kindReal, kindDate:
		return kind, off + 1, 1 << low
	case kindData, kindASCII, kindUTF16:
		count, p, _ := readCount(x.b, off+1, uint64(len(x.b)), low)
		if kind == kindUTF16 {
			count *= 2
		}
		return kind, p, count
	}
	return kind, 0, 0
}

func (x *bplistIndex) scalar(i int, f *field) {
	kind, start, n := x.payload(i)
	v := x.b[start : start+n]
	switch kind {
	case kindASCII:
		f.str = string(v)
	case kindUTF16:
		units := make([]uint16, n/2)
		for k := range units {
			units[k] = binary.BigEndian.Uint16(v[2*k:])
		}
		f.str = string(utf16.Decode(units))
	case kindInt:
		switch n {
		case 8: // the only signed width
			f.str = strconv.FormatInt(int64(binary.BigEndian.Uint64(v)), 10)
		case 16:
			f.str = strconv.FormatUint(binary.BigEndian.Uint64(v[8:]), 10)
		default:
			f.str = strconv.FormatUint(readUint(v, int(n)), 10)
		}
	case kindReal:
		if n == 4 {
			f.str = strconv.FormatFloat(float64(math.Float32frombits(binary.BigEndian.Uint32(v))), 'f', -1, 32)
		} else {
			f.str = strconv.FormatFloat(math.Float64frombits(binary.BigEndian.Uint64(v)), 'f', -1, 64)
		}
	case kindDate:
		f.date = appleDate(math.Float64frombits(binary.BigEndian.Uint64(v)))
	}
}

// appleDate converts seconds since 2001-01-01 UTC; values beyond any
// plausible date (or NaN) give the zero time.
func appleDate(secs float64) time.Time {
	if !(math.Abs(secs) < 1e11) {
		return time.Time{}
	}
	whole := math.Floor(secs)
	return time.Unix(appleEpoch+int64(whole), int64((secs-whole)*1e9)).UTC()
}
