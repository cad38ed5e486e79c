package server

import (
	"context"
	"crypto"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/mobileatwork/mobileatwork/internal/routines"
)

// Session tickets let an agent resume its TLS session instead of a full
// mutual-TLS handshake. Go's server encrypts them with random keys of its
// own, so after a restart, or on another replica behind a load balancer,
// no ticket resumes and every agent pays the full handshake again. The
// TLS 1.3 ticket keys here are derived instead, one per UTC day, from the
// tenant's TLS key, which every replica holds: any replica resumes a
// session any other one made that day or the day before.
//
// TLS 1.3 resumption still makes a fresh ECDHE exchange (Go offers and
// accepts only psk_dhe_ke), so a leaked ticket key does not open recorded
// traffic. A TLS 1.2 ticket carries the session's master secret itself:
// those stay under Go's random, rotating keys, local to the process.
type sessionTickets struct {
	secret []byte
	shared *tls.Config // only its ticket keys are used: TLS 1.3
	local  *tls.Config // Go's automatic keys: TLS 1.2
}

// ticketSalt separates these keys from any other use of the TLS key.
const ticketSalt = "mobileatwork session ticket keys v1"

func newSessionTickets(key crypto.PrivateKey, now time.Time) (*sessionTickets, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("session ticket keys: %w", err)
	}
	t := &sessionTickets{secret: der, shared: &tls.Config{}, local: &tls.Config{}}
	if err := t.setDay(now); err != nil {
		return nil, err
	}
	return t, nil
}

// dayKey is the ticket key of the UTC day that begins at day.
func (t *sessionTickets) dayKey(day time.Time) ([32]byte, error) {
	var k [32]byte
	b, err := hkdf.Key(sha256.New, t.secret, []byte(ticketSalt), day.Format(time.DateOnly), len(k))
	if err != nil {
		return k, fmt.Errorf("session ticket keys: %w", err)
	}
	copy(k[:], b)
	return k, nil
}

// setDay makes tickets under the key of at's UTC day and opens those of
// the day before (tickets of late yesterday) and the day after (a replica
// whose clock is a little ahead).
func (t *sessionTickets) setDay(at time.Time) error {
	day := utcDay(at)
	var keys [][32]byte
	for _, d := range []time.Time{day, day.AddDate(0, 0, -1), day.AddDate(0, 0, 1)} {
		k, err := t.dayKey(d)
		if err != nil {
			return err
		}
		keys = append(keys, k)
	}
	t.shared.SetSessionTicketKeys(keys)
	return nil
}

func utcDay(at time.Time) time.Time {
	y, m, d := at.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// run moves to the next day's key at each UTC midnight until ctx is done.
func (t *sessionTickets) run(ctx context.Context, clock clockwork.Clock) {
	for {
		now := clock.Now()
		if !routines.Sleep(ctx, clock, utcDay(now).AddDate(0, 0, 1).Sub(now)) {
			return
		}
		// The keys of a day follow from the day: a failure now fails the
		// same way at start, where it is reported.
		_ = t.setDay(clock.Now())
	}
}

func (t *sessionTickets) keysFor(cs tls.ConnectionState) *tls.Config {
	if cs.Version >= tls.VersionTLS13 {
		return t.shared
	}
	return t.local
}

func (t *sessionTickets) wrap(cs tls.ConnectionState, ss *tls.SessionState) ([]byte, error) {
	return t.keysFor(cs).EncryptTicket(cs, ss)
}

// unwrap opens a ticket, or ignores it (nil, nil) when no key opens it: a
// ticket of another tenant, or of a day long past, is a full handshake.
func (t *sessionTickets) unwrap(identity []byte, cs tls.ConnectionState) (*tls.SessionState, error) {
	return t.keysFor(cs).DecryptTicket(identity, cs)
}
