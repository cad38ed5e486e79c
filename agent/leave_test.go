package agent_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server"
)

func TestLeave(t *testing.T) {
	srv, err := server.Init(filepath.Join(t.TempDir(), "data"), "Leave tenant", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.TLS = srv.TLSConfig()
	ts.StartTLS()
	t.Cleanup(ts.Close)

	ctx := context.Background()
	tok, err := srv.CreateToken(ctx, "ada@example.com", 1, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(t.TempDir(), "state")
	if _, err := agent.Enroll(ctx, agent.EnrollOptions{
		StateDir: state, ServerURL: ts.URL, Token: tok,
		Facts: protocol.Facts{SerialNumber: "C02LEAVE", AgentVersion: "1.80.0"},
	}); err != nil {
		t.Fatalf("enroll: %v", err)
	}
	a, err := agent.New(agent.Options{StateDir: state, Version: "1.80.0", Retries: 1})
	if err != nil {
		t.Fatal(err)
	}

	if err := a.Leave(ctx); err != nil {
		t.Fatalf("leave: %v", err)
	}
	d, err := srv.Store.Device(ctx, a.DeviceID())
	if err != nil {
		t.Fatal(err)
	}
	if !d.Left {
		t.Fatal("server does not record that the device left")
	}

	// The server now refuses this certificate: a second Leave and a check-in fail.
	var he *agent.HTTPError
	if err := a.Leave(ctx); !errors.As(err, &he) || he.Status != http.StatusForbidden {
		t.Fatalf("second leave: %v, want 403", err)
	}
	if _, err := a.Checkin(ctx); err == nil {
		t.Fatal("check-in after leaving succeeded")
	}

	ts.Close()
	if err := a.Leave(ctx); err == nil {
		t.Fatal("leave with the server down succeeded")
	}
}

func TestUninstallRemovesManagedApps(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		name     string
		payload  string // checkin.json; "" for none
		explicit *bool
		want     bool
		wantErr  bool
	}{
		{name: "never checked in", want: false},
		{name: "tenant keeps", payload: `{"config":{"checkin_interval_minutes":15}}`, want: false},
		{name: "tenant removes", payload: `{"config":{"remove_managed_apps":true}}`, want: true},
		{name: "explicit keep wins", payload: `{"config":{"remove_managed_apps":true}}`, explicit: &no, want: false},
		{name: "explicit remove wins", payload: `{"config":{}}`, explicit: &yes, want: true},
		{name: "explicit remove, never checked in", explicit: &yes, want: true},
		{name: "unreadable payload keeps", payload: `{"config":`, want: false, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := t.TempDir()
			if tt.payload != "" {
				if err := os.WriteFile(filepath.Join(state, "checkin.json"), []byte(tt.payload), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := agent.UninstallRemovesManagedApps(state, tt.explicit)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Fatalf("= %v, %v; want %v, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
