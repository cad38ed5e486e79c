package server

import (
	"debug/macho"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/accounts"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// lowerArgon2 makes password hashes cheap for a test.
func lowerArgon2(t *testing.T) {
	t.Helper()
	old := *accounts.Params
	accounts.Params.Memory, accounts.Params.Iterations = 64, 1
	t.Cleanup(func() { *accounts.Params = old })
}

// auditTenant is a tenant with a fleet, a script and a clock, and the
// context of an admin account that changes it.
func auditTenant(t *testing.T) (*Server, func() []AuditEntry) {
	t.Helper()
	lowerArgon2(t)
	s := newTenant(t)
	s.Now = func() time.Time { return t0 }
	fleet(t, s)
	addScript(t, s, "hello", "#!/bin/sh\necho hello\n")
	log := func() []AuditEntry {
		t.Helper()
		es, err := s.AuditLog(t.Context(), AuditQuery{})
		if err != nil {
			t.Fatal(err)
		}
		return es
	}
	return s, log
}

var ada = Actor{Name: "ada", Kind: store.ActorAccount, Role: accounts.RoleAdmin, Source: "192.0.2.7"}

// Every change method records one entry after it succeeded, with the
// actor of its context, what it touched and what changed.
func TestAuditEveryChange(t *testing.T) {
	s, log := auditTenant(t)
	ctx := WithActor(t.Context(), ada)
	var (
		office, runNow store.Configuration
		helloID        string
		tokenID        string
		link           LinkInfo
		app            store.App
		profile        store.Profile
	)
	if sc, err := s.Script(ctx, "hello"); err == nil {
		helloID = sc.ID
	}
	agents := agentDir(t, macho.CpuArm64, macho.CpuAmd64)
	tests := []struct {
		action string
		do     func(t *testing.T) (object, summary string, err error)
	}{
		{"config.add", func(t *testing.T) (string, string, error) {
			c, err := s.AddMobileAtWork(ctx, "Office", "", nil)
			office = c
			return fmt.Sprintf("configuration %s \"Office\"", c.ID), "kind: mobileatwork; priority: 2", err
		}},
		{"config.add", func(t *testing.T) (string, string, error) {
			c, err := s.AddScriptConfig(ctx, "Nightly", "", ScriptRequest{Script: "hello"})
			return fmt.Sprintf("configuration %s \"Nightly\"", c.ID), "kind: script; script: " + helloID + "; schedule: once", err
		}},
		{"config.set", func(t *testing.T) (string, string, error) {
			c, err := s.UpdateConfiguration(ctx, office.ID, ConfigUpdate{Name: ptr("Office 2"), Description: ptr("Macs at the office")})
			return fmt.Sprintf("configuration %s \"Office 2\"", c.ID), "name: Office → Office 2; description changed", err
		}},
		{"config.distribute", func(t *testing.T) (string, string, error) {
			r, err := s.Distribute(ctx, "default", []string{"group:lab"}, false)
			return fmt.Sprintf("configuration %s \"default\"", r.Config.ID), "distribution: no one → group:lab", err
		}},
		{"config.priority", func(t *testing.T) (string, string, error) {
			c, err := s.SetPriority(ctx, office.ID, 1)
			return fmt.Sprintf("configuration %s \"Office 2\"", c.ID), "priority: 2 → 1", err
		}},
		{"config.delete", func(t *testing.T) (string, string, error) {
			c, err := s.DeleteConfiguration(ctx, office.ID)
			return fmt.Sprintf("configuration %s \"Office 2\"", c.ID), "distribution was no one", err
		}},
		{"config.assign", func(t *testing.T) (string, string, error) {
			c, _, err := s.Assign(ctx, "Hello all", "", ScriptRequest{Script: "hello"}, []string{"all"})
			return fmt.Sprintf("configuration %s \"Hello all\"", c.ID), "kind: script; script: " + helloID + "; schedule: once; distribution: no one → everyone", err
		}},
		{"config.run_now", func(t *testing.T) (string, string, error) {
			r, err := s.RunNow(ctx, RunNowRequest{Script: "hello", Devices: []string{"d1"}})
			runNow = r.Config
			return configObject(r.Config), "script: " + helloID + "; distribution: device:d1; devices: 1; expires: 2026-03-15T09:00:00Z", err
		}},
		{"config.cancel", func(t *testing.T) (string, string, error) {
			_, err := s.Cancel(ctx, runNow.ID, nil)
			return configObject(runNow), "version 1 cancelled everywhere: expired; devices: d1", err
		}},
		{"script.add", func(t *testing.T) (string, string, error) {
			sc, err := s.AddScript(ctx, "bye", "", []byte("#!/bin/sh\necho bye\n"), nil)
			return fmt.Sprintf("script %s \"bye\"", sc.ID), fmt.Sprintf("script body: v1 (sha256 %.12s); inputs: none", sc.SHA256), err
		}},
		{"script.set", func(t *testing.T) (string, string, error) {
			sc, err := s.UpdateScript(ctx, "bye", ScriptUpdate{Body: []byte("#!/bin/sh\necho farewell\n")})
			return fmt.Sprintf("script %s \"bye\"", sc.ID), "script body: v1 → v2", err
		}},
		{"script.delete", func(t *testing.T) (string, string, error) {
			sc, err := s.DeleteScript(ctx, "bye")
			return fmt.Sprintf("script %s \"bye\"", sc.ID), "versions: 2", err
		}},
		{"user.add", func(t *testing.T) (string, string, error) {
			_, err := s.AddUser(ctx, "dan@example.com", "Dan")
			return "user dan@example.com", "name: Dan", err
		}},
		{"user.add", func(t *testing.T) (string, string, error) {
			_, err := s.AddUser(ctx, "dan@example.com", "Daniel")
			return "user dan@example.com", "name: Dan → Daniel", err
		}},
		{"usergroup.add", func(t *testing.T) (string, string, error) {
			_, err := s.AddUserGroup(ctx, "ops", "", []string{"dan@example.com"})
			return `user group "ops"`, "members: dan@example.com", err
		}},
		{"usergroup.set", func(t *testing.T) (string, string, error) {
			_, err := s.SetUserGroup(ctx, "ops", []string{"ada@example.com"}, []string{"dan@example.com"})
			return `user group "ops"`, "members: dan@example.com → ada@example.com", err
		}},
		{"device.groups", func(t *testing.T) (string, string, error) {
			return "device d3", "groups: lab → lab,studio", s.SetDeviceGroups(ctx, "d3", []string{"studio", "lab"})
		}},
		{"token.create", func(t *testing.T) (string, string, error) {
			_, err := s.CreateToken(ctx, "ada@example.com", 2, time.Hour)
			ts, _ := s.Tokens(ctx)
			tokenID = ts[len(ts)-1].ID
			return "enrollment token " + tokenID, "user: ada@example.com; uses: 2; expires: 2026-03-14T10:00:00Z", err
		}},
		{"token.revoke", func(t *testing.T) (string, string, error) {
			_, err := s.RevokeToken(ctx, tokenID)
			return "enrollment token " + tokenID, "state: active → revoked", err
		}},
		{"tenant.set", func(t *testing.T) (string, string, error) {
			_, err := s.SetTenantURLs(ctx, []string{"server_url=https://127.0.0.1:8443", "enroll_url=https://enroll.example.com"})
			return "tenant", "server_url: none → https://127.0.0.1:8443; enroll_url: none → https://enroll.example.com", err
		}},
		{"link.create", func(t *testing.T) (string, string, error) {
			var err error
			link, err = s.CreateLink(ctx, "bob@example.com", 2, 72*time.Hour)
			return "link " + link.ID, "user: bob@example.com; uses: 2; expires: 2026-03-17T09:00:00Z", err
		}},
		{"link.revoke", func(t *testing.T) (string, string, error) {
			_, err := s.RevokeLink(ctx, link.ID)
			return "link " + link.ID, "state: active → revoked; package token: none", err
		}},
		{"scripts.stop", func(t *testing.T) (string, string, error) {
			_, err := s.StopScripts(ctx, nil, "maintenance")
			return "tenant", "reason: maintenance", err
		}},
		{"scripts.resume", func(t *testing.T) (string, string, error) {
			_, err := s.ResumeScripts(ctx, []string{"d1"})
			_, err2 := s.ResumeScripts(ctx, nil) // the tenant's: the one entry checked
			if err == nil {
				err = err2
			}
			return "tenant", "scripts: stopped → running", err
		}},
		{"app.add", func(t *testing.T) (string, string, error) {
			var err error
			app, err = s.AddApp(ctx, AddAppRequest{Name: "Tool", Kind: protocol.AppKindPackager, PackageID: "com.example.tool"})
			return fmt.Sprintf("app %s \"Tool\"", app.ID), "kind: packager; package id: com.example.tool; bundle id: none; version: none", err
		}},
		{"app.set", func(t *testing.T) (string, string, error) {
			_, err := s.SetApp(ctx, app.ID, SetAppRequest{Publisher: ptr("Example Ltd"), Description: ptr("Does things.")})
			return fmt.Sprintf("app %s \"Tool\"", app.ID), "publisher: none → Example Ltd; description changed", err
		}},
		{"app.distribute", func(t *testing.T) (string, string, error) {
			_, err := s.DistributeApp(ctx, app.ID, []string{"usergroup:eng"})
			return fmt.Sprintf("app %s \"Tool\"", app.ID), "distribution: no one → usergroup:eng", err
		}},
		{"review.add", func(t *testing.T) (string, string, error) {
			r, err := s.AddReview(ctx, app.ID, "Bob", 4, "Good")
			return fmt.Sprintf("review %s of app %s", r.ID, app.ID), "rating: 4; author: Bob", err
		}},
		{"agent.publish", func(t *testing.T) (string, string, error) {
			p, err := s.PublishAgent(ctx, PublishAgentOptions{AgentDir: agents, Version: "1.4.2"})
			return fmt.Sprintf("app %s \"%s\"", p.App.ID, AgentAppName), "version: 1.4.2 (new app)", err
		}},
		{"agent.publish", func(t *testing.T) (string, string, error) {
			p, err := s.PublishAgent(ctx, PublishAgentOptions{AgentDir: agents, Version: "1.5.0"})
			return fmt.Sprintf("app %s \"%s\"", p.App.ID, AgentAppName), "version: 1.4.2 → 1.5.0", err
		}},
		{"package.build", func(t *testing.T) (string, string, error) {
			out := filepath.Join(t.TempDir(), "MobileAtWork.pkg")
			p, err := s.BuildPackage(ctx, PackageOptions{AgentDir: agents, Out: out, Uses: 1, TTL: time.Hour, Version: "1.4.2"})
			return "enrollment token " + p.Token.ID, "package: " + out + "; version: 1.4.2; user: none; uses: 1; expires: 2026-03-14T10:00:00Z", err
		}},
		{"profile.add", func(t *testing.T) (string, string, error) {
			var err error
			profile, err = s.AddProfile(ctx, "Wi-Fi", "com.example.wifi", nil)
			return fmt.Sprintf("profile %s \"Wi-Fi\"", profile.ID), "identifier: com.example.wifi; distribution: everyone", err
		}},
		{"profile.distribute", func(t *testing.T) (string, string, error) {
			_, _, err := s.DistributeProfile(ctx, profile.ID, []string{"group:lab"}, false)
			return fmt.Sprintf("profile %s \"Wi-Fi\"", profile.ID), "distribution: everyone → group:lab", err
		}},
		{"account.add", func(t *testing.T) (string, string, error) {
			_, err := s.AddAccount(ctx, "Carol", accounts.RoleOperator, "")
			return "account carol", "role: operator", err
		}},
		{"account.role", func(t *testing.T) (string, string, error) {
			_, err := s.SetAccountRole(ctx, "carol", accounts.RoleAdmin)
			return "account carol", "role: operator → admin", err
		}},
		{"account.passwd", func(t *testing.T) (string, string, error) {
			_, err := s.SetAccountPassword(ctx, "carol", "a new long password")
			return "account carol", "password changed; sessions ended: 0", err
		}},
		{"account.unlock", func(t *testing.T) (string, string, error) {
			_, err := s.UnlockAccount(ctx, "carol")
			return "account carol", "lockout: 0 failed logins → unlocked", err
		}},
		{"apitoken.create", func(t *testing.T) (string, string, error) {
			_, info, err := s.CreateAPIToken(ctx, "ci", accounts.RoleOperator, 0)
			return fmt.Sprintf("api token %s \"ci\"", info.ID), "role: operator; expires: never", err
		}},
		{"apitoken.revoke", func(t *testing.T) (string, string, error) {
			info, err := s.RevokeAPIToken(ctx, "ci")
			return fmt.Sprintf("api token %s \"ci\"", info.ID), "state: active → revoked", err
		}},
		{"account.add", func(t *testing.T) (string, string, error) {
			_, err := s.AddAccount(ctx, "dave", accounts.RoleAdmin, "")
			return "account dave", "role: admin", err
		}},
		{"account.remove", func(t *testing.T) (string, string, error) {
			return "account carol", "role: admin", s.RemoveAccount(ctx, "carol")
		}},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%02d %s", i, tt.action), func(t *testing.T) {
			before := log()
			object, summary, err := tt.do(t)
			if err != nil {
				t.Fatal(err)
			}
			after := log()
			if len(after) <= len(before) {
				t.Fatalf("%s recorded nothing", tt.action)
			}
			e := after[0]
			if e.Action != tt.action || e.Object != object || e.Summary != summary {
				t.Errorf("newest entry: %s | %s | %s\nwant:         %s | %s | %s", e.Action, e.Object, e.Summary, tt.action, object, summary)
			}
			if e.Actor != "ada" || e.ActorKind != store.ActorAccount || e.Role != "admin" || e.Source != "192.0.2.7" || !e.At.Equal(t0) {
				t.Errorf("entry actor %q %q %q %q at %s, want ada's", e.Actor, e.ActorKind, e.Role, e.Source, e.At)
			}
			for _, e := range after[:len(after)-len(before)] {
				if e.Action != tt.action {
					t.Errorf("%s also recorded %s %s", tt.action, e.Action, e.Object)
				}
			}
		})
	}
}

