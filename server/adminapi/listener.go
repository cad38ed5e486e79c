package adminapi

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/internal/httpserve"
	"github.com/mobileatwork/mobileatwork/server"
)

// Listener is the admin listener, bound and ready: the API and the web
// console, over TLS with the tenant's server certificate, apart from the
// device API so that it can be bound to an administration network only.
type Listener = httpserve.Listener

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
	return httpserve.New(ln, hs, "the admin listener"), nil
}
