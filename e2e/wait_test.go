package e2e

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// pollEvery is how often waitFor looks again: often enough that a test
// does not wait long after the condition holds, rarely enough to leave the
// machine to the processes under test.
const pollEvery = 20 * time.Millisecond

// errNotYet is what poll reports when the condition never held and never
// failed.
var errNotYet = errors.New("condition never held")

// poll calls cond until it holds or timeout has passed. It returns nil once
// cond holds, or an error carrying cond's last error (a condition that
// errs is called again: what fails now may hold later).
func poll(timeout time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		ok, err := cond()
		if err == nil && ok {
			return nil
		}
		if err != nil {
			last = err
		}
		if !time.Now().Before(deadline) {
			break
		}
		time.Sleep(pollEvery)
	}
	if last == nil {
		last = errNotYet
	}
	return fmt.Errorf("not within %s: %w", timeout, last)
}

// waitFor is how these tests wait for anything: it polls cond, and fails
// the test naming what was awaited and cond's last error.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	if err := poll(timeout, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

func TestPoll(t *testing.T) {
	t.Parallel()
	errBusy := errors.New("server busy")
	tests := []struct {
		name    string
		results []error // one per call; nil holds, errNotYet is (false, nil); the last repeats
		wantErr string  // "" when the wait succeeds
	}{
		{"holds at once", []error{nil}, ""},
		{"holds after errors", []error{errBusy, errNotYet, nil}, ""},
		{"never holds", []error{errNotYet}, "condition never held"},
		{"last error named", []error{errBusy, errNotYet}, "server busy"},
		{"newest error named", []error{errors.New("first"), errBusy}, "server busy"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			calls := 0
			err := poll(5*pollEvery, func() (bool, error) {
				r := tc.results[min(calls, len(tc.results)-1)]
				calls++
				switch r {
				case nil:
					return true, nil
				case errNotYet:
					return false, nil
				}
				return false, r
			})
			if tc.wantErr == "" {
				if err != nil || calls != len(tc.results) {
					t.Fatalf("poll = %v after %d calls, want nil after %d", err, calls, len(tc.results))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), fmt.Sprint(5*pollEvery)) {
				t.Fatalf("poll = %v, want an error naming %q and the timeout", err, tc.wantErr)
			}
			if calls < 2 {
				t.Fatalf("poll gave up after %d call(s): it must look again until the timeout", calls)
			}
		})
	}
}
