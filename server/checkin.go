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
	"time"

	"go.uber.org/zap"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/protocol/schedule"
	"github.com/mobileatwork/mobileatwork/server/cas"
	"github.com/mobileatwork/mobileatwork/server/distribution"
	"github.com/mobileatwork/mobileatwork/server/settings"
	"github.com/mobileatwork/mobileatwork/server/store"
	"github.com/mobileatwork/mobileatwork/server/variables"
)

// deviceConfigs is what reaches one device, as the one resolver decides.
type deviceConfigs struct {
	audience   distribution.Audience
	inEffect   *store.Configuration  // the best Mobile@Work configuration; nil when none
	superseded []store.Configuration // other Mobile@Work configurations, best first
	scripts    []store.Configuration // script configurations, oldest first
	cancelled  map[string]bool       // script configurations cancelled here at their version
}

// all lists every configuration reaching the device, in effect first.
func (dc deviceConfigs) all() []store.Configuration {
	var out []store.Configuration
	if dc.inEffect != nil {
		out = append(out, *dc.inEffect)
	}
	out = append(out, dc.superseded...)
	return append(out, dc.scripts...)
}

// settings is the device's effective Mobile@Work settings.
func (dc deviceConfigs) settings() map[string]string {
	if dc.inEffect == nil {
		return settings.Defaults()
	}
	return settings.Merge(dc.inEffect.Settings)
}

func (s *Server) audience(ctx context.Context, d store.Device) (distribution.Audience, error) {
	if d.User == "" {
		return newAudience(d, nil), nil
	}
	gs, err := s.Store.UserGroupsOf(ctx, strings.ToLower(d.User))
	return newAudience(d, gs), err
}

// configsFor resolves what reaches the device: candidates come from the
// targets index, distribution.Reaches decides.
func (s *Server) configsFor(ctx context.Context, d store.Device) (deviceConfigs, error) {
	aud, err := s.audience(ctx, d)
	if err != nil {
		return deviceConfigs{}, fmt.Errorf("audience of %s: %w", d.ID, err)
	}
	cands, err := s.Store.ConfigurationsFor(ctx, aud)
	if err != nil {
		return deviceConfigs{}, err
	}
	dc := deviceConfigs{audience: aud}
	var maw []store.Configuration
	for _, c := range cands {
		if !distribution.Reaches(c.Targets, aud) {
			continue
		}
		switch c.Kind {
		case store.KindMobileAtWork:
			maw = append(maw, c)
		case store.KindScript:
			dc.scripts = append(dc.scripts, c)
		}
	}
	slices.SortStableFunc(maw, func(a, b store.Configuration) int { return a.Priority - b.Priority })
	slices.SortStableFunc(dc.scripts, func(a, b store.Configuration) int { return a.CreatedAt.Compare(b.CreatedAt) })
	if len(maw) > 0 {
		dc.inEffect, dc.superseded = &maw[0], maw[1:]
	}
	return dc, nil
}

func (s *Server) handleCheckin(w http.ResponseWriter, r *http.Request, d store.Device, cert *x509.Certificate) {
	var req protocol.CheckinRequest
	if !s.decodeFrom(w, r, d, &req, &req.DeviceID) {
		return
	}
	switch {
	case req.ProtocolVersion != protocol.Version:
		s.fail(w, r, http.StatusBadRequest, fmt.Sprintf("protocol version %d is not supported", req.ProtocolVersion))
		return
	case len(req.Nonce) < 16 || len(req.Nonce) > 64:
		s.fail(w, r, http.StatusBadRequest, "nonce must be 16 to 64 bytes")
		return
	}
	// The agent version is a fact once recorded (see checkin).
	facts := req.Facts
	facts.AgentVersion = req.AgentVersion
	if err := checkReported(facts, req.Capabilities); err != nil {
		s.fail(w, r, http.StatusBadRequest, "check-in refused: "+err.Error())
		return
	}
	p, prev, err := s.checkin(r.Context(), d, req, cert)
	if err != nil {
		s.internal(w, r, "check-in", err)
		return
	}
	signed, err := protocol.SignCheckin(p, s.signerFor(req.Capabilities))
	if err != nil {
		s.internal(w, r, "sign check-in", err)
		return
	}
	answer := "full"
	if p.Unchanged {
		answer = "unchanged"
	}
	noteAnswer(r, answer)
	if p.Resend {
		s.Log.Info("agent upgraded: configuration redistributed", zap.String("device", d.ID), zap.String("from", prev), zap.String("to", req.AgentVersion))
	}
	w.Header().Set("Content-Type", protocol.ContentTypeSigned)
	w.Write(signed)
}

