package adminapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/accounts"
)

// LoginRequest signs an account in to the console.
type LoginRequest struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

// SessionView is who is signed in, and the CSRF token the console sends
// back with every change.
type SessionView struct {
	Name      string        `json:"name"`
	Role      accounts.Role `json:"role"`
	CSRF      string        `json:"csrf_token,omitempty"`
	ExpiresAt *time.Time    `json:"expires_at,omitempty"`
}

// sessionRoutes serve sign-in, who is signed in, and sign-out. They sit
// outside the endpoint table: they set and clear the session cookie.
func (h *handler) sessionRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST "+Prefix+"/session", h.login)
	mux.HandleFunc("GET "+Prefix+"/session", h.whoami)
	mux.HandleFunc("DELETE "+Prefix+"/session", h.logout)
}

func (h *handler) login(w http.ResponseWriter, r *http.Request) {
	var req LoginRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || req.Name == "" || req.Password == "" {
		h.fail(w, r, badRequest("sign-in wants {\"name\": ..., \"password\": ...}"))
		return
	}
	actor, sess, err := h.s.Login(r.Context(), req.Name, req.Password, sourceOf(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	noteActor(r, actor.Name)
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: sess.Secret, Path: "/",
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode,
	})
	exp := sess.ExpiresAt.UTC()
	writeJSON(w, http.StatusOK, SessionView{Name: actor.Name, Role: actor.Role, CSRF: sess.CSRF, ExpiresAt: &exp})
}

func (h *handler) whoami(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		h.fail(w, r, server.ErrUnauthenticated)
		return
	}
	actor, sess, err := h.s.Session(r.Context(), c.Value)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	exp := sess.ExpiresAt.UTC()
	writeJSON(w, http.StatusOK, SessionView{Name: actor.Name, Role: actor.Role, CSRF: sess.CSRF, ExpiresAt: &exp})
}

func (h *handler) logout(w http.ResponseWriter, r *http.Request) {
	if _, err := h.authenticate(r, true); err != nil {
		h.fail(w, r, err)
		return
	}
	c, _ := r.Cookie(SessionCookie)
	if c != nil {
		if err := h.s.Logout(r.Context(), c.Value); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	writeJSON(w, http.StatusOK, None{})
}
