package outbox

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mobileatwork/mobileatwork/protocol"
)

func TestPutPendingAck(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox")
	o, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"20270101T000002-b", "20270101T000001-a"} {
		if err := o.Put(protocol.Result{RunID: id, Status: protocol.StatusSucceeded}); err != nil {
			t.Fatal(err)
		}
	}
	// Reopening sees the same results: they are on disk, not in memory.
	o2, _ := Open(dir)
	got, err := o2.Pending()
	if err != nil || len(got) != 2 || got[0].RunID != "20270101T000001-a" {
		t.Fatalf("Pending = %+v, %v; want two results in run id order", got, err)
	}
	if !o2.Has("20270101T000001-a") || o2.Len() != 2 {
		t.Fatalf("Has/Len disagree with Pending")
	}
	if err := o2.Ack([]string{"20270101T000001-a", "../../etc/passwd", "unknown"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := o2.Pending(); len(got) != 1 || got[0].RunID != "20270101T000002-b" {
		t.Fatalf("after ack: %+v", got)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Fatalf("outbox mode %v, want 0700", fi.Mode().Perm())
	}
}

func TestPutRefusesBadRunID(t *testing.T) {
	o, _ := Open(t.TempDir())
	for _, id := range []string{"", "../x", "a/b", "with space"} {
		if err := o.Put(protocol.Result{RunID: id}); !errors.Is(err, ErrBadRunID) {
			t.Errorf("Put(%q) = %v, want ErrBadRunID", id, err)
		}
	}
}

func TestCorruptFileSetAside(t *testing.T) {
	dir := t.TempDir()
	o, _ := Open(dir)
	o.Put(protocol.Result{RunID: "good"})
	os.WriteFile(filepath.Join(dir, "torn.json"), []byte("{"), 0o600)
	got, err := o.Pending()
	if err == nil || len(got) != 1 || got[0].RunID != "good" {
		t.Fatalf("Pending = %+v, %v; want the good result and an error", got, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "torn.json.bad")); err != nil {
		t.Fatalf("corrupt file not set aside: %v", err)
	}
	if got, err := o.Pending(); err != nil || len(got) != 1 {
		t.Fatalf("second Pending = %+v, %v", got, err)
	}
}

func TestValidRunID(t *testing.T) {
	for _, c := range []struct {
		id   string
		want bool
	}{
		{"run_1-A", true},
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false},
		{"", false},
		{"../x", false},
		{"a.json", false},
		{"a b", false},
	} {
		if got := validRunID(c.id); got != c.want {
			t.Errorf("validRunID(%q) = %v, want %v", c.id, got, c.want)
		}
	}
}
