package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/pki"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// doctor exits 0 on a healthy tenant and 3 once a device certificate is
// about to expire unrenewed, in both outputs.
func TestDoctorExitStatus(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	if _, stderr, code := runCLI(t, "init", "--data", data); code != 0 {
		t.Fatalf("init: exit %d: %s", code, stderr)
	}
	out, stderr, code := runCLI(t, "doctor", "--data", data, "--json")
	if code != 0 {
		t.Fatalf("doctor of a new tenant: exit %d: %s", code, stderr)
	}
	var doc struct {
		NeedsAction  bool `json:"needs_action"`
		Certificates []struct {
			Name   string `json:"name"`
			Action string `json:"action"`
		} `json:"certificates"`
		Devices []struct {
			ID     string `json:"id"`
			Action string `json:"action"`
		} `json:"devices"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("doctor --json: %v\n%s", err, out)
	}
	if doc.NeedsAction || len(doc.Certificates) != 3 || len(doc.Devices) != 0 {
		t.Fatalf("doctor of a new tenant = %+v", doc)
	}

	s, err := server.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Store.CreateDevice(context.Background(), store.Device{ID: "dev-1", EnrolledAt: time.Now().Add(-pki.DeviceValidity + 24*time.Hour)})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, _, code = runCLI(t, "doctor", "--data", data)
	if code != exitNeedsAction || !strings.Contains(out, "dev-1") || !strings.Contains(out, "does not renew") {
		t.Fatalf("doctor with an expiring device: exit %d, want %d, and the device listed:\n%s", code, exitNeedsAction, out)
	}
	out, _, code = runCLI(t, "doctor", "--data", data, "--json")
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != exitNeedsAction || !doc.NeedsAction || len(doc.Devices) != 1 || doc.Devices[0].ID != "dev-1" {
		t.Fatalf("doctor --json with an expiring device: exit %d, %v, %+v", code, err, doc)
	}
}

// retire-signing says when agents learn of the retirement, and doctor
// counts the retired signing certificates, in both outputs.
func TestRetireSigningCountedByDoctor(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	if _, stderr, code := runCLI(t, "init", "--data", data); code != 0 {
		t.Fatalf("init: exit %d: %s", code, stderr)
	}
	if _, stderr, code := runCLI(t, "pki", "rotate-signing", "--data", data); code != 0 {
		t.Fatalf("rotate-signing: exit %d: %s", code, stderr)
	}
	_, stderr, code := runCLI(t, "pki", "retire-signing", "--data", data)
	if code != 0 || !strings.Contains(stderr, "agents learn of the retirement at their next check-in") {
		t.Fatalf("retire-signing: exit %d:\n%s", code, stderr)
	}
	out, _, code := runCLI(t, "doctor", "--data", data)
	if code != 0 || !strings.Contains(out, "retired signing certificates agents refuse: 1") {
		t.Fatalf("doctor after a retirement: exit %d:\n%s", code, out)
	}
	out, _, _ = runCLI(t, "doctor", "--data", data, "--json")
	var doc struct {
		RetiredSigners int `json:"retired_signers"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.RetiredSigners != 1 {
		t.Fatalf("doctor --json after a retirement: %v, %+v", err, doc)
	}
}
