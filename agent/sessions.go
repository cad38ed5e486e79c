package agent

import (
	"crypto/tls"
	"errors"
	"io/fs"
	"sync"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
)

// sessionsFile keeps the TLS session tickets of the server, so that a
// check-in after the interval (or after a restart of the agent) resumes
// the session instead of a full handshake with certificate verification on
// both sides.
const sessionsFile = "tls-sessions.json"

// maxSessions bounds the file: the agent talks to one server, under one
// name; a few entries cover a server moved to another name.
const maxSessions = 4

// sessionEntry is one resumable session as crypto/tls serializes it.
type sessionEntry struct {
	Ticket []byte `json:"ticket"`
	State  []byte `json:"state"`
}

// sessionCache is a tls.ClientSessionCache kept in a 0600 file of the
// state directory. Persisting is safe: the state holds the resumption
// secret, which is worth no more than the device key beside it in the same
// root-only directory, and crypto/tls verifies a loaded session's chain
// against the pinned tenant CA and the server name again before resuming.
// A file that cannot be read is a cache miss, never an error.
type sessionCache struct {
	path string
	log  *zap.Logger

	mu      sync.Mutex
	entries map[string]sessionEntry
}

var _ tls.ClientSessionCache = (*sessionCache)(nil)

func newSessionCache(path string, log *zap.Logger) *sessionCache {
	c := &sessionCache{path: path, log: log, entries: map[string]sessionEntry{}}
	err := atomicfile.ReadJSON(path, &c.entries)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		log.Warn("TLS sessions not resumed: the saved sessions cannot be read; they are replaced at the next connection", zap.Error(err))
	}
	if err != nil || c.entries == nil {
		c.entries = map[string]sessionEntry{}
	}
	return c
}

// Get returns the saved session for key. An entry crypto/tls cannot parse
// (written by another Go version) is dropped.
func (c *sessionCache) Get(key string) (*tls.ClientSessionState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return nil, false
	}
	state, err := tls.ParseSessionState(e.State)
	if err == nil {
		var cs *tls.ClientSessionState
		if cs, err = tls.NewResumptionState(e.Ticket, state); err == nil {
			return cs, true
		}
	}
	delete(c.entries, key)
	c.save()
	return nil, false
}

// Put saves the session for key; nil forgets it (crypto/tls does that for
// a session whose certificate no longer verifies).
func (c *sessionCache) Put(key string, cs *tls.ClientSessionState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cs == nil {
		delete(c.entries, key)
		c.save()
		return
	}
	ticket, state, err := cs.ResumptionState()
	if err != nil || state == nil {
		return
	}
	b, err := state.Bytes()
	if err != nil {
		return
	}
	for k := range c.entries {
		if len(c.entries) < maxSessions {
			break
		}
		if k != key {
			delete(c.entries, k)
		}
	}
	c.entries[key] = sessionEntry{Ticket: ticket, State: b}
	c.save()
}

// save writes the entries; a failure costs a full handshake later, so it
// is logged and not returned into the TLS handshake.
func (c *sessionCache) save() {
	if err := atomicfile.WriteJSON(c.path, c.entries, 0o600); err != nil {
		c.log.Warn("save TLS sessions", zap.Error(err))
	}
}
