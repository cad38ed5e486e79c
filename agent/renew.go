package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/internal/atomicfile"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// Device certificate renewal. The agent renews over mutual TLS with the
// certificate it has, once a third of that certificate's life remains:
//
//  1. a new key and a CSR signed by it go to /v1/renew; the server issues a
//     certificate for the same device id and keeps the old one valid;
//  2. the new identity (certificate and key together) is written beside
//     the old one, as identity.next.json;
//  3. the next check-in is made with it: the server's first request with the
//     new certificate confirms it and retires the old serial;
//  4. once that check-in is verified, one durable write makes it
//     identity.json, and identity.next.json goes.
//
// A kill at any point leaves a working identity: before 3 the old one is
// still valid; after 3 the next file is still there and is what the agent
// checks in with; a next file that does not fit (torn, another device, a
// key that is not its certificate's) is discarded, one already swapped in
// is removed. A next identity the server refuses is discarded too, and the
// old one goes on.

// renewFraction is the part of a certificate's life left when it is renewed.
const renewFraction = 3

// Pauses after a renewal that did not happen: a server of an earlier
// release (no renewal route) is asked again a day later, any other failure
// an hour later, so a refusal never costs a new key at every check-in.
const (
	renewUnsupportedPause = 24 * time.Hour
	renewFailedPause      = time.Hour
)

// RenewAt is when the agent renews the certificate of id.
func (id *Identity) RenewAt() time.Time {
	life := id.cert.NotAfter.Sub(id.cert.NotBefore)
	return id.cert.NotAfter.Add(-life / renewFraction)
}

// CertificateExpiry is when the device certificate in use expires.
func (id *Identity) CertificateExpiry() time.Time { return id.cert.NotAfter }

// renewIfDue renews the device certificate when it is due and no renewed
// identity waits for confirmation. Failures are logged, never returned:
// the old certificate goes on working, and renewal is tried again later.
func (a *Agent) renewIfDue(ctx context.Context) {
	now := a.o.Clock.Now()
	cur := a.api.identity()
	if now.Before(cur.RenewAt()) || now.Before(a.renewPause) {
		return
	}
	if _, err := os.Stat(filepath.Join(a.o.StateDir, nextFile)); err == nil {
		return // renewed already: the check-in confirms it
	}
	if err := a.renew(ctx, cur); err != nil {
		pause := renewFailedPause
		var he *HTTPError
		if errors.As(err, &he) && (he.Status == http.StatusNotFound || he.Status == http.StatusMethodNotAllowed) {
			pause = renewUnsupportedPause
		}
		a.renewPause = now.Add(pause)
		a.o.Log.Warn("device certificate not renewed: the current one goes on working; trying again later",
			zap.Error(err), zap.Time("expires", cur.CertificateExpiry()), zap.Duration("retry_in", pause))
	}
}

// renew asks for a certificate for a new key and writes the new identity
// beside the current one.
func (a *Agent) renew(ctx context.Context, cur *Identity) error {
	key, csr, err := deviceCSR(nil)
	if err != nil {
		return err
	}
	body, err := do(ctx, a.api.httpClient(), "POST", cur.ServerURL+protocol.PathRenew, protocol.RenewRequest{
		ProtocolVersion: protocol.Version, DeviceID: cur.DeviceID, CSR: csr,
	}, protocol.MaxResponseBody)
	if err != nil {
		return fmt.Errorf("renew device certificate: %w", err)
	}
	var resp protocol.RenewResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return fmt.Errorf("renew device certificate: bad answer: %w", err)
	}
	pemKey, err := keyPEM(key)
	if err != nil {
		return err
	}
	next := &Identity{
		DeviceID: cur.DeviceID, ServerURL: cur.ServerURL, Certificate: resp.Certificate,
		SigningCert: cur.SigningCert, CACert: cur.CACert, EnrolledAt: cur.EnrolledAt, KeyPEM: pemKey,
	}
	if err := next.parse(); err != nil {
		return fmt.Errorf("renew device certificate: bad answer: %w", err)
	}
	next.key = key
	if err := checkRenewed(cur, next); err != nil {
		return fmt.Errorf("renew device certificate: %w", err)
	}
	if err := atomicfile.WriteJSON(filepath.Join(a.o.StateDir, nextFile), next, 0o600); err != nil {
		return fmt.Errorf("renew device certificate: %w", err)
	}
	a.o.Log.Info("device certificate renewed; the next check-in confirms it", zap.Time("expires", next.CertificateExpiry()))
	return nil
}

