package server

import (
	"math/rand/v2"
	"net/http"
	"strconv"

	"go.uber.org/zap"
)

// DefaultMaxInFlight is how many device requests are served at once by
// default. A check-in takes a few milliseconds of database work, so this
// covers thousands of check-ins a second; beyond it more concurrency only
// lengthens every request's wait on the one SQLite writer, until agents
// time out and retry on top of the queue.
const DefaultMaxInFlight = 256

// Retry-After bounds, in seconds: jittered so that a fleet told to come
// back does not come back in one burst; agents cap it at 10 s.
const (
	retryAfterMin = 1
	retryAfterMax = 5
)

// limitInFlight answers 503 at once to requests over MaxInFlight, before
// any work: refusing early is what keeps the requests being served fast.
func (s *Server) limitInFlight(next http.Handler) http.Handler {
	n := s.MaxInFlight
	if n <= 0 {
		n = DefaultMaxInFlight
	}
	slots := make(chan struct{}, n)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
			next.ServeHTTP(w, r)
		default:
			s.tooBusy(w, r, "server busy: too many requests in flight, retry later")
		}
	})
}

// overloaded answers a store that cannot take more now (store.ErrBusy):
// 503, not 500, for nothing is wrong that a later retry will not fix.
func (s *Server) overloaded(w http.ResponseWriter, r *http.Request, what string, err error) {
	s.Log.Warn(what+": store busy", zap.String("path", r.URL.Path), zap.Error(err))
	s.tooBusy(w, r, "server busy: the database is saturated, retry later")
}

func (s *Server) tooBusy(w http.ResponseWriter, r *http.Request, msg string) {
	w.Header().Set("Retry-After", strconv.Itoa(retryAfterMin+rand.IntN(retryAfterMax-retryAfterMin+1)))
	s.fail(w, r, http.StatusServiceUnavailable, msg)
}
