package server

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/distribution"
	"github.com/mobileatwork/mobileatwork/server/settings"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// AddProfile stores a configuration the onboarding waits for. The
// identifier is the profile's PayloadIdentifier, as `profiles list` shows
// it on the Mac.
// Without targets, it is waited for on every device (as MDM installs it on
// all); to (TARGET words) narrows it to the devices MDM installs it on.
func (s *Server) AddProfile(ctx context.Context, name, ident string, to []string) (store.Profile, error) {
	p := store.Profile{Name: strings.TrimSpace(name), Identifier: strings.TrimSpace(ident)}
	switch {
	case p.Name == "":
		return store.Profile{}, invalid("--name is required")
	case len(p.Name) > 256 || strings.IndexFunc(p.Name, unicode.IsControl) >= 0:
		return store.Profile{}, invalid("--name must be at most 256 characters, on one line")
	case !identifier.MatchString(p.Identifier):
		return store.Profile{}, invalid("--identifier %q: want the profile's PayloadIdentifier, e.g. com.example.wifi", ident)
	}
	existing, err := s.Store.Profiles(ctx)
	if err != nil {
		return store.Profile{}, fmt.Errorf("list profiles: %w", err)
	}
	for _, e := range existing {
		if strings.EqualFold(e.Identifier, p.Identifier) {
			return store.Profile{}, invalid("profile %s (%q) already has identifier %s; see `mobileatwork-server profile list`", e.ID, e.Name, e.Identifier)
		}
	}
	p.Targets = []distribution.Target{{Kind: distribution.All}}
	if len(to) > 0 {
		ts, err := s.parseTargets(ctx, to)
		if err != nil {
			return store.Profile{}, err
		}
		p.Targets = ts
	}
	p.ID, p.CreatedAt = newID("prf"), s.now()
	if err := s.Store.CreateProfile(ctx, p); err != nil {
		return store.Profile{}, fmt.Errorf("store profile: %w", err)
	}
	return p, s.audit(ctx, "profile.add", profileObject(p), fmt.Sprintf("identifier: %s; distribution: %s", p.Identifier, reachWords(p.Targets)))
}

func profileObject(p store.Profile) string { return object("profile", p.ID, p.Name) }

// DistributeProfile replaces the devices whose onboarding waits for the
// profile; with dryRun it only says which devices those would be.
func (s *Server) DistributeProfile(ctx context.Context, id string, to []string, dryRun bool) (store.Profile, []store.Device, error) {
	ps, err := s.Store.Profiles(ctx)
	if err != nil {
		return store.Profile{}, nil, err
	}
	var p *store.Profile
	for i := range ps {
		if ps[i].ID == id || strings.EqualFold(ps[i].Identifier, id) {
			p = &ps[i]
		}
	}
	if p == nil {
		return store.Profile{}, nil, invalid("no profile %q; see `mobileatwork-server profile list`", id)
	}
	ts, reached, err := s.targetsAndReach(ctx, to)
	if err != nil {
		return store.Profile{}, nil, err
	}
	before := p.Targets
	p.Targets = ts
	if dryRun {
		return *p, reached, nil
	}
	if err := s.Store.SetProfileTargets(ctx, p.ID, ts); err != nil {
		return store.Profile{}, nil, err
	}
	return *p, reached, s.audit(ctx, "profile.distribute", profileObject(*p), change("distribution", reachWords(before), reachWords(ts)))
}

// Profiles returns the configurations of the onboarding plan, oldest first.
func (s *Server) Profiles(ctx context.Context) ([]store.Profile, error) {
	ps, err := s.Store.Profiles(ctx)
	if err != nil {
		return nil, fmt.Errorf("list profiles: %w", err)
	}
	return nonNil(ps), nil
}

// onboardingPlan is the plan the check-in carries, nil when onboarding is
// disabled. The apps of the plan are the device's app offers, which travel
// beside it. A plan that cannot be built is left out and logged: the check-in
// still delivers scripts, and the agent waits for the plan within its window.
func (s *Server) onboardingPlan(ctx context.Context, stored map[string]string, d store.Device, aud distribution.Audience) *protocol.OnboardingPlan {
	plan, err := s.planFor(ctx, stored, aud)
	if err != nil {
		s.Log.Error("build onboarding plan", zap.String("device", d.ID), zap.Error(err))
	}
	return plan
}

// planFor is onboardingPlan's plan, or why it could not be built.
func (s *Server) planFor(ctx context.Context, stored map[string]string, aud distribution.Audience) (*protocol.OnboardingPlan, error) {
	cfg := settings.Merge(stored)
	if on, _ := strconv.ParseBool(cfg["onboarding.enabled"]); !on {
		return nil, nil
	}
	profiles, err := s.Store.ProfilesFor(ctx, aud)
	if err != nil {
		return nil, err
	}
	n := func(k string) int { v, _ := strconv.Atoi(cfg[k]); return v }
	plan := &protocol.OnboardingPlan{
		Enabled: true, SetupTimeoutSeconds: n("onboarding.setup_timeout_seconds"),
		WindowMinutes: n("onboarding.window_minutes"), LandingURL: cfg["onboarding.landing_url"],
		Profiles: make([]protocol.Profile, 0, len(profiles)),
	}
	for _, p := range profiles {
		if distribution.Reaches(p.Targets, aud) {
			plan.Profiles = append(plan.Profiles, protocol.Profile{ID: p.ID, Name: p.Name, Identifier: p.Identifier})
		}
	}
	return plan, nil
}

