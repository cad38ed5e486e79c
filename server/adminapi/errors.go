package adminapi

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// Error is the body of every refusal: a sentence for people and a code
// for programs.
type Error struct {
	Message string `json:"error"`
	Code    string `json:"code"`
}

// Codes of Error, with the status each is sent with and the error a remote
// caller gets back, so errors.Is holds in both modes.
var codes = []struct {
	code   string
	status int
	err    error
}{
	{"invalid", http.StatusBadRequest, server.ErrInvalid},
	{"bad_request", http.StatusBadRequest, errBadRequest},
	{"not_found", http.StatusNotFound, store.ErrNotFound},
	{"no_inventory", http.StatusNotFound, server.ErrNoInventory},
	{"exists", http.StatusConflict, store.ErrExists},
	{"in_use", http.StatusConflict, store.ErrInUse},
	{"busy", http.StatusServiceUnavailable, store.ErrBusy},
	// A locked account is also unauthenticated: the finer code first.
	{"locked", http.StatusLocked, server.ErrLocked},
	{"unauthenticated", http.StatusUnauthorized, server.ErrUnauthenticated},
	{"forbidden", http.StatusForbidden, ErrForbidden},
}

var errBadRequest = errors.New("bad request")

// ErrForbidden refuses a request the caller's role does not allow.
var ErrForbidden = errors.New("forbidden")

func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errBadRequest, fmt.Sprintf(format, args...))
}

// refusal marks err, a refusal of what the request says made outside the
// server's methods (a schedule's words, a time), as invalid without
// changing its sentence.
type refusal struct{ error }

func (r refusal) Is(target error) bool { return target == server.ErrInvalid }
func (r refusal) Unwrap() error        { return r.error }

// classify picks err's code and status; what no code names is internal.
func classify(err error) (string, int) {
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code, c.status
		}
	}
	return "internal", http.StatusInternalServerError
}

// APIError is a refusal the API sent, as a remote caller sees it.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string { return e.Message }

// Unwrap is the sentinel the code stands for, so callers test remote
// errors as they test local ones.
func (e *APIError) Unwrap() error {
	for _, c := range codes {
		if c.code == e.Code {
			return c.err
		}
	}
	return nil
}
