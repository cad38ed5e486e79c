package protocol

import (
	"errors"
	"testing"
)

func TestCheckRunAs(t *testing.T) {
	for _, tt := range []struct {
		runAs string
		ok    bool
	}{
		{RunAsRoot, true},
		{RunAsConsoleUser, true},
		{"", false},
		{"Root", false},
		{"admin", false},
		{"console_user ", false},
	} {
		err := CheckRunAs(tt.runAs)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrUnknownRunAs)) {
			t.Errorf("CheckRunAs(%q) = %v, want ok %v", tt.runAs, err, tt.ok)
		}
	}
}
