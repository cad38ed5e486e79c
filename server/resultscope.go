package server

import (
	"context"

	"github.com/mobileatwork/mobileatwork/server/store"
)

// resultScope tells which configurations a device may report runs of:
// those that target it. A run reported after its configuration was
// withdrawn still counts, so "targets" is what the server has sent the
// device, not only what reaches it now: a configuration it has a status
// of, one a key was sealed to it for (kept until the configuration is
// deleted), or one that reaches it now. Each source is read at most once
// per post, and only when the ones before it do not answer.
type resultScope struct {
	s       *Server
	d       store.Device
	sources []func(context.Context) (map[string]bool, error)
	known   map[string]bool
}

func (s *Server) newResultScope(d store.Device) *resultScope {
	rs := &resultScope{s: s, d: d, known: map[string]bool{}}
	rs.sources = []func(context.Context) (map[string]bool, error){rs.statuses, rs.envelopes, rs.reaching}
	return rs
}

// targets reports whether configuration id targets the device. An error
// leaves the answer open: the result is neither stored nor refused.
func (rs *resultScope) targets(ctx context.Context, id string) (bool, error) {
	for !rs.known[id] && len(rs.sources) > 0 {
		ids, err := rs.sources[0](ctx)
		if err != nil {
			return false, err
		}
		rs.sources = rs.sources[1:]
		for id := range ids {
			rs.known[id] = true
		}
	}
	return rs.known[id], nil
}

func (rs *resultScope) statuses(ctx context.Context) (map[string]bool, error) {
	sts, err := rs.s.Store.DeviceStatuses(ctx, rs.d.ID)
	out := map[string]bool{}
	for _, st := range sts {
		out[st.ConfigID] = true
	}
	return out, err
}

func (rs *resultScope) envelopes(ctx context.Context) (map[string]bool, error) {
	es, err := rs.s.Store.KeyEnvelopes(ctx, rs.d.ID)
	out := map[string]bool{}
	for _, e := range es {
		out[e.ConfigID] = true
	}
	return out, err
}

func (rs *resultScope) reaching(ctx context.Context) (map[string]bool, error) {
	dc, err := rs.s.configsFor(ctx, rs.d)
	out := map[string]bool{}
	for _, c := range dc.scripts {
		out[c.ID] = true
	}
	return out, err
}
