package e2e

import (
	"context"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/protocol/schedule"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/pki"
)

// renewingAgent is a fresh agent process of state on clock c, announcing
// what this release announces.
func renewingAgent(t *testing.T, state string, c *clock) *agent.Agent {
	t.Helper()
	return newAgentWith(t, state, func(o *agent.Options) {
		o.Clock, o.Location = c, time.UTC
		o.Capabilities = []string{protocol.CapSchedule, protocol.CapRenew, protocol.CapSignerChain, protocol.CapRetiredSigners}
	})
}

// deviceCert is the certificate of the identity in state.
func deviceCert(t *testing.T, state string) *x509.Certificate {
	t.Helper()
	id, err := agent.LoadIdentity(state)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(id.Certificate)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func serialOf(c *x509.Certificate) string { return hex.EncodeToString(c.SerialNumber.Bytes()) }

// checkServerHolds fails unless the server knows state's certificate as the
// device's, with nothing pending.
func (e *env) checkServerHolds(t *testing.T, dev, state string) {
	t.Helper()
	d, err := e.srv.Store.Device(context.Background(), dev)
	if err != nil {
		t.Fatal(err)
	}
	if c := deviceCert(t, state); d.CertSerial != serialOf(c) || d.PendingSerial != "" {
		t.Fatalf("server holds serial %s (pending %q), the agent %s", d.CertSerial, d.PendingSerial, serialOf(c))
	}
}

// Three years of monthly check-ins of one Mac, with a daily script: the
// device certificate (two years) renews itself, the signing certificate
// (two years too) is rotated and the previous one retired as an operator
// would, no check-in is refused, no run is rejected, and the device is
// never enrolled again.
func TestThreeYearsOfCheckinsWithoutReenrollment(t *testing.T) {
	t.Parallel()
	// The pkcs7 library stamps signatures with the real time, which must lie
	// inside the signer's validity: the tenant is made 700 days before it,
	// so both its first signing certificate and the one rotated in 450 days
	// later span the real time.
	start := time.Now().UTC().Truncate(24*time.Hour).Add(9*time.Hour+30*time.Minute).AddDate(0, 0, -700)
	e := newEnvAt(t, start)
	c := newClock(start)
	e.srv.Now = c.Now
	state, dev := e.enrollAt(c)
	first := deviceCert(t, state)
	spec, err := schedule.Parse(schedule.Daily, "09:00", nil, schedule.UTC, "", "")
	if err != nil {
		t.Fatal(err)
	}
	e.assignScheduled("echo ok\n", spec)

	serials := map[string]bool{serialOf(first): true}
	cycles := 0
	const day = 24 * time.Hour
	rotated, retired := false, false
	for at := start; at.Before(start.Add(3 * 365 * day)); at = at.Add(30 * day) {
		c.Set(at)
		switch {
		case !rotated && at.Sub(start) > 450*day:
			if _, err := e.srv.RotateSigning(context.Background()); err != nil {
				t.Fatal(err)
			}
			rotated = true
		case rotated && !retired && at.Sub(start) > 540*day:
			r, err := e.srv.RetireSigning(context.Background(), false)
			if err != nil {
				t.Fatalf("retire the previous signing certificate: %v", err)
			}
			if r.Resealed != 1 {
				t.Fatalf("resealed %d script versions, want 1", r.Resealed)
			}
			retired = true
		}
		if err := renewingAgent(t, state, c).Cycle(context.Background()); err != nil {
			t.Fatalf("check-in on day %d refused: %v", int(at.Sub(start).Hours()/24), err)
		}
		cycles++
		cert := deviceCert(t, state)
		if !at.Before(cert.NotAfter) {
			t.Fatalf("day %d: the device holds a certificate that expired on %s", int(at.Sub(start).Hours()/24), cert.NotAfter)
		}
		serials[serialOf(cert)] = true
		e.checkServerHolds(t, dev, state)
	}
	if !retired {
		t.Fatal("the signing certificate was not rotated and retired")
	}
	if len(serials) < 2 {
		t.Fatalf("the device certificate was never renewed in three years (serials %v)", serials)
	}
	devices, err := e.srv.Store.Devices(context.Background())
	if err != nil || len(devices) != 1 || devices[0].ID != dev {
		t.Fatalf("devices = %v, %v; want the one enrolled at the start", devices, err)
	}
	// The first cycle receives the configuration after that day's 09:00.
	rs := e.results()
	if len(rs) != cycles-1 {
		t.Fatalf("%d results of %d cycles, want one a cycle after the first", len(rs), cycles)
	}
	for _, r := range rs {
		if r.Status != protocol.StatusSucceeded {
			t.Fatalf("run of %s: %s %s", r.Occurrence, r.Status, r.Error)
		}
	}
}

// newEnvAt is newEnv with a tenant whose keys were made at the time given.
func newEnvAt(t *testing.T, at time.Time) *env {
	t.Helper()
	e := &env{t: t, data: filepath.Join(t.TempDir(), "data")}
	srv, err := server.Init(e.data, "Test tenant", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	dir := filepath.Join(e.data, "pki")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := pki.Create(dir, "Test tenant", nil, at); err != nil {
		t.Fatal(err)
	}
	if srv, err = server.Open(e.data); err != nil {
		t.Fatal(err)
	}
	return e.serve(srv)
}

// enrollAt enrolls a fresh state dir at c's time and returns it and the
// device id.
func (e *env) enrollAt(c *clock) (state, dev string) {
	e.t.Helper()
	state = filepath.Join(e.t.TempDir(), "state")
	id, err := agent.Enroll(context.Background(), agent.EnrollOptions{
		StateDir: state, ServerURL: e.url, Token: e.token(1, time.Hour), Facts: testFacts,
		Capabilities: []string{protocol.CapSchedule, protocol.CapRenew}, Clock: c,
	})
	if err != nil {
		e.t.Fatalf("enroll: %v", err)
	}
	return state, id.DeviceID
}

// A kill between the durable steps of a renewal, simulated by the answer
// that never reaches the agent or by the files a kill leaves, followed by a
// restart: the agent always has an identity the server takes, and the
// renewal completes.
func TestRenewalSurvivesAKillBetweenItsSteps(t *testing.T) {
	t.Parallel()
	const month = 30 * 24 * time.Hour
	tests := []struct {
		name string
		// crash makes the first cycle stop where a kill would; nil runs it
		// through and leave changes the files as a kill would have left them.
		crash func(r *http.Request) (serve, fail bool)
		leave func(t *testing.T, state string, before []byte)
	}{
		{
			name: "after the server issued the certificate, before the agent kept it",
			crash: func(r *http.Request) (bool, bool) {
				return r.URL.Path == protocol.PathRenew, r.URL.Path == protocol.PathRenew
			},
		},
		{
			name: "after the agent kept the new identity, before it was used",
			crash: func(r *http.Request) (bool, bool) {
				return false, r.URL.Path == protocol.PathCheckin
			},
		},
		{
			name: "after the server confirmed the new certificate, before the agent heard",
			crash: func(r *http.Request) (bool, bool) {
				return r.URL.Path == protocol.PathCheckin, r.URL.Path == protocol.PathCheckin
			},
		},
		{
			name: "after the swap, before the renewed identity's file was removed",
			leave: func(t *testing.T, state string, before []byte) {
				b, err := os.ReadFile(filepath.Join(state, "identity.json"))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(state, "identity.next.json"), b, 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(state, "device.key"), before, 0o600); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "a torn renewed identity",
			crash: func(r *http.Request) (bool, bool) {
				return false, r.URL.Path == protocol.PathCheckin
			},
			leave: func(t *testing.T, state string, _ []byte) {
				if err := os.WriteFile(filepath.Join(state, "identity.next.json"), []byte(`{"device_id":`), 0o600); err != nil {
					t.Fatal(err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			c := newClock(time.Now())
			e.srv.Now = c.Now
			state, dev := e.enrollAt(c)
			old := deviceCert(t, state)
			oldKey, err := os.ReadFile(filepath.Join(state, "device.key"))
			if err != nil {
				t.Fatal(err)
			}
			// A copy of the identity as enrolled, to check it is retired.
			oldState := filepath.Join(t.TempDir(), "old")
			for _, f := range []string{"identity.json", "device.key"} {
				b, err := os.ReadFile(filepath.Join(state, f))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(oldState, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(oldState, f), b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			c.Set(c.Now().Add(17 * month)) // less than a third of two years left
			var crashing atomic.Bool
			crashing.Store(tt.crash != nil)
			e.setIntercept(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
				if crashing.Load() {
					if serve, fail := tt.crash(r); fail {
						if serve {
							next.ServeHTTP(httptest.NewRecorder(), r)
						}
						http.Error(w, `{"error":"killed"}`, http.StatusServiceUnavailable)
						return
					}
				}
				next.ServeHTTP(w, r)
			})
			err = renewingAgent(t, state, c).Cycle(context.Background())
			if tt.crash != nil && err == nil && !strings.Contains(tt.name, "issued") {
				t.Fatal("the interrupted cycle succeeded")
			}
			if tt.leave != nil {
				tt.leave(t, state, oldKey)
			}
			crashing.Store(false)
			// The restarted agent, two hours later: a renewal that failed is
			// tried again after an hour.
			c.Set(c.Now().Add(2 * time.Hour))
			if err := renewingAgent(t, state, c).Cycle(context.Background()); err != nil {
				t.Fatalf("check-in after the restart: %v", err)
			}
			if err := renewingAgent(t, state, c).Cycle(context.Background()); err != nil {
				t.Fatalf("second check-in after the restart: %v", err)
			}
			if serialOf(deviceCert(t, state)) == serialOf(old) {
				t.Fatal("the certificate was not renewed")
			}
			if _, err := os.Stat(filepath.Join(state, "identity.next.json")); !os.IsNotExist(err) {
				t.Fatalf("identity.next.json is left: %v", err)
			}
			e.checkServerHolds(t, dev, state)
			// The old certificate is retired once the new one was used. (It
			// would renew first: it is due too, and renewal is refused as well.)
			_, err = newAgentWith(t, oldState, func(o *agent.Options) { o.Clock = c }).Checkin(context.Background())
			if !strings.Contains(fmt.Sprint(err), "superseded") {
				t.Fatalf("check-in with the old certificate: %v, want it refused as superseded", err)
			}
			// device.key, for an agent of the previous release, is the key
			// of the certificate in use.
			id, err := agent.LoadIdentity(state)
			if err != nil {
				t.Fatal(err)
			}
			if key, _ := os.ReadFile(filepath.Join(state, "device.key")); string(key) != string(id.KeyPEM) {
				t.Fatal("device.key is not the renewed key")
			}
		})
	}
}