// checkRenewed refuses a renewed identity that is not this device's: its
// certificate must be issued by the pinned CA, name this device and carry
// its key.
func checkRenewed(cur, next *Identity) error {
	switch {
	case next.DeviceID != cur.DeviceID || next.cert.Subject.CommonName != cur.DeviceID:
		return fmt.Errorf("certificate is for %q, not device %q", next.cert.Subject.CommonName, cur.DeviceID)
	case next.key == nil || !next.key.PublicKey.Equal(next.cert.PublicKey):
		return errors.New("certificate is not for the new key")
	}
	if err := next.cert.CheckSignatureFrom(cur.ca); err != nil {
		return fmt.Errorf("certificate not issued by the tenant CA: %w", err)
	}
	return nil
}

// loadNext returns the renewed identity that waits for confirmation, or
// nil. What cannot be used is removed, so the agent goes on with the
// identity it has and renews again.
func (a *Agent) loadNext() *Identity {
	path := filepath.Join(a.o.StateDir, nextFile)
	next, err := readIdentity(path, "")
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	cur := a.api.identity()
	if err == nil {
		err = checkRenewed(cur, next)
	}
	if err == nil && string(next.Certificate) == string(cur.Certificate) {
		// Swapped in already: finish what commitNext does after the swap.
		a.finishSwap(next)
		return nil
	}
	if err != nil {
		a.o.Log.Warn("discarding a renewed identity that cannot be used", zap.Error(err))
		os.Remove(path)
		return nil
	}
	a.api.remember(next) // a payload sealed to it may be on disk already
	return next
}

// discardNext removes a renewed identity the server refused.
func (a *Agent) discardNext(err error) {
	a.o.Log.Warn("the server refused the renewed device certificate: discarding it and going on with the current one", zap.Error(err))
	if rerr := os.Remove(filepath.Join(a.o.StateDir, nextFile)); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		a.o.Log.Warn("remove renewed identity", zap.Error(rerr))
	}
}

// commitNext makes the confirmed identity the device's in one durable
// write, then removes the next file. device.key is rewritten too, for an
// agent of an earlier release that reads its key only from there; this
// release reads the key embedded in identity.json.
func (a *Agent) commitNext(prev, next *Identity) error {
	if err := atomicfile.WriteJSON(filepath.Join(a.o.StateDir, identityFile), next, 0o600); err != nil {
		return fmt.Errorf("keep renewed identity: %w", err)
	}
	a.finishSwap(next)
	a.api.remember(prev) // what the old certificate was sealed still opens
	a.o.Log.Info("device certificate renewal confirmed", zap.Time("expires", next.CertificateExpiry()))
	return nil
}

// finishSwap rewrites device.key and removes the next file once next is
// identity.json; a kill before it ends leaves both for loadNext to finish.
func (a *Agent) finishSwap(next *Identity) {
	if err := atomicfile.WriteFile(filepath.Join(a.o.StateDir, keyFile), next.KeyPEM, 0o600); err != nil {
		a.o.Log.Warn("rewrite device.key", zap.Error(err))
		return // the next file stays: loadNext finishes this at the next check-in
	}
	if err := os.Remove(filepath.Join(a.o.StateDir, nextFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		a.o.Log.Warn("remove renewed identity", zap.Error(err))
	}
}

// refusedIdentity tells whether err is the server refusing the
// certificate the request was made with.
func refusedIdentity(err error) bool {
	var he *HTTPError
	return errors.As(err, &he) && (he.Status == http.StatusUnauthorized || he.Status == http.StatusForbidden)
}
