package postgres

import (
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/server/store"
	"github.com/mobileatwork/mobileatwork/server/store/postgres/pgtest"
)

// The audit log refuses changes whatever the code path: a statement that
// bypasses the store's methods fails too.
func TestAuditAppendOnly(t *testing.T) {
	s := openTest(t, pgtest.DSN(t), Options{Create: true})
	if _, err := s.AppendAudit(t.Context(), store.AuditEntry{At: time.Now(), Actor: "ada", ActorKind: store.ActorAccount, Action: "config.add"}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`UPDATE audit SET actor = 'mallory'`, `DELETE FROM audit`, `TRUNCATE audit`} {
		if _, err := s.pool.Exec(t.Context(), q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s = %v, want refused as append-only", q, err)
		}
	}
	if es, err := s.AuditLog(t.Context(), store.AuditFilter{}); err != nil || len(es) != 1 || es[0].Actor != "ada" {
		t.Errorf("after the refused statements: %+v, %v", es, err)
	}
}
