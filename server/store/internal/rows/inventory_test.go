package rows

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		name      string
		have      []string
		want      []string
		del, ins  []int
		remaining []string // have after the deletes, then the inserts
	}{
		{name: "first upload", want: []string{"a", "b"}, ins: []int{0, 1}},
		{name: "unchanged", have: []string{"a", "b"}, want: []string{"a", "b"}},
		{name: "unchanged in another order", have: []string{"a", "b", "c"}, want: []string{"c", "a", "b"}},
		{name: "one changed", have: []string{"a", "b1", "c"}, want: []string{"a", "b2", "c"}, del: []int{1}, ins: []int{1}},
		{name: "one added", have: []string{"a", "c"}, want: []string{"a", "b", "c"}, ins: []int{1}},
		{name: "one removed", have: []string{"a", "b", "c"}, want: []string{"a", "c"}, del: []int{1}},
		{name: "all removed", have: []string{"a", "b"}, del: []int{0, 1}},
		{name: "duplicate dropped", have: []string{"a", "a", "b"}, want: []string{"b", "a"}, del: []int{0}},
		{name: "duplicate added", have: []string{"a"}, want: []string{"a", "a"}, ins: []int{1}},
		{name: "duplicates both ways", have: []string{"a", "b", "b", "b"}, want: []string{"a", "a", "b"}, del: []int{1, 2}, ins: []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			del, ins := Match(tt.have, tt.want)
			if !reflect.DeepEqual(del, tt.del) || !reflect.DeepEqual(ins, tt.ins) {
				t.Fatalf("Match(%q, %q) = del %v, ins %v; want del %v, ins %v", tt.have, tt.want, del, ins, tt.del, tt.ins)
			}
			// Applying the plan leaves exactly the wanted multiset.
			gone := map[int]bool{}
			for _, d := range del {
				gone[d] = true
			}
			var after []string
			for i, h := range tt.have {
				if !gone[i] {
					after = append(after, h)
				}
			}
			for _, i := range ins {
				after = append(after, tt.want[i])
			}
			if got, want := counts(after), counts(tt.want); !reflect.DeepEqual(got, want) {
				t.Fatalf("after the plan %q, want the multiset of %q", after, tt.want)
			}
		})
	}
}

func counts(xs []string) map[string]int {
	m := map[string]int{}
	for _, x := range xs {
		m[x]++
	}
	return m
}

func TestReceiptsAndAppsCompareAsStored(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	at := time.Date(2024, 3, 1, 10, 0, 0, 0, paris)
	now := time.Now() // carries a monotonic reading
	upper := func(s string) string { return strings.ToUpper(s) }
	tests := []struct {
		name string
		text func(string) string
		in   protocol.InventoryReceipt
		want protocol.InventoryReceipt
	}{
		{"instant in UTC", nil,
			protocol.InventoryReceipt{PackageID: "p", Version: "1", InstallDate: at, InstallPrefix: "/", InstallProcess: "installer"},
			protocol.InventoryReceipt{PackageID: "p", Version: "1", InstallDate: at.UTC(), InstallPrefix: "/", InstallProcess: "installer"}},
		{"monotonic reading dropped", nil, // equal to the instant a stored row reads back as
			protocol.InventoryReceipt{PackageID: "p", InstallDate: now},
			protocol.InventoryReceipt{PackageID: "p", InstallDate: time.Unix(0, now.UnixNano()).UTC()}},
		{"no date stays zero", nil, protocol.InventoryReceipt{PackageID: "p"}, protocol.InventoryReceipt{PackageID: "p"}},
		{"text applied to every string", upper,
			protocol.InventoryReceipt{PackageID: "p", Version: "v", InstallPrefix: "x", InstallProcess: "i"},
			protocol.InventoryReceipt{PackageID: "P", Version: "V", InstallPrefix: "X", InstallProcess: "I"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Receipts([]protocol.InventoryReceipt{tt.in}, tt.text)[0]
			if got != tt.want {
				t.Fatalf("Receipts(%+v) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
	a := protocol.InventoryApp{BundleID: "b", Name: "n", Version: "v", Build: "1", Path: "/p"}
	if got, want := Apps([]protocol.InventoryApp{a}, upper)[0], (protocol.InventoryApp{BundleID: "B", Name: "N", Version: "V", Build: "1", Path: "/P"}); got != want {
		t.Fatalf("Apps = %+v, want %+v", got, want)
	}
	if got := Apps([]protocol.InventoryApp{a}, nil)[0]; got != a {
		t.Fatalf("Apps without text = %+v, want %+v", got, a)
	}
}
