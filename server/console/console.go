// Package console is the tenant's web console: a single page, embedded in
// the binary, that administrators use through the admin API of the same
// listener. Nothing in it is rendered on the server; every answer carries
// headers that keep the page from running anything but its own files.
package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/http"
	"path"
	"time"

	"github.com/mobileatwork/mobileatwork/server/settings"
)

//go:embed assets
var assets embed.FS

// CSP lets the page load only its own scripts, styles and images and talk
// only to its own origin; no inline code, no framing, no foreign forms.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// types are the content types of the console's files, fixed here rather
// than read from the host's MIME tables, which may differ: a module
// script must be served as JavaScript under nosniff.
var types = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
}

// file is one embedded asset, ready to serve.
type file struct {
	body  []byte
	ctype string
	etag  string
}

// Handler serves the console: index.html at /, its files under /assets/,
// and /settings.json, the Mobile@Work keys its forms are built from.
type Handler struct {
	files   map[string]file // by URL path
	started time.Time
}

// New loads the embedded files once.
func New() *Handler {
	h := &Handler{files: map[string]file{}, started: time.Now()}
	err := fs.WalkDir(assets, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := assets.ReadFile(p)
		if err != nil {
			return err
		}
		url := "/" + p
		if p == "assets/index.html" {
			url = "/"
		}
		h.files[url] = newFile(b, types[path.Ext(p)])
		return nil
	})
	if err != nil {
		panic("console: embedded assets: " + err.Error()) // the binary is broken
	}
	b, err := json.Marshal(settings.Specs())
	if err != nil {
		panic("console: settings: " + err.Error())
	}
	h.files["/settings.json"] = newFile(b, "application/json")
	return h
}

func newFile(b []byte, ctype string) file {
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	sum := sha256.Sum256(b)
	return file{body: b, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}

// Headers are set on every answer of the console, refusals included.
func Headers(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	Headers(w)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	f, ok := h.files[r.URL.Path]
	if !ok {
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	// Files keep their names across releases: the browser may keep them
	// but asks each time whether they changed, so an upgrade never mixes
	// old and new modules.
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("ETag", f.etag)
	w.Header().Set("Content-Type", f.ctype)
	http.ServeContent(w, r, "", h.started, bytes.NewReader(f.body))
}
