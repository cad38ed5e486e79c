package inventory

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/micromdm/plist"
	"github.com/mobileatwork/mobileatwork/inventory/invtest"
)

// FuzzCheckBinaryPlist asserts what the guard is for: neither it nor the
// inventory reader ever panics, and whatever it accepts the plist module's
// decoder walks without panicking. (A stack overflow or a runaway allocation
// would abort the fuzzer itself.)
func FuzzCheckBinaryPlist(f *testing.F) {
	info, err := invtest.BinaryPlist(invtest.AppInfo("com.example.fuzz", "Fuzz Ünïcødé", "1.0"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(info)
	f.Add(selfReferentialBplist())
	f.Add(nestedArraysBplist(600))
	f.Add(sharedArraysBplist(20))
	f.Add([]byte("bplist00\x00\x01garbage"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := readFields(b, []field{{key: "CFBundleIdentifier"}, {key: "CFBundleName"}}); errors.Is(err, ErrMalformed) && strings.Contains(err.Error(), "panic") {
			t.Fatalf("reader panicked: %v", err)
		}
		if CheckBinaryPlist(b) != nil {
			return
		}
		if p := decodeRecovering(b, true); p != nil {
			t.Fatalf("decoder panicked on input the guard accepted: %v", p)
		}
	})
}

// FuzzCheckXMLPlist is the same contract for XML property lists.
func FuzzCheckXMLPlist(f *testing.F) {
	info, err := invtest.XMLPlist(invtest.AppInfo("com.example.fuzz", "Fuzz Ünïcødé", "1.0"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(info)
	f.Add([]byte(strings.Repeat("<array>", 600)))
	f.Add([]byte(`<plist><dict><key>a</key><data>AAEC</data><key>b</key><date>2024-01-01T00:00:00Z</date></dict></plist>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if bytes.HasPrefix(b, []byte("bplist")) {
			return
		}
		if err := readFields(b, []field{{key: "CFBundleIdentifier"}}); errors.Is(err, ErrMalformed) && strings.Contains(err.Error(), "panic") {
			t.Fatalf("reader panicked: %v", err)
		}
		if CheckXMLPlist(b) != nil {
			return
		}
		if p := decodeRecovering(b, false); p != nil {
			t.Fatalf("decoder panicked on input the guard accepted: %v", p)
		}
	})
}

// decodeRecovering decodes into both a generic value (every node visited)
// and the struct Collect uses, and returns any panic.
func decodeRecovering(b []byte, isBinary bool) (p any) {
	defer func() { p = recover() }()
	var generic any
	var info struct {
		ID   string `plist:"CFBundleIdentifier"`
		Name string `plist:"CFBundleName"`
	}
	for _, v := range []any{&generic, &info} {
		if isBinary {
			_ = plist.NewBinaryDecoder(bytes.NewReader(b)).Decode(v)
		} else {
			_ = plist.NewXMLDecoder(bytes.NewReader(b)).Decode(v)
		}
	}
	return nil
}
