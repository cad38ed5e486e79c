package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/pki"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// signerFor is the signer of what a device with these capabilities
// receives: the signing certificate in use, or, while a rotation keeps the
// previous one, that one for agents that trust only the certificate they
// pinned at enrollment.
func (s *Server) signerFor(caps []string) protocol.Signer {
	if p := s.Tenant.Previous; p != nil && !slices.Contains(caps, protocol.CapSignerChain) {
		return *p
	}
	return s.Tenant.Signing
}

// retiredFor is what a check-in answer to a device with these capabilities
// lists as retired signers: nothing to an agent that would not keep it,
// so the digest of what it holds stays as it was.
func (s *Server) retiredFor(caps []string) []string {
	if !slices.Contains(caps, protocol.CapRetiredSigners) {
		return nil
	}
	return s.Tenant.RetiredFingerprints()
}

// blobSigner signs script blobs, which every device shares: the previous
// signing certificate while it is kept and valid, which every agent trusts,
// else the one in use (an expired one would be refused by the agents that
// trust by chain).
func (s *Server) blobSigner() protocol.Signer {
	if p := s.Tenant.Previous; p != nil && s.now().Before(p.Cert.NotAfter) {
		return *p
	}
	return s.Tenant.Signing
}

// signedBy tells whether a SignedData the server made was signed by signer:
// it carries its signer's certificate, and only that one.
func signedBy(der []byte, signer protocol.Signer) bool {
	return bytes.Contains(der, signer.Cert.Raw)
}

// SigningRotation is what `pki rotate-signing` did.
type SigningRotation struct {
	Serial, Previous string
	NotAfter         time.Time
}

// RotateSigning makes a new signing certificate and keeps the one in use as
// the previous one (pki.RotateSigning). serve signs with the new one once
// restarted.
func (s *Server) RotateSigning(ctx context.Context) (SigningRotation, error) {
	t, err := pki.RotateSigning(filepath.Join(s.Data, pkiDir), s.now())
	if err != nil {
		return SigningRotation{}, err
	}
	s.Tenant = t
	r := SigningRotation{Serial: certSerial(t.Signing.Cert), Previous: certSerial(t.Previous.Cert), NotAfter: t.Signing.Cert.NotAfter}
	s.Log.Info("signing certificate rotated", zap.String("serial", r.Serial), zap.String("previous", r.Previous))
	return r, s.audit(ctx, "pki.rotate-signing", "signing:"+r.Serial, "previous: "+r.Previous)
}

// RenewTLS makes a new server TLS certificate for the same names
// (pki.RenewTLS); serve uses it once restarted. Agents trust it through the
// CA they pinned, so nothing changes on the devices.
func (s *Server) RenewTLS(ctx context.Context) (serial string, notAfter time.Time, err error) {
	t, err := pki.RenewTLS(filepath.Join(s.Data, pkiDir), s.now())
	if err != nil {
		return "", time.Time{}, err
	}
	s.Tenant = t
	serial = certSerial(t.TLS.Leaf)
	return serial, t.TLS.Leaf.NotAfter, s.audit(ctx, "pki.renew-tls", "tls:"+serial, "")
}

// ErrSignerInUse refuses to retire a signing certificate some devices may
// still need; --force retires it all the same.
var ErrSignerInUse = errors.New("the previous signing certificate may still be needed")

// SigningRetirement counts, when the previous signing certificate is
// retired, the devices that may not trust what the server signs after it.
type SigningRetirement struct {
	Retired string
	// NotCheckedIn are devices that have not checked in since the rotation;
	// OldAgents are those whose agent trusts only the certificate it
	// pinned (no signer_chain capability): they stop accepting check-ins.
	NotCheckedIn, OldAgents []string
	// Unaware are devices whose agent does not learn of retirements (no
	// retired_signers capability): they trust the retired certificate by
	// its chain until it expires. They do not hold the retirement back.
	Unaware []string
	// Resealed is how many script versions were signed again.
	Resealed int
	Done     bool
}

