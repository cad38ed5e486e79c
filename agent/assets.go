package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/mobileatwork/mobileatwork/agent/assets"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// FetchAsset downloads an asset of the signed check-in response over the
// device's mutual TLS and returns it only if its size and SHA-256 match; an
// asset with a content type of image/* must also sniff as PNG or JPEG.
// limit bounds the download whatever the asset claims.
func (a *Agent) FetchAsset(ctx context.Context, as protocol.Asset, limit int64) ([]byte, error) {
	var buf memWriter
	if err := a.fetchAsset(ctx, as, limit, &buf); err != nil {
		return nil, err
	}
	if err := assets.Verify(as, buf.b, isImage(as)); err != nil {
		return nil, err
	}
	return buf.b, nil
}

// fetchAsset copies the verified body of as into w.
func (a *Agent) fetchAsset(ctx context.Context, as protocol.Asset, limit int64, w io.Writer) error {
	if err := assets.CheckRef(as, limit); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.url(as.URL), nil)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", as.URL, err)
	}
	resp, err := a.api.httpClient().Do(req)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", as.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch %s: %w", as.URL, readAnswerError(resp))
	}
	v := assets.NewVerifier(as)
	// One byte past the signed size is enough to prove a mismatch.
	if _, err := io.Copy(io.MultiWriter(v, w), io.LimitReader(resp.Body, as.Size+1)); err != nil {
		if errors.Is(err, assets.ErrSize) {
			return err
		}
		return fmt.Errorf("fetch %s: %w", as.URL, err)
	}
	return v.Check()
}

func isImage(as protocol.Asset) bool {
	return strings.HasPrefix(as.ContentType, "image/")
}

type memWriter struct{ b []byte }

func (m *memWriter) Write(p []byte) (int, error) { m.b = append(m.b, p...); return len(p), nil }
