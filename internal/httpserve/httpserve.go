// Package httpserve runs an HTTPS server on a bound listener until its
// context ends, for the server's listeners beside the device API.
package httpserve

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Listener is an http.Server and the listener it serves TLS on.
type Listener struct {
	ln   net.Listener
	hs   *http.Server
	name string // for errors: "the admin listener"
}

// New pairs hs with ln; hs carries its TLS configuration.
func New(ln net.Listener, hs *http.Server, name string) *Listener {
	return &Listener{ln: ln, hs: hs, name: name}
}

// Addr is the address bound.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Serve answers until ctx is done, then shuts down gracefully and returns
// once the server has stopped.
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
			return fmt.Errorf("shut down %s: %w", l.name, err)
		}
		return nil
	}
}