// checkin records what the device reported and answers it: "unchanged"
// when the content the device holds is still what it would be sent (see
// delivery.go), else the payload in full: the Mobile@Work configuration in
// effect, the script configurations reaching it (none without a Mobile@Work
// configuration), its apps and onboarding plan. It returns the agent
// version the device had reported before.
func (s *Server) checkin(ctx context.Context, d store.Device, req protocol.CheckinRequest, cert *x509.Certificate) (protocol.CheckinPayload, string, error) {
	now := s.now()
	req.Facts.AgentVersion = req.AgentVersion
	c := store.Checkin{Facts: req.Facts, Capabilities: req.Capabilities, RecentLog: cleanLog(req.RecentLog), At: now}
	prev := d.AgentVersion
	var err error
	if reportsNothingNew(d, c) {
		err = s.seen.note(ctx, s.Store, d.ID, now)
	} else {
		prev, err = s.Store.RecordCheckin(ctx, d.ID, c)
	}
	if err != nil {
		return protocol.CheckinPayload{}, "", fmt.Errorf("record check-in: %w", err)
	}
	d.Facts, d.Capabilities, d.AgentVersion = req.Facts, req.Capabilities, req.AgentVersion
	p := protocol.CheckinPayload{
		ProtocolVersion: protocol.Version, DeviceID: d.ID, Nonce: req.Nonce,
		IssuedAt: now, ExpiresAt: now.Add(s.ResponseTTL),
		// A new agent version gets its whole configuration again.
		Resend:         prev != "" && prev != req.AgentVersion,
		RetiredSigners: s.retiredFor(req.Capabilities),
	}
	// The generation is read before anything the payload is built from: a
	// change made while it is built makes the next check-in build again.
	basis := deliveryBasis(d, req, cert, p.RetiredSigners)
	gen, haveGen := int64(0), false
	if req.PayloadDigest != "" && !p.Resend {
		chk, err := s.Store.DeliveryCheck(ctx, d.ID)
		switch {
		case err != nil:
			// Any doubt is answered in full.
			s.Log.Warn("read delivery", zap.String("device", d.ID), zap.Error(err))
		case stillCurrent(chk, req.PayloadDigest, basis, now):
			return protocol.Unchanged(p, req.PayloadDigest), prev, nil
		default:
			gen, haveGen = chk.Generation, true
		}
	}
	if !haveGen {
		if gen, err = s.Store.Generation(ctx); err != nil {
			return protocol.CheckinPayload{}, "", fmt.Errorf("read generation: %w", err)
		}
	}
	complete, after, refreshAt, err := s.fillPayload(ctx, &p, d, req, cert, now)
	if err != nil {
		return protocol.CheckinPayload{}, "", err
	}
	// The statuses as this build left them: a run reported meanwhile is not
	// among them, and makes the next check-in build again.
	del := store.Delivery{DeviceID: d.ID, Basis: basisWith(basis, store.Marks(after)), Generation: gen, RefreshAt: refreshAt, SentAt: now}
	if complete && !p.More && !p.Resend {
		del.Digest = protocol.ContentDigest(p)
	}
	if err := s.Store.PutDelivery(ctx, del); err != nil {
		// The device gets its payload; only the next check-in costs more.
		s.Log.Warn("record delivery", zap.String("device", d.ID), zap.Error(err))
	}
	if del.Digest != "" && del.Digest == req.PayloadDigest {
		return protocol.Unchanged(p, del.Digest), prev, nil
	}
	return p, prev, nil
}

