package onboarding

import (
	"context"
	"embed"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/mobileatwork/mobileatwork/internal/localweb"
	"github.com/mobileatwork/mobileatwork/internal/routines"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// Source is what the progress page shows: the daemon's machine, or the
// state file when the page is served by `mobileatwork onboarding ui`.
type Source interface {
	Report() protocol.OnboardingReport
	// Changed returns a channel closed at the next change.
	Changed() <-chan struct{}
}

//go:embed page
var pageFiles embed.FS

// Page is the progress page and its API, to be served behind localweb's
// access checks: GET / (the page), /api/status (the report as JSON) and
// /api/events (the report as server-sent events at each change). Its owner
// runs Publish, which feeds the events, for as long as it serves the page.
type Page struct {
	src    Source
	events *localweb.Events
	mux    *http.ServeMux
}

// NewPage returns the page of src.
func NewPage(src Source) *Page {
	p := &Page{src: src}
	p.events = &localweb.Events{Snapshot: func() []localweb.Event {
		return []localweb.Event{{Name: "status", Data: pageReport(src.Report())}}
	}}
	static, _ := fs.Sub(pageFiles, "page")
	p.mux = http.NewServeMux()
	p.mux.Handle("GET /{$}", http.FileServerFS(static))
	p.mux.Handle("GET /onboarding.css", http.FileServerFS(static))
	p.mux.Handle("GET /onboarding.js", http.FileServerFS(static))
	p.mux.HandleFunc("GET /api/status", func(w http.ResponseWriter, _ *http.Request) {
		localweb.WriteJSON(w, http.StatusOK, pageReport(src.Report()))
	})
	p.mux.Handle("GET /api/events", p.events)
	return p
}

func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.mux.ServeHTTP(w, r) }

// Publish sends the report to open pages at each change until ctx is done.
func (p *Page) Publish(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.src.Changed():
			p.events.Publish(localweb.Event{Name: "status", Data: pageReport(p.src.Report())})
		}
	}
}

// pageReport leaves the log out: the user sees stages, the tenant the log.
func pageReport(r protocol.OnboardingReport) protocol.OnboardingReport {
	r.Log = nil
	r.DeviceID = ""
	return r
}

// FileSource reads the progress from the state directory, for a page
// served outside the daemon. Watch notices changes by polling the file;
// without it running, Changed never fires.
type FileSource struct {
	StateDir string
	Every    time.Duration   // 0 is one second
	Clock    clockwork.Clock // nil is the real clock

	mu      sync.Mutex
	changed chan struct{}
}

// NewFileSource reads the progress in stateDir.
func NewFileSource(stateDir string) *FileSource { return &FileSource{StateDir: stateDir} }

// Report reads the state file; an unreadable file shows as pending.
func (f *FileSource) Report() protocol.OnboardingReport {
	r, err := ReadReport(f.StateDir)
	if err != nil {
		return state{Version: stateVersion, State: protocol.OnboardingPending}.report("")
	}
	return r
}

// Changed returns a channel closed at the next change of the state file
// that Watch sees.
func (f *FileSource) Changed() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.changed == nil {
		f.changed = make(chan struct{})
	}
	return f.changed
}

// Watch polls the state file's modification time every Every until ctx is
// done, waking Changed at each change.
func (f *FileSource) Watch(ctx context.Context) {
	every, clock := f.Every, f.Clock
	if every <= 0 {
		every = time.Second
	}
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	name := filepath.Join(f.StateDir, StateFile)
	last := modTime(name)
	for routines.Sleep(ctx, clock, every) {
		if mt := modTime(name); !mt.Equal(last) {
			last = mt
			f.mu.Lock()
			if f.changed != nil {
				close(f.changed)
			}
			f.changed = make(chan struct{})
			f.mu.Unlock()
		}
	}
}

func modTime(name string) time.Time {
	fi, err := os.Stat(name)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}
