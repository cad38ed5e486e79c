package agent

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/mobileatwork/mobileatwork/agent/assets"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// Answers of a test server to one package request.
type fileAnswer func(t *testing.T, w http.ResponseWriter, r *http.Request, body []byte)

// serveRight answers as the tenant server does: ETag, Range, If-Range.
func serveRight(_ *testing.T, w http.ResponseWriter, r *http.Request, body []byte) {
	w.Header().Set("ETag", protocol.PackageETag(protocol.SHA256Hex(body)))
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// cutAfter sends the first k bytes of content (the package, or what
// replaces it) announced whole, then drops the connection.
func cutAfter(k int, content func([]byte) []byte) fileAnswer {
	return func(_ *testing.T, w http.ResponseWriter, _ *http.Request, body []byte) {
		b := content(body)
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(http.StatusOK)
		w.Write(b[:k])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
}

func same(b []byte) []byte { return b }

// sendWhole ignores Range and sends the whole file with 200.
func sendWhole(_ *testing.T, w http.ResponseWriter, _ *http.Request, body []byte) {
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}

// partFrom answers 206 with the bytes from start, whatever was asked.
func partFrom(start int) fileAnswer {
	return func(_ *testing.T, w http.ResponseWriter, _ *http.Request, body []byte) {
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, len(body)-1, len(body)))
		w.Header().Set("Content-Length", strconv.Itoa(len(body)-start))
		w.WriteHeader(http.StatusPartialContent)
		w.Write(body[start:])
	}
}

func busy(_ *testing.T, w http.ResponseWriter, _ *http.Request, _ []byte) {
	http.Error(w, `{"error":"busy"}`, http.StatusServiceUnavailable)
}

func notFound(_ *testing.T, w http.ResponseWriter, _ *http.Request, _ []byte) {
	http.Error(w, `{"error":"no such app for this device"}`, http.StatusNotFound)
}

// An interrupted package download resumes with Range where the kept bytes
// end, and what reaches dst is the verified whole file or nothing.
func TestDownloadAssetResumes(t *testing.T) {
	const size, k = 256 << 10, 100_000
	body := make([]byte, size)
	for i := range body {
		body[i] = byte(i * 7)
	}
	flipped := func(b []byte) []byte { c := bytes.Clone(b); c[10] ^= 1; return c }
	resume := fmt.Sprintf("bytes=%d-", k)
	tests := []struct {
		name    string
		answers []fileAnswer
		ranges  []string // the Range header of each request
		err     error    // nil: dst holds the package
	}{
		{"cut mid-body, resumed", []fileAnswer{cutAfter(k, same), serveRight}, []string{"", resume}, nil},
		{"the server sends the whole file to the Range request", []fileAnswer{cutAfter(k, same), sendWhole}, []string{"", resume}, nil},
		{"kept bytes that are wrong are refused", []fileAnswer{cutAfter(k, flipped), serveRight}, []string{"", resume}, assets.ErrDigest},
		{"a Content-Range not where the kept bytes end starts over", []fileAnswer{cutAfter(k, same), partFrom(k - 1), serveRight}, []string{"", resume, ""}, nil},
		{"a refusal is not retried", []fileAnswer{notFound}, []string{""}, &HTTPError{Status: http.StatusNotFound}},
		{"the attempts run out", []fileAnswer{cutAfter(k, same), busy, busy, busy, busy},
			[]string{"", resume, resume, resume, resume}, errors.New("any")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			var mu sync.Mutex
			var ranges, ifRanges []string
			e.mu.Lock()
			e.files = func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				n := len(ranges)
				ranges, ifRanges = append(ranges, r.Header.Get("Range")), append(ifRanges, r.Header.Get("If-Range"))
				mu.Unlock()
				if n >= len(tt.answers) {
					t.Errorf("request %d: only %d expected", n+1, len(tt.answers))
					http.Error(w, "", http.StatusGone)
					return
				}
				tt.answers[n](t, w, r, body)
			}
			e.mu.Unlock()
			a := e.agent(t, Options{DownloadRetryBase: time.Millisecond})
			dir := filepath.Join(e.state, "downloads")
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(dir, "tools.pkg")
			as := protocol.Asset{URL: "/v1/apps/app_tools/package", SHA256: protocol.SHA256Hex(body), Size: size}
			err := a.DownloadAsset(t.Context(), as, 1<<30, dst)

			mu.Lock()
			defer mu.Unlock()
			if fmt.Sprint(ranges) != fmt.Sprint(tt.ranges) {
				t.Errorf("Range headers %q, want %q", ranges, tt.ranges)
			}
			for i, r := range ranges {
				if r != "" && ifRanges[i] != protocol.PackageETag(as.SHA256) {
					t.Errorf("request %d: If-Range %q, want the signed digest", i+1, ifRanges[i])
				}
			}
			if _, serr := os.Stat(dst + partialSuffix); !errors.Is(serr, os.ErrNotExist) {
				t.Errorf("the partial file is left: %v", serr)
			}
			got, rerr := os.ReadFile(dst)
			if tt.err == nil {
				if err != nil || rerr != nil || !bytes.Equal(got, body) {
					t.Fatalf("DownloadAsset = %v; dst %d bytes (%v), want the package's %d", err, len(got), rerr, size)
				}
				return
			}
			var he *HTTPError
			switch want := tt.err.(type) {
			case *HTTPError:
				if !errors.As(err, &he) || he.Status != want.Status {
					t.Errorf("DownloadAsset = %v, want %v", err, want)
				}
			default:
				if err == nil || (errors.Is(tt.err, assets.ErrDigest) && !errors.Is(err, assets.ErrDigest)) {
					t.Errorf("DownloadAsset = %v, want %v", err, tt.err)
				}
			}
			if !errors.Is(rerr, os.ErrNotExist) {
				t.Errorf("a refused download reached dst: %d bytes, %v", len(got), rerr)
			}
		})
	}
}

