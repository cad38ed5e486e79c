package server

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/pki"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// errSuperseded is a device certificate that is neither the device's
// current one nor its renewed one.
var errSuperseded = errors.New("device certificate superseded")

// acceptCert decides whether cert may speak for d: its current
// certificate, or the renewed one, whose first use confirms it and retires
// the old serial. Until then the old certificate stays valid, so a device
// that never received its new certificate, or crashed before keeping it,
// goes on with the one it has.
func (s *Server) acceptCert(ctx context.Context, d store.Device, cert *x509.Certificate) (store.Device, error) {
	serial := certSerial(cert)
	switch {
	case serial == d.CertSerial:
		return d, nil
	case d.PendingSerial == "" || serial != d.PendingSerial:
		return d, errSuperseded
	}
	err := s.Store.ConfirmCert(ctx, d.ID, serial)
	if errors.Is(err, store.ErrNotFound) {
		// Another request with the same certificate confirmed it first.
		if d, err = s.Store.Device(ctx, d.ID); err != nil {
			return d, err
		}
		if d.CertSerial != serial {
			return d, errSuperseded
		}
		return d, nil
	}
	if err != nil {
		return d, err
	}
	s.Log.Info("device certificate renewed", zap.String("device", d.ID), zap.String("serial", serial),
		zap.String("retired", d.CertSerial), zap.Time("not_after", cert.NotAfter))
	d.CertSerial, d.CertNotAfter, d.PendingSerial, d.PendingNotAfter = serial, cert.NotAfter, "", time.Time{}
	return d, nil
}

// handleRenew issues a device a new certificate for the key of its CSR,
// under the same device id and rules as at enrollment. The certificate it
// called with stays valid until the new one is used.
func (s *Server) handleRenew(w http.ResponseWriter, r *http.Request, d store.Device, current *x509.Certificate) {
	var req protocol.RenewRequest
	if !s.decodeFrom(w, r, d, &req, &req.DeviceID) {
		return
	}
	if req.ProtocolVersion != protocol.Version {
		s.fail(w, r, http.StatusBadRequest, fmt.Sprintf("protocol version %d is not supported (server speaks %d)", req.ProtocolVersion, protocol.Version))
		return
	}
	cert, err := s.Tenant.RenewDevice(req.CSR, d.ID, current, s.now())
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "certificate request refused: "+err.Error())
		return
	}
	if err := s.Store.SetPendingCert(r.Context(), d.ID, certSerial(cert), cert.NotAfter); err != nil {
		s.internal(w, r, "record renewed certificate", err)
		return
	}
	s.Log.Info("device certificate issued for renewal", zap.String("device", d.ID), zap.String("serial", certSerial(cert)))
	writeJSON(w, http.StatusOK, protocol.RenewResponse{Certificate: cert.Raw})
}

// CertExpiry is when d's certificate expires. Devices enrolled before the
// expiry was recorded hold the certificate issued at enrollment.
func CertExpiry(d store.Device) time.Time {
	if !d.CertNotAfter.IsZero() {
		return d.CertNotAfter
	}
	return d.EnrolledAt.Add(pki.DeviceValidity)
}