var (
	validOnboardingState = map[string]bool{
		protocol.OnboardingPending: true, protocol.OnboardingRunning: true, protocol.OnboardingDone: true,
		protocol.OnboardingTimedOut: true, protocol.OnboardingSkipped: true,
	}
	validItemStatus = map[string]bool{
		protocol.ItemPending: true, protocol.ItemInstalling: true, protocol.ItemInstalled: true, protocol.ItemFailed: true,
	}
	// outcomeOfState lists the outcomes each state may report.
	outcomeOfState = map[string][]string{
		protocol.OnboardingPending:  {protocol.OutcomePending},
		protocol.OnboardingRunning:  {protocol.OutcomeRunning},
		protocol.OnboardingDone:     {protocol.OutcomeDone, protocol.OutcomeDoneWithFailures},
		protocol.OnboardingTimedOut: {protocol.OutcomeTimedOut},
		protocol.OnboardingSkipped:  {protocol.OutcomeSkipped},
	}
)

// checkOnboardingReport refuses a report the admin views could not show
// faithfully; the log is cut to its newest lines rather than refused.
func checkOnboardingReport(r *protocol.OnboardingReport) error {
	if !validOnboardingState[r.State] {
		return fmt.Errorf("unknown onboarding state %q", r.State)
	}
	if len(r.Log) > protocol.MaxOnboardingLog {
		r.Log = r.Log[len(r.Log)-protocol.MaxOnboardingLog:]
	}
	long := func(ss ...string) bool {
		for _, s := range ss {
			if len(s) > protocol.MaxOnboardingString {
				return true
			}
		}
		return false
	}
	items := len(r.Background)
	checkItem := func(it protocol.OnboardingItem) error {
		if !validItemStatus[it.Status] || long(it.ID, it.Name, it.Kind, it.Error) {
			return fmt.Errorf("item %.64q: unknown status or value too long", it.Name)
		}
		return nil
	}
	for _, st := range r.Stages {
		items += len(st.Items)
		if !validItemStatus[st.Status] || long(st.Name) {
			return fmt.Errorf("stage %.64q: unknown status or name too long", st.Name)
		}
		for _, it := range st.Items {
			if err := checkItem(it); err != nil {
				return err
			}
		}
	}
	for _, it := range r.Background {
		if err := checkItem(it); err != nil {
			return err
		}
	}
	if items > protocol.MaxOnboardingItems || long(r.Current, r.LandingURL) {
		return fmt.Errorf("report larger than the server accepts (%d items)", items)
	}
	for i := range r.Log {
		if long(r.Log[i].Message) {
			return errors.New("log line too long")
		}
	}
	if r.Progress != nil {
		return checkOnboardingProgress(r.State, len(r.Stages), *r.Progress, long)
	}
	return nil
}

// checkOnboardingProgress refuses a progress that contradicts the report
// it came with: the admin views show it as the device's word.
func checkOnboardingProgress(state string, stages int, p protocol.OnboardingProgress, long func(...string) bool) error {
	if !slices.Contains(outcomeOfState[state], p.Outcome) {
		return fmt.Errorf("onboarding outcome %.64q does not fit state %s", p.Outcome, state)
	}
	if p.StagesTotal != stages || p.StagesDone < 0 || p.StagesDone > p.StagesSettled || p.StagesSettled > p.StagesTotal {
		return fmt.Errorf("progress counts %d done, %d settled of %d do not fit %d stages", p.StagesDone, p.StagesSettled, p.StagesTotal, stages)
	}
	if n := len(p.NowInstalling) + len(p.WaitingFor) + len(p.Queued) + len(p.Failed); n > protocol.MaxOnboardingItems {
		return fmt.Errorf("progress larger than the server accepts (%d names)", n)
	}
	for _, names := range [][]string{p.NowInstalling, p.WaitingFor, p.Queued} {
		if long(names...) {
			return errors.New("progress name too long")
		}
	}
	for _, f := range p.Failed {
		if long(f.Name, f.Stage, f.Message) {
			return fmt.Errorf("failure %.64q: value too long", f.Name)
		}
	}
	return nil
}

func (s *Server) handleOnboarding(w http.ResponseWriter, r *http.Request, d store.Device, _ *x509.Certificate) {
	var rep protocol.OnboardingReport
	if !s.decodeFrom(w, r, d, &rep, &rep.DeviceID) {
		return
	}
	if err := checkOnboardingReport(&rep); err != nil {
		s.fail(w, r, http.StatusBadRequest, "onboarding report refused: "+err.Error())
		return
	}
	if err := s.Store.PutOnboarding(r.Context(), d.ID, rep, s.now()); err != nil {
		s.internal(w, r, "store onboarding progress", err)
		return
	}
	s.Log.Info("onboarding progress", zap.String("device", d.ID), zap.String("state", rep.State))
	writeJSON(w, http.StatusOK, struct{}{})
}

// DeviceOnboarding returns a device's latest onboarding progress.
func (s *Server) DeviceOnboarding(ctx context.Context, deviceID string) (store.StoredOnboarding, error) {
	if _, err := s.Store.Device(ctx, deviceID); errors.Is(err, store.ErrNotFound) {
		return store.StoredOnboarding{}, invalid("no device %q; see `mobileatwork-server devices`", deviceID)
	} else if err != nil {
		return store.StoredOnboarding{}, err
	}
	o, err := s.Store.Onboarding(ctx, deviceID)
	if errors.Is(err, store.ErrNotFound) {
		return store.StoredOnboarding{}, fmt.Errorf("device %s has not reported onboarding progress yet: %w", deviceID, err)
	}
	return o, err
}
