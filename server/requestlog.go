package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/protocol"
)

// reqLog is what a request's log line carries beyond what logRequests sees
// itself: the device the request comes from, why it was refused, and
// for a check-in which answer it got.
type reqLog struct {
	device string
	reason string
	answer string
}

type reqLogKey struct{}

// requestLog is the request's log fields, nil outside logRequests.
func requestLog(r *http.Request) *reqLog {
	rl, _ := r.Context().Value(reqLogKey{}).(*reqLog)
	return rl
}

// noteDevice names the device in the request's log line.
func noteDevice(r *http.Request, id string) {
	if rl := requestLog(r); rl != nil {
		rl.device = id
	}
}

// noteAnswer names the kind of check-in answer in the request's log line.
func noteAnswer(r *http.Request, answer string) {
	if rl := requestLog(r); rl != nil {
		rl.answer = answer
	}
}

// logRequests logs one line per device API request, at info: method,
// route, device, status, duration and response bytes, and the reason of a
// refusal. Bodies, tokens and keys are never logged.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rl := &reqLog{}
		r = r.WithContext(context.WithValue(r.Context(), reqLogKey{}, rl))
		cw := &countingWriter{ResponseWriter: w}
		next.ServeHTTP(cw, r)
		if cw.status == 0 {
			cw.status = http.StatusOK
		}
		// The mux sets the pattern it matched on r, the request it was given.
		_, route, _ := strings.Cut(r.Pattern, " ")
		fields := make([]zap.Field, 0, 8)
		fields = append(fields, zap.String("method", protocol.Clip(r.Method, 16)))
		switch {
		case route == "":
			fields = append(fields, zap.String("route", "unmatched"), zap.String("path", protocol.Clip(r.URL.Path, 256)))
		case strings.Contains(route, "{"):
			fields = append(fields, zap.String("route", route), zap.String("path", protocol.Clip(r.URL.Path, 256)))
		default:
			fields = append(fields, zap.String("route", route))
		}
		if rl.device != "" {
			fields = append(fields, zap.String("device", rl.device))
		}
		fields = append(fields, zap.Int("status", cw.status),
			zap.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			zap.Int64("bytes", cw.bytes))
		if rl.reason != "" {
			fields = append(fields, zap.String("reason", rl.reason))
		}
		if rl.answer != "" {
			fields = append(fields, zap.String("answer", rl.answer))
		}
		if route == protocol.PathWake && cw.status == http.StatusNoContent {
			// Every idle agent renews its wake request about once a minute.
			s.Log.Debug("device request", fields...)
			return
		}
		s.Log.Info("device request", fields...)
	})
}

// countingWriter records the status and the size of a response.
type countingWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *countingWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code // 1xx answers precede the final one
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
