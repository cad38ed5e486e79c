package inventory

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/inventory/invtest"
)

func TestCheckBinaryPlist(t *testing.T) {
	valid, err := invtest.BinaryPlist(invtest.AppInfo("com.example.ok", "Ökonomie 日本", "1.0"))
	if err != nil {
		t.Fatal(err)
	}
	longString := rawBplist(1, 0,
		[]byte{0xd1, 1, 2},
		[]byte{0x53, 'k', 'e', 'y'},
		append([]byte{0x5f, 0x10, 20}, bytes.Repeat([]byte("x"), 20)...))
	withTrailer := func(b []byte, at int, v byte) []byte {
		c := bytes.Clone(b)
		c[len(c)-32+at] = v
		return c
	}
	withTrailer64 := func(b []byte, at int, v uint64) []byte {
		c := bytes.Clone(b)
		binary.BigEndian.PutUint64(c[len(c)-32+at:], v)
		return c
	}

	tests := []struct {
		name string
		in   []byte
		want error // nil: accepted
		msg  string
	}{
		{"valid app info", valid, nil, ""},
		{"count in a following integer", longString, nil, ""},
		{"single bool", rawBplist(1, 0, []byte{0x09}), nil, ""},
		{"corrupt", []byte("bplist00\x00\x01garbage"), ErrMalformed, "too short"},
		{"empty", nil, ErrMalformed, "too short"},
		{"wrong version", append([]byte("bplist15"), valid[8:]...), ErrMalformed, "header"},
		{"offset size 0", withTrailer(valid, 6, 0), ErrMalformed, "offset size"},
		{"offset size 9", withTrailer(valid, 6, 9), ErrMalformed, "offset size"},
		{"reference size 0", withTrailer(valid, 7, 0), ErrMalformed, "reference size"},
		{"no objects", withTrailer64(valid, 8, 0), ErrMalformed, "object count"},
		{"huge object count", withTrailer64(valid, 8, 1<<62), ErrMalformed, "object count"},
		{"top object out of range", withTrailer64(rawBplist(1, 0, []byte{0x09}), 16, 1), ErrMalformed, "top object"},
		{"offset table past trailer", withTrailer64(valid, 24, uint64(len(valid))), ErrMalformed, "offset table"},
		{"offset table in header", withTrailer64(valid, 24, 3), ErrMalformed, "offset table"},
		{"object offset in trailer", func() []byte {
			b := rawBplist(1, 0, []byte{0x09})
			binary.BigEndian.PutUint32(b[9:], uint32(len(b)-4))
			return b
		}(), ErrMalformed, "outside the object area"},
		{"reference out of range", rawBplist(1, 0, []byte{0xa1, 7}), ErrMalformed, "references object 7"},
		{"string longer than file", rawBplist(1, 0, []byte{0x5f, 0x13, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), ErrMalformed, "overrun"},
		{"utf-16 length overflow", rawBplist(1, 0, []byte{0x6f, 0x13, 0x80, 0, 0, 0, 0, 0, 0, 1}), ErrMalformed, "overrun"},
		{"bad count marker", rawBplist(1, 0, []byte{0x5f, 0x55, 1}), ErrMalformed, "count marker"},
		{"integer of 32 bytes", rawBplist(1, 0, []byte{0x15, 0}), ErrMalformed, "integer"},
		{"real of 2 bytes", rawBplist(1, 0, []byte{0x21, 0, 0}), ErrMalformed, "real"},
		{"unknown marker", rawBplist(1, 0, []byte{0x70}), ErrMalformed, "unknown marker"},
		{"unknown singleton", rawBplist(1, 0, []byte{0x05}), ErrMalformed, "unknown marker"},
		{"dictionary key not a string", rawBplist(1, 0, []byte{0xd1, 1, 1}, []byte{0x10, 1}), ErrMalformed, "not a string"},
		{"self-referential array", selfReferentialBplist(), ErrMalformed, "cycle"},
		{"cycle through a dictionary", rawBplist(1, 0,
			[]byte{0xa1, 1},
			[]byte{0xd1, 2, 0},
			[]byte{0x51, 'k'}), ErrMalformed, "cycle"},
		{"nesting 512 accepted", nestedArraysBplist(512), nil, ""},
		{"nesting 513", nestedArraysBplist(513), ErrMalformed, "nesting"},
		{"nesting 10000", nestedArraysBplist(10000), ErrMalformed, "nesting"},
		{"shared references expand", sharedArraysBplist(40), ErrMalformed, "expands"},
		{"shared references within bounds", sharedArraysBplist(10), nil, ""},
		{"too large", append([]byte("bplist00"), make([]byte, MaxPlistSize)...), ErrTooLarge, "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			err := CheckBinaryPlist(tt.in)
			if elapsed := time.Since(start); elapsed > time.Second {
				t.Errorf("took %v", elapsed)
			}
			if tt.want == nil {
				if err != nil {
					t.Fatalf("CheckBinaryPlist: %v, want accepted", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("CheckBinaryPlist = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not mention %q", err, tt.msg)
			}
		})
	}
}

func TestReadFieldsRefusesHostileInput(t *testing.T) {
	deepXML := `<plist><dict><key>CFBundleName</key>` + strings.Repeat("<array>", 10000) +
		strings.Repeat("</array>", 10000) + `</dict></plist>`
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"self-referential binary", selfReferentialBplist(), ErrMalformed},
		{"deep binary", nestedArraysBplist(10000), ErrMalformed},
		{"expanding binary", sharedArraysBplist(40), ErrMalformed},
		{"deep xml", []byte(deepXML), ErrMalformed},
		{"oversized binary", append([]byte("bplist00"), make([]byte, MaxPlistSize)...), ErrTooLarge},
		{"oversized xml", make([]byte, MaxPlistSize+1), ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := []field{{key: "CFBundleName"}}
			start := time.Now()
			err := readFields(tt.in, f)
			if !errors.Is(err, tt.want) {
				t.Fatalf("readFields = %v, want %v", err, tt.want)
			}
			if elapsed := time.Since(start); elapsed > time.Second {
				t.Errorf("took %v", elapsed)
			}
		})
	}
}

