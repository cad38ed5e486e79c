package adminapi

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/accounts"
)

func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc, err := OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the OpenAPI document is not valid: %v", err)
	}
	for _, e := range allRoutes() {
		item := doc.Paths.Find(e.path)
		if item == nil || item.GetOperation(e.method) == nil {
			t.Errorf("%s %s is served but not documented", e.method, e.path)
		}
	}
	n := 0
	for _, item := range doc.Paths.Map() {
		n += len(item.Operations())
	}
	if n != len(allRoutes()) {
		t.Errorf("the document has %d operations, the API serves %d", n, len(allRoutes()))
	}
}

// Every documented route is routed: a request to it never reaches the
// catch-all "no API route" answer.
func TestEveryDocumentedRouteIsServed(t *testing.T) {
	a := newAPI(t)
	for _, e := range allRoutes() {
		if e.stream {
			continue // an event stream stays open: events_test.go serves it
		}
		path := regexp.MustCompile(`\{[a-z_]+\}`).ReplaceAllString(e.path, "nope")
		var body any
		if hasBody(e.method) {
			body = map[string]any{}
		}
		code, b := a.do(accounts.RoleAdmin, e.method, path, body)
		if code == http.StatusNotFound && strings.Contains(string(b), "no API route") {
			t.Errorf("%s %s: not routed", e.method, path)
		}
	}
}

// The role rule holds on every route: a role below the route's class is
// refused with 403 before anything runs, one at or above it is not.
func TestRolesOnEveryRoute(t *testing.T) {
	a := newAPI(t)
	for _, e := range endpoints {
		path := regexp.MustCompile(`\{[a-z_]+\}`).ReplaceAllString(e.path, "nope")
		for _, role := range accounts.Roles {
			var body any
			if hasBody(e.method) {
				body = map[string]any{}
			}
			code, b := a.do(role, e.method, path, body)
			if role.Can(e.class) {
				if code == http.StatusForbidden || code == http.StatusUnauthorized {
					t.Errorf("%s %s as %s: %d %s, want it allowed", e.method, path, role, code, b)
				}
				continue
			}
			var eb Error
			_ = json.Unmarshal(b, &eb)
			if code != http.StatusForbidden || eb.Code != "forbidden" {
				t.Errorf("%s %s as %s: %d %s, want 403 forbidden", e.method, path, role, code, b)
			}
		}
	}
}

func TestUnauthenticatedRequestsAreRefused(t *testing.T) {
	a := newAPI(t)
	for _, e := range endpoints {
		code, b := a.do("", e.method, strings.ReplaceAll(e.path, "{id}", "x"), nil)
		var eb Error
		if json.Unmarshal(b, &eb); code != http.StatusUnauthorized || eb.Code != "unauthenticated" {
			t.Errorf("%s %s without credentials: %d %s, want 401 unauthenticated", e.method, e.path, code, b)
		}
	}
	// A token the server never made is refused the same way.
	a.tokens["bogus"] = "mawat_not_a_token"
	if code, _ := a.do("bogus", http.MethodGet, "/tokens", nil); code != http.StatusUnauthorized {
		t.Errorf("unknown token: %d, want 401", code)
	}
}

// Refusals carry the same sentence and the same sentinel in both modes.
func TestErrorsAreTheSameInBothModes(t *testing.T) {
	a := newAPI(t)
	ctx := context.Background()
	cases := []struct {
		name string
		req  TokenRequest
		want error
	}{
		{"no uses", TokenRequest{Uses: new(0), TTL: "1h"}, server.ErrInvalid},
		{"bad user", TokenRequest{User: "nobody", TTL: "1h"}, server.ErrInvalid},
		{"bad ttl", TokenRequest{TTL: "soon"}, errBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, lerr := Call(ctx, a.local(), CreateToken, tc.req)
			_, rerr := Call(ctx, a.remote(accounts.RoleAdmin), CreateToken, tc.req)
			if lerr == nil || rerr == nil {
				t.Fatalf("local %v, remote %v: want both refused", lerr, rerr)
			}
			if lerr.Error() != rerr.Error() {
				t.Errorf("local says %q, remote %q", lerr, rerr)
			}
			if !errors.Is(lerr, tc.want) || !errors.Is(rerr, tc.want) {
				t.Errorf("local %v, remote %v: want both %v", lerr, rerr, tc.want)
			}
		})
	}
	_, lerr := Call(ctx, a.local(), RevokeToken, IDRequest{ID: "tok_missing"})
	_, rerr := Call(ctx, a.remote(accounts.RoleAdmin), RevokeToken, IDRequest{ID: "tok_missing"})
	if lerr == nil || rerr == nil || lerr.Error() != rerr.Error() || !errors.Is(rerr, server.ErrInvalid) {
		t.Errorf("revoke a missing token: local %v, remote %v; want the same refusal", lerr, rerr)
	}
}