// RetireSigning removes the previous signing certificate once every device
// checked in since the rotation with an agent that trusts the new one;
// force retires it all the same. Script blobs signed by it are signed again
// by the one in use first, so nothing stored still needs it. It is then
// listed among the retired signers, which every check-in answer names, so
// agents refuse it from their next check-in on.
func (s *Server) RetireSigning(ctx context.Context, force bool) (SigningRetirement, error) {
	prev := s.Tenant.Previous
	if prev == nil {
		return SigningRetirement{}, fmt.Errorf("retire signing certificate: %w", pki.ErrNoPrevious)
	}
	r := SigningRetirement{Retired: certSerial(prev.Cert)}
	devices, err := s.Store.Devices(ctx)
	if err != nil {
		return r, err
	}
	rotatedAt := s.Tenant.Signing.Cert.NotBefore
	for _, d := range devices {
		if d.Left {
			continue
		}
		if d.LastCheckin.Before(rotatedAt) {
			r.NotCheckedIn = append(r.NotCheckedIn, d.ID)
		}
		if !slices.Contains(d.Capabilities, protocol.CapSignerChain) {
			r.OldAgents = append(r.OldAgents, d.ID)
		}
		if !slices.Contains(d.Capabilities, protocol.CapRetiredSigners) {
			r.Unaware = append(r.Unaware, d.ID)
		}
	}
	if (len(r.NotCheckedIn) > 0 || len(r.OldAgents) > 0) && !force {
		return r, fmt.Errorf("%w: %d devices have not checked in since the rotation and %d run an agent that trusts only the certificate it pinned: upgrade and wait for them, or give --force",
			ErrSignerInUse, len(r.NotCheckedIn), len(r.OldAgents))
	}
	if r.Resealed, err = s.resealScripts(ctx, s.Tenant.Signing); err != nil {
		return r, err
	}
	t, err := pki.RetireSigning(filepath.Join(s.Data, pkiDir), s.now())
	if err != nil {
		return r, err
	}
	s.Tenant, r.Done = t, true
	s.Log.Info("previous signing certificate retired", zap.String("serial", r.Retired), zap.Int("resealed", r.Resealed))
	return r, s.audit(ctx, "pki.retire-signing", "signing:"+r.Retired,
		fmt.Sprintf("not checked in since: %d; old agents: %d; agents unaware of retirements: %d; script versions resealed: %d",
			len(r.NotCheckedIn), len(r.OldAgents), len(r.Unaware), r.Resealed))
}

// resealScripts signs every version of every script again with signer,
// under a fresh key, in place: same version, so nothing runs again, and a
// new blob digest, so devices receive keys sealed for it.
func (s *Server) resealScripts(ctx context.Context, signer protocol.Signer) (int, error) {
	scripts, err := s.Store.Scripts(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, sc := range scripts {
		for v := 1; v <= sc.Version; v++ {
			sv, err := s.Store.ScriptVersion(ctx, sc.ID, v)
			if errors.Is(err, store.ErrNotFound) {
				continue
			} else if err != nil {
				return n, err
			}
			blob, err := s.Files.Get(sv.BlobSHA256, protocol.MaxBlobBody)
			if err != nil {
				return n, fmt.Errorf("reseal script %s version %d: %w", sc.ID, v, err)
			}
			body, err := protocol.OpenScript(blob, sv.BlobKey, s.Tenant.Signers())
			if err != nil {
				return n, fmt.Errorf("reseal script %s version %d: %w", sc.ID, v, err)
			}
			blob, key, err := protocol.SealScript(body, signer)
			if err != nil {
				return n, fmt.Errorf("reseal script %s version %d: %w", sc.ID, v, err)
			}
			sum, err := s.Files.Put(blob)
			if err != nil {
				return n, fmt.Errorf("reseal script %s version %d: %w", sc.ID, v, err)
			}
			if err := s.Store.ReplaceScriptBlob(ctx, sc.ID, v, sum, key); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}