func TestReadFieldsRecoversPanic(t *testing.T) {
	testHookRead = func([]byte) { panic("index out of range") }
	t.Cleanup(func() { testHookRead = nil })
	err := readFields(rawBplist(1, 0, []byte{0xd0}), []field{{key: "k"}})
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "reader panic") {
		t.Fatalf("readFields = %v, want the panic as ErrMalformed", err)
	}
}

func TestReadFields(t *testing.T) {
	date := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	values := map[string]any{
		"text":    "plain & <simple>",
		"unicode": "Café 日本 🍏",
		"neg":     -42,
		"date":    date,
		"bool":    true,
		"list":    []any{"a"},
		"dict":    map[string]any{"text": "nested, not top-level"},
		"other":   "unwanted",
	}
	bin, err := invtest.BinaryPlist(values)
	if err != nil {
		t.Fatal(err)
	}
	xmlDoc, err := invtest.XMLPlist(values)
	if err != nil {
		t.Fatal(err)
	}
	want := []field{
		{key: "text", str: "plain & <simple>"},
		{key: "unicode", str: "Café 日本 🍏"},
		{key: "neg", str: "-42"},
		{key: "date", date: date},
		{key: "bool"},
		{key: "list"},
		{key: "dict"},
		{key: "missing"},
	}
	for _, tc := range []struct {
		name string
		in   []byte
	}{{"binary", bin}, {"xml", xmlDoc}} {
		t.Run(tc.name, func(t *testing.T) {
			got := make([]field, len(want))
			for i := range want {
				got[i].key = want[i].key
			}
			if err := readFields(tc.in, got); err != nil {
				t.Fatalf("readFields: %v", err)
			}
			for i := range want {
				if got[i].key != want[i].key || got[i].str != want[i].str || !got[i].date.Equal(want[i].date) {
					t.Errorf("field %s = %+v, want %+v", want[i].key, got[i], want[i])
				}
			}
		})
	}
}

func TestReadFieldsBinaryScalars(t *testing.T) {
	// A dictionary of hand-encoded numbers the fixture writer never emits.
	doc := rawBplist(1, 0,
		[]byte{0xd5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
		[]byte{0x51, 'a'}, []byte{0x51, 'b'}, []byte{0x51, 'c'}, []byte{0x51, 'd'}, []byte{0x51, 'e'},
		[]byte{0x10, 200},                          // 1-byte integer
		[]byte{0x22, 0x3f, 0xc0, 0, 0},             // float32 1.5
		[]byte{0x23, 0x40, 0x04, 0, 0, 0, 0, 0, 0}, // float64 2.5
		[]byte{0x33, 0, 0, 0, 0, 0, 0, 0, 0},       // the Apple epoch
		[]byte{0x33, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0}, // NaN date
	)
	f := []field{{key: "a"}, {key: "b"}, {key: "c"}, {key: "d"}, {key: "e"}}
	if err := readFields(doc, f); err != nil {
		t.Fatalf("readFields: %v", err)
	}
	epoch := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	if f[0].str != "200" || f[1].str != "1.5" || f[2].str != "2.5" || !f[3].date.Equal(epoch) || !f[4].date.IsZero() {
		t.Errorf("fields = %+v", f)
	}
}

func TestReadFieldsShapes(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string // value of key "k"
		wantErr error
	}{
		{"bare dict root", `<dict><key>k</key><string>v</string></dict>`, "v", nil},
		{"comments and cdata", `<?xml version="1.0"?><!-- c --><plist><dict><key>k</key><string><![CDATA[a<b]]></string></dict></plist>`, "a<b", nil},
		{"integer as text", `<plist><dict><key>k</key><integer> 7 </integer></dict></plist>`, "7", nil},
		{"array root", `<plist><array><string>v</string></array></plist>`, "", ErrMalformed},
		{"string root", `<plist><string>v</string></plist>`, "", ErrMalformed},
		{"value without key", `<plist><dict><string>v</string></dict></plist>`, "", ErrMalformed},
		{"element inside key", `<plist><dict><key>k<b/></key><string>v</string></dict></plist>`, "", ErrMalformed},
		{"mismatched end", `<plist><dict></plist></dict>`, "", ErrMalformed},
		{"binary array root", string(rawBplist(1, 0, []byte{0xa0})), "", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := []field{{key: "k"}}
			err := readFields([]byte(tt.in), f)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("readFields = %v, want %v", err, tt.wantErr)
			}
			if f[0].str != tt.want {
				t.Errorf("k = %q, want %q", f[0].str, tt.want)
			}
		})
	}
}
