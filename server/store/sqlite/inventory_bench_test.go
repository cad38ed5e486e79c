package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// BenchmarkPutInventory uploads a typical Mac's inventory (150 receipts,
// 80 apps) in one durable transaction: "changed" with one receipt's
// version new at each op, "unchanged" the same report each op, as the
// daily upload is. Each kind runs first through the baseline of replacing
// every row (replaceInventory), then through PutInventory, which reports
// x_replace_ns, its ns/op as a ratio to the baseline's of the same kind
// in the same run (absent when a -bench pattern leaves the baseline out).
func BenchmarkPutInventory(b *testing.B) {
	for _, kind := range []string{"changed", "unchanged"} {
		var baseNs, baseCPU float64
		for _, path := range []string{"baseline=replace", "diff"} {
			b.Run(kind+"/"+path, func(b *testing.B) {
				s, err := Open(filepath.Join(b.TempDir(), "maw.db"))
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				if err := s.CreateDevice(b.Context(), store.Device{ID: "d1", EnrolledAt: t0}); err != nil {
					b.Fatal(err)
				}
				put := s.PutInventory
				if path == "baseline=replace" {
					put = s.replaceInventory
				}
				r := benchInventory(150, 80)
				if err := put(b.Context(), "d1", r, t0); err != nil {
					b.Fatal(err)
				}
				n := 0
				b.ResetTimer()
				cpu0 := cpuNow(b)
				for b.Loop() {
					if kind == "changed" {
						n++
						r.Receipts[n%len(r.Receipts)].Version = fmt.Sprintf("1.2.%d", n)
					}
					if err := put(b.Context(), "d1", r, t0.Add(time.Duration(n)*time.Second)); err != nil {
						b.Fatal(err)
					}
				}
				ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
				cpu := float64((cpuNow(b) - cpu0).Nanoseconds()) / float64(b.N)
				b.StopTimer()
				got, err := s.Inventory(b.Context(), "d1")
				if err != nil {
					b.Fatal(err)
				}
				if len(got.Receipts) != len(r.Receipts) || len(got.Apps) != len(r.Apps) {
					b.Fatalf("stored %d receipts and %d apps, want %d and %d", len(got.Receipts), len(got.Apps), len(r.Receipts), len(r.Apps))
				}
				b.ReportMetric(cpu, "cpu-ns/op")
				if path == "baseline=replace" {
					baseNs, baseCPU = ns, cpu
				} else if baseNs > 0 && baseCPU > 0 {
					b.ReportMetric(ns/baseNs, "x_replace_ns")
					b.ReportMetric(cpu/baseCPU, "x_replace_cpu")
				}
			})
		}
	}
}

// benchInventory is a report of receipts and apps with every column set.
func benchInventory(receipts, apps int) protocol.InventoryReport {
	r := protocol.InventoryReport{DeviceID: "d1", Hash: "ab", CollectedAt: t0, Facts: protocol.Facts{SerialNumber: "C02d1", AgentVersion: "1.80.0"}}
	for i := range receipts {
		r.Receipts = append(r.Receipts, protocol.InventoryReceipt{PackageID: fmt.Sprintf("com.example.pkg%05d", i), Version: "1.2.3",
			InstallDate: t0.Add(-time.Duration(i) * time.Hour), InstallPrefix: "/", InstallProcess: "installer"})
	}
	for i := range apps {
		r.Apps = append(r.Apps, protocol.InventoryApp{BundleID: fmt.Sprintf("com.example.app%05d", i), Name: fmt.Sprintf("App %05d", i),
			Version: "2.0", Build: "200", Path: fmt.Sprintf("/Applications/App %05d.app", i)})
	}
	return r
}

// replaceInventory is the baseline of BenchmarkPutInventory: the former
// PutInventory, which deleted every row of the device and inserted the
// report's again.
func (s *Store) replaceInventory(ctx context.Context, deviceID string, r protocol.InventoryReport, receivedAt time.Time) error {
	h, err := newInventoryHeader(r, receivedAt)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := h.put(ctx, tx, deviceID); err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM inventory_receipts WHERE device_id = ?`, `DELETE FROM inventory_apps WHERE device_id = ?`} {
			if _, err := tx.ExecContext(ctx, q, deviceID); err != nil {
				return err
			}
		}
		if err := insertRows(ctx, tx, deviceID, receiptTable, r.Receipts); err != nil {
			return err
		}
		return insertRows(ctx, tx, deviceID, appTable, r.Apps)
	})
}

// cpuNow is the CPU time the process has used, user and system.
func cpuNow(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
