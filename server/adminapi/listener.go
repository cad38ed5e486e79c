package adminapi

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/server"
)

// Listener is the admin listener, bound and ready: the API and the web
// console, over TLS with the tenant's server certificate, apart from the
// device API so that it can be bound to an administration network only.
type Listener struct {
	ln net.Listener
	hs *http.Server
}

// Listen binds the admin listener on addr; console serves every path
// outside the API (nil: none).
func Listen(s *server.Server, addr string, console http.Handler) (*Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--admin-listen %s: %w", addr, err)
	}
	hs := &http.Server{
		Handler:           Handler(s, console),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{s.Tenant.TLS}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		// Event streams stay open; each write has its own deadline.
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 32 << 10,
		ErrorLog:       zap.NewStdLog(s.Log.Named("admin-http")),
	}
	return &Listener{ln: ln, hs: hs}, nil
}

// Addr is the address bound.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Serve answers until ctx is done, then shuts down and returns once the
// server has stopped.
func (l *Listener) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- l.hs.ServeTLS(l.ln, "", "") }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := l.hs.Shutdown(shut)
		<-errc
		if err != nil {
			return fmt.Errorf("shut down the admin listener: %w", err)
		}
		return nil
	}
}