// A refused change, a dry run and a change that changes nothing record
// nothing.
func TestAuditRecordsNoRefusal(t *testing.T) {
	s, log := auditTenant(t)
	ctx := WithActor(t.Context(), ada)
	if _, err := s.AddAccount(ctx, "ada", accounts.RoleAdmin, ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateAPIToken(ctx, "ci", accounts.RoleAuditor, 0); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		do   func() error
	}{
		{"a configuration without a name", func() error { _, err := s.AddMobileAtWork(ctx, "", "", nil); return err }},
		{"a distribution to an unknown group", func() error { _, err := s.Distribute(ctx, "default", []string{"group:nope"}, false); return err }},
		{"a priority out of range", func() error { _, err := s.SetPriority(ctx, "default", 9); return err }},
		{"a script that is not there", func() error { _, err := s.DeleteScript(ctx, "nope"); return err }},
		{"a duplicate account", func() error { _, err := s.AddAccount(ctx, "ADA", accounts.RoleAuditor, ""); return err }},
		{"removing the last admin", func() error { return s.RemoveAccount(ctx, "ada") }},
		{"demoting the last admin", func() error { _, err := s.SetAccountRole(ctx, "ada", accounts.RoleOperator); return err }},
		{"a short password", func() error { _, err := s.SetAccountPassword(ctx, "ada", "short"); return err }},
		{"an unknown role", func() error { _, err := s.AddAccount(ctx, "eve", accounts.Role("root"), ""); return err }},
		{"a duplicate API token", func() error { _, _, err := s.CreateAPIToken(ctx, "ci", accounts.RoleAdmin, 0); return err }},
		{"a negative token ttl", func() error { _, _, err := s.CreateAPIToken(ctx, "cd", accounts.RoleAdmin, -time.Hour); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(log())
			if err := tt.do(); err == nil {
				t.Fatal("accepted, want refused")
			}
			if n := len(log()) - before; n != 0 {
				t.Errorf("recorded %d entries: %+v", n, log()[:n])
			}
		})
	}
	noChange := []struct {
		name string
		do   func() error
	}{
		{"a dry run", func() error { _, err := s.Distribute(ctx, "default", []string{"all"}, true); return err }},
		{"revoking a revoked token", func() error {
			if _, err := s.RevokeAPIToken(ctx, "ci"); err != nil {
				return err
			}
			before := len(log())
			_, err := s.RevokeAPIToken(ctx, "ci")
			if len(log()) != before {
				return fmt.Errorf("revoking again recorded an entry")
			}
			return err
		}},
		{"the role it has", func() error {
			before := len(log())
			_, err := s.SetAccountRole(ctx, "ada", accounts.RoleAdmin)
			if len(log()) != before {
				return fmt.Errorf("setting the same role recorded an entry")
			}
			return err
		}},
	}
	for _, tt := range noChange {
		t.Run(tt.name, func(t *testing.T) {
			before := len(log())
			if err := tt.do(); err != nil {
				t.Fatal(err)
			}
			if tt.name == "a dry run" && len(log()) != before {
				t.Errorf("a dry run recorded an entry")
			}
		})
	}
}

func TestRecordAuditWithoutActor(t *testing.T) {
	s, log := auditTenant(t)
	if err := s.RecordAudit(t.Context(), "config.add", "configuration cfg_1 \"x\"", "line one\nline two"); err != nil {
		t.Fatal(err)
	}
	e := log()[0]
	if e.Actor != "unknown" || e.ActorKind != store.ActorLocal || e.Role != "" || e.Summary != "line one line two" {
		t.Errorf("entry %+v, want actor unknown, local, on one line", e)
	}
	if err := s.RecordAudit(t.Context(), " ", "", ""); err == nil {
		t.Error("an entry without an action was accepted")
	}
	if _, err := s.AuditLog(t.Context(), AuditQuery{Limit: -1}); err == nil || !strings.Contains(err.Error(), "--limit") {
		t.Errorf("a negative limit: %v", err)
	}
}
