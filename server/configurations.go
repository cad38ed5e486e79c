package server

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/protocol/schedule"
	"github.com/mobileatwork/mobileatwork/server/distribution"
	"github.com/mobileatwork/mobileatwork/server/settings"
	"github.com/mobileatwork/mobileatwork/server/store"
	"github.com/mobileatwork/mobileatwork/server/variables"
)

// looksLikeID matches generated ids, which names may not imitate, so that a
// REF is never both one configuration's id and another's name.
var looksLikeID = regexp.MustCompile(`^(cfg|asg|scr|dev|app|prf|tok)_[0-9a-f]+$`)

func checkName(what, name string) error {
	switch {
	case name == "":
		return invalid("--name is required: the %s needs a name", what)
	case len(name) > 128 || strings.IndexFunc(name, unicode.IsControl) >= 0:
		return invalid("--name must be at most 128 characters, on one line")
	case looksLikeID.MatchString(name):
		return invalid("--name %q looks like an id; choose a name people read", name)
	}
	return nil
}

func checkDescription(d string) error {
	if len(d) > 2048 {
		return invalid("--description must be at most 2048 bytes")
	}
	return nil
}

// Configuration resolves a REF: an id, or a name without regard to case.
func (s *Server) Configuration(ctx context.Context, ref string) (store.Configuration, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return store.Configuration{}, invalid("a configuration is required: give its id or name; see `mobileatwork-server configs`")
	}
	c, err := s.Store.Configuration(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		c, err = s.Store.ConfigurationByName(ctx, ref)
	}
	if errors.Is(err, store.ErrNotFound) {
		return store.Configuration{}, invalid("no configuration %q; see `mobileatwork-server configs`", ref)
	}
	return c, err
}

// Configurations lists every configuration, or those of one kind.
func (s *Server) Configurations(ctx context.Context, kind string) ([]store.Configuration, error) {
	switch kind {
	case "", store.KindMobileAtWork, store.KindScript:
	default:
		return nil, invalid("--kind %q: want mobileatwork or script", kind)
	}
	all, err := s.Store.Configurations(ctx)
	if err != nil {
		return nil, err
	}
	out := []store.Configuration{}
	for _, c := range all {
		if kind == "" || c.Kind == kind {
			out = append(out, c)
		}
	}
	return out, nil
}

