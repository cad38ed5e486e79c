package onboarding

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/mobileatwork/mobileatwork/internal/localweb"
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

// NewPage returns the progress page and its API, to be served behind
// localweb's access checks: GET / (the page), /api/status (the report as
// JSON) and /api/events (the report as server-sent events at each change).
// The event feed stops when ctx is done.
func NewPage(ctx context.Context, src Source) http.Handler {
	events := &localweb.Events{Snapshot: func() []localweb.Event {
		return []localweb.Event{{Name: "status", Data: pageReport(src.Report())}}
	}}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-src.Changed():
				events.Publish(localweb.Event{Name: "status", Data: pageReport(src.Report())})
			}
		}
	}()
	static, _ := fs.Sub(pageFiles, "page")
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", http.FileServerFS(static))
	mux.Handle("GET /onboarding.css", http.FileServerFS(static))
	mux.Handle("GET /onboarding.js", http.FileServerFS(static))
	mux.HandleFunc("GET /api/status", func(w http.ResponseWriter, _ *http.Request) {
		localweb.WriteJSON(w, http.StatusOK, pageReport(src.Report()))
	})
	mux.Handle("GET /api/events", events)
	return mux
}

// pageReport leaves the log out: the user sees stages, the tenant the log.
func pageReport(r protocol.OnboardingReport) protocol.OnboardingReport {
	r.Log = nil
	r.DeviceID = ""
	return r
}

// FileSource reads the progress from the state directory, for a page
// served outside the daemon; it notices changes by polling the file.
type FileSource struct {
	StateDir string
	Every    time.Duration // 0 is one second
}

// Report reads the state file; an unreadable file shows as pending.
func (f FileSource) Report() protocol.OnboardingReport {
	r, err := ReadReport(f.StateDir)
	if err != nil {
		return state{Version: stateVersion, State: protocol.OnboardingPending}.report("")
	}
	return r
}

// Changed closes its channel when the state file's modification time
// changes.
func (f FileSource) Changed() <-chan struct{} {
	every := f.Every
	if every <= 0 {
		every = time.Second
	}
	ch := make(chan struct{})
	name := filepath.Join(f.StateDir, StateFile)
	first := modTime(name)
	go func() {
		for {
			time.Sleep(every)
			if !modTime(name).Equal(first) {
				close(ch)
				return
			}
		}
	}()
	return ch
}

func modTime(name string) time.Time {
	fi, err := os.Stat(name)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

func jsonBytes(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return b, nil
}