// fillPayload builds the content of a full answer into p and records the
// statuses it gives the configurations. complete is false when a part was
// left out for a failure (the plan, the statuses) that the next check-in
// must try again; after are the device's statuses once recorded, and
// refreshAt is when they next change on their own.
func (s *Server) fillPayload(ctx context.Context, p *protocol.CheckinPayload, d store.Device, req protocol.CheckinRequest, cert *x509.Certificate, now time.Time) (complete bool, after []store.DeviceStatus, refreshAt time.Time, err error) {
	dc, err := s.configsFor(ctx, d)
	if err != nil {
		return false, nil, time.Time{}, fmt.Errorf("resolve configurations: %w", err)
	}
	cfg := dc.settings()
	p.Config, p.Assignments = settings.DeviceConfig(cfg), []protocol.Assignment{}
	if err := s.applyStops(ctx, &p.Config, d.ID); err != nil {
		return false, nil, time.Time{}, err
	}
	held, err := s.Store.DeviceStatuses(ctx, d.ID)
	if err != nil {
		return false, nil, time.Time{}, fmt.Errorf("read statuses: %w", err)
	}
	cancels, err := s.cancellationsHere(ctx, d.ID, dc.scripts)
	if err != nil {
		return false, nil, time.Time{}, fmt.Errorf("read cancellations: %w", err)
	}
	dc.cancelled = map[string]bool{}
	for _, c := range cancels {
		dc.cancelled[c.ConfigID] = true
	}
	var ordersLapse time.Time
	p.Cancel, ordersLapse = cancelOrders(d, held, cancels, cancelWindow(p.Config), now)
	sent := map[string]bool{}
	if dc.inEffect != nil {
		// A device that no Mobile@Work configuration reaches runs no script.
		p.Configuration = &protocol.ConfigurationRef{ID: dc.inEffect.ID, Name: dc.inEffect.Name, Version: dc.inEffect.Version}
		budget := responseBudget(req.MaxResponseBytes)
		if p.Assignments, p.More, err = s.deviceAssignments(ctx, d, unfinished(deliverable(withoutCancelled(live(dc.scripts, now), dc.cancelled), d), d, held), cert, budget); err != nil {
			return false, nil, time.Time{}, fmt.Errorf("build assignments: %w", err)
		}
		for _, a := range p.Assignments {
			sent[a.ID] = true
		}
	}
	if p.Apps, err = s.deviceOffers(ctx, dc.audience); err != nil {
		return false, nil, time.Time{}, fmt.Errorf("build app offers: %w", err)
	}
	complete = true
	if dc.inEffect != nil {
		// A plan that cannot be built is left out: the check-in still
		// delivers scripts, and the agent waits for the plan within its window.
		if p.Onboarding, err = s.planFor(ctx, cfg, dc.audience); err != nil {
			s.Log.Error("build onboarding plan", zap.String("device", d.ID), zap.Error(err))
			complete = false
		}
	}
	if after, refreshAt, err = s.recordDelivery(ctx, d, dc, held, sent, now); err != nil {
		// Statuses are the admin's view; a failure to write them must not
		// keep the device from its configuration.
		s.Log.Error("record configuration statuses", zap.String("device", d.ID), zap.Error(err))
		complete = false
	}
	// A lapsing cancel order changes the payload as a next run does.
	return complete, after, earliest(refreshAt, ordersLapse), nil
}

func (s *Server) internal(w http.ResponseWriter, r *http.Request, what string, err error) {
	if errors.Is(err, store.ErrBusy) {
		s.overloaded(w, r, what, err)
		return
	}
	s.Log.Error(what, zap.String("path", r.URL.Path), zap.Error(err))
	s.fail(w, r, http.StatusInternalServerError, "internal error")
}

// cleanLog bounds what the device page shows of the agent's log.
func cleanLog(in []protocol.LogLine) []protocol.LogLine {
	if len(in) > protocol.MaxRecentLog {
		in = in[len(in)-protocol.MaxRecentLog:]
	}
	out := make([]protocol.LogLine, 0, len(in))
	for _, l := range in {
		l.Level = protocol.Clip(strings.ToLower(strings.TrimSpace(l.Level)), 16)
		l.Message = protocol.Clip(strings.ToValidUTF8(l.Message, "\uFFFD"), protocol.MaxLogLineBytes)
		out = append(out, l)
	}
	return out
}

