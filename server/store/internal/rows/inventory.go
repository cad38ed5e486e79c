package rows

import (
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
)

// Match pairs the rows a device holds (have) with those of its new report
// (want) as multisets of full tuples: each wanted tuple takes one held row
// equal to it while any is left. It returns, ascending, the indexes into
// have of the rows to delete and into want of the rows to insert; a held
// row that matched stays as it is, so an upload writes only what changed.
func Match[T comparable](have, want []T) (del, ins []int) {
	left := make(map[T]int, len(have))
	for _, h := range have {
		left[h]++
	}
	for i, w := range want {
		if left[w] > 0 {
			left[w]--
		} else {
			ins = append(ins, i)
		}
	}
	// Which of equal held rows go does not matter: they read back alike.
	for i, h := range have {
		if left[h] > 0 {
			left[h]--
			del = append(del, i)
		}
	}
	return del, ins
}

// Receipts are rs as their stored rows read back, to compare with those:
// strings as text stores them (nil keeps them) and install dates in UTC. A
// backend that stores instants coarser than a report's never matches such
// a row and writes it again, which is still correct.
func Receipts(rs []protocol.InventoryReceipt, text func(string) string) []protocol.InventoryReceipt {
	out := make([]protocol.InventoryReceipt, len(rs))
	for i, r := range rs {
		if text != nil {
			r.PackageID, r.Version, r.InstallPrefix, r.InstallProcess = text(r.PackageID), text(r.Version), text(r.InstallPrefix), text(r.InstallProcess)
		}
		r.InstallDate = r.InstallDate.UTC() // also drops a monotonic reading, which == would compare
		out[i] = r
	}
	return out
}

// Apps are as as their stored rows read back; see Receipts.
func Apps(as []protocol.InventoryApp, text func(string) string) []protocol.InventoryApp {
	out := make([]protocol.InventoryApp, len(as))
	for i, a := range as {
		if text != nil {
			a.BundleID, a.Name, a.Version, a.Build, a.Path = text(a.BundleID), text(a.Name), text(a.Version), text(a.Build), text(a.Path)
		}
		out[i] = a
	}
	return out
}

// The content columns of the inventory tables, in the order of the
// fields of protocol.InventoryReceipt and protocol.InventoryApp.
const (
	ReceiptColumns = "package_id, version, install_date, install_prefix, install_process"
	AppColumns     = "bundle_id, name, version, build, path"
)

// AppArgs are a's values for AppColumns.
func AppArgs(a protocol.InventoryApp) []any {
	return []any{a.BundleID, a.Name, a.Version, a.Build, a.Path}
}

// ReceiptArgs are r's values for ReceiptColumns, the install date as
// instant encodes it (NULL for the zero time).
func ReceiptArgs(r protocol.InventoryReceipt, instant func(time.Time) any) []any {
	return []any{r.PackageID, r.Version, instant(r.InstallDate), r.InstallPrefix, r.InstallProcess}
}
