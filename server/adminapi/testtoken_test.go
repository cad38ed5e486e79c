package adminapi

import (
	"context"
	"testing"

	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/accounts"
)

// testToken is a new API token of role on s.
func testToken(t *testing.T, s *server.Server, role accounts.Role) string {
	t.Helper()
	secret, _, err := s.CreateAPIToken(context.Background(), "test-"+string(role), role, 0)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}
