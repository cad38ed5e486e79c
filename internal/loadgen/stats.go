package loadgen

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/mobileatwork/mobileatwork/agent"
)

// Requests a session makes, as reported.
const (
	opCheckin   = "checkin"
	opBlob      = "blob"
	opResults   = "results"
	opInventory = "inventory"
	opVerify    = "verify" // a script that failed verification on the device
)

// Counters of a run besides the requests.
const (
	countResults   = "results"       // results the server accepted
	countReruns    = "reruns"        // due scripts picked by the mix
	countUnchanged = "unchanged"     // check-ins answered "unchanged"
	countStale     = "stale"         // remembered assignments the server no longer has
	countDropped   = "dropped"       // arrivals with every device busy or the generator at its limit
	countBusy      = "busy_skipped"  // arrivals that went to the next device: the chosen one was busy
	countSlow      = "slow_sessions" // sessions over the timeout
)

// recorder collects latencies, errors and counters; it is safe for
// concurrent use.
type recorder struct {
	mu       sync.Mutex
	lat      map[string][]time.Duration // successful requests
	errs     map[string]int64           // "op: kind"
	examples map[string]string          // one message per error key
	counts   map[string]int64
}

func newRecorder() *recorder {
	return &recorder{lat: map[string][]time.Duration{}, errs: map[string]int64{}, examples: map[string]string{}, counts: map[string]int64{}}
}

func (r *recorder) op(name string, d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		r.lat[name] = append(r.lat[name], d)
		return
	}
	key := name + ": " + errorKind(err)
	r.errs[key]++
	if _, ok := r.examples[key]; !ok {
		r.examples[key] = err.Error()
	}
}

func (r *recorder) count(name string, n int) {
	r.mu.Lock()
	r.counts[name] += int64(n)
	r.mu.Unlock()
}

// errorKind names the kind of a failed request: its HTTP status, a
// timeout, TLS, the connection, the answer's verification, or other.
func errorKind(err error) string {
	var he *agent.HTTPError
	var ne net.Error
	var recErr tls.RecordHeaderError
	var alert tls.AlertError
	var verr *tls.CertificateVerificationError
	var uaErr x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invErr x509.CertificateInvalidError
	switch {
	case errors.As(err, &he):
		return fmt.Sprintf("http %d", he.Status)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &recErr), errors.As(err, &alert), errors.As(err, &verr), errors.As(err, &uaErr),
		errors.As(err, &hostErr), errors.As(err, &invErr), errors.Is(err, agent.ErrPinMismatch):
		return "tls"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.EPIPE), errors.Is(err, net.ErrClosed):
		return "connection reset"
	case errors.Is(err, agent.ErrCheckinRefused), errors.Is(err, errNotAcknowledged):
		return "refused answer"
	case errors.Is(err, agent.ErrAnswerTooLarge):
		return "answer too large"
	}
	return "other"
}

// Latency summarises the latencies of one kind of request, in
// milliseconds.
type Latency struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50_ms"`
	P95   float64 `json:"p95_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

// percentile is the nearest-rank percentile q (0-100) of sorted.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(q/100*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

func summarise(ds []time.Duration) Latency {
	s := slices.Clone(ds)
	slices.Sort(s)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	l := Latency{Count: int64(len(s)), P50: ms(percentile(s, 50)), P95: ms(percentile(s, 95)), P99: ms(percentile(s, 99))}
	if len(s) > 0 {
		l.Max = ms(s[len(s)-1])
	}
	return l
}

// snapshot is what the recorder holds now.
type snapshot struct {
	requests map[string]Latency
	errors   map[string]int64
	examples map[string]string
	counts   map[string]int64
}

func (r *recorder) snapshot() snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := snapshot{requests: map[string]Latency{}, errors: map[string]int64{}, examples: map[string]string{}, counts: map[string]int64{}}
	for k, v := range r.lat {
		s.requests[k] = summarise(v)
	}
	for k, v := range r.errs {
		s.errors[k] = v
	}
	for k, v := range r.examples {
		s.examples[k] = v
	}
	for k, v := range r.counts {
		s.counts[k] = v
	}
	return s
}

// checkins is the number of successful check-ins so far.
func (r *recorder) checkins() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return int64(len(r.lat[opCheckin]))
}

func (s snapshot) errorCount() int64 {
	var n int64
	for _, v := range s.errors {
		n += v
	}
	return n
}
