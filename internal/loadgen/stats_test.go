package loadgen

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/agent"
)

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestErrorKind(t *testing.T) {
	wrap := func(err error) error { return &url.Error{Op: "Post", URL: "https://x/v1/checkin", Err: err} }
	for _, tt := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("check in with x: %w", &agent.HTTPError{Status: 503, Message: "busy"}), "http 503"},
		{&agent.HTTPError{Status: 429}, "http 429"},
		{wrap(context.DeadlineExceeded), "timeout"},
		{wrap(timeoutErr{}), "timeout"},
		{wrap(context.Canceled), "canceled"},
		{wrap(tls.AlertError(42)), "tls"},
		{wrap(&tls.CertificateVerificationError{Err: errors.New("bad")}), "tls"},
		{wrap(&net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), "connection refused"},
		{wrap(&net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}), "connection reset"},
		{wrap(io.EOF), "connection reset"},
		{fmt.Errorf("%w: bad signature", agent.ErrCheckinRefused), "refused answer"},
		{fmt.Errorf("%w: 1 of 2", errNotAcknowledged), "refused answer"},
		{fmt.Errorf("x: %w", agent.ErrAnswerTooLarge), "answer too large"},
		{errors.New("something else"), "other"},
	} {
		if got := errorKind(tt.err); got != tt.want {
			t.Errorf("errorKind(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestPercentile(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		out := make([]time.Duration, len(n))
		for i, v := range n {
			out[i] = time.Duration(v) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	for _, tt := range []struct {
		name   string
		sorted []time.Duration
		q      float64
		want   time.Duration
	}{
		{"empty", nil, 99, 0},
		{"one", ms(7), 50, 7 * time.Millisecond},
		{"median of four", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p99 of 1..100", ms(hundred...), 99, 99 * time.Millisecond},
		{"p100", ms(hundred...), 100, 100 * time.Millisecond},
		{"p0", ms(1, 2), 0, 1 * time.Millisecond},
	} {
		if got := percentile(tt.sorted, tt.q); got != tt.want {
			t.Errorf("%s: percentile = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestRecorderCountsErrorsByKindWithOneExample(t *testing.T) {
	r := newRecorder()
	r.op(opCheckin, 10*time.Millisecond, nil)
	r.op(opCheckin, 30*time.Millisecond, nil)
	r.op(opCheckin, 0, &agent.HTTPError{Status: 503, Message: "first"})
	r.op(opCheckin, 0, &agent.HTTPError{Status: 503, Message: "second"})
	r.op(opBlob, 0, context.DeadlineExceeded)
	s := r.snapshot()
	if s.requests[opCheckin].Count != 2 || s.requests[opCheckin].Max != 30 {
		t.Errorf("check-ins = %+v, want 2 with max 30 ms", s.requests[opCheckin])
	}
	if s.errors["checkin: http 503"] != 2 || s.errors["blob: timeout"] != 1 || s.errorCount() != 3 {
		t.Errorf("errors = %v", s.errors)
	}
	if ex := s.examples["checkin: http 503"]; ex != "server answered 503: first" {
		t.Errorf("example = %q, want the first", ex)
	}
}
