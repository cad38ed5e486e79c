package server

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/mobileatwork/mobileatwork/server/distribution"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// DefaultRunExpiry is how long a run-now configuration waits for the
// devices it reaches when `run --expires` is not given.
const DefaultRunExpiry = 24 * time.Hour

// RunNowRequest is what `run` asks for: a script run once on the devices
// and targets given, now on those online, at their next check-in on the
// others until Expires has passed.
type RunNowRequest struct {
	Script  string   // REF
	Inputs  []string // NAME=VALUE overrides
	RunAs   string
	Devices []string // device ids
	To      []string // TARGET words
	Expires time.Duration
	Retries int // how many more times a failed run is tried
}

// RunNow is a run-now configuration and the devices it reaches, which
// were asked to wake.
type RunNow struct {
	Config  store.Configuration
	Devices []store.Device
}

// RunNow adds a run-once script configuration distributed to the targets
// that expires after req.Expires, and asks the devices it reaches to check
// in now. Nothing is made when the request is refused.
func (s *Server) RunNow(ctx context.Context, req RunNowRequest) (RunNow, error) {
	if req.Expires == 0 {
		req.Expires = DefaultRunExpiry
	}
	if req.Expires < 0 {
		return RunNow{}, invalid("--expires must be a positive duration (e.g. 30m or 24h), not %s", req.Expires)
	}
	ids, err := deviceList(req.Devices)
	if err != nil {
		return RunNow{}, err
	}
	words := append([]string(nil), req.To...)
	for _, id := range ids {
		words = append(words, distribution.Device+":"+id)
	}
	if len(words) == 0 {
		return RunNow{}, invalid("say where to run it: --device ID or --to TARGET (repeatable)")
	}
	sc, err := s.Script(ctx, req.Script)
	if err != nil {
		return RunNow{}, err
	}
	targets, reached, err := s.targetsAndReach(ctx, words)
	if err != nil {
		return RunNow{}, err
	}
	if len(reached) == 0 {
		return RunNow{}, invalid("--to %s reaches no enrolled device: nothing would run", distribution.String(targets))
	}
	now := s.now()
	name, err := s.freeName(ctx, runNowName(sc.Name, now))
	if err != nil {
		return RunNow{}, err
	}
	c := store.Configuration{
		ID: newID("cfg"), Kind: store.KindScript, Name: name, Version: 1, Targets: targets,
		Description: "One-off run of `mobileatwork-server run`", ExpiresAt: now.Add(req.Expires), CreatedAt: now, UpdatedAt: now,
	}
	if err := s.applyScript(ctx, &c, ScriptRequest{Script: sc.ID, Inputs: req.Inputs, RunAs: req.RunAs, Retries: &req.Retries}); err != nil {
		return RunNow{}, err
	}
	if err := s.create(ctx, c); err != nil {
		return RunNow{}, err
	}
	summary := fmt.Sprintf("script: %s; distribution: %s; devices: %d; expires: %s", sc.ID, reachWords(targets), len(reached), stampOrNever(c.ExpiresAt))
	if err := s.audit(ctx, "config.run_now", configObject(c), summary); err != nil {
		return RunNow{Config: c, Devices: reached}, err
	}
	woken := make([]string, len(reached))
	for i, d := range reached {
		woken[i] = d.ID
	}
	if err := s.Store.RequestWakes(ctx, woken, now, wakeExpiry(now, c.ExpiresAt)); err != nil {
		return RunNow{Config: c, Devices: reached}, fmt.Errorf("configuration %s reaches its devices at their next check-in, but waking them failed: %w", c.ID, err)
	}
	return RunNow{Config: c, Devices: reached}, nil
}

// wakeExpiry is when a wake requested at now stops waiting for its
// device: after WakeTTL, or with the configuration.
func wakeExpiry(now, configExpires time.Time) time.Time {
	if t := now.Add(WakeTTL); t.Before(configExpires) {
		return t
	}
	return configExpires
}

// runNowName names a run-now configuration after its script and time,
// within the 128 bytes of a name.
func runNowName(script string, at time.Time) string {
	stamp := at.UTC().Format("2006-01-02 15:04:05Z")
	const room = 128 - len("Run now:  (2006-01-02 15:04:05Z) #99")
	for len(script) > room {
		_, size := utf8.DecodeLastRuneInString(script)
		script = script[:len(script)-size]
	}
	return fmt.Sprintf("Run now: %s (%s)", script, stamp)
}

// expired tells whether a configuration no longer reaches devices that
// have not run it.
func expired(c store.Configuration, now time.Time) bool {
	return !c.ExpiresAt.IsZero() && !now.Before(c.ExpiresAt)
}

// live drops the expired configurations: they are sent to no device.
// Their statuses stay as they are, the record of who ran them.
func live(cs []store.Configuration, now time.Time) []store.Configuration {
	out := cs[:0:0]
	for _, c := range cs {
		if !expired(c, now) {
			out = append(out, c)
		}
	}
	return out
}
