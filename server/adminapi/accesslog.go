package adminapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/protocol"
)

// access is what a request's log line learns while it is served: who
// made it.
type access struct{ actor string }

type accessKey struct{}

// noteActor names the caller in the request's log line.
func noteActor(r *http.Request, name string) {
	if a, ok := r.Context().Value(accessKey{}).(*access); ok {
		a.actor = name
	}
}

// statusWriter keeps the status of an answer; Unwrap lets
// http.ResponseController reach the connection (event streams flush).
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logAccess logs one line per API request: method, route, status, caller,
// source and duration. Bodies, passwords, tokens and cookies never are.
// The console's files are not logged.
func logAccess(log *zap.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, Prefix+"/") {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		a := &access{}
		r = r.WithContext(context.WithValue(r.Context(), accessKey{}, a))
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		route := r.Pattern // "GET /api/v1/tokens", or a pattern without method
		if _, path, ok := strings.Cut(route, " "); ok {
			route = path
		}
		if route == "" {
			route = "unmatched"
		}
		log.Info("admin request",
			zap.String("method", protocol.Clip(r.Method, 16)), zap.String("route", route),
			zap.String("path", protocol.Clip(r.URL.Path, 256)), zap.Int("status", sw.status),
			zap.String("actor", a.actor), zap.String("source", sourceOf(r)),
			zap.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000))
	})
}
