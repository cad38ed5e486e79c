package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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
	"github.com/mobileatwork/mobileatwork/server/adminapi"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
	"github.com/mobileatwork/mobileatwork/server/store"
	"github.com/mobileatwork/mobileatwork/server/store/sqlite"
)

func TestResultsPageAndPrint(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "tenant.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := &server.Server{Store: st, Now: time.Now}
	if err := st.CreateConfiguration(t.Context(), store.Configuration{ID: "c1", Kind: store.KindMobileAtWork, Name: "nightly", Version: 1, Priority: 1}); err != nil {
		t.Fatal(err)
	}
	c := adminapi.Local{S: s}
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	// More rows than a page and a table block, stored newest first, so the
	// order printed is received order and not the order of insertion.
	const n = 2500
	var all, failed []string
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
		all = append(all, fmt.Sprintf("r%04d", i))
		if i%2 == 1 {
			failed = append(failed, fmt.Sprintf("r%04d", i))
		}
	}
	fetchResults := func(ctx context.Context, c adminapi.Conn, req adminapi.ResultsRequest, limit int) ([]jsonview.Result, error) {
		var rs []jsonview.Result
		err := eachResult(ctx, c, req, limit, func(r jsonview.Result) error { rs = append(rs, r); return nil })
		if err != nil {
			return nil, err
		}
		return rs, nil
	}
	ids := func(rs []jsonview.Result) []string {
		out := []string{}
		for _, r := range rs {
			out = append(out, r.RunID)
		}
		return out
	}
	fetches := []struct {
		name  string
		req   adminapi.ResultsRequest
		limit int
		want  []string
	}{
		{"every failed one, over pages", adminapi.ResultsRequest{Status: protocol.StatusFailed}, 0, failed},
		{"the newest 5", adminapi.ResultsRequest{}, 5, all[n-5:]},
		{"the newest 1200, over two pages", adminapi.ResultsRequest{}, 1200, all[n-1200:]},
		{"more than there are", adminapi.ResultsRequest{Status: protocol.StatusFailed}, 5000, failed},
		{"nothing", adminapi.ResultsRequest{Device: "none"}, 0, []string{}},
	}
	for _, tt := range fetches {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := fetchResults(t.Context(), c, tt.req, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(rs); !slices.Equal(got, tt.want) {
				t.Fatalf("fetched %d results (first %v), want %d in received order", len(got), got[:min(3, len(got))], len(tt.want))
			}
		})
	}
	failedOnly := adminapi.ResultsRequest{Status: protocol.StatusFailed}
	t.Run("json is one array", func(t *testing.T) {
		var out bytes.Buffer
		if err := printResults(t.Context(), &out, c, failedOnly, 0, true); err != nil {
			t.Fatal(err)
		}
		var got []jsonview.Result
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("--json output is not one JSON array: %v", err)
		}
		if !slices.Equal(ids(got), failed) || got[0].ConfigName != "nightly" {
			t.Fatalf("printed %d results, first named %q; want %d of nightly", len(got), got[0].ConfigName, len(failed))
		}
	})
	t.Run("json of nothing is an empty array", func(t *testing.T) {
		var out bytes.Buffer
		if err := printResults(t.Context(), &out, c, adminapi.ResultsRequest{Device: "none"}, 0, true); err != nil {
			t.Fatal(err)
		}
		if out.String() != "[]\n" {
			t.Fatalf("printed %q, want []", out.String())
		}
	})
	t.Run("table has a row per result", func(t *testing.T) {
		var out bytes.Buffer
		if err := printResults(t.Context(), &out, c, failedOnly, 0, false); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) != len(failed)+1 || !strings.HasPrefix(lines[0], "RUN ") {
			t.Fatalf("printed %d lines starting %q, want a header and %d rows", len(lines), lines[0], len(failed))
		}
		for i, l := range lines[1:] {
			if f := strings.Fields(l); f[0] != failed[i] || !strings.Contains(l, "nightly v1") || !strings.Contains(l, "line one line two") {
				t.Fatalf("row %d = %q, want %s of nightly v1 on one line", i, l, failed[i])
			}
		}
	})
	refusals := []struct {
		name  string
		req   adminapi.ResultsRequest
		limit int
		want  string
	}{
		{"bad status", adminapi.ResultsRequest{Status: "exploded"}, 0, "--status"},
		{"bad since", adminapi.ResultsRequest{Since: "yesterday"}, 0, "--since"},
		{"negative limit", adminapi.ResultsRequest{}, -1, "--limit"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			for _, asJSON := range []bool{false, true} {
				var out bytes.Buffer
				err := printResults(t.Context(), &out, c, tt.req, tt.limit, asJSON)
				if !errors.Is(err, server.ErrInvalid) || !strings.Contains(err.Error(), tt.want) || out.Len() != 0 {
					t.Fatalf("json=%v: printed %q, %v; want nothing and an invalid request naming %s", asJSON, out.String(), err, tt.want)
				}
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
