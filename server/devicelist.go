package server

import (
	"context"
	"slices"
	"strings"

	"github.com/mobileatwork/mobileatwork/server/store"
)

// DeviceFilter narrows the device list; empty fields match every device.
type DeviceFilter struct {
	// Search is a piece, in any case, of the device's id, serial number,
	// host name or user.
	Search string
	Group  string // a device group the device is in
	User   string // the email of the device's user
}

// Devices lists the enrolled devices that f matches, ordered by
// enrollment.
func (s *Server) Devices(ctx context.Context, f DeviceFilter) ([]store.Device, error) {
	all, err := s.Store.Devices(ctx)
	if err != nil {
		return nil, err
	}
	user := ""
	if u := strings.TrimSpace(f.User); u != "" {
		if user, err = normEmail(u); err != nil {
			return nil, err
		}
	}
	search := strings.ToLower(strings.TrimSpace(f.Search))
	group := strings.TrimSpace(f.Group)
	out := []store.Device{}
	for _, d := range all {
		if group != "" && !slices.Contains(d.Groups, group) {
			continue
		}
		if user != "" && !strings.EqualFold(d.User, user) {
			continue
		}
		if search != "" && !slices.ContainsFunc([]string{d.ID, d.Facts.SerialNumber, d.Facts.Hostname, d.User}, func(v string) bool {
			return strings.Contains(strings.ToLower(v), search)
		}) {
			continue
		}
		out = append(out, d)
	}
	return out, nil
}
