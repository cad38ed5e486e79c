package server

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/mobileatwork/mobileatwork/protocol"
)

// Each device API request is one info line with its route, device, status,
// duration and size; a refusal's reason is in that line, not in a second
// one, and neither bodies nor the enrollment token are logged.
func TestOneLogLinePerRequest(t *testing.T) {
	s := newTenant(t)
	core, logs := observer.New(zapcore.DebugLevel)
	s.Log = zap.New(core)
	h := s.Handler()
	ctx := t.Context()

	csr := testCSR(t)
	token, err := s.CreateToken(ctx, "ada@example.com", 1, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var cert *x509.Certificate
	var deviceID string
	// send posts (or gets) body and returns the answer and the one line it logged.
	send := func(method, path string, body any, withCert bool) (*httptest.ResponseRecorder, observer.LoggedEntry) {
		t.Helper()
		var b []byte
		if body != nil {
			if b, err = json.Marshal(body); err != nil {
				t.Fatal(err)
			}
		}
		r := httptest.NewRequestWithContext(ctx, method, path, bytes.NewReader(b))
		if withCert {
			r.TLS = &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{cert}}}
		}
		logs.TakeAll()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		got := logs.TakeAll()
		var lines []observer.LoggedEntry
		for _, e := range got {
			if e.Message == "device request" {
				lines = append(lines, e)
			}
			if e.Message == "device request refused" {
				t.Errorf("%s %s: a second line for the refusal: %v", method, path, e.ContextMap())
			}
		}
		if len(lines) != 1 {
			t.Fatalf("%s %s: %d request lines, want 1: %+v", method, path, len(lines), got)
		}
		for _, e := range got {
			if strings.Contains(fmt.Sprint(e.ContextMap()), token) {
				t.Errorf("%s %s: the enrollment token is in the log: %v", method, path, e.ContextMap())
			}
		}
		return w, lines[0]
	}
	check := func(what string, w *httptest.ResponseRecorder, e observer.LoggedEntry, want map[string]any) {
		t.Helper()
		if e.Level != zapcore.InfoLevel {
			t.Errorf("%s: logged at %s, want info", what, e.Level)
		}
		f := e.ContextMap()
		if f["status"] != int64(w.Code) || f["bytes"] != int64(w.Body.Len()) {
			t.Errorf("%s: status %v, bytes %v; the answer was %d with %d bytes", what, f["status"], f["bytes"], w.Code, w.Body.Len())
		}
		if d, ok := f["duration_ms"].(float64); !ok || d < 0 {
			t.Errorf("%s: duration_ms %v", what, f["duration_ms"])
		}
		for k, v := range want {
			if v == nil {
				if _, ok := f[k]; ok {
					t.Errorf("%s: %s = %v, want none", what, k, f[k])
				}
			} else if f[k] != v {
				t.Errorf("%s: %s = %v, want %v", what, k, f[k], v)
			}
		}
	}

	w, e := send("POST", protocol.PathEnroll, protocol.EnrollRequest{
		ProtocolVersion: protocol.Version, Token: token, CSR: csr,
		Facts: protocol.Facts{SerialNumber: "C02LOG", AgentVersion: "1.80.0"},
	}, false)
	if w.Code != http.StatusOK {
		t.Fatalf("enroll: %d %s", w.Code, w.Body)
	}
	var enrolled protocol.EnrollResponse
	if err := json.Unmarshal(w.Body.Bytes(), &enrolled); err != nil {
		t.Fatal(err)
	}
	deviceID = enrolled.DeviceID
	if cert, err = x509.ParseCertificate(enrolled.Certificate); err != nil {
		t.Fatal(err)
	}
	check("enroll", w, e, map[string]any{"method": "POST", "route": protocol.PathEnroll, "device": deviceID, "reason": nil, "path": nil})

	w, e = send("POST", protocol.PathEnroll, protocol.EnrollRequest{ProtocolVersion: protocol.Version, Token: token, CSR: csr}, false)
	var refusal protocol.Error
	if err := json.Unmarshal(w.Body.Bytes(), &refusal); err != nil || !strings.HasPrefix(refusal.Error, "enrollment token refused") {
		t.Fatalf("enroll again: %d %s", w.Code, w.Body)
	}
	check("enroll again", w, e, map[string]any{"status": int64(http.StatusUnauthorized), "device": nil, "reason": refusal.Error})

	w, e = send("POST", protocol.PathResults, protocol.ResultsRequest{DeviceID: deviceID, Results: []protocol.Result{}}, true)
	check("results", w, e, map[string]any{"status": int64(http.StatusOK), "route": protocol.PathResults, "device": deviceID, "reason": nil})

	w, e = send("POST", protocol.PathResults, protocol.ResultsRequest{DeviceID: "dev_other"}, true)
	check("results for another device", w, e, map[string]any{"status": int64(http.StatusForbidden), "device": deviceID,
		"reason": "device id does not match the certificate"})

	w, e = send("POST", protocol.PathCheckin, protocol.CheckinRequest{}, false)
	check("check-in without a certificate", w, e, map[string]any{"status": int64(http.StatusUnauthorized), "route": protocol.PathCheckin,
		"device": nil, "reason": "a device certificate is required: enroll the device first"})

	w, e = send("GET", protocol.PathBlob+"cfg_x/0", nil, true)
	check("blob", w, e, map[string]any{"status": int64(http.StatusNotFound), "route": protocol.PathBlob + "{config}/{version}",
		"path": protocol.PathBlob + "cfg_x/0", "device": deviceID, "reason": "no such script version"})

	w, e = send("GET", "/v1/nowhere", nil, false)
	check("unknown route", w, e, map[string]any{"status": int64(http.StatusNotFound), "route": "unmatched", "path": "/v1/nowhere"})
}
