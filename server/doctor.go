package server

import (
	"context"
	"crypto/x509"
	"fmt"
	"slices"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// How long before it expires a certificate needs action. The CA needs a new
// tenant and every Mac enrolled again, so it is told long before; the leaves
// are replaced by a command. A device renews its own with a third of its two
// years left, so one this close to expiry has not: it is offline, or its
// agent is too old to renew.
const (
	caWarning     = 180 * 24 * time.Hour
	leafWarning   = 30 * 24 * time.Hour
	deviceWarning = 60 * 24 * time.Hour
)

// CertCheck is one tenant certificate as `doctor` sees it.
type CertCheck struct {
	Name     string // ca, signing, previous_signing, tls
	Serial   string
	NotAfter time.Time
	// Action says what to do; empty when nothing needs doing.
	Action string
}

// DeviceCheck is a device whose certificate needs action.
type DeviceCheck struct {
	ID          string
	NotAfter    time.Time
	LastCheckin time.Time
	Action      string
}

// Doctor is the tenant's health as far as time goes: its certificates and
// the devices whose certificate will expire before they renew it.
type Doctor struct {
	At           time.Time
	Certificates []CertCheck
	Devices      []DeviceCheck
	// RetiredSigners counts the retired signing certificates check-in
	// answers list for agents to refuse.
	RetiredSigners int
}

// NeedsAction tells whether anything in d needs doing.
func (d Doctor) NeedsAction() bool {
	return len(d.Devices) > 0 || slices.ContainsFunc(d.Certificates, func(c CertCheck) bool { return c.Action != "" })
}

// Doctor checks the expiry of the tenant CA, the signing certificates and
// the server TLS certificate, and finds the devices whose certificate
// expires soon without having been renewed.
func (s *Server) Doctor(ctx context.Context) (Doctor, error) {
	now := s.now()
	d := Doctor{At: now, RetiredSigners: len(s.Tenant.Retired)}
	check := func(name string, c *x509.Certificate, warn time.Duration, action string) {
		cc := CertCheck{Name: name, Serial: certSerial(c), NotAfter: c.NotAfter.UTC()}
		switch left := c.NotAfter.Sub(now); {
		case left <= 0:
			cc.Action = "expired: " + action
		case left < warn:
			cc.Action = fmt.Sprintf("expires in %d days: %s", int(left.Hours()/24), action)
		}
		d.Certificates = append(d.Certificates, cc)
	}
	check("ca", s.Tenant.CA, caWarning, "make a new tenant and enroll every Mac in it before then")
	check("signing", s.Tenant.Signing.Cert, leafWarning, "run `mobileatwork-server pki rotate-signing`")
	if p := s.Tenant.Previous; p != nil {
		check("previous_signing", p.Cert, leafWarning, "run `mobileatwork-server pki retire-signing`")
	}
	check("tls", s.Tenant.TLS.Leaf, leafWarning, "run `mobileatwork-server pki renew-tls`")
	devices, err := s.Store.Devices(ctx)
	if err != nil {
		return d, err
	}
	for _, dev := range devices {
		if dev.Left {
			continue
		}
		exp := CertExpiry(dev)
		if exp.Sub(now) >= deviceWarning {
			continue
		}
		dc := DeviceCheck{ID: dev.ID, NotAfter: exp.UTC(), LastCheckin: dev.LastCheckin, Action: deviceAction(dev, exp, now)}
		d.Devices = append(d.Devices, dc)
	}
	return d, nil
}

func deviceAction(d store.Device, exp, now time.Time) string {
	switch {
	case !exp.After(now):
		return "certificate expired: enroll the Mac again"
	case !slices.Contains(d.Capabilities, protocol.CapRenew):
		return "its agent does not renew its certificate: upgrade the agent before it expires"
	case d.PendingSerial != "":
		return "renewed, but the device has not used its new certificate since: check that it checks in"
	default:
		return "not renewed: check that the Mac checks in"
	}
}
