package server

import (
	"net/http"
	"strconv"
	"time"
)

// DefaultIOTimeout bounds reading a device's request and writing its
// answer. A package download is given more (packageDeadline).
const DefaultIOTimeout = 60 * time.Second

// packageFloorRate is the slowest link a package download is given time
// for: past the base limit, the bytes it sends at this rate. 8.8 MB at
// 80 KB/s, which the fixed limit cut, fits well within it.
const packageFloorRate = 32 << 10 // bytes per second

func (s *Server) ioTimeout() time.Duration {
	if s.IOTimeout > 0 {
		return s.IOTimeout
	}
	return DefaultIOTimeout
}

// transferLimit is how long sending n bytes may take: the base limit plus
// n bytes at the floor rate.
func transferLimit(base time.Duration, n int64) time.Duration {
	return base + time.Duration(n)*time.Second/packageFloorRate
}

// packageDeadline extends the write deadline of one response, over
// HTTP/1 and HTTP/2 alike, once its length is known: at WriteHeader, from
// the Content-Length http.ServeContent settled on, so a Range answer gets
// the time of the bytes it sends, not of the whole file.
type packageDeadline struct {
	http.ResponseWriter
	base    time.Duration
	started bool
}

func (w *packageDeadline) WriteHeader(code int) {
	if !w.started {
		w.started = true
		if n, err := strconv.ParseInt(w.Header().Get("Content-Length"), 10, 64); err == nil && n > 0 {
			// Socket deadlines are wall-clock times, whatever Server.Now says.
			dl := time.Now().Add(transferLimit(w.base, n))
			rc := http.NewResponseController(w.ResponseWriter)
			rc.SetWriteDeadline(dl)
			// Over HTTP/1 the request's read deadline ends the request's
			// context when it passes: it goes with the write deadline.
			rc.SetReadDeadline(dl)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *packageDeadline) Write(b []byte) (int, error) {
	if !w.started {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *packageDeadline) Unwrap() http.ResponseWriter { return w.ResponseWriter }
