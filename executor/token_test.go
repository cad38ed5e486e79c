package executor

import (
	"strings"
	"testing"
)

func TestValidToken(t *testing.T) {
	for _, c := range []struct {
		token string
		want  bool
	}{
		{strings.Repeat("0a", 8), true},
		{strings.Repeat("f", 64), true},
		{strings.Repeat("f", 15), false},
		{strings.Repeat("f", 65), false},
		{strings.Repeat("F", 16), false},
		{strings.Repeat("g", 16), false},
		{"", false},
	} {
		if got := validToken(c.token); got != c.want {
			t.Errorf("validToken(%q) = %v, want %v", c.token, got, c.want)
		}
	}
}
