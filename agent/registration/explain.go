package registration

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// Refusals of the form itself, before anything is sent.
var (
	errNoServer  = errors.New("no server address")
	errNoToken   = errors.New("no enrollment token")
	errBadServer = errors.New("bad server address")
)

// The sentences a Mac user reads. They say what happened and what to do,
// without the agent's vocabulary.
const (
	MsgNoServer      = "Enter the server address your IT department gave you, for example mdm.example.com:8443."
	MsgNoToken       = "Paste the enrollment token your IT department gave you."
	MsgBadServer     = "That server address does not look right. It is a name such as mdm.example.com, perhaps with a port (:8443), and nothing else."
	MsgBadToken      = "That is not a complete enrollment token. Copy the whole token (it starts with MAW1.) and paste it again."
	MsgWrongServer   = "The server at that address is not the one this token belongs to, so nothing was sent to it. Check the server address."
	MsgTokenUsed     = "This token has already been used. Ask your IT department for a new one."
	MsgTokenExpired  = "This token has expired. Ask your IT department for a new one."
	MsgTokenRevoked  = "This token has been withdrawn. Ask your IT department for a new one."
	MsgTokenUnknown  = "The server does not recognise this token. Check that you copied all of it and that the server address is right."
	MsgUnreachable   = "The server cannot be reached. Check the server address and that this Mac is connected to the network, then try again."
	MsgNotFound      = "No server was found at that address. Check its spelling and that this Mac is connected to the network."
	MsgServerTrouble = "The server could not register this Mac just now. Try again in a few minutes; if it keeps failing, tell your IT department."
	MsgInterrupted   = "Registration was interrupted. Try again."
	MsgAlready       = "This Mac is already registered."
	MsgFailed        = "This Mac could not be registered. Try again; if it keeps failing, tell your IT department."
)

// Explain turns an enrollment error into a sentence for the page.
func Explain(err error) string {
	var he *agent.HTTPError
	var dns *net.DNSError
	var ne net.Error
	switch {
	case errors.Is(err, errNoServer):
		return MsgNoServer
	case errors.Is(err, errNoToken):
		return MsgNoToken
	case errors.Is(err, errBadServer):
		return MsgBadServer
	case errors.Is(err, agent.ErrAlreadyEnrolled):
		return MsgAlready
	case errors.Is(err, protocol.ErrBadToken):
		return MsgBadToken
	case errors.Is(err, agent.ErrPinMismatch):
		return MsgWrongServer
	case errors.As(err, &he):
		return explainRefusal(he)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return MsgInterrupted
	case errors.As(err, &dns):
		return MsgNotFound
	case errors.As(err, &ne):
		return MsgUnreachable
	}
	return MsgFailed
}

// explainRefusal reads the server's answer: a refused token is 401 with
// the reason in its message (the store's wording, which the server passes
// on).
func explainRefusal(he *agent.HTTPError) string {
	if he.Status != http.StatusUnauthorized {
		return MsgServerTrouble
	}
	m := he.Message
	switch {
	case strings.Contains(m, "already used"):
		return MsgTokenUsed
	case strings.Contains(m, "expired"):
		return MsgTokenExpired
	case strings.Contains(m, "revoked"):
		return MsgTokenRevoked
	case strings.Contains(m, "another tenant"):
		return MsgWrongServer
	case strings.Contains(m, "malformed"):
		return MsgBadToken
	}
	return MsgTokenUnknown
}

// Blame names the form field that Explain's sentence asks to correct.
func Blame(err error) string {
	var he *agent.HTTPError
	var ne net.Error
	switch {
	case errors.Is(err, errNoServer), errors.Is(err, errBadServer), errors.Is(err, agent.ErrPinMismatch):
		return FieldServer
	case errors.Is(err, errNoToken), errors.Is(err, protocol.ErrBadToken):
		return FieldToken
	case errors.As(err, &he):
		if he.Status == http.StatusUnauthorized {
			return FieldToken
		}
		return ""
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return ""
	case errors.As(err, &ne):
		return FieldServer
	}
	return ""
}
