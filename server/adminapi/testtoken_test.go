package adminapi

import (
	"testing"

	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/accounts"
)

// testToken is an API token of role on s.
func testToken(t *testing.T, s *server.Server, role accounts.Role) string {
	secret := "mawat_test_" + string(role)
	server.ShimTokens[secret] = server.Actor{Name: "token-" + string(role), Kind: "token", Role: role}
	return secret
}