func TestTokensBothWays(t *testing.T) {
	a := newAPI(t)
	ctx := context.Background()
	for name, c := range map[string]Conn{"local": a.local(), "remote": a.remote(accounts.RoleAdmin)} {
		t.Run(name, func(t *testing.T) {
			before, err := All(ctx, c, ListTokens, ListRequest{})
			if err != nil {
				t.Fatal(err)
			}
			made, err := Call(ctx, c, CreateToken, TokenRequest{User: "ada@example.com", Uses: new(2), TTL: "2h"})
			if err != nil || !strings.HasPrefix(made.Token, "maw1") && made.Token == "" {
				t.Fatalf("create: %v %+v", err, made)
			}
			after, err := All(ctx, c, ListTokens, ListRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if len(after) != len(before)+1 {
				t.Fatalf("%d tokens after one was made, %d before", len(after), len(before))
			}
			var id string
			for _, tk := range after {
				if tk.User == "ada@example.com" && tk.UsesLeft == 2 && tk.State == "active" {
					id = tk.ID
				}
			}
			if id == "" {
				t.Fatalf("the new token is not listed: %+v", after)
			}
			got, err := Call(ctx, c, RevokeToken, IDRequest{ID: id})
			if err != nil || got.State != "revoked" {
				t.Fatalf("revoke: %v %+v", err, got)
			}
		})
	}
}

func TestPaging(t *testing.T) {
	a := newAPI(t)
	ctx := context.Background()
	for range 5 {
		if _, err := a.s.CreateToken(ctx, "", 1, 1e12); err != nil {
			t.Fatal(err)
		}
	}
	c := a.remote(accounts.RoleAuditor)
	var seen []string
	req := ListRequest{PageRequest{Limit: 2}}
	for pages := 1; ; pages++ {
		p, err := Call(ctx, c, ListTokens, req)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) > 2 {
			t.Fatalf("page of %d items, limit 2", len(p.Items))
		}
		for _, tk := range p.Items {
			seen = append(seen, tk.ID)
		}
		if p.Next == "" {
			if pages != 3 {
				t.Errorf("%d pages for 5 items by 2", pages)
			}
			break
		}
		req.Cursor = p.Next
	}
	all, err := All(ctx, c, ListTokens, ListRequest{})
	if err != nil || len(all) != 5 || len(seen) != 5 {
		t.Fatalf("All: %d (%v), pages: %d; want 5", len(all), err, len(seen))
	}
	for i := range all {
		if all[i].ID != seen[i] {
			t.Errorf("item %d: %s by pages, %s by All", i, seen[i], all[i].ID)
		}
	}
	for _, bad := range []string{"?limit=0&cursor=x", "?limit=5000", "?limit=-1", "?cursor=-3", "?colour=red"} {
		code, b := a.do(accounts.RoleAuditor, http.MethodGet, "/tokens"+bad, nil)
		var eb Error
		if json.Unmarshal(b, &eb); code != http.StatusBadRequest || eb.Code != "bad_request" || eb.Message == "" {
			t.Errorf("GET /tokens%s: %d %s, want 400 bad_request", bad, code, b)
		}
	}
}

// A remote client trusts the tenant CA by its certificate or its pin, and
// nothing else.
func TestRemoteTrust(t *testing.T) {
	a := newAPI(t)
	ctx := context.Background()
	good := fmt.Sprintf("%x", a.s.Tenant.CAPin())
	bad := fmt.Sprintf("%x", sha256.Sum256([]byte("another CA")))
	cases := []struct {
		name  string
		trust Trust
		want  string
	}{
		{"pinned", Trust{Pin: good}, ""},
		{"another pin", Trust{Pin: bad}, "does not match the tenant CA"},
		{"a short pin", Trust{Pin: "abcd"}, "want the 64 hex digits"},
		{"no trust given", Trust{}, "needs --ca FILE"},
		{"a CA file without a certificate", Trust{CAPEM: []byte("hello")}, "no PEM certificate"},
		{"both", Trust{CAPEM: []byte("x"), Pin: good}, "not both"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewRemote(a.srv.URL, a.tokens[accounts.RoleAuditor], tc.trust)
			if err == nil {
				_, err = All(ctx, Conn(r), ListTokens, ListRequest{})
			}
			if tc.want == "" {
				if err != nil {
					t.Fatalf("list: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
	for _, base := range []string{"http://127.0.0.1:1", "127.0.0.1:8444", "https://host:1/api"} {
		if _, err := NewRemote(base, "t", Trust{Pin: good}); err == nil || !strings.Contains(err.Error(), "want https://HOST:PORT") {
			t.Errorf("NewRemote(%q): %v", base, err)
		}
	}
	if _, err := NewRemote(a.srv.URL, "", Trust{Pin: good}); err == nil || !strings.Contains(err.Error(), "API token") {
		t.Errorf("no token: %v", err)
	}
}