// AddMobileAtWork adds a Mobile@Work configuration with the given KEY=VALUE
// settings (the others keep their documented defaults), distributed to no
// one and ranked after the existing ones.
func (s *Server) AddMobileAtWork(ctx context.Context, name, description string, words []string) (store.Configuration, error) {
	name, description = strings.TrimSpace(name), strings.TrimSpace(description)
	if err := checkName("configuration", name); err != nil {
		return store.Configuration{}, err
	}
	if err := checkDescription(description); err != nil {
		return store.Configuration{}, err
	}
	kv, err := settings.Parse(words)
	if err != nil {
		return store.Configuration{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	maw, err := s.Configurations(ctx, store.KindMobileAtWork)
	if err != nil {
		return store.Configuration{}, err
	}
	now := s.now()
	c := store.Configuration{
		ID: newID("cfg"), Kind: store.KindMobileAtWork, Name: name, Description: description, Version: 1,
		Priority: len(maw) + 1, Settings: kv, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.create(ctx, c); err != nil {
		return store.Configuration{}, err
	}
	return c, s.audit(ctx, "config.add", configObject(c), fmt.Sprintf("kind: %s; priority: %d", c.Kind, c.Priority))
}

func configObject(c store.Configuration) string { return object("configuration", c.ID, c.Name) }

func (s *Server) create(ctx context.Context, c store.Configuration) error {
	err := s.Store.CreateConfiguration(ctx, c)
	if errors.Is(err, store.ErrExists) {
		return invalid("a configuration named %q exists already; choose another --name", c.Name)
	}
	if err != nil {
		return fmt.Errorf("store configuration: %w", err)
	}
	return nil
}

// ScriptRequest describes a script configuration, for `config add script`
// and `assign`. In an edit, empty fields keep what is there.
type ScriptRequest struct {
	Script   string   // REF
	Inputs   []string // NAME=VALUE overrides
	Schedule *schedule.Spec
	RunAs    string
	Retries  *int // nil keeps what is there (none for a new configuration)
}

// AddScriptConfig adds a script configuration, distributed to no one.
func (s *Server) AddScriptConfig(ctx context.Context, name, description string, req ScriptRequest) (store.Configuration, error) {
	c, err := s.addScriptConfig(ctx, name, description, req)
	if err != nil {
		return store.Configuration{}, err
	}
	return c, s.audit(ctx, "config.add", configObject(c), scriptConfigSummary(c))
}

// scriptConfigSummary says what a new script configuration runs, when.
func scriptConfigSummary(c store.Configuration) string {
	return fmt.Sprintf("kind: %s; script: %s; schedule: %s", c.Kind, c.Script.ScriptID, c.Script.Schedule)
}

func (s *Server) addScriptConfig(ctx context.Context, name, description string, req ScriptRequest) (store.Configuration, error) {
	name, description = strings.TrimSpace(name), strings.TrimSpace(description)
	if err := checkName("configuration", name); err != nil {
		return store.Configuration{}, err
	}
	if err := checkDescription(description); err != nil {
		return store.Configuration{}, err
	}
	if req.Script == "" {
		return store.Configuration{}, invalid("--script is required: the id or name of a script; see `mobileatwork-server scripts`")
	}
	now := s.now()
	c := store.Configuration{ID: newID("cfg"), Kind: store.KindScript, Name: name, Description: description, Version: 1, CreatedAt: now, UpdatedAt: now}
	if err := s.applyScript(ctx, &c, req); err != nil {
		return store.Configuration{}, err
	}
	return c, s.create(ctx, c)
}

// applyScript checks req and writes it into c's script settings.
func (s *Server) applyScript(ctx context.Context, c *store.Configuration, req ScriptRequest) error {
	if req.Script != "" {
		sc, err := s.Script(ctx, req.Script)
		if err != nil {
			return err
		}
		if sc.ID != c.Script.ScriptID {
			c.Script.ScriptID = sc.ID
			c.Script.Inputs = nil // overrides belong to the script they were made for
		}
	}
	sc, err := s.Store.Script(ctx, c.Script.ScriptID)
	if err != nil {
		return fmt.Errorf("script %s: %w", c.Script.ScriptID, err)
	}
	if req.Schedule != nil {
		spec := *req.Schedule
		if spec.Kind == "" {
			spec.Kind = schedule.Once
		}
		if err := spec.Validate(); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		c.Script.Schedule = spec
	} else if c.Script.Schedule.Kind == "" {
		c.Script.Schedule = schedule.Spec{Kind: schedule.Once}
	}
	switch req.RunAs {
	case "":
		if c.Script.RunAs == "" {
			c.Script.RunAs = protocol.RunAsRoot
		}
	default:
		if err := protocol.CheckRunAs(req.RunAs); err != nil {
			return invalid("--run-as: %v", err)
		}
		c.Script.RunAs = req.RunAs
	}
	if err := applyRetries(c, req.Retries); err != nil {
		return err
	}
	declared := map[string]bool{}
	for _, in := range sc.Inputs {
		declared[in.Name] = true
	}
	overrides := map[string]string{}
	for k, v := range c.Script.Inputs {
		overrides[k] = v
	}
	for _, kv := range req.Inputs {
		name, value, ok := strings.Cut(kv, "=")
		if !ok {
			return invalid("--input %q: want NAME=VALUE", kv)
		}
		if !declared[name] {
			return invalid("--input %q: script %q declares no input %q (inputs: %s)", kv, sc.Name, name, inputNames(sc.Inputs))
		}
		if err := variables.Check(value); err != nil {
			return fmt.Errorf("%w: --input %s: %v", ErrInvalid, name, err)
		}
		overrides[name] = value
	}
	if len(overrides) == 0 {
		overrides = nil
	}
	c.Script.Inputs = overrides
	return nil
}

// ConfigUpdate is what `config set` changes; nil and empty fields keep what
// is there.
type ConfigUpdate struct {
	Name        *string
	Description *string
	Settings    []string // KEY=VALUE, Mobile@Work configurations
	Script      *ScriptRequest
}

// UpdateConfiguration edits a configuration, all or nothing. A change to
// what devices receive bumps the version, and devices get it at their next
// check-in (a script whose schedule or inputs changed starts afresh); a
// new name or description alone keeps the version, so it never re-runs a
// run-once script.
func (s *Server) UpdateConfiguration(ctx context.Context, ref string, u ConfigUpdate) (store.Configuration, error) {
	c, err := s.Configuration(ctx, ref)
	if err != nil {
		return store.Configuration{}, err
	}
	if u.Name == nil && u.Description == nil && len(u.Settings) == 0 && u.Script == nil {
		return store.Configuration{}, invalid("nothing to change: give --name, --description, KEY=VALUE or script flags")
	}
	before := c
	if u.Name != nil {
		name := strings.TrimSpace(*u.Name)
		if err := checkName("configuration", name); err != nil {
			return store.Configuration{}, err
		}
		c.Name = name
	}
	if u.Description != nil {
		c.Description = strings.TrimSpace(*u.Description)
		if err := checkDescription(c.Description); err != nil {
			return store.Configuration{}, err
		}
	}
	switch c.Kind {
	case store.KindMobileAtWork:
		if u.Script != nil {
			return store.Configuration{}, invalid("%q is a Mobile@Work configuration: --script, --input, schedules and --run-as belong to script configurations", c.Name)
		}
		if len(u.Settings) > 0 {
			kv, err := settings.ParseAssignments(u.Settings)
			if err != nil {
				return store.Configuration{}, fmt.Errorf("%w: %v", ErrInvalid, err)
			}
			merged := map[string]string{}
			for k, v := range c.Settings {
				merged[k] = v
			}
			for k, v := range kv {
				merged[k] = v
			}
			c.Settings = merged
		}
	case store.KindScript:
		if len(u.Settings) > 0 {
			return store.Configuration{}, invalid("%q is a script configuration: KEY=VALUE settings belong to Mobile@Work configurations", c.Name)
		}
		if u.Script != nil {
			if err := s.applyScript(ctx, &c, *u.Script); err != nil {
				return store.Configuration{}, err
			}
		}
	}
	if contentChanged(before, c) {
		c.Version++
	}
	c.UpdatedAt = s.now()
	err = s.Store.UpdateConfiguration(ctx, c)
	if errors.Is(err, store.ErrExists) {
		return store.Configuration{}, invalid("a configuration named %q exists already; choose another --name", c.Name)
	}
	if err != nil {
		return store.Configuration{}, fmt.Errorf("store configuration: %w", err)
	}
	return c, s.audit(ctx, "config.set", configObject(c), configChanges(before, c))
}

// configChanges says what an edit changed, before → after.
func configChanges(a, b store.Configuration) string {
	parts := []string{change("name", a.Name, b.Name), change("version", fmt.Sprint(a.Version), fmt.Sprint(b.Version))}
	if a.Description != b.Description {
		parts = append(parts, "description changed")
	}
	for _, k := range sortedKeys(mergedKeys(a.Settings, b.Settings)) {
		parts = append(parts, change(k, a.Settings[k], b.Settings[k]))
	}
	parts = append(parts, change("script", a.Script.ScriptID, b.Script.ScriptID),
		change("schedule", a.Script.Schedule.String(), b.Script.Schedule.String()),
		change("run as", a.Script.RunAs, b.Script.RunAs),
		change("retries", fmt.Sprint(a.Script.Retries), fmt.Sprint(b.Script.Retries)))
	for _, k := range sortedKeys(mergedKeys(a.Script.Inputs, b.Script.Inputs)) {
		parts = append(parts, change("input "+k, a.Script.Inputs[k], b.Script.Inputs[k]))
	}
	if out := changes(parts...); out != "" {
		return out
	}
	return "no change"
}

func mergedKeys(a, b map[string]string) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// contentChanged tells whether what devices receive differs.
func contentChanged(a, b store.Configuration) bool {
	if !mapsEqual(settings.Merge(a.Settings), settings.Merge(b.Settings)) {
		return true
	}
	return a.Script.ScriptID != b.Script.ScriptID || a.Script.RunAs != b.Script.RunAs || a.Script.Retries != b.Script.Retries ||
		a.Script.Schedule.String() != b.Script.Schedule.String() || !mapsEqual(a.Script.Inputs, b.Script.Inputs)
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// Reach is the answer of a distribution: the devices it reaches.
type Reach struct {
	Config  store.Configuration
	Devices []store.Device
}

// Distribute replaces a configuration's distribution with the targets of
// the --to words. With dryRun it changes nothing and only says which devices
// the new distribution would reach. Every device, user and group named must
// exist. A distribution change does not bump the version: devices already
// reached keep what they ran.
func (s *Server) Distribute(ctx context.Context, ref string, words []string, dryRun bool) (Reach, error) {
	c, err := s.Configuration(ctx, ref)
	if err != nil {
		return Reach{}, err
	}
	before := c.Targets
	r, err := s.distribute(ctx, c, words, dryRun)
	if err != nil || dryRun {
		return r, err
	}
	return r, s.audit(ctx, "config.distribute", configObject(c), change("distribution", reachWords(before), reachWords(r.Config.Targets)))
}

// distribute is Distribute of a configuration already read.
func (s *Server) distribute(ctx context.Context, c store.Configuration, words []string, dryRun bool) (Reach, error) {
	targets, reached, err := s.targetsAndReach(ctx, words)
	if err != nil {
		return Reach{}, err
	}
	c.Targets = targets
	if dryRun {
		return Reach{Config: c, Devices: reached}, nil
	}
	c.UpdatedAt = s.now()
	if err := s.Store.UpdateConfiguration(ctx, c); err != nil {
		return Reach{}, fmt.Errorf("store distribution: %w", err)
	}
	return Reach{Config: c, Devices: reached}, nil
}

// parseTargets reads --to words and checks that what they name exists,
// listing what does when it does not. The tenant's directory is read only
// when a target names something.
func (s *Server) parseTargets(ctx context.Context, words []string) ([]distribution.Target, error) {
	ts, err := distribution.Parse(words)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if len(ts) == 0 || (len(ts) == 1 && ts[0].Kind == distribution.All) {
		return ts, nil
	}
	dir, err := s.directory(ctx)
	if err != nil {
		return nil, err
	}
	return ts, dir.check(ts)
}

// targetsAndReach is parseTargets and the devices the targets reach, from
// one read of the tenant's directory.
func (s *Server) targetsAndReach(ctx context.Context, words []string) ([]distribution.Target, []store.Device, error) {
	ts, err := distribution.Parse(words)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if len(ts) == 0 {
		return ts, []store.Device{}, nil
	}
	dir, err := s.directory(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := dir.check(ts); err != nil {
		return nil, nil, err
	}
	return ts, dir.reached(ts), nil
}

// check refuses a target that names nothing the tenant has.
func (d *tenantDirectory) check(ts []distribution.Target) error {
	for _, t := range ts {
		var names []string
		var ok bool
		switch t.Kind {
		case distribution.All:
			continue
		case distribution.Device:
			_, ok = d.devices[t.Value]
			names = sortedKeys(d.devices)
		case distribution.DeviceGroup:
			ok, names = d.deviceGroups[t.Value], sortedKeys(d.deviceGroups)
		case distribution.User:
			ok, names = d.users[t.Value], sortedKeys(d.users)
		case distribution.UserGroup:
			_, ok = d.userGroups[t.Value]
			names = sortedKeys(d.userGroups)
		}
		if !ok {
			return invalid("--to %s: unknown %s; known: %s", t, kindWord(t.Kind), knownList(names))
		}
	}
	return nil
}

func kindWord(kind string) string {
	switch kind {
	case distribution.Device:
		return "device"
	case distribution.DeviceGroup:
		return "device group"
	case distribution.User:
		return "user (add it with `user add`)"
	case distribution.UserGroup:
		return "user group (add it with `user-group add`)"
	}
	return kind
}

func knownList(names []string) string {
	switch {
	case len(names) == 0:
		return "none yet"
	case len(names) > 20:
		return strings.Join(names[:20], ", ") + fmt.Sprintf(" and %d more", len(names)-20)
	}
	return strings.Join(names, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// tenantDirectory is everything targets can name, loaded at once for
// admin operations that look at the whole tenant.
type tenantDirectory struct {
	devices      map[string]store.Device
	deviceGroups map[string]bool
	users        map[string]bool
	userGroups   map[string][]string // name -> members
	groupsOf     map[string][]string // email -> user groups
}

func (s *Server) directory(ctx context.Context) (*tenantDirectory, error) {
	devs, err := s.Store.Devices(ctx)
	if err != nil {
		return nil, err
	}
	users, err := s.Store.Users(ctx)
	if err != nil {
		return nil, err
	}
	ugs, err := s.Store.UserGroups(ctx)
	if err != nil {
		return nil, err
	}
	d := &tenantDirectory{devices: map[string]store.Device{}, deviceGroups: map[string]bool{}, users: map[string]bool{},
		userGroups: map[string][]string{}, groupsOf: map[string][]string{}}
	for _, dev := range devs {
		d.devices[dev.ID] = dev
		for _, g := range dev.Groups {
			d.deviceGroups[g] = true
		}
	}
	for _, u := range users {
		d.users[u.Email] = true
	}
	for _, g := range ugs {
		d.userGroups[g.Name] = g.Members
		for _, m := range g.Members {
			d.groupsOf[m] = append(d.groupsOf[m], g.Name)
		}
	}
	return d, nil
}

// newAudience is what the resolver knows of a device whose user is in
// userGroups.
func newAudience(d store.Device, userGroups []string) distribution.Audience {
	return distribution.Audience{DeviceID: d.ID, DeviceGroups: d.Groups, User: strings.ToLower(d.User), UserGroups: userGroups}
}

// reached lists the enrolled devices (not those gone: left or retired) the targets
// reach, as the check-in decides it, the earliest enrolled first.
func (d *tenantDirectory) reached(targets []distribution.Target) []store.Device {
	out := []store.Device{}
	if len(targets) == 0 {
		return out
	}
	for _, id := range sortedKeys(d.devices) {
		dev := d.devices[id]
		if !dev.Gone() && distribution.Reaches(targets, newAudience(dev, d.groupsOf[strings.ToLower(dev.User)])) {
			out = append(out, dev)
		}
	}
	slices.SortStableFunc(out, func(a, b store.Device) int { return a.EnrolledAt.Compare(b.EnrolledAt) })
	return out
}

// DevicesReached lists the enrolled devices the targets reach.
func (s *Server) DevicesReached(ctx context.Context, targets []distribution.Target) ([]store.Device, error) {
	if len(targets) == 0 {
		return []store.Device{}, nil
	}
	dir, err := s.directory(ctx)
	if err != nil {
		return nil, err
	}
	return dir.reached(targets), nil
}

// ReachCounts is how many devices each configuration reaches, from one
// read of the tenant's directory.
func (s *Server) ReachCounts(ctx context.Context, cs []store.Configuration) (map[string]int, error) {
	dir, err := s.directory(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int, len(cs))
	for _, c := range cs {
		out[c.ID] = len(dir.reached(c.Targets))
	}
	return out, nil
}

// DeleteConfiguration withdraws a configuration from every device and
// deletes it. The default Mobile@Work configuration cannot be deleted: it
// can be distributed to no one instead.
func (s *Server) DeleteConfiguration(ctx context.Context, ref string) (store.Configuration, error) {
	c, err := s.Configuration(ctx, ref)
	if err != nil {
		return store.Configuration{}, err
	}
	if c.ID == store.DefaultConfigID {
		return store.Configuration{}, invalid("the default Mobile@Work configuration cannot be deleted; withdraw it with `config distribute default --to none`")
	}
	if err := s.Store.DeleteConfiguration(ctx, c.ID); err != nil {
		return store.Configuration{}, err
	}
	if c.Kind == store.KindMobileAtWork {
		// Close the gap in the priorities.
		if err := s.reorder(ctx, "", 0); err != nil {
			return store.Configuration{}, err
		}
	}
	return c, s.audit(ctx, "config.delete", configObject(c), "distribution was "+reachWords(c.Targets))
}

// SetPriority moves a Mobile@Work configuration to rank n (1 is the best);
// the others keep their order.
func (s *Server) SetPriority(ctx context.Context, ref string, n int) (store.Configuration, error) {
	c, err := s.Configuration(ctx, ref)
	if err != nil {
		return store.Configuration{}, err
	}
	if c.Kind != store.KindMobileAtWork {
		return store.Configuration{}, invalid("%q is a script configuration: only Mobile@Work configurations have a priority", c.Name)
	}
	maw, err := s.Configurations(ctx, store.KindMobileAtWork)
	if err != nil {
		return store.Configuration{}, err
	}
	if n < 1 || n > len(maw) {
		return store.Configuration{}, invalid("priority %d is out of range: there are %d Mobile@Work configurations, so give 1 to %d", n, len(maw), len(maw))
	}
	if err := s.reorder(ctx, c.ID, n); err != nil {
		return store.Configuration{}, err
	}
	after, err := s.Store.Configuration(ctx, c.ID)
	if err != nil {
		return store.Configuration{}, err
	}
	return after, s.audit(ctx, "config.priority", configObject(c), change("priority", fmt.Sprint(c.Priority), fmt.Sprint(after.Priority)))
}

// reorder renumbers the Mobile@Work configurations 1..k in their current
// order, with id moved to rank n when given.
func (s *Server) reorder(ctx context.Context, id string, n int) error {
	maw, err := s.Configurations(ctx, store.KindMobileAtWork)
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(maw))
	for _, c := range maw {
		if c.ID != id {
			ids = append(ids, c.ID)
		}
	}
	if id != "" {
		ids = slices.Insert(ids, n-1, id)
	}
	return s.Store.SetPriorities(ctx, ids, s.now())
}

// Assign is the shorthand of earlier releases: it adds a script
// configuration and distributes it, or does neither. Without a name the
// configuration is named after the script and its targets.
func (s *Server) Assign(ctx context.Context, name, description string, req ScriptRequest, to []string) (store.Configuration, Reach, error) {
	targets, err := s.parseTargets(ctx, to)
	if err != nil {
		return store.Configuration{}, Reach{}, err
	}
	if strings.TrimSpace(name) == "" {
		sc, err := s.Script(ctx, req.Script)
		if err != nil {
			return store.Configuration{}, Reach{}, err
		}
		if name, err = s.freeName(ctx, fmt.Sprintf("%s (%s)", sc.Name, distribution.String(targets))); err != nil {
			return store.Configuration{}, Reach{}, err
		}
	}
	c, err := s.addScriptConfig(ctx, name, description, req)
	if err != nil {
		return store.Configuration{}, Reach{}, err
	}
	r, err := s.distribute(ctx, c, to, false)
	if err != nil {
		// Leave nothing half-made behind.
		if derr := s.Store.DeleteConfiguration(ctx, c.ID); derr != nil {
			return store.Configuration{}, Reach{}, fmt.Errorf("%w (and removing the new configuration %s failed: %v)", err, c.ID, derr)
		}
		return store.Configuration{}, Reach{}, err
	}
	summary := changes(scriptConfigSummary(r.Config), change("distribution", reachWords(nil), reachWords(r.Config.Targets)))
	return r.Config, r, s.audit(ctx, "config.assign", configObject(r.Config), summary)
}

// freeName is name, or name followed by the first free " #N".
func (s *Server) freeName(ctx context.Context, name string) (string, error) {
	all, err := s.Store.Configurations(ctx)
	if err != nil {
		return "", err
	}
	taken := map[string]bool{}
	for _, c := range all {
		taken[strings.ToLower(c.Name)] = true
	}
	try := name
	for n := 2; taken[strings.ToLower(try)]; n++ {
		try = fmt.Sprintf("%s #%d", name, n)
	}
	return try, nil
}
