package e2e

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/protocol"
)

// After a rotation and a retirement, an agent that checked in once since
// refuses what the retired key signs, from then on and after a restart;
// an answer without the list (a server restored from before) removes
// nothing; the answer that would have been "unchanged" carries the list;
// and a device enrolled afterwards trusts the certificate in use.
func TestRetiredSignerIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	// A fresh agent each time: what it keeps must survive a restart.
	checkin := func(state string) (*protocol.CheckinPayload, error) {
		a := newAgentWith(t, state, func(o *agent.Options) {
			o.Capabilities = []string{protocol.CapSchedule, protocol.CapSignerChain, protocol.CapRetiredSigners}
		})
		return a.Checkin(ctx)
	}
	mustCheckin := func(state, when string) *protocol.CheckinPayload {
		t.Helper()
		p, err := checkin(state)
		if err != nil {
			t.Fatalf("check-in %s: %v", when, err)
		}
		return p
	}
	state := e.enroll()
	mustCheckin(state, "before the rotation")
	if _, err := e.srv.RotateSigning(ctx); err != nil {
		t.Fatal(err)
	}
	mustCheckin(state, "after the rotation")
	if p := mustCheckin(state, "again"); !p.Unchanged {
		t.Fatal("the check-in before the retirement was not answered unchanged: nothing shows a retirement gets past that answer")
	}
	retired, current := *e.srv.Tenant.Previous, e.srv.Tenant.Signing
	fp := protocol.Fingerprint(retired.Cert)
	if r, err := e.srv.RetireSigning(ctx, false); err != nil || !r.Done {
		t.Fatalf("retire = %+v, %v", r, err)
	}

	// The content is as it was but for the retirement: a full answer.
	p := mustCheckin(state, "after the retirement")
	if p.Unchanged || !slices.Contains(p.RetiredSigners, fp) {
		t.Fatalf("after the retirement: unchanged %t, retired signers %v; want a full answer listing %s", p.Unchanged, p.RetiredSigners, fp)
	}
	kept, err := os.ReadFile(filepath.Join(state, "retired-signers.json"))
	if err != nil || !strings.Contains(string(kept), fp) {
		t.Fatalf("kept retired signers: %q, %v", kept, err)
	}

	// Whoever holds the retired key signs the answers.
	signWith := func(s protocol.Signer) { e.srv.Tenant.Signing = s }
	refused := func(when string) {
		t.Helper()
		signWith(retired)
		defer signWith(current)
		_, err := checkin(state)
		if !errors.Is(err, protocol.ErrRetiredSigner) || !strings.Contains(err.Error(), fp) {
			t.Fatalf("check-in signed by the retired key %s: %v; want it refused, naming %s", when, err, fp)
		}
	}
	refused("after the agent learned of it")

	// A server that lists no retirement (restored from a backup made
	// before it) is trusted, and un-retires nothing.
	list := e.srv.Tenant.Retired
	e.srv.Tenant.Retired = nil
	if p := mustCheckin(state, "answered without the list"); len(p.RetiredSigners) != 0 {
		t.Fatalf("the server still lists %v", p.RetiredSigners)
	}
	refused("after an answer without the list")
	e.srv.Tenant.Retired = list

	// A script blob signed by the retired key, under a check-in and a key
	// envelope signed by the certificate in use, does not run.
	e.srv.Tenant.Previous = &retired
	e.script("echo must not run\n", nil)
	e.srv.Tenant.Previous = nil
	a := newAgentWith(t, state, func(o *agent.Options) {
		o.Capabilities = []string{protocol.CapSchedule, protocol.CapSignerChain, protocol.CapRetiredSigners}
	})
	if err := a.Cycle(ctx); err != nil {
		t.Fatalf("cycle with a blob signed by the retired key: %v", err)
	}
	rs := e.results()
	if len(rs) != 1 || rs[0].Status != protocol.StatusRejected || !strings.Contains(rs[0].Error, fp) {
		t.Fatalf("results = %+v; want the script rejected, naming %s", rs, fp)
	}

	// A device that never saw the list trusts the certificate in use.
	fresh := e.enroll()
	if _, err := os.Stat(filepath.Join(fresh, "retired-signers.json")); !os.IsNotExist(err) {
		t.Fatalf("a fresh device keeps retired signers: %v", err)
	}
	if p := mustCheckin(fresh, "of a device enrolled after the retirement"); !slices.Contains(p.RetiredSigners, fp) {
		t.Fatalf("a device enrolled after the retirement was not told of it: %v", p.RetiredSigners)
	}
}
