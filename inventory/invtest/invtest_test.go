package invtest_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/micromdm/plist"
	"github.com/mobileatwork/mobileatwork/inventory"
	"github.com/mobileatwork/mobileatwork/inventory/invtest"
)

func TestBinaryPlistRoundTrip(t *testing.T) {
	date := time.Date(2023, 7, 14, 8, 0, 1, 0, time.UTC)
	long := make([]any, 300) // counts above 14 and references wider than a byte
	for i := range long {
		long[i] = "x"
	}
	in := map[string]any{
		"ascii":   "plain",
		"unicode": "Café Ñandú 日本 🍏",
		"int":     -7,
		"bool":    true,
		"date":    date,
		"empty":   []any{},
		"long":    long,
		"nested":  map[string]any{"inner": []any{"a", false}},
	}
	b, err := invtest.BinaryPlist(in)
	if err != nil {
		t.Fatalf("BinaryPlist: %v", err)
	}
	if err := inventory.CheckBinaryPlist(b); err != nil {
		t.Fatalf("CheckBinaryPlist: %v", err)
	}
	var out map[string]any
	if err := plist.Unmarshal(b, &out); err != nil {
		t.Fatalf("decode: %v", err)
	}
	want := map[string]any{
		"ascii":   "plain",
		"unicode": "Café Ñandú 日本 🍏",
		"int":     uint64(0xfffffffffffffff9), // binary integers decode unsigned
		"bool":    true,
		"date":    date,
		"empty":   []any{},
		"long":    long,
		"nested":  map[string]any{"inner": []any{"a", false}},
	}
	out["date"] = out["date"].(time.Time).UTC()
	if !reflect.DeepEqual(out, want) {
		t.Errorf("round trip:\n got %#v\nwant %#v", out, want)
	}
}

func TestBinaryPlistUnsupported(t *testing.T) {
	if _, err := invtest.BinaryPlist(map[string]any{"f": 1.5}); err == nil {
		t.Error("BinaryPlist accepted a float it cannot write")
	}
}

func TestWriteFixture(t *testing.T) {
	root := t.TempDir()
	if err := invtest.WriteFixture(root, 4, 12); err != nil {
		t.Fatalf("WriteFixture: %v", err)
	}
	for _, rel := range []string{
		"var/db/receipts/com.example.pkg00000.plist",
		"var/db/receipts/com.example.pkg00003.plist",
		"Applications/Café Ñandú 日本 0000.app/Contents/Info.plist",
		"Applications/Utilities/App 0001.app/Contents/Info.plist",
		"Applications/Suite 00/App 0003.app/Contents/Info.plist",
		"Applications/App 0011.app/Contents/Info.plist",
	} {
		if _, err := os.Stat(filepath.Join(root, rel)); err != nil {
			t.Errorf("fixture file: %v", err)
		}
	}
}
