package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/agent/assets"
	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
	"github.com/mobileatwork/mobileatwork/internal/routines"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// A package download is resumed where a lost connection left it.
const (
	// downloadAttempts bounds the attempts of one DownloadAsset call.
	downloadAttempts = 5
	// Pauses between attempts: downloadRetryBase (Options.DownloadRetryBase)
	// after the first, doubling up to downloadRetryCeil, with jitter
	// (doubling).
	downloadRetryBase = 2 * time.Second
	downloadRetryCeil = 30 * time.Second
	// downloadStall ends an attempt that receives nothing for this long:
	// a slow link keeps going, a dead one does not hold the call.
	downloadStall = time.Minute
	// partialSuffix names the bytes kept between attempts, beside dst.
	partialSuffix = ".partial"
)

var errStalled = errors.New("no data received for " + downloadStall.String())

// errRestart is an answer that cannot continue the kept bytes: they are
// dropped and the next attempt asks for the whole file.
var errRestart = errors.New("the answer does not continue the bytes kept")

// DownloadAsset streams an asset to dst (a PKG can be large) and renames it
// into place, durably, only once the size and SHA-256 of the whole file
// match the signed ones: a refused download leaves nothing at dst. An
// interrupted download is resumed: the bytes received so far are kept in
// dst+".partial" (0600, beside dst in the downloads directory) and the
// next attempt asks for the rest only, with If-Range on the signed digest
// (protocol.PackageETag). The partial goes when the call ends, whatever
// its outcome.
func (a *Agent) DownloadAsset(ctx context.Context, as protocol.Asset, limit int64, dst string) error {
	if err := assets.CheckRef(as, limit); err != nil {
		return err
	}
	part := dst + partialSuffix
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("download %s: %w", as.URL, err)
	}
	pf := atomicfile.Adopt(f)
	defer pf.Abort()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("download %s: %w", as.URL, err)
	}
	base := a.o.DownloadRetryBase
	if base <= 0 {
		base = downloadRetryBase
	}
	for attempt := 1; ; attempt++ {
		err := a.downloadAttempt(ctx, as, f)
		if err == nil {
			break
		}
		if !retryableDownload(err) || attempt == downloadAttempts || ctx.Err() != nil {
			return err
		}
		have, _ := f.Seek(0, io.SeekEnd)
		pause := doubling(base, downloadRetryCeil, attempt)
		a.o.Log.Info("package download interrupted: it resumes", zap.String("url", as.URL), zap.Int64("have", have),
			zap.Int64("size", as.Size), zap.Int("attempt", attempt), zap.Duration("pause", pause), zap.Error(err))
		if !routines.Sleep(ctx, a.o.Clock, pause) {
			return fmt.Errorf("download %s: %w", as.URL, ctx.Err())
		}
	}
	if err := pf.Commit(dst); err != nil {
		return fmt.Errorf("download %s: %w", as.URL, err)
	}
	return nil
}

// retryableDownload tells an interruption (the link, the server busy, an
// answer that cannot continue the kept bytes) from a refusal: a 4xx, or
// bytes that do not match the signed size or digest.
func retryableDownload(err error) bool {
	var he *HTTPError
	switch {
	case errors.Is(err, assets.ErrSize), errors.Is(err, assets.ErrDigest):
		return false
	case errors.As(err, &he):
		return he.Status >= 500 || he.Status == http.StatusTooManyRequests
	}
	return true
}

// downloadAttempt completes f, the partial download of as, and verifies
// the whole of it: the bytes kept are hashed first, then the rest is asked
// for with Range; an answer that is the whole file starts f over.
func (a *Agent) downloadAttempt(ctx context.Context, as protocol.Asset, f *os.File) error {
	have, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("download %s: %w", as.URL, err)
	}
	if have > as.Size {
		if have, err = restart(f); err != nil {
			return fmt.Errorf("download %s: %w", as.URL, err)
		}
	}
	v := assets.NewVerifier(as)
	if _, err := io.Copy(v, io.NewSectionReader(f, 0, have)); err != nil {
		return fmt.Errorf("download %s: read the bytes kept: %w", as.URL, err)
	}
	if have == as.Size {
		return v.Check()
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stall := a.o.Clock.AfterFunc(downloadStall, func() { cancel(errStalled) })
	defer stall.Stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.url(as.URL), nil)
	if err != nil {
		return fmt.Errorf("download %s: %w", as.URL, err)
	}
	if have > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", have))
		req.Header.Set("If-Range", protocol.PackageETag(as.SHA256))
	}
	resp, err := a.api.downloadClient().Do(req)
	if err != nil {
		return fmt.Errorf("download %s: %w", as.URL, stalled(ctx, err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0:
		if err := checkContentRange(resp.Header.Get("Content-Range"), have, as.Size); err != nil {
			restart(f)
			return fmt.Errorf("download %s: %w: %w", as.URL, errRestart, err)
		}
		a.o.Log.Info("package download resumed", zap.String("url", as.URL), zap.Int64("from", have), zap.Int64("size", as.Size))
	case resp.StatusCode == http.StatusOK:
		if have > 0 {
			a.o.Log.Info("package download starts over: the server sent the whole file", zap.String("url", as.URL), zap.Int64("had", have))
			if _, err := restart(f); err != nil {
				return fmt.Errorf("download %s: %w", as.URL, err)
			}
			v = assets.NewVerifier(as)
		}
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		restart(f)
		return fmt.Errorf("download %s: %w: server answered 416", as.URL, errRestart)
	default:
		return fmt.Errorf("download %s: %w", as.URL, readAnswerError(resp))
	}
	// The verifier comes first: a byte past the signed size never reaches
	// the file.
	body := stallReader{r: resp.Body, reset: func() { stall.Reset(downloadStall) }}
	if _, err := io.Copy(io.MultiWriter(v, f), body); err != nil {
		if errors.Is(err, assets.ErrSize) {
			return err
		}
		return fmt.Errorf("download %s: %w", as.URL, stalled(ctx, err))
	}
	return v.Check()
}

// restart empties the partial file.
func restart(f *os.File) (int64, error) {
	if err := f.Truncate(0); err != nil {
		return 0, err
	}
	return f.Seek(0, io.SeekStart)
}

// stalled names the stall when it is what ended the request.
func stalled(ctx context.Context, err error) error {
	if errors.Is(context.Cause(ctx), errStalled) {
		return errStalled
	}
	return err
}

// checkContentRange accepts only "bytes have-(size-1)/size": the rest of
// the signed file, from where the kept bytes end.
func checkContentRange(cr string, have, size int64) error {
	want := fmt.Sprintf("bytes %d-%d/%d", have, size-1, size)
	if strings.TrimSpace(cr) != want {
		return fmt.Errorf("Content-Range %q, want %q", cr, want)
	}
	return nil
}

// stallReader tells the stall timer of each read that brought bytes.
type stallReader struct {
	r     io.Reader
	reset func()
}

func (s stallReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 {
		s.reset()
	}
	return n, err
}
