package server

import (
	"fmt"
	"math"
	"net/http"
	"strconv"

	"github.com/mobileatwork/mobileatwork/server/addrlimit"
)

// Defaults of EnrollLimit: a technician enrolling Macs one by one, or an
// office behind one address enrolling a batch, passes; guessing tokens
// does not.
const (
	DefaultEnrollPerMinute = 6
	DefaultEnrollBurst     = 20
	// maxEnrollAddrs bounds the addresses remembered at once.
	maxEnrollAddrs = 10000
)

// EnrollLimit bounds the enrollment attempts of each source address: Burst
// at once, then PerMinute a minute. Zero fields take the defaults; a
// negative PerMinute turns the limit off (a lab enrolling a simulated
// fleet from one address). Each server process keeps its own count.
type EnrollLimit struct {
	PerMinute float64
	Burst     int
}

func (s *Server) enrollLimiter() *addrlimit.Limiter {
	s.enrollOnce.Do(func() {
		l := s.EnrollLimit
		if l.PerMinute < 0 {
			return
		}
		if l.PerMinute == 0 {
			l.PerMinute = DefaultEnrollPerMinute
		}
		if l.Burst <= 0 {
			l.Burst = DefaultEnrollBurst
		}
		s.enrollLim = addrlimit.New(l.PerMinute, l.Burst, maxEnrollAddrs)
	})
	return s.enrollLim
}

// enrollAllowed takes one enrollment attempt of the request's address; a
// refusal is answered here: 429 with Retry-After.
func (s *Server) enrollAllowed(w http.ResponseWriter, r *http.Request) bool {
	l := s.enrollLimiter()
	if l == nil {
		return true
	}
	ok, wait := l.Allow(r.RemoteAddr, s.now())
	if ok {
		return true
	}
	secs := max(1, int(math.Ceil(wait.Seconds())))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	s.fail(w, r, http.StatusTooManyRequests, fmt.Sprintf("too many enrollment attempts from this address: retry in %d s", secs))
	return false
}
