package adminapi

import (
	"net/http"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/mobileatwork/mobileatwork/server/accounts"
)

// Every API request leaves one line: route, status, caller; never the
// token it carried.
func TestAccessLog(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	a := newAPI(t)
	a.s.Log = zap.New(core)
	a.srv.Config.Handler = Handler(a.s, nil)
	a.do(accounts.RoleAuditor, http.MethodGet, "/tokens", nil)
	a.do(accounts.RoleAuditor, http.MethodPost, "/tokens", map[string]any{})
	a.do("", http.MethodGet, "/nowhere", nil)
	type line struct {
		route  string
		status int64
		actor  string
	}
	var got []line
	for _, e := range logs.FilterMessage("admin request").All() {
		f := e.ContextMap()
		got = append(got, line{f["route"].(string), f["status"].(int64), f["actor"].(string)})
		for _, v := range f {
			if s, ok := v.(string); ok && strings.Contains(s, a.tokens[accounts.RoleAuditor]) {
				t.Errorf("a log line holds the token: %v", f)
			}
		}
	}
	want := []line{{"/api/v1/tokens", 200, "test-auditor"}, {"/api/v1/tokens", 403, "test-auditor"}, {"/api/v1/", 404, ""}}
	if len(got) != len(want) {
		t.Fatalf("lines %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}
