// Package onboarding runs the staged setup that follows automated
// enrollment: it turns the tenant's plan into stages, drives a persisted
// state machine (pending → running → done | timed_out | skipped) that
// observes configurations and apps and installs in-house packages, reports
// progress to the tenant and serves the progress page; package desktop
// shows that page in the kiosk, in the console user's session.
//
// The package knows nothing of the agent: it gets its observers, its
// installer, its downloader and its reporter as small interfaces, so tests
// drive it with fakes and a fake clock.
package onboarding

import (
	"fmt"

	"github.com/mobileatwork/mobileatwork/protocol"
)

// ConfigurationsStage names stage 1, which holds every configuration.
const ConfigurationsStage = "Configurations"

// item is one configuration or app, with what the machine needs to observe
// or install it.
type item struct {
	protocol.OnboardingItem
	Identifier string          `json:"identifier,omitempty"` // profile PayloadIdentifier
	BundleID   string          `json:"bundle_id,omitempty"`
	PackageID  string          `json:"package_id,omitempty"`
	Package    *protocol.Asset `json:"package,omitempty"` // in-house PKG to install
}

// installable reports whether the agent installs the item itself rather
// than waiting for MDM or the packager to do it.
func (it item) installable() bool {
	return it.Kind == protocol.AppKindInHouse && it.Package != nil
}

type stage struct {
	Name  string `json:"name"`
	Items []item `json:"items"`
}

// status folds the items' statuses into the stage's.
func (s stage) status() string {
	installed, failed, started := 0, 0, 0
	for _, it := range s.Items {
		switch it.Status {
		case protocol.ItemInstalled:
			installed++
		case protocol.ItemFailed:
			failed++
		case protocol.ItemInstalling:
			started++
		}
	}
	switch {
	case installed == len(s.Items):
		return protocol.ItemInstalled
	case failed > 0 && installed+failed+started == len(s.Items) && started == 0:
		return protocol.ItemFailed
	case installed+failed+started > 0:
		return protocol.ItemInstalling
	}
	return protocol.ItemPending
}

// buildStages lays the plan out as the documentation describes: stage 1 is
// every configuration; each priority app is a stage of its own, in catalog
// order; packager apps are never stages; every other app goes to the
// background, where it keeps installing after onboarding ends.
func buildStages(plan protocol.OnboardingPlan, apps []protocol.AppOffer) (stages []stage, background []item) {
	if len(plan.Profiles) > 0 {
		st := stage{Name: ConfigurationsStage}
		for _, p := range plan.Profiles {
			name := p.Name
			if name == "" {
				name = p.Identifier
			}
			st.Items = append(st.Items, item{
				OnboardingItem: protocol.OnboardingItem{ID: p.ID, Name: name, Kind: protocol.ItemKindProfile, Status: protocol.ItemPending},
				Identifier:     p.Identifier,
			})
		}
		stages = append(stages, st)
	}
	for _, a := range apps {
		it := item{
			OnboardingItem: protocol.OnboardingItem{ID: a.ID, Name: a.Name, Kind: a.Kind, Status: protocol.ItemPending},
			BundleID:       a.BundleID, PackageID: a.PackageID, Package: a.Package,
		}
		if it.Name == "" {
			it.Name = fmt.Sprintf("app %s", a.ID)
		}
		if a.Priority && a.Kind != protocol.AppKindPackager {
			stages = append(stages, stage{Name: it.Name, Items: []item{it}})
			continue
		}
		background = append(background, it)
	}
	return stages, background
}
