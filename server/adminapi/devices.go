package adminapi

import (
	"context"
	"maps"
	"slices"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/accounts"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
)

// DeviceListRequest lists devices: Search is a piece of the id, serial
// number, host name or user; Group and User keep the devices of one
// device group or one user.
type DeviceListRequest struct {
	PageRequest
	Search string `json:"search,omitempty"`
	Group  string `json:"group,omitempty"`
	User   string `json:"user,omitempty"`
}

// DeviceGroupsRequest replaces a device's groups; ["none"] clears them.
type DeviceGroupsRequest struct {
	ID     string   `json:"id"`
	Groups []string `json:"groups"`
}

// DeviceRetireRequest retires a device; Reason is one line, at most 256
// bytes (default "retired by the administrator").
type DeviceRetireRequest struct {
	ID     string `json:"id"`
	Reason string `json:"reason,omitempty"`
}

// Devices, their pages, groups, inventories and onboardings.
var (
	ListDevices = register(&Endpoint[DeviceListRequest, Page[jsonview.Device]]{
		Name: "devices.list", Method: "GET", Path: "/devices", Class: accounts.ClassRead,
		Summary: "List enrolled devices, with whether scripts are stopped on each",
		Do: func(ctx context.Context, s *server.Server, req DeviceListRequest) (Page[jsonview.Device], error) {
			ds, err := s.Devices(ctx, server.DeviceFilter{Search: req.Search, Group: req.Group, User: req.User})
			if err != nil {
				return Page[jsonview.Device]{}, err
			}
			stops, err := s.ScriptsStops(ctx)
			if err != nil {
				return Page[jsonview.Device]{}, err
			}
			out := make([]jsonview.Device, 0, len(ds))
			for _, d := range ds {
				jd := jsonview.NewDevice(d)
				jd.ScriptsStopped = server.StoppedReason(stops, d.ID, protocol.Config{})
				out = append(out, jd)
			}
			return paginate(out, req.PageRequest)
		},
	})
	ShowDevice = register(&Endpoint[IDRequest, jsonview.DeviceDetail]{
		Name: "devices.show", Method: "GET", Path: "/devices/{id}", Class: accounts.ClassRead,
		Summary: "Show a device's page: facts, user and groups, configurations and their status, apps, results, log",
		Do: func(ctx context.Context, s *server.Server, req IDRequest) (jsonview.DeviceDetail, error) {
			d, err := s.DeviceDetail(ctx, req.ID)
			if err != nil {
				return jsonview.DeviceDetail{}, err
			}
			return jsonview.NewDeviceDetail(d), nil
		},
	})
	SetDeviceGroups = register(&Endpoint[DeviceGroupsRequest, jsonview.Device]{
		Name: "devices.groups", Method: "PUT", Path: "/devices/{id}/groups", Class: accounts.ClassAdmin,
		Summary: "Replace the device groups of a device",
		Do: func(ctx context.Context, s *server.Server, req DeviceGroupsRequest) (jsonview.Device, error) {
			if err := s.SetDeviceGroups(ctx, req.ID, req.Groups); err != nil {
				return jsonview.Device{}, err
			}
			d, err := s.Store.Device(ctx, req.ID)
			return jsonview.NewDevice(d), err
		},
	})
	RetireDevice = register(&Endpoint[DeviceRetireRequest, jsonview.Device]{
		Name: "devices.retire", Method: "POST", Path: "/devices/{id}/retire", Class: accounts.ClassAdmin,
		Summary: "Retire a lost or stolen device: its certificate is refused on every device route from its next request",
		Do: func(ctx context.Context, s *server.Server, req DeviceRetireRequest) (jsonview.Device, error) {
			d, err := s.RetireDevice(ctx, req.ID, req.Reason)
			if err != nil {
				return jsonview.Device{}, err
			}
			return jsonview.NewDevice(d), nil
		},
	})
	DeviceInventory = register(&Endpoint[IDRequest, server.InventoryView]{
		Name: "devices.inventory", Method: "GET", Path: "/devices/{id}/inventory", Class: accounts.ClassRead,
		Summary: "Show a device's receipts, apps, and whether each packager app is installed",
		Do: func(ctx context.Context, s *server.Server, req IDRequest) (server.InventoryView, error) {
			return s.DeviceInventory(ctx, req.ID)
		},
	})
	DeviceOnboarding = register(&Endpoint[IDRequest, jsonview.OnboardingDetail]{
		Name: "devices.onboarding", Method: "GET", Path: "/devices/{id}/onboarding", Class: accounts.ClassRead,
		Summary: "Show a device's onboarding: state, stages, item statuses and its log",
		Do: func(ctx context.Context, s *server.Server, req IDRequest) (jsonview.OnboardingDetail, error) {
			o, err := s.DeviceOnboarding(ctx, req.ID)
			if err != nil {
				return jsonview.OnboardingDetail{}, err
			}
			return jsonview.NewOnboardingDetail(o), nil
		},
	})
	ListDeviceGroups = register(&Endpoint[ListRequest, Page[jsonview.DeviceGroup]]{
		Name: "devicegroups.list", Method: "GET", Path: "/device-groups", Class: accounts.ClassRead,
		Summary: "List device groups and their devices",
		Do: func(ctx context.Context, s *server.Server, req ListRequest) (Page[jsonview.DeviceGroup], error) {
			gs, err := s.DeviceGroups(ctx)
			if err != nil {
				return Page[jsonview.DeviceGroup]{}, err
			}
			out := []jsonview.DeviceGroup{}
			for _, n := range slices.Sorted(maps.Keys(gs)) {
				out = append(out, jsonview.DeviceGroup{Name: n, Devices: gs[n]})
			}
			return paginate(out, req.PageRequest)
		},
	})
)
