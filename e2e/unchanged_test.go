package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/protocol/schedule"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// checkinAnswers reads, from the server's request log, the answer kind
// ("full" or "unchanged") and size of each check-in, oldest first.
type checkinAnswers struct{ logs *observer.ObservedLogs }

func (c checkinAnswers) all() (kinds []string, sizes []int64) {
	for _, e := range c.logs.FilterMessage("device request").All() {
		f := e.ContextMap()
		if f["route"] == protocol.PathCheckin {
			kinds = append(kinds, f["answer"].(string))
			sizes = append(sizes, f["bytes"].(int64))
		}
	}
	return kinds, sizes
}

func (c checkinAnswers) last() string {
	k, _ := c.all()
	if len(k) == 0 {
		return ""
	}
	return k[len(k)-1]
}

// saved is the payload the agent acts on, as it saved it.
func saved(t *testing.T, state string) protocol.CheckinPayload {
	t.Helper()
	var p protocol.CheckinPayload
	b, err := os.ReadFile(filepath.Join(state, "checkin.json"))
	if err == nil {
		err = json.Unmarshal(b, &p)
	}
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func inputOf(p protocol.CheckinPayload, id string) (string, bool) {
	for _, a := range p.Assignments {
		if a.ID == id && len(a.Inputs) > 0 {
			return a.Inputs[0].Value, true
		}
	}
	return "", false
}

// An agent that holds its current configuration is answered "unchanged"
// (a small signed answer) and keeps acting on what it holds; every change
// an administrator makes that reaches the device ends that, and the next
// check-in carries it and runs it.
func TestUnchangedCheckinsUntilTheAdministratorChangesSomething(t *testing.T) {
	e := newEnv(t)
	core, logs := observer.New(zapcore.InfoLevel)
	e.srv.Log = zap.New(core)
	answers := checkinAnswers{logs}
	ctx := context.Background()
	state, dev := e.enrollAs("ada@example.com")
	out := filepath.Join(t.TempDir(), "out")
	sc := e.addScript("echo \"$MAW_INPUT_WHO\" >> "+out+"\n", []store.InputDecl{{Name: "who", Default: "{$userDisplayName}"}})
	// A daily configuration is never finished: it stays in every answer.
	daily := schedule.Spec{Kind: schedule.Daily, At: "03:00"}
	kept := e.assign(server.ScriptRequest{Script: sc.ID, Schedule: &daily}, "all")

	for range 3 {
		e.cycle(state)
	}
	kinds, sizes := answers.all()
	if !slices.Equal(kinds, []string{"full", "unchanged", "unchanged"}) {
		t.Fatalf("answers %v, want full, then unchanged twice", kinds)
	}
	if sizes[2] >= sizes[0]/2 || sizes[2] > 4096 {
		t.Fatalf("unchanged answer of %d bytes, the full one %d", sizes[2], sizes[0])
	}
	if st := newAgent(t, state).Status(); st.Configuration == nil || st.LastError != "" || len(st.NextRuns) != 1 {
		t.Fatalf("after unchanged answers the agent lost its configuration: %+v", st)
	}
	if v, _ := inputOf(saved(t, state), kept); v != "ada" {
		t.Fatalf("input %q, want ada", v)
	}
	runs := func() []string {
		b, _ := os.ReadFile(out)
		return strings.Fields(string(b))
	}
	var added string
	steps := []struct {
		name   string
		change func()
		id     *string // the configuration the change reaches the device with
		want   string  // its input on the device
		runs   bool    // a run-once configuration: it runs
	}{
		{"the user's name", func() {
			if _, err := e.srv.AddUser(ctx, "ada@example.com", "Ada"); err != nil {
				t.Fatal(err)
			}
		}, &kept, "Ada", false},
		{"an edited configuration", func() {
			if _, err := e.srv.UpdateConfiguration(ctx, kept, server.ConfigUpdate{Script: &server.ScriptRequest{Inputs: []string{"who=edited"}}}); err != nil {
				t.Fatal(err)
			}
		}, &kept, "edited", false},
		{"a distributed configuration", func() {
			added = e.assign(server.ScriptRequest{Script: sc.ID, Inputs: []string{"who=new"}}, "all")
		}, &added, "new", true},
		{"a user group the user joins", func() {
			if _, err := e.srv.AddUserGroup(ctx, "eng", "", nil); err != nil {
				t.Fatal(err)
			}
			added = e.assign(server.ScriptRequest{Script: sc.ID, Inputs: []string{"who=eng"}}, "usergroup:eng")
			e.cycle(state) // nobody in eng yet
			if _, ok := inputOf(saved(t, state), added); ok {
				t.Fatal("reached the device before it joined")
			}
			if _, err := e.srv.SetUserGroup(ctx, "eng", []string{"ada@example.com"}, nil); err != nil {
				t.Fatal(err)
			}
		}, &added, "eng", true},
		{"a device group the device joins", func() {
			_, other := e.enrollAs("")
			if err := e.srv.SetDeviceGroups(ctx, other, []string{"lab"}); err != nil {
				t.Fatal(err)
			}
			added = e.assign(server.ScriptRequest{Script: sc.ID, Inputs: []string{"who=lab"}}, "group:lab")
			e.cycle(state)
			if err := e.srv.SetDeviceGroups(ctx, dev, []string{"lab"}); err != nil {
				t.Fatal(err)
			}
		}, &added, "lab", true},
	}
	for _, st := range steps {
		before := len(runs())
		st.change()
		e.cycle(state)
		if got := answers.last(); got != "full" {
			t.Fatalf("%s: the next check-in was answered %q", st.name, got)
		}
		if v, ok := inputOf(saved(t, state), *st.id); !ok || v != st.want {
			t.Fatalf("%s: the device holds input %q (%v), want %q", st.name, v, ok, st.want)
		}
		if got := runs(); st.runs && (len(got) != before+1 || got[len(got)-1] != st.want) {
			t.Fatalf("%s: runs %v, want %s run once more", st.name, got, st.want)
		}
		// The finished run is dropped from the next answer; then nothing
		// changes any more.
		e.cycle(state)
		e.cycle(state)
		if got := answers.last(); got != "unchanged" {
			t.Fatalf("after %s: answered %q, want unchanged", st.name, got)
		}
	}
}

// An "unchanged" answer vouches for one content: signed by the tenant but
// naming content the agent does not hold, it is not acted on, and the agent
// asks for its payload in full; replayed, it is refused like any answer.
func TestUnchangedAnswerForOtherContentOrReplayedIsRefused(t *testing.T) {
	e := newEnv(t)
	state := e.enroll()
	e.script("true\n", nil)
	a := newAgent(t, state)
	ctx := context.Background()
	if _, err := a.Checkin(ctx); err != nil {
		t.Fatal(err)
	}
	var withDigest, without int
	var genuine []byte
	e.setIntercept(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if r.URL.Path != protocol.PathCheckin {
			next.ServeHTTP(w, r)
			return
		}
		var req protocol.CheckinRequest
		body, _ := io.ReadAll(r.Body)
		json.Unmarshal(body, &req)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if req.PayloadDigest == "" {
			without++
			next.ServeHTTP(w, r)
			return
		}
		withDigest++
		if genuine == nil { // keep a real unchanged answer for the replay below
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			genuine = rec.Body.Bytes()
		}
		now := time.Now()
		forged, err := protocol.SignCheckin(protocol.Unchanged(protocol.CheckinPayload{DeviceID: req.DeviceID, Nonce: req.Nonce,
			IssuedAt: now, ExpiresAt: now.Add(time.Minute)}, protocol.ContentDigest(protocol.CheckinPayload{})), e.srv.Tenant.Signing)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Write(forged)
	})
	p, err := a.Checkin(ctx)
	if err != nil {
		t.Fatalf("check-in: %v", err)
	}
	if p.Unchanged || len(p.Assignments) != 1 || withDigest != 1 || without != 1 {
		t.Fatalf("unchanged=%v, %d assignments, %d requests naming content, %d without; want the full payload asked for again",
			p.Unchanged, len(p.Assignments), withDigest, without)
	}
	e.setIntercept(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if r.URL.Path != protocol.PathCheckin {
			next.ServeHTTP(w, r)
			return
		}
		w.Write(genuine)
	})
	if _, err := a.Checkin(ctx); !errors.Is(err, protocol.ErrNonceMismatch) {
		t.Fatalf("replayed unchanged answer: %v, want ErrNonceMismatch", err)
	}
}
