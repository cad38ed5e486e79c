package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/internal/httpserve"
	"github.com/mobileatwork/mobileatwork/internal/version"
	"github.com/mobileatwork/mobileatwork/packaging/xar"
	"github.com/mobileatwork/mobileatwork/server/linkpage"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// PackageName is the file a download link serves.
const PackageName = "MobileAtWork.pkg"

// maxBuilds bounds the packages built at once, whatever the number of
// links asked for at the same moment.
const maxBuilds = 2

// EnrollOptions configure the public enrollment listener.
type EnrollOptions struct {
	// Cert is the listener's certificate; nil serves the tenant's server
	// certificate.
	Cert *tls.Certificate
	// AgentDir holds the thin darwin executables (AgentARM64, AgentAMD64);
	// empty: no package can be built, and pages say so.
	AgentDir string
	// Version is the agent version written into packages; empty is the
	// server's.
	Version string
	// Signer signs the packages as productsign does; nil leaves them unsigned.
	Signer *xar.Signer
}

// LinkHandler answers download links: GET /e/SECRET, the page, and GET
// /e/SECRET/MobileAtWork.pkg, the package, built at a link's first
// download. It is a separate handler from the device API's, with nothing
// of it: no client certificates, no admin operation.
type LinkHandler struct {
	s   *Server
	o   EnrollOptions
	mux *http.ServeMux

	// One build per link at a time: later callers wait for the first.
	mu     sync.Mutex
	builds map[string]*linkBuild
	slots  chan struct{} // maxBuilds
}

type linkBuild struct {
	done chan struct{}
	link store.Link
	err  error
}

// NewLinkHandler returns the enrollment listener's handler.
func (s *Server) NewLinkHandler(o EnrollOptions) *LinkHandler {
	if o.Version == "" {
		o.Version = version.Version
	}
	h := &LinkHandler{s: s, o: o, mux: http.NewServeMux(), builds: map[string]*linkBuild{}, slots: make(chan struct{}, maxBuilds)}
	h.mux.HandleFunc("GET /e/{secret}", h.page)
	h.mux.HandleFunc("GET /e/{secret}/"+PackageName, h.download)
	h.mux.HandleFunc("GET "+linkpage.CSSPath, linkpage.ServeCSS)
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { h.write(w, r, http.StatusNotFound, linkpage.Unknown) })
	return h
}

func (h *LinkHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func (h *LinkHandler) write(w http.ResponseWriter, r *http.Request, status int, state string) {
	if err := linkpage.Write(w, status, linkpage.For(state, h.s.Tenant.Name)); err != nil {
		h.s.Log.Debug("write link page", zap.Error(err))
	}
}

// lookup finds the link of the request's secret; false (and a 404 answered,
// the same for any unknown address) when there is none.
func (h *LinkHandler) lookup(w http.ResponseWriter, r *http.Request) (store.Link, bool) {
	secret := r.PathValue("secret")
	if len(secret) != linkSecretLen {
		h.write(w, r, http.StatusNotFound, linkpage.Unknown)
		return store.Link{}, false
	}
	l, err := h.s.Store.LinkByHash(r.Context(), linkHash(secret))
	if errors.Is(err, store.ErrNotFound) {
		h.write(w, r, http.StatusNotFound, linkpage.Unknown)
		return store.Link{}, false
	}
	if err != nil {
		h.s.Log.Error("read download link", zap.Error(err))
		h.write(w, r, http.StatusServiceUnavailable, linkpage.Unavailable)
		return store.Link{}, false
	}
	return l, true
}

func (h *LinkHandler) page(w http.ResponseWriter, r *http.Request) {
	l, ok := h.lookup(w, r)
	if !ok {
		return
	}
	state := l.State(h.s.now())
	if state != store.LinkActive {
		h.write(w, r, http.StatusGone, state)
		return
	}
	if h.o.AgentDir == "" && l.PackageSHA256 == "" {
		h.s.Log.Warn("download link page: no package can be built, serve has no --agent-dir", zap.String("link", l.ID))
		h.write(w, r, http.StatusServiceUnavailable, linkpage.Unavailable)
		return
	}
	p := linkpage.For(linkpage.Active, h.s.Tenant.Name)
	p.Download = "/e/" + r.PathValue("secret") + "/" + PackageName
	p.SHA256 = l.PackageSHA256
	if err := linkpage.Write(w, http.StatusOK, p); err != nil {
		h.s.Log.Debug("write link page", zap.Error(err))
	}
}

func (h *LinkHandler) download(w http.ResponseWriter, r *http.Request) {
	l, ok := h.lookup(w, r)
	if !ok {
		return
	}
	if state := l.State(h.s.now()); state != store.LinkActive {
		h.write(w, r, http.StatusGone, state)
		return
	}
	if r.Method == http.MethodHead {
		// A link checker or a mail scanner looking: no build, no use taken.
		linkpage.SetHeaders(w.Header())
		w.Header().Set("Content-Type", "application/octet-stream")
		w.WriteHeader(http.StatusOK)
		return
	}
	l, err := h.packageOf(r.Context(), l)
	if err != nil {
		h.s.Log.Error("build the package of a download link", zap.String("link", l.ID), zap.Error(err))
		h.write(w, r, http.StatusServiceUnavailable, linkpage.Unavailable)
		return
	}
	if l, err = h.s.Store.CountLinkDownload(r.Context(), l.ID, h.s.now()); err != nil {
		if state := store.RefusedState(err); state != "" {
			h.write(w, r, http.StatusGone, state)
			return
		}
		h.s.Log.Error("count a download", zap.String("link", l.ID), zap.Error(err))
		h.write(w, r, http.StatusServiceUnavailable, linkpage.Unavailable)
		return
	}
	b, err := h.s.Files.Open(l.PackageSHA256)
	if err != nil {
		h.s.Log.Error("open the package of a download link", zap.String("link", l.ID), zap.Error(err))
		h.write(w, r, http.StatusServiceUnavailable, linkpage.Unavailable)
		return
	}
	defer b.Close()
	h.s.Log.Info("download link used", zap.String("link", l.ID), zap.Int("downloads", l.Downloads), zap.Int("uses", l.Uses))
	linkpage.SetHeaders(w.Header())
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+PackageName+`"`)
	w.Header().Set("Content-Length", strconv.FormatInt(b.Size(), 10))
	if _, err := io.Copy(w, b); err != nil {
		h.s.Log.Debug("send package", zap.String("link", l.ID), zap.Error(err))
	}
}