// variableValues are the per-device values of the input variables. The
// reference server has no user directory: the user id is the local part of
// the enrollment email, the display name the full name of the Mac's console
// user as the device reports it (or the user's name when it was set with
// `user add --name`).
func variableValues(d store.Device, displayName string) map[string]string {
	uid, _, _ := strings.Cut(d.User, "@")
	name := d.Facts.ConsoleUserFullName
	if name == "" {
		name = displayName
	}
	if name == "" {
		name = uid
	}
	return map[string]string{
		variables.UserWorkEmailAddress: d.User,
		variables.UserUID:              uid,
		variables.UserDisplayName:      name,
		variables.DeviceSerialNumber:   d.Facts.SerialNumber,
		variables.DeviceName:           d.Facts.Hostname,
		variables.DeviceID:             d.ID,
	}
}

// deviceAssignments builds what the device receives for its script
// configurations: inputs resolved for it, schedules it can honour, and a key
// envelope sealed to its certificate for the script's current version,
// sealed once and kept (see keptEnvelopes).
//
// Assignments are added, oldest configuration first, while their encoded
// size stays within budget; more reports that some were left for a later
// check-in.
func (s *Server) deviceAssignments(ctx context.Context, d store.Device, scripts []store.Configuration, cert *x509.Certificate, budget int) (out []protocol.Assignment, more bool, err error) {
	out = []protocol.Assignment{}
	if len(scripts) == 0 {
		return out, false, nil
	}
	var displayName string
	if d.User != "" {
		if u, err := s.Store.User(ctx, d.User); err == nil {
			displayName = u.Name
		}
	}
	vals := variableValues(d, displayName)
	envs, err := s.keptEnvelopes(ctx, d.ID, cert)
	if err != nil {
		return nil, false, err
	}
	defer envs.save(ctx, s)
	byID := map[string]store.Script{} // many configurations share a script
	used := 0
	for _, c := range scripts {
		sc, ok := byID[c.Script.ScriptID]
		if !ok {
			if sc, err = s.Store.Script(ctx, c.Script.ScriptID); err != nil {
				return nil, false, fmt.Errorf("configuration %s: script %s: %w", c.ID, c.Script.ScriptID, err)
			}
			byID[sc.ID] = sc
		}
		inputs := make([]protocol.Input, 0, len(sc.Inputs))
		for _, decl := range sc.Inputs {
			v, ok := c.Script.Inputs[decl.Name]
			if !ok {
				v = decl.Default
			}
			inputs = append(inputs, protocol.Input{Label: decl.Label, Name: decl.Name, Value: variables.Resolve(v, vals)})
		}
		env, err := envs.envelope(c, sc, s.signerFor(d.Capabilities), s.now())
		if err != nil {
			return nil, false, err
		}
		runAs := c.Script.RunAs
		if runAs == "" {
			runAs = protocol.RunAsRoot // rows from before run_as was always set
		}
		asg := protocol.Assignment{
			ID: c.ID, Version: c.Version, ScriptID: sc.ID, Name: c.Name,
			Inputs: inputs, Schedule: scheduleOn(c, d), RunAs: runAs,
			BlobURL:    protocol.PathBlob + c.ID + "/" + strconv.Itoa(sc.Version),
			BlobSHA256: sc.BlobSHA256, KeyEnvelope: env, Retries: retriesOn(c, d),
		}
		size := protocol.EncodedSize(asg)
		if used+size > budget && len(out) > 0 {
			return out, true, nil
		}
		used += size
		out = append(out, asg)
	}
	return out, false, nil
}

// responseBudget is how many bytes of assignments one signed response may
// carry for an agent that accepts max bytes: half of it, leaving room for
// the apps, the onboarding plan, the signature and the certificates.
func responseBudget(max int) int {
	if max <= 0 || max > protocol.MaxResponseBody {
		max = protocol.MaxResponseBody
	}
	return max / 2
}

