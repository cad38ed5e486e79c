package server

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// storeDevice enrolls a device at the store level with a real key.
func storeDevice(t *testing.T, s *Server, id string) (*x509.Certificate, *rsa.PrivateKey) {
	t.Helper()
	cert, key := issueDevice(t, s, id)
	if err := s.Store.CreateDevice(t.Context(), store.Device{ID: id, CertSerial: certSerial(cert), CertNotAfter: cert.NotAfter, EnrolledAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// deviceTLSClient enrolls a device and returns an HTTP client presenting
// its certificate, over HTTP/2 or HTTP/1.1.
func deviceTLSClient(t *testing.T, s *Server, id string, h2 bool) *http.Client {
	t.Helper()
	cert, key := storeDevice(t, s, id)
	roots := x509.NewCertPool()
	roots.AddCert(s.Tenant.CA)
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{
			RootCAs: roots, ServerName: "localhost",
			Certificates: []tls.Certificate{{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}},
		},
		ForceAttemptHTTP2: h2,
		// A small receive buffer, so that the kernel does not take the
		// whole package in while the reader is slow.
		DialContext: (&net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 64<<10) })
			return errors.Join(err, serr)
		}}).DialContext,
	}
	if !h2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// servePackageTenant is a tenant serving one in-house app with a package
// of size bytes to all devices, on loopback, with the given I/O limit.
func servePackageTenant(t *testing.T, size int, limit time.Duration) (s *Server, url, sum string, body []byte) {
	t.Helper()
	s = newTenant(t)
	s.IOTimeout = limit
	body = make([]byte, size)
	copy(body, "xar!")
	rand.Read(body[4:])
	p := filepath.Join(t.TempDir(), "Tools.pkg")
	if err := os.WriteFile(p, body, 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := s.AddApp(t.Context(), AddAppRequest{Name: "Tools", Kind: protocol.AppKindInHouse, PackageID: "com.example.tools", File: p})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DistributeApp(t.Context(), a.ID, []string{"all"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan net.Addr, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.Serve(ctx, "127.0.0.1:0", func(a net.Addr) { addr <- a }); err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	return s, "https://" + (<-addr).String() + appAssetPrefix + a.ID + "/package", a.FileSHA256, body
}

// A package download that a slow link takes longer than the I/O limit to
// read arrives whole, over HTTP/1.1 and HTTP/2: its write deadline grows
// with its size, where the fixed one cut it.
func TestSlowPackageDownloadOutlastsTheIOLimit(t *testing.T) {
	const size = 16 << 20 // beyond what socket buffers and HTTP/2 windows hold
	limit := 200 * time.Millisecond
	s, url, _, want := servePackageTenant(t, size, limit)
	for i, proto := range []string{"HTTP/1.1", "HTTP/2.0"} {
		t.Run(proto, func(t *testing.T) {
			c := deviceTLSClient(t, s, fmt.Sprintf("dev_slow%d", i), proto == "HTTP/2.0")
			resp, err := c.Get(url)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.Proto != proto || resp.StatusCode != http.StatusOK {
				t.Fatalf("%s %d, want %s 200", resp.Proto, resp.StatusCode, proto)
			}
			start := time.Now()
			got := make([]byte, 0, size)
			buf := make([]byte, 64<<10)
			for {
				n, err := resp.Body.Read(buf)
				got = append(got, buf[:n]...)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("after %d of %d bytes in %v: %v", len(got), size, time.Since(start), err)
				}
				time.Sleep(2 * time.Millisecond) // a slow link
			}
			if took := time.Since(start); took < 2*limit {
				t.Fatalf("read in %v: too fast to outlast the %v limit", took, limit)
			}
			if len(got) != size || string(got) != string(want) {
				t.Fatalf("got %d bytes, want the package's %d", len(got), size)
			}
		})
	}
}

// deadlineRecorder records the write deadline a handler sets.
type deadlineRecorder struct {
	*httptest.ResponseRecorder
	write time.Time
}

func (d *deadlineRecorder) SetWriteDeadline(t time.Time) error { d.write = t; return nil }
func (d *deadlineRecorder) SetReadDeadline(time.Time) error    { return nil }

// The deadline follows the bytes the answer sends: a Range answer is
// given the time of its part, an If-Range that no longer matches the time
// of the whole file it then sends.
func TestPackageDeadlineFollowsTheBytesSent(t *testing.T) {
	const size = 1 << 20
	s, url, sum, _ := servePackageTenant(t, size, time.Second)
	cert, _ := storeDevice(t, s, "dev_range")
	tests := []struct {
		name   string
		header map[string]string
		code   int
		sent   int64
	}{
		{"whole file", nil, http.StatusOK, size},
		{"the last quarter", map[string]string{"Range": fmt.Sprintf("bytes=%d-", size*3/4)}, http.StatusPartialContent, size / 4},
		{"resumed with the matching ETag", map[string]string{"Range": fmt.Sprintf("bytes=%d-", size/2), "If-Range": protocol.PackageETag(sum)}, http.StatusPartialContent, size / 2},
		{"the file changed", map[string]string{"Range": fmt.Sprintf("bytes=%d-", size/2), "If-Range": protocol.PackageETag(fmt.Sprintf("%064x", 1))}, http.StatusOK, size},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
			r.TLS = &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{cert}}}
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			w := &deadlineRecorder{ResponseRecorder: httptest.NewRecorder()}
			before := time.Now()
			s.Handler().ServeHTTP(w, r)
			if w.Code != tt.code || int64(w.Body.Len()) != tt.sent {
				t.Fatalf("%d with %d bytes, want %d with %d", w.Code, w.Body.Len(), tt.code, tt.sent)
			}
			if got := w.Header().Get("ETag"); got != protocol.PackageETag(sum) {
				t.Fatalf("ETag %q, want %q", got, protocol.PackageETag(sum))
			}
			lo, hi := before.Add(transferLimit(time.Second, tt.sent)), time.Now().Add(transferLimit(time.Second, tt.sent))
			if w.write.Before(lo) || w.write.After(hi) {
				t.Fatalf("write deadline in %v, want %v (%d bytes)", w.write.Sub(before), transferLimit(time.Second, tt.sent), tt.sent)
			}
		})
	}
}

func TestTransferLimit(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		want time.Duration
	}{
		{0, time.Minute},
		{packageFloorRate, time.Minute + time.Second},
		{8_800_000, time.Minute + 268*time.Second + 554_687_500}, // 8.8 MB: the link at 80 KB/s needs 110 s
	} {
		if got := transferLimit(time.Minute, tt.n); got != tt.want {
			t.Errorf("transferLimit(1m, %d) = %v, want %v", tt.n, got, tt.want)
		}
	}
}
