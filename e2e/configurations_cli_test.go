package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mobileatwork/mobileatwork/internal/cli"
)

// The configuration commands as an administrator types them, on the data
// directory of a running server: dry-run reach, per-device status in
// `config show` and `device show`, result filters, and JSON that keeps its
// promises (snake_case keys, no year-1 times).
func TestServerCLIConfigurations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adaState, ada := e.enrollAs("ada@example.com")
	_, bob := e.enrollAs("bob@example.com")
	_, carol := e.enrollAs("")
	sv := func(args ...string) string {
		t.Helper()
		out, stderr, code := run(t, "mobileatwork-server", append(args, "--data", e.data)...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", strings.Join(args, " "), code, stderr)
		}
		if strings.Contains(strings.Join(args, " "), "--json") {
			if probs := cli.JSONProblems([]byte(out)); len(probs) > 0 {
				t.Fatalf("%s: JSON problems: %v", strings.Join(args, " "), probs)
			}
		}
		return out
	}
	sv("groups", bob, "lab")
	sv("groups", carol, "lab,design")
	sv("user-group", "add", "eng", "--member", "ada@example.com")

	script := filepath.Join(t.TempDir(), "hello.sh")
	os.WriteFile(script, []byte("#!/bin/sh\necho \"hello $1\"\n"), 0o600)
	sid := strings.TrimSpace(sv("script", "add", "--name", "hello", "--file", script, "--input", "Who:who=world"))
	cfg := lastLine(sv("config", "add", "script", "--name", "Say hello", "--description", "Greets", "--script", "hello", "--input", "who=team"))

	// Dry run: lists exactly the devices reached, changes nothing.
	var reached []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(sv("config", "distribute", cfg, "--to", "usergroup:eng", "--to", "group:design", "--dry-run", "--json")), &reached); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range reached {
		got = append(got, d.ID)
	}
	slices.Sort(got)
	want := []string{ada, carol}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("dry run reaches %v, want %v", got, want)
	}
	var shown struct {
		Distribution struct {
			Level string `json:"level"`
		} `json:"distribution"`
		Devices []any `json:"devices"`
	}
	json.Unmarshal([]byte(sv("config", "show", cfg, "--json")), &shown)
	if shown.Distribution.Level != "none" || len(shown.Devices) != 0 {
		t.Fatalf("the dry run changed the distribution: %+v", shown)
	}

	sv("config", "distribute", "Say hello", "--to", "usergroup:eng,group:design")
	// Before ada's device checks in, it is pending there.
	out := sv("config", "show", "say hello")
	if !strings.Contains(out, "pending") || !strings.Contains(out, "2 reached") {
		t.Fatalf("config show before check-in:\n%s", out)
	}
	e.cycle(adaState)
	var detail struct {
		Summary struct {
			Reached, Succeeded, Pending int
		} `json:"summary"`
		Devices []struct {
			Device struct {
				ID string `json:"id"`
			} `json:"device"`
			Status string `json:"status"`
		} `json:"devices"`
	}
	json.Unmarshal([]byte(sv("config", "show", cfg, "--json")), &detail)
	if detail.Summary.Reached != 2 || detail.Summary.Succeeded != 1 || detail.Summary.Pending != 1 {
		t.Fatalf("summary after ada's check-in: %+v", detail.Summary)
	}
	for _, d := range detail.Devices {
		if want := map[string]string{ada: "succeeded", carol: "pending"}[d.Device.ID]; d.Status != want {
			t.Fatalf("%s: %s, want %s", d.Device.ID, d.Status, want)
		}
	}

	// The device page.
	var page struct {
		MobileAtWork *struct {
			ID string `json:"id"`
		} `json:"mobileatwork_configuration"`
		UserGroups     []string `json:"user_groups"`
		Configurations []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"configurations"`
		Results []struct {
			ScriptSHA256 string `json:"script_sha256"`
			Stdout       string `json:"stdout"`
		} `json:"recent_results"`
	}
	json.Unmarshal([]byte(sv("device", "show", ada, "--json")), &page)
	if page.MobileAtWork == nil || page.MobileAtWork.ID != "cfg_default" || !slices.Equal(page.UserGroups, []string{"eng"}) ||
		len(page.Configurations) != 2 || len(page.Results) != 1 || page.Results[0].Stdout != "hello team\n" || len(page.Results[0].ScriptSHA256) != 64 {
		t.Fatalf("device page: %+v", page)
	}
	if text := sv("device", "show", ada); !strings.Contains(text, "Say hello") || !strings.Contains(text, "default") || !strings.Contains(text, "succeeded") {
		t.Fatalf("device show:\n%s", text)
	}

	// Results filter by configuration, status and limit.
	var rs []map[string]any
	json.Unmarshal([]byte(sv("results", "--config", "Say hello", "--status", "succeeded", "--limit", "5", "--json")), &rs)
	if len(rs) != 1 || rs[0]["config_id"] != cfg || rs[0]["config_name"] != "Say hello" || rs[0]["script_id"] != sid {
		t.Fatalf("results: %v", rs)
	}
	json.Unmarshal([]byte(sv("results", "--status", "failed", "--json")), &rs)
	if len(rs) != 0 {
		t.Fatalf("failed results: %v", rs)
	}

	// Every listing prints clean JSON.
	for _, args := range [][]string{{"configs", "--json"}, {"scripts", "--json"}, {"script", "show", "hello", "--json"},
		{"users", "--json"}, {"user-groups", "--json"}, {"tokens", "--json"}, {"devices", "--json"}, {"device-groups", "--json"},
		{"device", "show", carol, "--json"}, {"results", "--json"}} {
		sv(args...)
	}

	// Script in use: delete refused, naming the configuration.
	_, stderr, code := run(t, "mobileatwork-server", "script", "delete", "hello", "--data", e.data)
	oneErrorLine(t, stderr, code, `"Say hello"`)
	sv("config", "delete", cfg)
	sv("script", "delete", "hello")
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
