package agent

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// A device clock that runs slow still takes the answer to its own request
// (the nonce proves it fresh); one that runs past the answer's expiry does
// not.
func TestCheckinWithSkewedClock(t *testing.T) {
	tests := []struct {
		name    string
		skew    time.Duration
		refused bool
	}{
		{name: "on time"},
		{name: "ten minutes slow", skew: -10 * time.Minute},
		{name: "five hours slow", skew: -5 * time.Hour},
		{name: "past the expiry", skew: 10 * time.Minute, refused: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			a := e.agent(t, Options{Clock: clockwork.NewFakeClockAt(time.Now().Add(tt.skew))})
			_, err := a.Checkin(context.Background())
			if tt.refused {
				if !errors.Is(err, ErrCheckinRefused) {
					t.Fatalf("check-in: %v, want ErrCheckinRefused", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("check-in with the clock %s off: %v", tt.skew, err)
			}
		})
	}
}
