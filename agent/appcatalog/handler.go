package appcatalog

import (
	"embed"
	"errors"
	"io/fs"
	"net/http"
	"strconv"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/agent/assets"
	"github.com/mobileatwork/mobileatwork/internal/localweb"
)

//go:embed web
var web embed.FS

// Handler serves the page, its static files and the JSON API:
//
//	GET  /api/state                       the catalog with statuses
//	GET  /api/events                      the same, live (server-sent events)
//	GET  /api/apps/{id}/icon              verified icon
//	GET  /api/apps/{id}/screenshots/{n}   verified screenshot
//	POST /api/apps/{id}/install           start an install
func (s *Service) Handler() http.Handler {
	static, _ := fs.Sub(web, "web")
	mux := http.NewServeMux()
	mux.Handle("GET /", http.FileServerFS(static))
	mux.HandleFunc("GET /api/state", func(w http.ResponseWriter, r *http.Request) {
		localweb.WriteJSON(w, http.StatusOK, s.State(r.Context()))
	})
	mux.Handle("GET /api/events", s.events)
	mux.HandleFunc("GET /api/apps/{id}/icon", func(w http.ResponseWriter, r *http.Request) {
		s.serveImage(w, r, -1)
	})
	mux.HandleFunc("GET /api/apps/{id}/screenshots/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.PathValue("n"))
		if err != nil || n < 0 {
			localweb.WriteJSON(w, http.StatusNotFound, apiError{"no such screenshot"})
			return
		}
		s.serveImage(w, r, n)
	})
	mux.HandleFunc("POST /api/apps/{id}/install", func(w http.ResponseWriter, r *http.Request) {
		err := s.Install(r.Context(), r.PathValue("id"))
		switch {
		case errors.Is(err, ErrUnknownApp):
			localweb.WriteJSON(w, http.StatusNotFound, apiError{err.Error()})
		case errors.Is(err, ErrNotInstallable), errors.Is(err, ErrBusy), errors.Is(err, ErrUpToDate):
			localweb.WriteJSON(w, http.StatusConflict, apiError{err.Error()})
		case err != nil:
			localweb.WriteJSON(w, http.StatusInternalServerError, apiError{err.Error()})
		default:
			localweb.WriteJSON(w, http.StatusAccepted, struct{}{})
		}
	})
	return mux
}

type apiError struct {
	Error string `json:"error"`
}

func (s *Service) serveImage(w http.ResponseWriter, r *http.Request, index int) {
	id := r.PathValue("id")
	b, ct, err := s.Image(r.Context(), id, index)
	switch {
	case errors.Is(err, ErrUnknownApp):
		localweb.WriteJSON(w, http.StatusNotFound, apiError{err.Error()})
		return
	case errors.Is(err, assets.ErrDigest), errors.Is(err, assets.ErrSize), errors.Is(err, assets.ErrType):
		// The tenant sent something other than what it signed: say so.
		s.o.Log.Warn("image refused", zap.String("app", id), zap.Int("index", index), zap.Error(err))
		localweb.WriteJSON(w, http.StatusBadGateway, apiError{"image refused: " + err.Error()})
		return
	case err != nil:
		s.o.Log.Warn("image unavailable", zap.String("app", id), zap.Error(err))
		localweb.WriteJSON(w, http.StatusBadGateway, apiError{"image unavailable: " + err.Error()})
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Write(b)
}
