package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
)

// The facts a device reports are bounded as inventory strings are, by one
// rule, on every route that stores them: over the limit or with a NUL is
// refused with 400 naming the fact, and nothing is stored. Capabilities,
// reported beside them at enrollment and check-in, follow the same rule.
func TestFactsAreBoundedOnEveryRoute(t *testing.T) {
	long := strings.Repeat("h", 2<<20)
	over := strings.Repeat("z", protocol.MaxInventoryString+1)
	bad := []struct {
		name, says string
		set        func(*protocol.Facts)
	}{
		{"2 MiB hostname", "hostname", func(f *protocol.Facts) { f.Hostname = long }},
		{"long full name", "console_user_full_name", func(f *protocol.Facts) { f.ConsoleUserFullName = over }},
		{"long time zone", "time_zone", func(f *protocol.Facts) { f.TimeZone = over }},
		{"NUL in the model", "model", func(f *protocol.Facts) { f.Model = "Mac\x0014,2" }},
	}
	// Capabilities come with the facts at enrollment and check-in, not in
	// the inventory.
	caps := []struct {
		name, says string
		caps       []string
	}{
		{"2 MiB capability", "capabilities", []string{protocol.CapSchedule, long}},
		{"thousands of capabilities", "capabilities", make([]string, 5000)},
	}
	for _, tt := range caps {
		t.Run(tt.name, func(t *testing.T) {
			s := newTenant(t)
			cert := fakeDevice(t, s, "d1", 1)
			h := s.Handler()
			ci := checkinBody("d1")
			ci.Capabilities = tt.caps
			token, err := s.CreateToken(t.Context(), "", 1, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			enroll, _ := json.Marshal(protocol.EnrollRequest{ProtocolVersion: protocol.Version, Token: token, CSR: []byte("not read"), Capabilities: tt.caps})
			er := httptest.NewRequestWithContext(t.Context(), "POST", protocol.PathEnroll, bytes.NewReader(enroll))
			ew := httptest.NewRecorder()
			h.ServeHTTP(ew, er)
			for route, w := range map[string]*httptest.ResponseRecorder{"check-in": deviceRequest(h, cert, protocol.PathCheckin, ci), "enrollment": ew} {
				var e protocol.Error
				json.Unmarshal(w.Body.Bytes(), &e)
				if w.Code != http.StatusBadRequest || !strings.Contains(e.Error, tt.says) || len(e.Error) > 300 {
					t.Errorf("%s: %d %.200q, want 400 naming %s", route, w.Code, e.Error, tt.says)
				}
			}
			if d, _ := s.Store.Device(t.Context(), "d1"); len(d.Capabilities) != 0 || !d.LastCheckin.IsZero() {
				t.Errorf("device after refusals: %d capabilities, last check-in %v", len(d.Capabilities), d.LastCheckin)
			}
		})
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			s := newTenant(t)
			cert := fakeDevice(t, s, "d1", 1)
			h := s.Handler()
			f := protocol.Facts{SerialNumber: "C02OK", Hostname: "mac", AgentVersion: "1.80.0"}
			tt.set(&f)

			ci := checkinBody("d1")
			ci.Facts = f
			inv := validReport("d1")
			inv.Facts = f
			token, err := s.CreateToken(t.Context(), "", 1, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			enroll, _ := json.Marshal(protocol.EnrollRequest{ProtocolVersion: protocol.Version, Token: token, CSR: []byte("not read"), Facts: f})
			er := httptest.NewRequestWithContext(t.Context(), "POST", protocol.PathEnroll, bytes.NewReader(enroll))
			ew := httptest.NewRecorder()
			h.ServeHTTP(ew, er)
			for route, w := range map[string]*httptest.ResponseRecorder{
				"check-in":   deviceRequest(h, cert, protocol.PathCheckin, ci),
				"inventory":  deviceRequest(h, cert, protocol.PathInventory, inv),
				"enrollment": ew,
			} {
				var e protocol.Error
				json.Unmarshal(w.Body.Bytes(), &e)
				if w.Code != http.StatusBadRequest || !strings.Contains(e.Error, tt.says) || len(e.Error) > 300 {
					t.Errorf("%s: %d %.200q, want 400 naming %s", route, w.Code, e.Error, tt.says)
				}
			}
			d, err := s.Store.Device(t.Context(), "d1")
			if err != nil || d.Facts.SerialNumber != "" || !d.LastCheckin.IsZero() {
				t.Errorf("device after refusals: %+v, %v; want nothing recorded", d.Facts, err)
			}
			if ds, _ := s.Store.Devices(t.Context()); len(ds) != 1 {
				t.Errorf("%d devices, want no new one", len(ds))
			}
			if _, err := s.Store.Inventory(t.Context(), "d1"); err == nil {
				t.Error("inventory stored")
			}
		})
	}
}