// unfinished drops the run-once configurations the device has finished at
// their current version: they are not sent again (a device whose run
// ledger was lost then cannot run one twice), and a device reached by
// thousands of them gets them a response-full at a time.
func unfinished(scripts []store.Configuration, d store.Device, held []store.DeviceStatus) []store.Configuration {
	byID := map[string]store.DeviceStatus{}
	for _, st := range held {
		byID[st.ConfigID] = st
	}
	out := make([]store.Configuration, 0, len(scripts))
	for _, c := range scripts {
		if st, ok := byID[c.ID]; ok && finished(c, d, st) {
			continue
		}
		out = append(out, c)
	}
	return out
}

// scheduleOn is the schedule a script configuration follows on the device:
// agents that do not announce schedules (clients before 1.66) run a
// recurring script once.
func scheduleOn(c store.Configuration, d store.Device) schedule.Spec {
	if c.Script.Schedule.Recurring() && !slices.Contains(d.Capabilities, protocol.CapSchedule) {
		return schedule.Spec{Kind: schedule.Once}
	}
	return c.Script.Schedule
}

// finished tells whether the device ran a run-once configuration (or one
// it runs once, lacking schedules, or an enrollment trigger) at its current
// version, for good.
func finished(c store.Configuration, d store.Device, st store.DeviceStatus) bool {
	once := scheduleOn(c, d).Single()
	return once && st.Version == c.Version && st.Status != store.StatusRunning && ranOrRunning(st) && !runOpen(st)
}

// deviceZone is the device's zone for "local" schedules; UTC when it did
// not say or the server does not know the zone.
func deviceZone(d store.Device) *time.Location {
	if d.Facts.TimeZone != "" {
		if loc, err := time.LoadLocation(d.Facts.TimeZone); err == nil {
			return loc
		}
	}
	return time.UTC
}

// nextRun is when a script configuration runs next on the device, zero for
// run-once, for an agent that cannot schedule, or when no run is left.
func nextRun(c store.Configuration, d store.Device, now time.Time) time.Time {
	spec := scheduleOn(c, d)
	if !spec.Recurring() {
		return time.Time{}
	}
	next, ok := spec.Next(now, deviceZone(d))
	if !ok {
		return time.Time{}
	}
	return next.UTC()
}

// recordDelivery writes the statuses a check-in gives the configurations
// reaching the device, only those that changed, and forgets the statuses
// of configurations that no longer reach it. It returns the statuses the
// device has then, by config id, and the earliest next run of its
// recurring scripts (zero when none), when they next change on their own.
// Script configurations left out of this response for room (not
// delivered, not finished) keep the status they had.
func (s *Server) recordDelivery(ctx context.Context, d store.Device, dc deviceConfigs, held []store.DeviceStatus, sent map[string]bool, now time.Time) ([]store.DeviceStatus, time.Time, error) {
	prev := map[string]*store.DeviceStatus{}
	for i := range held {
		prev[held[i].ConfigID] = &held[i]
	}
	type delivery struct {
		c store.Configuration
		r role
	}
	var todo []delivery
	reached := map[string]bool{}
	if dc.inEffect != nil {
		todo = append(todo, delivery{*dc.inEffect, roleInEffect})
	}
	for _, c := range dc.superseded {
		todo = append(todo, delivery{c, roleSuperseded})
	}
	// A run reported before the server kept statuses (or before this
	// status existed) still counts: the newest results of the scripts the
	// device has not run at their version, in one look-up.
	var unrun []string
	for _, c := range dc.scripts {
		r := roleScript
		switch {
		case dc.cancelled[c.ID]:
			reached[c.ID] = true // cancelled here: its status stays as the cancel and the device left it
			continue
		case dc.inEffect == nil:
			r = roleNoMAW
		case lacksTriggers(c, d):
			r = roleNoTriggers
		case !sent[c.ID] && !(prev[c.ID] != nil && finished(c, d, *prev[c.ID])):
			reached[c.ID] = true // withheld for room: unchanged until sent
			continue
		}
		todo = append(todo, delivery{c, r})
		if p := prev[c.ID]; r == roleScript && (p == nil || p.Version != c.Version || !ranOrRunning(*p)) {
			unrun = append(unrun, c.ID)
		}
	}
	latest, err := s.Store.LatestResults(ctx, d.ID, unrun)
	if err != nil {
		return nil, time.Time{}, err
	}
	var put []store.DeviceStatus
	var refresh time.Time
	for _, t := range todo {
		c := t.c
		reached[c.ID] = true
		var last *store.StoredResult
		if res, ok := latest[c.ID]; ok && res.AssignmentVersion == c.Version {
			last = &res
		}
		var next time.Time
		if t.r == roleScript {
			next = nextRun(c, d, now)
			c.Script.Schedule = scheduleOn(c, d) // the status follows what the device runs
			refresh = earliest(refresh, next)
		}
		// Past its expiry a configuration is no longer sent: what the
		// device holds changes then, as at a next run.
		if now.Before(c.ExpiresAt) {
			refresh = earliest(refresh, c.ExpiresAt)
		}
		st := delivered(prev[c.ID], c, t.r, dc.inEffect, last, next, now)
		st.DeviceID = d.ID
		if changed(prev[c.ID], st) {
			put = append(put, st)
		}
	}
	var gone []string
	for id := range prev {
		if !reached[id] {
			gone = append(gone, id)
		}
	}
	if err := s.Store.PutStatuses(ctx, put); err != nil {
		return nil, time.Time{}, err
	}
	if err := s.Store.DeleteStatuses(ctx, d.ID, gone); err != nil {
		return nil, time.Time{}, err
	}
	byConfig := map[string]store.DeviceStatus{}
	for id, p := range prev {
		if reached[id] {
			byConfig[id] = *p
		}
	}
	for _, st := range put {
		byConfig[st.ConfigID] = st
	}
	after := make([]store.DeviceStatus, 0, len(byConfig))
	for _, id := range sortedKeys(byConfig) {
		after = append(after, byConfig[id])
	}
	return after, refresh, nil
}

