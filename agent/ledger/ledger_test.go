package ledger

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestLedgerPersistsAndResetsOnNewVersion(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2027, 1, 1, 9, 0, 0, 0, time.UTC)
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	e, err := l.Observe("a1", 1, "once", t0)
	if err != nil || e.ReceivedAt != t0 || e.Done {
		t.Fatalf("Observe new = %+v, %v", e, err)
	}
	e.Done = true
	if err := l.Put(e); err != nil {
		t.Fatal(err)
	}
	l2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if e, _ := l2.Observe("a1", 1, "once", t0.Add(time.Hour)); !e.Done || e.ReceivedAt != t0 {
		t.Fatalf("same version after reopen = %+v, want done and original receipt time", e)
	}
	if e, _ := l2.Observe("a1", 2, "once", t0.Add(time.Hour)); e.Done || e.Version != 2 || !e.ReceivedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("new version = %+v, want a fresh entry", e)
	}
	if e, _ := l2.Observe("a1", 2, "daily at 09:00 (local)", t0.Add(2*time.Hour)); !e.ReceivedAt.Equal(t0.Add(2 * time.Hour)) {
		t.Fatalf("new schedule for the same version = %+v, want a fresh entry", e)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "ledger.json")); fi.Mode().Perm() != 0o600 {
		t.Fatalf("ledger mode %v", fi.Mode().Perm())
	}
}

func TestObserveKeepsInFlightRun(t *testing.T) {
	l, _ := Open(t.TempDir())
	now := time.Now()
	l.Put(Entry{AssignmentID: "a", Version: 1, Started: &Started{RunID: "r1", At: now}})
	e, _ := l.Observe("a", 2, "once", now)
	if e.Started == nil || e.Started.RunID != "r1" {
		t.Fatalf("in-flight marker lost on version change: %+v", e)
	}
}

func TestOpenRefusesCorruptLedger(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ledger.json"), []byte("{not json"), 0o600)
	if _, err := Open(dir); err == nil {
		t.Fatal("a corrupt ledger was accepted (could rerun run-once scripts)")
	}
}
