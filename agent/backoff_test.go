package agent

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestJitterStaysWithinTenPercent(t *testing.T) {
	d := 15 * time.Minute
	lo, hi := d-d/10, d+d/10
	seen := map[time.Duration]bool{}
	for i := 0; i < 1000; i++ {
		j := Jitter(d)
		if j < lo || j > hi {
			t.Fatalf("Jitter(%s) = %s, outside ±10%%", d, j)
		}
		seen[j] = true
	}
	if len(seen) < 100 {
		t.Fatalf("jitter produced only %d distinct values: the fleet would check in together", len(seen))
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	interval := 15 * time.Minute
	for failures, ceil := range map[int]time.Duration{1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 20: interval} {
		for i := 0; i < 200; i++ {
			b := backoff(failures, interval)
			if b < ceil/2 || b > ceil {
				t.Fatalf("backoff(%d) = %s, want within [%s, %s]", failures, b, ceil/2, ceil)
			}
		}
	}
}

func TestRequestBackoffHonoursBoundsAndRetryAfter(t *testing.T) {
	min, max := 500*time.Millisecond, 10*time.Second
	for attempt := 0; attempt < 10; attempt++ {
		for i := 0; i < 100; i++ {
			if d := jitterBackoff(min, max, attempt, nil); d < min/2 || d > max+min/2 {
				t.Fatalf("attempt %d: %s outside [%s, %s]", attempt, d, min/2, max+min/2)
			}
		}
	}
	resp := &http.Response{StatusCode: http.StatusServiceUnavailable, Header: http.Header{"Retry-After": []string{"7"}}}
	if d := jitterBackoff(min, max, 0, resp); d != 7*time.Second {
		t.Fatalf("Retry-After 7 gave %s", d)
	}
	for _, ra := range []string{"3600", "86400"} {
		resp.Header.Set("Retry-After", ra)
		if d := jitterBackoff(min, max, 0, resp); d != max {
			t.Fatalf("Retry-After %s gave %s, want the cap %s", ra, d, max)
		}
	}
}

func TestParseInterval(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, true}, {"0", 0, true}, {"0s", 0, true}, {"30s", 30 * time.Second, true}, {"5m", 5 * time.Minute, true},
		{"10s", 10 * time.Second, true},
		{"1ns", 0, false}, {"9s", 0, false}, {"-5m", 0, false}, {"abc", 0, false}, {"10", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseInterval(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseInterval(%q) = %s, %v; want %s, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// After its retries, a 5xx reaches the caller with its status and the
// server's message.
func TestServerErrorKeepsStatusAndMessage(t *testing.T) {
	calls := 0
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"error":"database is locked"}`))
	}))
	defer ts.Close()
	c := newHTTPClient(nil, 1)
	c.Transport.(idleCloser).Client.RetryWaitMin = time.Millisecond
	c.Transport.(idleCloser).Client.RetryWaitMax = time.Millisecond
	_, err := do(context.Background(), c, "GET", ts.URL, nil, 1<<20)
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusInternalServerError || he.Message != "database is locked" {
		t.Fatalf("error = %v; want HTTP 500 with the server's message", err)
	}
	if calls != 2 {
		t.Fatalf("%d calls, want the request and one retry", calls)
	}
}