// setRunStatus records what the device reports of a run of configuration
// id at version, when that is still the configuration's current version.
func (s *Server) setRunStatus(ctx context.Context, d store.Device, id string, version int, status, detail string, now time.Time) error {
	c, err := s.Store.Configuration(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil // deleted since: its history is in the results
	} else if err != nil {
		return err
	}
	if c.Kind != store.KindScript || c.Version != version {
		return nil
	}
	st := store.DeviceStatus{ConfigID: id, DeviceID: d.ID, Version: version, Status: status, Detail: detail,
		NextRun: nextRun(c, d, now), UpdatedAt: now}
	return s.Store.PutStatuses(ctx, []store.DeviceStatus{st})
}

func (s *Server) handleBlob(w http.ResponseWriter, r *http.Request, d store.Device, _ *x509.Certificate) {
	id := r.PathValue("config")
	version, err := strconv.Atoi(r.PathValue("version"))
	if err != nil || version < 1 {
		s.fail(w, r, http.StatusNotFound, "no such script version")
		return
	}
	c, ok := s.deviceScript(w, r, d, id)
	if !ok {
		return
	}
	if expired(*c, s.now()) || s.cancelledOn(r.Context(), d.ID, *c) {
		s.fail(w, r, http.StatusNotFound, noScriptConfiguration)
		return
	}
	sv, err := s.Store.ScriptVersion(r.Context(), c.Script.ScriptID, version)
	if errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, http.StatusNotFound, "no such script version")
		return
	} else if err != nil {
		s.internal(w, r, "read script version", err)
		return
	}
	b, err := s.Files.Get(sv.BlobSHA256, protocol.MaxBlobBody)
	if errors.Is(err, cas.ErrNotFound) {
		s.fail(w, r, http.StatusNotFound, "script blob missing")
		return
	} else if err != nil {
		s.internal(w, r, "read blob", err)
		return
	}
	if !reportsStarts(d) {
		if err := s.setRunStatus(r.Context(), d, c.ID, c.Version, store.StatusRunning, "the device fetched the script to run it", s.now()); err != nil {
			s.Log.Warn("record running status", zap.String("device", d.ID), zap.Error(err))
		}
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(b)
}

// noScriptConfiguration answers a device route about a script
// configuration that does not reach the device.
const noScriptConfiguration = "no such script configuration for this device"