// packageOf returns the link with its package, building it at the first
// download. Concurrent first downloads of a link wait for one build, and
// at most maxBuilds run at once; the build goes on when its first caller
// leaves, so the ones waiting get it.
func (h *LinkHandler) packageOf(ctx context.Context, l store.Link) (store.Link, error) {
	if l.PackageSHA256 != "" {
		return l, nil
	}
	h.mu.Lock()
	b, waiting := h.builds[l.ID]
	if !waiting {
		b = &linkBuild{done: make(chan struct{})}
		h.builds[l.ID] = b
	}
	h.mu.Unlock()
	if !waiting {
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
		b.link, b.err = h.build(bctx, l)
		cancel()
		h.mu.Lock()
		delete(h.builds, l.ID)
		h.mu.Unlock()
		close(b.done)
	}
	select {
	case <-b.done:
		return b.link, b.err
	case <-ctx.Done():
		return l, ctx.Err()
	}
}

// build makes and keeps the link's package, unless the link has one by
// now (built by another replica, or by a build that just ended).
func (h *LinkHandler) build(ctx context.Context, l store.Link) (store.Link, error) {
	select {
	case h.slots <- struct{}{}:
		defer func() { <-h.slots }()
	case <-ctx.Done():
		return l, ctx.Err()
	}
	cur, err := h.s.Store.LinkByHash(ctx, l.Hash)
	if err != nil || cur.PackageSHA256 != "" {
		return cur, err
	}
	if h.o.AgentDir == "" {
		return l, errors.New("serve has no --agent-dir: give it the directory of the two thin darwin executables (make pkg writes them to dist/darwin)")
	}
	now := h.s.now()
	pkg, info, err := h.s.buildPackage(ctx, PackageOptions{
		AgentDir: h.o.AgentDir, User: l.User, Uses: l.Uses, TTL: l.ExpiresAt.Sub(now) + LinkTokenGrace,
		Version: h.o.Version, Created: now.Truncate(time.Second), Signer: h.o.Signer,
	})
	if err != nil {
		return l, err
	}
	retire := func(keep bool, cause error) error {
		if _, rerr := h.s.Store.RevokeToken(ctx, info.Token.ID, h.s.now()); rerr != nil {
			cause = fmt.Errorf("%w; and token %s could not be revoked: %v", cause, info.Token.ID, rerr)
		}
		if !keep {
			h.s.Files.Delete(info.SHA256)
		}
		return cause
	}
	id, err := h.s.Files.Put(pkg)
	if err != nil {
		return l, retire(true, fmt.Errorf("keep the package: %w", err))
	}
	got, err := h.s.Store.SetLinkPackage(ctx, l.ID, store.Link{PackageSHA256: id, PackageSize: int64(len(pkg)), TokenID: info.Token.ID, BuiltAt: now})
	if err != nil {
		return l, retire(false, err)
	}
	if got.PackageSHA256 != id {
		// Another replica built it first: its package is the link's.
		retire(false, nil)
		return got, nil
	}
	h.s.Log.Info("built the package of a download link", zap.String("link", l.ID), zap.String("sha256", id), zap.String("token", info.Token.ID))
	return got, nil
}

// EnrollListener is the public enrollment listener, bound and ready.
type EnrollListener = httpserve.Listener

// ListenEnroll binds the public enrollment listener on addr: HTTPS with
// o.Cert or the tenant's server certificate, download links only.
func (s *Server) ListenEnroll(addr string, o EnrollOptions) (*EnrollListener, error) {
	cert := s.Tenant.TLS
	if o.Cert != nil {
		cert = *o.Cert
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--enroll-listen %s: %w", addr, err)
	}
	hs := &http.Server{
		Handler:           s.NewLinkHandler(o),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// A package is tens of megabytes, on any connection.
		WriteTimeout:   10 * time.Minute,
		IdleTimeout:    time.Minute,
		MaxHeaderBytes: 16 << 10,
		ErrorLog:       zap.NewStdLog(s.Log.Named("enroll-http")),
	}
	return httpserve.New(ln, hs, "the enrollment listener"), nil
}
