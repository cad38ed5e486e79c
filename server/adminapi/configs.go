package adminapi

import (
	"context"
	"fmt"

	"github.com/mobileatwork/mobileatwork/protocol/schedule"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/accounts"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
	"github.com/mobileatwork/mobileatwork/server/settings"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// RefRequest names one object by its id or name.
type RefRequest struct {
	Ref string `json:"ref"`
}

// ConfigListRequest lists configurations, of one kind when Kind is set.
type ConfigListRequest struct {
	PageRequest
	Kind string `json:"kind,omitempty"` // mobileatwork or script
}

// ConfigListItem is a configuration in a list, with how many devices it
// reaches.
type ConfigListItem struct {
	jsonview.Config
	DevicesReached int `json:"devices_reached"`
}

// ScriptFields are what a script configuration runs: the script, its
// input overrides, its schedule in the words of the CLI's flags, the user
// it runs as and its retries. In an edit, what is absent stays.
type ScriptFields struct {
	Script   string          `json:"script,omitempty"`   // id or name
	Inputs   []string        `json:"inputs,omitempty"`   // NAME=VALUE
	Schedule *schedule.Words `json:"schedule,omitempty"` // absent: once, or unchanged in an edit
	RunAs    string          `json:"run_as,omitempty"`   // root or console_user
	Retries  *int            `json:"retries,omitempty"`
}

// firstGiven names, as the CLI's flag, the first field given, or "".
func (f ScriptFields) firstGiven() string {
	switch {
	case f.Script != "":
		return "script"
	case len(f.Inputs) > 0:
		return "input"
	case f.RunAs != "":
		return "run-as"
	case f.Retries != nil:
		return "retries"
	case f.Schedule != nil && f.Schedule.On != "":
		return "on"
	case f.Schedule != nil && f.Schedule.Given():
		return f.Schedule.First()
	}
	return ""
}

// request reads the fields into the server's request; the schedule's
// words are read here, by schedule.Words, as the CLI's flags are.
func (f ScriptFields) request() (server.ScriptRequest, error) {
	req := server.ScriptRequest{Script: f.Script, Inputs: f.Inputs, RunAs: f.RunAs, Retries: f.Retries}
	if f.Schedule != nil && f.Schedule.Given() {
		spec, err := f.Schedule.Spec()
		if err != nil {
			return req, refusal{err}
		}
		req.Schedule = &spec
	}
	return req, nil
}

// ConfigAddRequest adds a configuration, distributed to no one.
type ConfigAddRequest struct {
	Kind        string        `json:"kind"` // mobileatwork or script
	Name        string        `json:"name"`
	Description string        `json:"description,omitempty"`
	Settings    []string      `json:"settings,omitempty"` // KEY=VALUE, Mobile@Work configurations
	Script      *ScriptFields `json:"script,omitempty"`   // script configurations
}

// ConfigSetRequest edits a configuration; what is absent stays.
type ConfigSetRequest struct {
	Ref         string        `json:"ref"`
	Name        *string       `json:"name,omitempty"`
	Description *string       `json:"description,omitempty"`
	Settings    []string      `json:"settings,omitempty"`
	Script      *ScriptFields `json:"script,omitempty"`
}

// DistributeRequest replaces who a configuration reaches.
type DistributeRequest struct {
	Ref    string   `json:"ref"`
	To     []string `json:"to"` // all, none, device:ID, group:NAME, user:EMAIL, usergroup:NAME
	DryRun bool     `json:"dry_run,omitempty"`
}

// Distribution is a configuration and the devices it reaches (or would,
// in a dry run).
type Distribution struct {
	Config  jsonview.Config   `json:"config"`
	Devices []jsonview.Device `json:"devices"`
	Count   int               `json:"count"`
}

// PriorityRequest ranks a Mobile@Work configuration: 1 is the best.
type PriorityRequest struct {
	Ref      string `json:"ref"`
	Priority int    `json:"priority"`
}

// CancelRequest withdraws a script configuration's pending runs, on the
// devices given or everywhere.
type CancelRequest struct {
	Ref     string   `json:"ref"`
	Devices []string `json:"devices,omitempty"`
}

// CancelDevice is what a cancel did on one device.
type CancelDevice struct {
	ID      string          `json:"id"`
	Outcome string          `json:"outcome"`
	Status  jsonview.Status `json:"status"`
}

// Cancellation is what a cancel did.
type Cancellation struct {
	Config     jsonview.Config `json:"configuration"`
	Everywhere bool            `json:"everywhere"`
	Changed    bool            `json:"changed"` // false: there was nothing left to cancel
	Devices    []CancelDevice  `json:"devices"`
}

// AssignRequest adds a script configuration and distributes it.
type AssignRequest struct {
	Name        string       `json:"name,omitempty"` // default: after the script and its targets
	Description string       `json:"description,omitempty"`
	Script      ScriptFields `json:"script"`
	To          []string     `json:"to"`
}

// Configurations.
var (
	ListConfigs = register(&Endpoint[ConfigListRequest, Page[ConfigListItem]]{
		Name: "configs.list", Method: "GET", Path: "/configurations", Class: accounts.ClassRead,
		Summary: "List configurations: Mobile@Work ones by priority, then scripts",
		Do: func(ctx context.Context, s *server.Server, req ConfigListRequest) (Page[ConfigListItem], error) {
			cs, err := s.Configurations(ctx, req.Kind)
			if err != nil {
				return Page[ConfigListItem]{}, err
			}
			reached, err := s.ReachCounts(ctx, cs)
			if err != nil {
				return Page[ConfigListItem]{}, err
			}
			return paginate(mapSlice(cs, func(c store.Configuration) ConfigListItem {
				return ConfigListItem{configDoc(ctx, s, c), reached[c.ID]}
			}), req.PageRequest)
		},
	})
	ShowConfig = register(&Endpoint[RefRequest, jsonview.ConfigDetail]{
		Name: "configs.show", Method: "GET", Path: "/configurations/{ref}", Class: accounts.ClassRead,
		Summary: "Show a configuration with its status on every device it reaches",
		Do: func(ctx context.Context, s *server.Server, req RefRequest) (jsonview.ConfigDetail, error) {
			d, err := s.ConfigDetail(ctx, req.Ref)
			if err != nil {
				return jsonview.ConfigDetail{}, err
			}
			return jsonview.NewConfigDetail(d), nil
		},
	})
	AddConfig = register(&Endpoint[ConfigAddRequest, jsonview.Config]{
		Name: "configs.add", Method: "POST", Path: "/configurations", Class: accounts.ClassOperate,
		Summary: "Add a configuration, distributed to no one",
		Do: func(ctx context.Context, s *server.Server, req ConfigAddRequest) (jsonview.Config, error) {
			var (
				c   store.Configuration
				err error
			)
			switch req.Kind {
			case store.KindMobileAtWork:
				if req.Script != nil {
					return jsonview.Config{}, notForMobileAtWork(*req.Script)
				}
				c, err = s.AddMobileAtWork(ctx, req.Name, req.Description, req.Settings)
			case store.KindScript:
				if len(req.Settings) > 0 {
					return jsonview.Config{}, refusal{fmt.Errorf("config add script takes no KEY=VALUE settings, got %q: settings belong to Mobile@Work configurations", req.Settings)}
				}
				var sr server.ScriptRequest
				if req.Script != nil {
					if sr, err = req.Script.request(); err != nil {
						return jsonview.Config{}, err
					}
				}
				c, err = s.AddScriptConfig(ctx, req.Name, req.Description, sr)
			default:
				return jsonview.Config{}, refusal{fmt.Errorf("unknown configuration kind %q: want mobileatwork or script", req.Kind)}
			}
			if err != nil {
				return jsonview.Config{}, err
			}
			return configDoc(ctx, s, c), nil
		},
	})
	SetConfig = register(&Endpoint[ConfigSetRequest, jsonview.Config]{
		Name: "configs.set", Method: "PATCH", Path: "/configurations/{ref}", Class: accounts.ClassOperate,
		Summary: "Edit a configuration, all or nothing",
		Do: func(ctx context.Context, s *server.Server, req ConfigSetRequest) (jsonview.Config, error) {
			u := server.ConfigUpdate{Name: req.Name, Description: req.Description, Settings: req.Settings}
			if req.Script != nil {
				sr, err := req.Script.request()
				if err != nil {
					return jsonview.Config{}, err
				}
				u.Script = &sr
			}
			c, err := s.UpdateConfiguration(ctx, req.Ref, u)
			if err != nil {
				return jsonview.Config{}, err
			}
			return configDoc(ctx, s, c), nil
		},
	})
	DistributeConfig = register(&Endpoint[DistributeRequest, Distribution]{
		Name: "configs.distribute", Method: "POST", Path: "/configurations/{ref}/distribution", Class: accounts.ClassOperate,
		Summary: "Replace who a configuration reaches; a dry run changes nothing",
		Do: func(ctx context.Context, s *server.Server, req DistributeRequest) (Distribution, error) {
			r, err := s.Distribute(ctx, req.Ref, req.To, req.DryRun)
			if err != nil {
				return Distribution{}, err
			}
			return distributionDoc(ctx, s, r), nil
		},
	})
	DeleteConfig = register(&Endpoint[RefRequest, jsonview.Config]{
		Name: "configs.delete", Method: "DELETE", Path: "/configurations/{ref}", Class: accounts.ClassOperate,
		Summary: "Withdraw a configuration from every device and delete it",
		Do: func(ctx context.Context, s *server.Server, req RefRequest) (jsonview.Config, error) {
			c, err := s.DeleteConfiguration(ctx, req.Ref)
			if err != nil {
				return jsonview.Config{}, err
			}
			return configDoc(ctx, s, c), nil
		},
	})
	PrioritizeConfig = register(&Endpoint[PriorityRequest, jsonview.Config]{
		Name: "configs.priority", Method: "POST", Path: "/configurations/{ref}/priority", Class: accounts.ClassOperate,
		Summary: "Rank a Mobile@Work configuration",
		Do: func(ctx context.Context, s *server.Server, req PriorityRequest) (jsonview.Config, error) {
			c, err := s.SetPriority(ctx, req.Ref, req.Priority)
			if err != nil {
				return jsonview.Config{}, err
			}
			return configDoc(ctx, s, c), nil
		},
	})
	CancelConfig = register(&Endpoint[CancelRequest, Cancellation]{
		Name: "configs.cancel", Method: "POST", Path: "/configurations/{ref}/cancel", Class: accounts.ClassOperate,
		Summary: "Withdraw the pending runs of a script configuration and stop the running ones",
		Do: func(ctx context.Context, s *server.Server, req CancelRequest) (Cancellation, error) {
			rep, err := s.Cancel(ctx, req.Ref, req.Devices)
			if err != nil {
				return Cancellation{}, err
			}
			out := Cancellation{Config: configDoc(ctx, s, rep.Config), Everywhere: rep.Everywhere, Changed: rep.Changed(), Devices: []CancelDevice{}}
			for _, o := range rep.Devices {
				out.Devices = append(out.Devices, CancelDevice{o.DeviceID, o.Outcome, jsonview.NewStatus(o.Status)})
			}
			return out, nil
		},
	})
	Assign = register(&Endpoint[AssignRequest, Distribution]{
		Name: "assign", Method: "POST", Path: "/assignments", Class: accounts.ClassOperate,
		Summary: "Add a script configuration and distribute it",
		Do: func(ctx context.Context, s *server.Server, req AssignRequest) (Distribution, error) {
			sr, err := req.Script.request()
			if err != nil {
				return Distribution{}, err
			}
			_, r, err := s.Assign(ctx, req.Name, req.Description, sr, req.To)
			if err != nil {
				return Distribution{}, err
			}
			return distributionDoc(ctx, s, r), nil
		},
	})
)

// notForMobileAtWork refuses script fields on a Mobile@Work configuration.
func notForMobileAtWork(f ScriptFields) error {
	name := f.firstGiven()
	if name == "" {
		name = "script"
	}
	return refusal{fmt.Errorf("--%s belongs to script configurations, not Mobile@Work ones", name)}
}

// configDoc shapes a configuration with its effective settings or the
// name of its script.
func configDoc(ctx context.Context, s *server.Server, c store.Configuration) jsonview.Config {
	if c.Kind != store.KindScript {
		return jsonview.NewConfig(c, settings.Merge(c.Settings), nil)
	}
	var sc *store.Script
	if got, err := s.Store.Script(ctx, c.Script.ScriptID); err == nil {
		sc = &got
	}
	return jsonview.NewConfig(c, nil, sc)
}

func distributionDoc(ctx context.Context, s *server.Server, r server.Reach) Distribution {
	return Distribution{Config: configDoc(ctx, s, r.Config), Devices: mapSlice(r.Devices, jsonview.NewDevice), Count: len(r.Devices)}
}