// deviceScript is script configuration id as it reaches device d, with a
// Mobile@Work configuration in effect; otherwise it answers the request
// (404, or the failure to resolve) and reports false.
func (s *Server) deviceScript(w http.ResponseWriter, r *http.Request, d store.Device, id string) (*store.Configuration, bool) {
	dc, err := s.configsFor(r.Context(), d)
	if err != nil {
		s.internal(w, r, "resolve configurations", err)
		return nil, false
	}
	if dc.inEffect != nil {
		for i := range dc.scripts {
			if dc.scripts[i].ID == id {
				return &dc.scripts[i], true
			}
		}
	}
	s.fail(w, r, http.StatusNotFound, noScriptConfiguration)
	return nil, false
}

func validStatus(s string) bool { return slices.Contains(protocol.ResultStatuses, s) }

// maxResultOutput bounds what one result may carry per stream: agents cap
// output at max_response_kb (at most 1 MB) plus a marker line.
const maxResultOutput = 1<<20 + 256

func (s *Server) handleResults(w http.ResponseWriter, r *http.Request, d store.Device, _ *x509.Certificate) {
	var req protocol.ResultsRequest
	if !s.decodeFrom(w, r, d, &req, &req.DeviceID) {
		return
	}
	ack := protocol.ResultsAck{Accepted: []string{}}
	now := s.now()
	scope := s.newResultScope(d)
	for _, res := range req.Results {
		why := resultProblem(res, d.ID)
		if why == "" {
			ok, err := scope.targets(r.Context(), res.AssignmentID)
			if err != nil {
				s.Log.Error("read the configurations of the device", zap.String("device", d.ID), zap.Error(err))
				continue // not acknowledged: the agent keeps it and retries
			}
			if !ok {
				why = fmt.Sprintf("configuration %q does not target this device", protocol.Clip(res.AssignmentID, 128))
			}
		}
		if why != "" {
			// Answered by name, so the agent stops resending it and reports
			// the run without it; never left unanswered to block the others.
			s.Log.Warn("result refused", zap.String("device", d.ID), zap.String("run_id", res.RunID), zap.String("reason", why))
			if res.RunID != "" {
				ack.Refused = append(ack.Refused, protocol.Refusal{RunID: res.RunID, Reason: why})
			}
			continue
		}
		isNew, err := s.Store.PutResult(r.Context(), res, now)
		if errors.Is(err, store.ErrBusy) {
			// Nothing of this answer reaches the agent: it sends every
			// result again, and those stored already are acknowledged then.
			s.overloaded(w, r, "store result", err)
			return
		}
		if err != nil {
			s.Log.Error("store result", zap.Error(err))
			continue // not acknowledged: the agent keeps it and retries
		}
		if isNew {
			s.Log.Info("result", zap.String("device", d.ID), zap.String("run_id", res.RunID), zap.String("status", res.Status))
			status, detail := resultStatus(res)
			if err := s.setRunStatus(r.Context(), d, res.AssignmentID, res.AssignmentVersion, status, detail, now); err != nil {
				s.Log.Warn("record run status", zap.String("device", d.ID), zap.Error(err))
			}
		}
		ack.Accepted = append(ack.Accepted, res.RunID)
	}
	writeJSON(w, http.StatusOK, ack)
}

// resultProblem says why a result can never be stored, or "".
func resultProblem(res protocol.Result, deviceID string) string {
	switch {
	case res.RunID == "" || len(res.RunID) > 128:
		return "run id missing or longer than 128 bytes"
	case res.DeviceID != deviceID:
		return "the result names another device"
	case !validStatus(res.Status):
		return fmt.Sprintf("unknown status %q", protocol.Clip(res.Status, 32))
	case len(res.Stdout) > maxResultOutput || len(res.Stderr) > maxResultOutput:
		return fmt.Sprintf("output over %d bytes per stream", maxResultOutput)
	case res.ScriptSHA256 != "" && !sha256Hex.MatchString(res.ScriptSHA256):
		return "script digest is not a SHA-256"
	case len(res.Error) > 64<<10:
		return "error text over 64 KiB"
	}
	return ""
}

// earliest is the earlier of two instants, the zero time standing for none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
