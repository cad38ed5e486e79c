package adminapi

import (
	"context"

	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/accounts"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
)

// ProfileRequest adds a configuration profile to the onboarding plan; To
// (targets as --to takes them) defaults to all devices.
type ProfileRequest struct {
	Name       string   `json:"name"`
	Identifier string   `json:"identifier"` // the profile's PayloadIdentifier
	To         []string `json:"to,omitempty"`
}

// ProfileDistributionRequest replaces a profile's distribution; ID is its
// id or PayloadIdentifier. DryRun only lists the devices it would reach.
type ProfileDistributionRequest struct {
	ID     string   `json:"id"`
	To     []string `json:"to"`
	DryRun bool     `json:"dry_run,omitempty"`
}

// ProfileDistribution is a profile and the devices it reaches.
type ProfileDistribution struct {
	Profile jsonview.Profile  `json:"profile"`
	Devices []jsonview.Device `json:"devices"`
}

// Configuration profiles the onboarding waits for.
var (
	ListProfiles = register(&Endpoint[ListRequest, Page[jsonview.Profile]]{
		Name: "profiles.list", Method: "GET", Path: "/profiles", Class: accounts.ClassRead,
		Summary: "List the configuration profiles of the onboarding plan",
		Do: func(ctx context.Context, s *server.Server, req ListRequest) (Page[jsonview.Profile], error) {
			ps, err := s.Profiles(ctx)
			if err != nil {
				return Page[jsonview.Profile]{}, err
			}
			return paginate(mapSlice(ps, jsonview.NewProfile), req.PageRequest)
		},
	})
	AddProfile = register(&Endpoint[ProfileRequest, jsonview.Profile]{
		Name: "profiles.add", Method: "POST", Path: "/profiles", Class: accounts.ClassAdmin,
		Summary: "Add a configuration profile to the onboarding plan",
		Do: func(ctx context.Context, s *server.Server, req ProfileRequest) (jsonview.Profile, error) {
			p, err := s.AddProfile(ctx, req.Name, req.Identifier, req.To)
			return jsonview.NewProfile(p), err
		},
	})
	DistributeProfile = register(&Endpoint[ProfileDistributionRequest, ProfileDistribution]{
		Name: "profiles.distribute", Method: "POST", Path: "/profiles/{id}/distribution", Class: accounts.ClassAdmin,
		Summary: "Replace the devices whose onboarding waits for a profile",
		Do: func(ctx context.Context, s *server.Server, req ProfileDistributionRequest) (ProfileDistribution, error) {
			p, reached, err := s.DistributeProfile(ctx, req.ID, req.To, req.DryRun)
			if err != nil {
				return ProfileDistribution{}, err
			}
			return ProfileDistribution{Profile: jsonview.NewProfile(p), Devices: mapSlice(reached, jsonview.NewDevice)}, nil
		},
	})
)