// An attempt that receives nothing for downloadStall ends, on the agent's
// clock, and the next one resumes from the bytes kept.
func TestDownloadAssetStall(t *testing.T) {
	const size, k = 64 << 10, 10_000
	body := bytes.Repeat([]byte("pkg"), size/3+1)[:size]
	e := newTestEnv(t)
	sent := make(chan struct{})
	var mu sync.Mutex
	var ranges []string
	e.mu.Lock()
	e.files = func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ranges = append(ranges, r.Header.Get("Range"))
		n := len(ranges)
		mu.Unlock()
		if n > 1 {
			serveRight(t, w, r, body)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(size))
		w.Write(body[:k])
		w.(http.Flusher).Flush()
		close(sent)
		<-r.Context().Done() // the link goes quiet
	}
	e.mu.Unlock()
	clock := clockwork.NewFakeClock()
	a := e.agent(t, Options{Clock: clock, DownloadRetryBase: time.Second})
	dst := filepath.Join(t.TempDir(), "tools.pkg")
	done := make(chan error, 1)
	go func() {
		done <- a.DownloadAsset(t.Context(), protocol.Asset{URL: "/v1/apps/app_tools/package", SHA256: protocol.SHA256Hex(body), Size: size}, 1<<30, dst)
	}()
	<-sent
	for fi, err := os.Stat(dst + partialSuffix); err != nil || fi.Size() < k; fi, err = os.Stat(dst + partialSuffix) {
		time.Sleep(time.Millisecond) // until the agent has kept what was sent
	}
	clock.Advance(downloadStall)
	if err := clock.BlockUntilContext(t.Context(), 1); err != nil { // the pause before the next attempt
		t.Fatal(err)
	}
	clock.Advance(downloadRetryCeil)
	if err := <-done; err != nil {
		t.Fatalf("DownloadAsset = %v", err)
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, body) {
		t.Fatalf("dst holds %d bytes, want the package's %d", len(got), size)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := fmt.Sprintf("[ bytes=%d-]", k); fmt.Sprint(ranges) != want {
		t.Fatalf("Range headers %q, want %s", ranges, want)
	}
}
