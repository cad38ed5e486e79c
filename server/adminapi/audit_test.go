package adminapi

import (
	"context"
	"net/http"
	"testing"
)

// A change through the API is recorded under the API token that made it,
// with the caller's address; the log pages from the newest entry back.
func TestAuditThroughTheAPI(t *testing.T) {
	a := newAPI(t)
	ctx := context.Background()
	admin := a.remote("admin")
	for range 5 {
		if _, err := Call(ctx, admin, CreateToken, TokenRequest{TTL: "1h"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Call(ctx, a.local(), CreateToken, TokenRequest{TTL: "1h"}); err != nil {
		t.Fatal(err)
	}
	all, err := All(ctx, a.remote("auditor"), ListAudit, AuditRequest{Action: "token."})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 6 {
		t.Fatalf("%d token entries, want 6: %+v", len(all), all)
	}
	if e := all[0]; e.Actor != "local:test" || e.ActorKind != "local" || e.Source != "cli" {
		t.Errorf("newest entry %+v, want the local one first", e)
	}
	for _, e := range all[1:] {
		if e.Actor != "test-admin" || e.ActorKind != "token" || e.Role != "admin" || e.Source != "127.0.0.1" || e.Action != "token.create" {
			t.Errorf("entry %+v, want token.create by the test-admin token from 127.0.0.1", e)
		}
	}
	// Pages of two, newest first, with no entry lost or repeated even when
	// entries are appended between pages.
	var seen []int64
	req := AuditRequest{PageRequest: PageRequest{Limit: 2}, Action: "token."}
	for {
		p, err := Call(ctx, a.remote("auditor"), ListAudit, req)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Items {
			seen = append(seen, e.Seq)
		}
		if len(seen) == 2 {
			if _, err := Call(ctx, admin, CreateToken, TokenRequest{TTL: "1h"}); err != nil {
				t.Fatal(err)
			}
		}
		if p.Next == "" {
			break
		}
		req.Cursor = p.Next
	}
	if len(seen) != 6 {
		t.Fatalf("paged %d entries, want the 6 there were at the first page", len(seen))
	}
	for i := range seen {
		if seen[i] != all[i].Seq {
			t.Errorf("page entry %d is seq %d, want %d", i, seen[i], all[i].Seq)
		}
	}
	for _, bad := range []string{"?cursor=abc", "?cursor=0", "?limit=1001", "?since=yesterday"} {
		code, body := a.do("auditor", http.MethodGet, "/audit"+bad, nil)
		if code != http.StatusBadRequest {
			t.Errorf("GET /audit%s: %d %s, want 400", bad, code, body)
		}
	}
	// Reading the log is not a change: it records nothing.
	after, err := All(ctx, a.local(), ListAudit, AuditRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range after {
		if e.Action == "audit.list" {
			t.Errorf("reading the log was recorded: %+v", e)
		}
	}
}
