package server

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/internal/version"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// A check-in's payload follows from the tenant's state, which the store's
// generation counts changes of, and from what the device itself is (its
// basis, below) and its runs (runBasis). The server keeps, per device, the
// digest of the last full payload with the generation and bases it was
// built from: while they hold,
// a device that holds that digest is answered "unchanged" without a payload
// being built, a script loaded or an envelope sealed.

// deliveryBasis is a digest of what the payload takes from the device
// rather than from the tenant: its user and groups (whom distributions
// reach), the capabilities and facts that input variables and schedules
// use, the agent version, the answer size (how assignments page), and the
// certificate envelopes are sealed to; and the server build, since another
// build may build payloads otherwise from the same data. The retired
// signers the answer lists count too: they live in the PKI directory, not
// the store, so no store generation tells of a retirement.
func deliveryBasis(d store.Device, req protocol.CheckinRequest, cert *x509.Certificate, retired []string) string {
	b, _ := json.Marshal(struct {
		Server, User, Serial, Hostname, FullName, Agent, Cert string
		Groups, Capabilities, Retired                         []string
		Budget                                                int
	}{
		version.Version + " " + version.Commit, strings.ToLower(d.User), req.Facts.SerialNumber, req.Facts.Hostname,
		req.Facts.ConsoleUserFullName, req.AgentVersion, certSerial(cert), d.Groups, req.Capabilities, retired,
		responseBudget(req.MaxResponseBytes),
	})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func certSerial(cert *x509.Certificate) string {
	if cert == nil || cert.SerialNumber == nil {
		return ""
	}
	return hex.EncodeToString(cert.SerialNumber.Bytes())
}

// runBasis is a digest of what the payload takes from the device's
// statuses: which configurations it ran, at which version, and how (a run-once
// configuration it finished is not sent again, so a run that finishes one
// changes the payload). The statuses the server derives itself (scheduled,
// installed, ...) do not count.
func runBasis(marks []store.StatusMark) string {
	h := sha256.New()
	for _, m := range marks { // in config id order, as the store returns them
		// The rules read a status's status and detail only.
		if st := (store.DeviceStatus{Status: m.Status, Detail: m.Detail}); ranOrRunning(st) {
			fmt.Fprintf(h, "%q %d %q %t\n", m.ConfigID, m.Version, m.Status, runOpen(st))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// basisWith joins the device's basis and its run basis into the one
// Delivery.Basis holds.
func basisWith(device string, marks []store.StatusMark) string {
	sum := sha256.Sum256([]byte(device + " " + runBasis(marks)))
	return hex.EncodeToString(sum[:])
}

// stillCurrent tells whether the device, which holds content of digest,
// holds what it would be sent now, by what chk read.
func stillCurrent(chk store.DeliveryCheck, digest, basis string, now time.Time) bool {
	del := chk.Delivery
	if del.Digest == "" || del.Digest != digest || (!del.RefreshAt.IsZero() && !now.Before(del.RefreshAt)) {
		return false
	}
	return chk.Generation == del.Generation && basisWith(basis, chk.Marks) == del.Basis
}

// keptEnvelopes are the key envelopes sealed to one device certificate,
// reused while the configuration's version and the script's blob are the
// ones they were sealed for; those sealed anew are saved at the end.
type keptEnvelopes struct {
	deviceID, serial string
	cert             *x509.Certificate
	kept             map[string]store.KeyEnvelope
	fresh            []store.KeyEnvelope
}

func (s *Server) keptEnvelopes(ctx context.Context, deviceID string, cert *x509.Certificate) (*keptEnvelopes, error) {
	list, err := s.Store.KeyEnvelopes(ctx, deviceID)
	if err != nil {
		return nil, fmt.Errorf("read key envelopes: %w", err)
	}
	k := &keptEnvelopes{deviceID: deviceID, serial: certSerial(cert), cert: cert, kept: map[string]store.KeyEnvelope{}}
	for _, e := range list {
		k.kept[e.ConfigID] = e
	}
	return k, nil
}

// envelope returns the envelope of configuration c's current script
// version sc, sealing it when none valid is kept.
func (k *keptEnvelopes) envelope(c store.Configuration, sc store.Script, signer protocol.Signer, now time.Time) ([]byte, error) {
	if e, ok := k.kept[c.ID]; ok && e.ConfigVersion == c.Version && e.BlobSHA256 == sc.BlobSHA256 && e.CertSerial == k.serial && signedBy(e.Envelope, signer) {
		return e.Envelope, nil
	}
	env, err := protocol.SealKeyGrant(protocol.KeyGrant{AssignmentID: c.ID, BlobSHA256: sc.BlobSHA256, Key: sc.BlobKey}, k.cert, signer)
	if err != nil {
		return nil, fmt.Errorf("seal key for configuration %s: %w", c.ID, err)
	}
	e := store.KeyEnvelope{DeviceID: k.deviceID, ConfigID: c.ID, ConfigVersion: c.Version, BlobSHA256: sc.BlobSHA256,
		CertSerial: k.serial, Envelope: env, CreatedAt: now}
	k.kept[c.ID] = e
	k.fresh = append(k.fresh, e)
	return env, nil
}

// save keeps the envelopes sealed anew. A failure costs only sealing them
// again at the next check-in.
func (k *keptEnvelopes) save(ctx context.Context, s *Server) {
	if err := s.Store.PutKeyEnvelopes(ctx, k.fresh); err != nil {
		s.Log.Warn("keep key envelopes", zap.String("device", k.deviceID), zap.Error(err))
	}
}
