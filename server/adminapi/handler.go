package adminapi

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/server"
)

// SessionCookie carries a console session; its CSRF token must come back
// in CSRFHeader with every request that changes something.
const (
	SessionCookie = "maw_session"
	CSRFHeader    = "X-CSRF-Token"
)

// Handler serves the API under Prefix; other paths go to other (the web
// console), or are not found when other is nil.
func Handler(s *server.Server, other http.Handler) http.Handler {
	h := &handler{s: s, log: s.Log.Named("admin-api")}
	mux := http.NewServeMux()
	for _, e := range endpoints {
		mux.HandleFunc(e.method+" "+Prefix+e.path, h.endpoint(e))
	}
	mux.HandleFunc("GET "+Prefix+"/openapi.json", h.openAPI)
	h.sessionRoutes(mux)
	mux.HandleFunc("GET "+Prefix+"/events", h.events)
	mux.HandleFunc(Prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, &APIError{Status: http.StatusNotFound, Code: "not_found", Message: fmt.Sprintf("no API route %s %s", r.Method, r.URL.Path)})
	})
	if other != nil {
		mux.Handle("/", other)
	}
	return logAccess(h.log, mux)
}

type handler struct {
	s   *server.Server
	log *zap.Logger
}

func (h *handler) endpoint(e info) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		actor, err := h.authenticate(r, hasBody(e.method) || e.method == http.MethodDelete)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		noteActor(r, actor.Name)
		if !actor.Role.Can(e.class) {
			h.fail(w, r, fmt.Errorf("%w: the %s role may not %s", ErrForbidden, actor.Role, strings.ToLower(e.summary)))
			return
		}
		ctx := server.WithActor(r.Context(), actor)
		resp, err := e.serve(ctx, h.s, r)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, resp)
	}
}

// authenticate finds the caller: an API token in the Authorization header,
// or a console session cookie, whose CSRF token a change must carry.
func (h *handler) authenticate(r *http.Request, changes bool) (server.Actor, error) {
	ctx := r.Context()
	var (
		actor server.Actor
		err   error
	)
	if auth := r.Header.Get("Authorization"); auth != "" {
		secret, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok {
			return actor, fmt.Errorf("%w: the Authorization header must be \"Bearer TOKEN\"", server.ErrUnauthenticated)
		}
		actor, err = h.s.AuthenticateToken(ctx, strings.TrimSpace(secret))
	} else if c, cerr := r.Cookie(SessionCookie); cerr == nil {
		var sess server.SessionInfo
		actor, sess, err = h.s.Session(ctx, c.Value)
		if err == nil && changes && subtle.ConstantTimeCompare([]byte(r.Header.Get(CSRFHeader)), []byte(sess.CSRF)) != 1 {
			err = fmt.Errorf("%w: the request lacks the session's CSRF token (%s header)", ErrForbidden, CSRFHeader)
		}
	} else {
		return actor, fmt.Errorf("%w: sign in, or send an API token as \"Authorization: Bearer TOKEN\"", server.ErrUnauthenticated)
	}
	if err != nil {
		return actor, err
	}
	actor.Source = sourceOf(r)
	return actor, nil
}

// sourceOf is the caller's address for the audit log.
func sourceOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ae *APIError
	body := Error{Message: err.Error()}
	status := 0
	if errors.As(err, &ae) {
		body.Code, status = ae.Code, ae.Status
	} else {
		body.Code, status = classify(err)
	}
	if status >= 500 {
		h.log.Error("admin request failed", zap.String("method", r.Method), zap.String("path", r.URL.Path), zap.Error(err))
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}
