package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// Every device route, the wake route included, refuses a retired
// device's certificate with 403 and the same sentence, and serves an
// untouched device as before.
func TestRetiredDeviceIsRefusedOnEveryRoute(t *testing.T) {
	s := newTenant(t)
	h := s.Handler()
	retired := fakeDevice(t, s, "dev_r", 1)
	kept := fakeDevice(t, s, "dev_k", 2)
	ctx := WithActor(t.Context(), Actor{Name: "local:ada", Kind: store.ActorLocal})
	if _, err := s.RetireDevice(ctx, "dev_r", "stolen from a car"); err != nil {
		t.Fatal(err)
	}
	routes := []struct{ method, path string }{
		{"POST", protocol.PathCheckin},
		{"GET", protocol.PathBlob + "cfg_1/1"},
		{"POST", protocol.PathResults},
		{"POST", protocol.PathInventory},
		{"POST", protocol.PathLeave},
		{"POST", protocol.PathOnboarding},
		{"GET", appAssetPrefix + "app_1/icon"},
		{"POST", protocol.PathRunStarted},
		{"GET", protocol.PathWake},
	}
	for _, rt := range routes {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			rec := serveAs(h, retired, rt.method, rt.path)
			var e protocol.Error
			json.Unmarshal(rec.Body.Bytes(), &e)
			if rec.Code != http.StatusForbidden || e.Error != RetiredMessage {
				t.Errorf("retired device: %d %q, want 403 %q", rec.Code, e.Error, RetiredMessage)
			}
		})
	}
	if rec := deviceRequest(h, kept, protocol.PathCheckin, checkinBody("dev_k")); rec.Code != http.StatusOK {
		t.Errorf("a device not retired: check-in %d %s, want 200", rec.Code, rec.Body)
	}
	// It is gone like a device that left: distributions no longer count it.
	r, err := s.Distribute(t.Context(), "default", []string{"all"}, true)
	if err != nil || len(r.Devices) != 1 || r.Devices[0].ID != "dev_k" {
		t.Errorf("default to all reaches %+v, %v; want dev_k alone", r.Devices, err)
	}
	d, err := s.Store.Device(t.Context(), "dev_r")
	if err != nil || d.Retired == nil || d.Retired.By != "local:ada" || d.Retired.Reason != "stolen from a car" || d.Retired.At.IsZero() {
		t.Fatalf("device after retire: %+v, %v", d.Retired, err)
	}
}

func serveAs(h http.Handler, cert *x509.Certificate, method, path string) *httptest.ResponseRecorder {
	r := httptest.NewRequestWithContext(context.Background(), method, path, strings.NewReader(`{}`))
	r.TLS = &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{cert}}}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// Retiring is refused, with one sentence and nothing changed, for an
// unknown device, a device retired already and a bad reason; it is
// recorded once in the audit log.
func TestRetireDeviceRefusals(t *testing.T) {
	s := newTenant(t)
	fakeDevice(t, s, "dev_1", 1)
	ctx := t.Context()
	if _, err := s.RetireDevice(ctx, "dev_1", "lost"); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, id, reason, want string }{
		{"unknown device", "dev_nope", "", `no device "dev_nope"`},
		{"twice", "dev_1", "again", "retired already"},
		{"line break", "dev_1", "one\ntwo", "one line"},
		{"too long", "dev_1", strings.Repeat("x", maxStopReason+1), "at most"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.RetireDevice(ctx, tt.id, tt.reason)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one invalid line saying %q", err, tt.want)
			}
		})
	}
	d, _ := s.Store.Device(ctx, "dev_1")
	if d.Retired == nil || d.Retired.Reason != "lost" {
		t.Fatalf("retirement changed: %+v", d.Retired)
	}
	es, err := s.AuditLog(ctx, AuditQuery{Action: "device.retire"})
	if err != nil || len(es) != 1 || !strings.Contains(es[0].Summary, "reason: lost") || !strings.Contains(es[0].Object, "dev_1") {
		t.Fatalf("audit: %+v, %v; want one device.retire entry", es, err)
	}
}
