package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
	"github.com/mobileatwork/mobileatwork/server/store/sqlite"
)

func TestPrintResultsStreams(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "tenant.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := &server.Server{Store: st}
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	// More rows than a table block, stored newest first, so the order
	// printed is the store's and not the order of insertion.
	const n = 1500
	var want []string
	for i := n - 1; i >= 0; i-- {
		r := protocol.Result{RunID: fmt.Sprintf("r%04d", i), DeviceID: "d1", AssignmentID: "c1", AssignmentVersion: 1,
			ScriptID: "s1", Status: protocol.StatusSucceeded, Stdout: "line one\nline two"}
		if i%2 == 1 {
			r.Status = protocol.StatusFailed
		}
		if _, err := st.PutResult(t.Context(), r, at.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		if i%2 == 1 {
			want = append(want, fmt.Sprintf("r%04d", i))
		}
	}
	names := map[string]string{"c1": "nightly"}
	q := server.ResultQuery{Status: protocol.StatusFailed}

	t.Run("json is one array", func(t *testing.T) {
		var out bytes.Buffer
		if err := printResults(t.Context(), &out, s, q, names, true); err != nil {
			t.Fatal(err)
		}
		var got []jsonview.Result
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("--json output is not one JSON array: %v", err)
		}
		var ids []string
		for _, r := range got {
			ids = append(ids, r.RunID)
			if r.ConfigName != "nightly" {
				t.Fatalf("%s: config_name %q, want nightly", r.RunID, r.ConfigName)
			}
		}
		if !slices.Equal(ids, want) {
			t.Fatalf("printed %d results (first %v), want %d in order", len(ids), ids[:min(3, len(ids))], len(want))
		}
	})
	t.Run("json of nothing is an empty array", func(t *testing.T) {
		var out bytes.Buffer
		if err := printResults(t.Context(), &out, s, server.ResultQuery{Device: "none"}, names, true); err != nil {
			t.Fatal(err)
		}
		if out.String() != "[]\n" {
			t.Fatalf("printed %q, want []", out.String())
		}
	})
	t.Run("table has a row per result", func(t *testing.T) {
		var out bytes.Buffer
		if err := printResults(t.Context(), &out, s, q, names, false); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) != len(want)+1 || !strings.HasPrefix(lines[0], "RUN ") {
			t.Fatalf("printed %d lines starting %q, want a header and %d rows", len(lines), lines[0], len(want))
		}
		for i, l := range lines[1:] {
			if f := strings.Fields(l); f[0] != want[i] || !strings.Contains(l, "nightly v1") || !strings.Contains(l, "line one line two") {
				t.Fatalf("row %d = %q, want %s of nightly v1 on one line", i, l, want[i])
			}
		}
	})
	for _, asJSON := range []bool{false, true} {
		t.Run(fmt.Sprintf("bad input prints nothing, json=%v", asJSON), func(t *testing.T) {
			var out bytes.Buffer
			err := printResults(t.Context(), &out, s, server.ResultQuery{Status: "exploded"}, names, asJSON)
			if err == nil || !strings.Contains(err.Error(), "--status") {
				t.Fatalf("err = %v, want one naming --status", err)
			}
			if out.Len() != 0 {
				t.Fatalf("printed %q before the error", out.String())
			}
		})
	}
}

func TestServeRefusesNegativeRetention(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tenant")
	run := func(args ...string) (string, error) {
		out, errOut, err := cli.Execute(newRoot(), args...)
		return out + errOut, err
	}
	if out, err := run("init", "--data", dir); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	addr := filepath.Join(t.TempDir(), "addr")
	_, err := run("serve", "--data", dir, "--listen", "127.0.0.1:0", "--addr-file", addr, "--results-retention", "-1")
	if err == nil || !strings.Contains(err.Error(), "--results-retention") {
		t.Fatalf("serve --results-retention -1: err = %v, want one naming the flag", err)
	}
	if _, statErr := os.Stat(addr); statErr == nil {
		t.Fatal("serve listened despite a negative retention")
	}
}
