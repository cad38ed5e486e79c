package adminapi

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/accounts"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// StopRequest applies the brake on scripts: on the devices given, or
// tenant-wide without any.
type StopRequest struct {
	Devices []string `json:"devices,omitempty"`
	Reason  string   `json:"reason,omitempty"` // one line, shown on the devices
}

// ResumeRequest releases the brake: on the devices given, or tenant-wide.
type ResumeRequest struct {
	Devices []string `json:"devices,omitempty"`
	Reason  string   `json:"reason,omitempty"` // refused: only a stop has one
}

// Brake is what a stop or a resume did.
type Brake struct {
	Stopped bool   `json:"stopped"` // a stop, not a resume
	Tenant  bool   `json:"tenant"`
	Reason  string `json:"reason,omitempty"`
	// Devices were asked to check in now: none when nothing changed.
	Devices   []string `json:"devices"`
	Unchanged []string `json:"unchanged,omitempty"`
	// TenantStopped: the devices resumed still run nothing while the
	// tenant-wide stop holds.
	TenantStopped bool `json:"tenant_stopped,omitempty"`
}

// ScriptsStop is a brake in force.
type ScriptsStop struct {
	DeviceID string     `json:"device_id,omitempty"` // absent: the tenant's
	Tenant   bool       `json:"tenant"`
	Reason   string     `json:"reason"`
	At       *time.Time `json:"at,omitempty"`
}

// The brake on scripts.
var (
	StopScripts = register(&Endpoint[StopRequest, Brake]{
		Name: "scripts.stop", Method: "POST", Path: "/scripts-stop", Class: accounts.ClassOperate,
		Summary: "Stop scripts: devices run none and stop the one running",
		Do: func(ctx context.Context, s *server.Server, req StopRequest) (Brake, error) {
			rep, err := s.StopScripts(ctx, req.Devices, req.Reason)
			return brakeDoc(rep, true), err
		},
	})
	ResumeScripts = register(&Endpoint[ResumeRequest, Brake]{
		Name: "scripts.resume", Method: "POST", Path: "/scripts-resume", Class: accounts.ClassOperate,
		Summary: "Resume scripts stopped by scripts.stop",
		Do: func(ctx context.Context, s *server.Server, req ResumeRequest) (Brake, error) {
			if req.Reason != "" {
				return Brake{}, badRequest("a resume takes no reason: only stopping scripts does")
			}
			rep, err := s.ResumeScripts(ctx, req.Devices)
			return brakeDoc(rep, false), err
		},
	})
	ListStops = register(&Endpoint[ListRequest, Page[ScriptsStop]]{
		Name: "scripts.stops", Method: "GET", Path: "/scripts-stops", Class: accounts.ClassRead,
		Summary: "List the brakes on scripts in force, the tenant's first",
		Do: func(ctx context.Context, s *server.Server, req ListRequest) (Page[ScriptsStop], error) {
			stops, err := s.ScriptsStops(ctx)
			if err != nil {
				return Page[ScriptsStop]{}, err
			}
			return paginate(stopList(stops), req.PageRequest)
		},
	})
)

func brakeDoc(rep server.StopReport, stop bool) Brake {
	return Brake{Stopped: stop, Tenant: rep.Tenant, Reason: rep.Reason, Devices: nonNilStrings(rep.Devices),
		Unchanged: rep.Unchanged, TenantStopped: rep.TenantStopped}
}

// stopList is the stops by scope ("" the tenant's, first), in order.
func stopList(stops map[string]store.ScriptsStop) []ScriptsStop {
	ids := slices.Sorted(maps.Keys(stops))
	out := make([]ScriptsStop, 0, len(ids))
	for _, id := range ids {
		st := stops[id]
		var at *time.Time
		if !st.At.IsZero() {
			u := st.At.UTC()
			at = &u
		}
		out = append(out, ScriptsStop{DeviceID: st.DeviceID, Tenant: st.DeviceID == "", Reason: st.Reason, At: at})
	}
	return out
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
