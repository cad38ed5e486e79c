package server

import (
	"context"
	"errors"

	"github.com/mobileatwork/mobileatwork/server/store"
)

// DefaultRetireReason is the reason of a retirement given none.
const DefaultRetireReason = "retired by the administrator"

// RetireDevice cuts a lost or stolen device off: its certificate goes on
// the deny list, so its next request on any device route is refused. The
// Mac can come back only through a new enrollment, which gives it a new
// certificate (and a new device id).
func (s *Server) RetireDevice(ctx context.Context, id, reason string) (store.Device, error) {
	reason, err := oneLineReason(reason, DefaultRetireReason)
	if err != nil {
		return store.Device{}, err
	}
	a, ok := ActorFrom(ctx)
	if !ok {
		a = unknownActor
	}
	r, err := s.Store.RetireDevice(ctx, id, store.Retirement{At: s.now(), By: oneLine(a.Name), Reason: reason})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Device{}, invalid("no device %q; see `mobileatwork-server devices`", id)
	case errors.Is(err, store.ErrExists):
		return store.Device{}, invalid("device %s is retired already; a retired Mac comes back only with a new enrollment", id)
	case err != nil:
		return store.Device{}, err
	}
	d, err := s.Store.Device(ctx, id)
	if err != nil {
		return store.Device{}, err
	}
	return d, s.audit(ctx, "device.retire", object("device", id, d.Facts.SerialNumber),
		"certificate "+r.CertSerial+" denied; reason: "+reason)
}
