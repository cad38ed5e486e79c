package adminapi

import (
	"context"
	"time"

	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/accounts"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// RunRequest runs a script now on devices: online ones check in at once.
type RunRequest struct {
	Script  string   `json:"script"` // id or name
	Inputs  []string `json:"inputs,omitempty"`
	RunAs   string   `json:"run_as,omitempty"`
	Devices []string `json:"devices,omitempty"` // device ids
	To      []string `json:"to,omitempty"`      // targets
	Expires string   `json:"expires,omitempty"` // a Go duration; empty: 24h
	Retries int      `json:"retries,omitempty"`
}

// RunCreated is a run-now configuration and the devices it reaches, which
// were asked to check in now.
type RunCreated struct {
	Config  jsonview.Config `json:"configuration"`
	Devices []string        `json:"devices"`
}

// RunShowRequest asks where a run stands; with Since, only the results
// received at or after it (a watch's next look).
type RunShowRequest struct {
	ID    string `json:"id"`
	Since string `json:"since,omitempty"` // RFC 3339
}

// RunView is where a run stands: each device's status and every result,
// the oldest first, as `run --wait` follows them.
type RunView struct {
	Config   jsonview.Config   `json:"configuration"`
	Statuses []RunStatus       `json:"statuses"`
	Results  []jsonview.Result `json:"results"`
}

// RunStatus is a run's status on one device.
type RunStatus struct {
	DeviceID string `json:"device_id"`
	jsonview.Status
}

// Run now.
var (
	CreateRun = register(&Endpoint[RunRequest, RunCreated]{
		Name: "runs.create", Method: "POST", Path: "/runs", Class: accounts.ClassOperate,
		Summary: "Run a script now on devices",
		Do: func(ctx context.Context, s *server.Server, req RunRequest) (RunCreated, error) {
			expires, err := durationOr(req.Expires, "expires", server.DefaultRunExpiry)
			if err != nil {
				return RunCreated{}, err
			}
			rn, err := s.RunNow(ctx, server.RunNowRequest{
				Script: req.Script, Inputs: req.Inputs, RunAs: req.RunAs, Devices: req.Devices, To: req.To,
				Expires: expires, Retries: req.Retries,
			})
			if err != nil {
				return RunCreated{}, err
			}
			return RunCreated{Config: configDoc(ctx, s, rn.Config), Devices: mapSlice(rn.Devices, func(d store.Device) string { return d.ID })}, nil
		},
	})
	ShowRun = register(&Endpoint[RunShowRequest, RunView]{
		Name: "runs.show", Method: "GET", Path: "/runs/{id}", Class: accounts.ClassRead,
		Summary: "Show a run: its status and results on every device",
		Do: func(ctx context.Context, s *server.Server, req RunShowRequest) (RunView, error) {
			var since time.Time
			if req.Since != "" {
				t, err := time.Parse(time.RFC3339Nano, req.Since)
				if err != nil {
					return RunView{}, badRequest("since %q is not an RFC 3339 time", req.Since)
				}
				since = t
			}
			c, err := s.Configuration(ctx, req.ID)
			if err != nil {
				return RunView{}, err
			}
			sts, err := s.Store.ConfigStatuses(ctx, c.ID)
			if err != nil {
				return RunView{}, err
			}
			out := RunView{Config: configDoc(ctx, s, c), Statuses: []RunStatus{}, Results: []jsonview.Result{}}
			for _, st := range sts {
				out.Statuses = append(out.Statuses, RunStatus{DeviceID: st.DeviceID, Status: jsonview.NewStatus(st)})
			}
			err = s.EachResult(ctx, server.ResultQuery{Config: c.ID, Since: since}, func(r store.StoredResult) error {
				out.Results = append(out.Results, jsonview.NewResult(r, c.Name))
				return nil
			})
			return out, err
		},
	})
)
