package server

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/macho"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/mobileatwork/mobileatwork/packaging"
	"github.com/mobileatwork/mobileatwork/packaging/bom"
	"github.com/mobileatwork/mobileatwork/packaging/launchd"
	"github.com/mobileatwork/mobileatwork/packaging/xar"
	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// readPublished opens the catalog PKG of a and returns its PackageInfo,
// its Bom's paths and its decompressed Payload.
func readPublished(t *testing.T, s *Server, a store.App) (info string, paths []string, payload []byte) {
	t.Helper()
	b, err := s.Files.Get(a.FileSHA256, 1<<30)
	if err != nil {
		t.Fatalf("catalog file: %v", err)
	}
	if int64(len(b)) != a.FileSize || hexSHA(b) != a.FileSHA256 {
		t.Fatalf("catalog file of %d bytes does not match the entry %d/%s", len(b), a.FileSize, a.FileSHA256)
	}
	ar, err := xar.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	read := func(name string) []byte {
		m, err := ar.ReadFile(packaging.ComponentDir + "/" + name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return m
	}
	entries, err := bom.Unmarshal(read("Bom"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		paths = append(paths, e.Path)
	}
	zr, err := gzip.NewReader(bytes.NewReader(read("Payload")))
	if err != nil {
		t.Fatal(err)
	}
	if payload, err = io.ReadAll(zr); err != nil {
		t.Fatal(err)
	}
	return string(read("PackageInfo")), paths, payload
}

func hexSHA(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestPublishAgent(t *testing.T) {
	// The catalog entry is recognised by the id its package is built with.
	if packaging.Identifier != protocol.AgentPackageID {
		t.Fatalf("package identifier %q, agents recognise %q", packaging.Identifier, protocol.AgentPackageID)
	}
	s := newTenant(t)
	dir := agentDir(t, macho.CpuArm64, macho.CpuAmd64)
	p, err := s.PublishAgent(t.Context(), PublishAgentOptions{AgentDir: dir, Version: "v1.4.2"})
	if err != nil {
		t.Fatal(err)
	}
	a := p.App
	if a.Name != "Mobile@Work" || a.Kind != protocol.AppKindInHouse || a.PackageID != "com.mobileatwork.agent" ||
		a.Version != "1.4.2" || a.BundleID != "" || p.Previous != "" || p.Signed {
		t.Fatalf("published %+v", p)
	}
	if got, err := s.Store.App(t.Context(), a.ID); err != nil || got.FileSHA256 != a.FileSHA256 || got.Version != "1.4.2" {
		t.Fatalf("stored %+v %v", got, err)
	}
	info, paths, payload := readPublished(t, s, a)
	if !strings.Contains(info, `identifier="com.mobileatwork.agent"`) || !strings.Contains(info, `version="1.4.2"`) {
		t.Errorf("PackageInfo:\n%s", info)
	}
	// A package every device may fetch carries no token.
	enroll := "." + launchd.EnrollFilePath
	for _, p := range paths {
		if p == enroll {
			t.Errorf("Bom lists %s", p)
		}
	}
	if bytes.Contains(payload, []byte("enroll.json")) || !bytes.Contains(payload, []byte("Library/MobileAtWork/bin/mobileatwork")) {
		t.Errorf("payload has an enrollment file, or lacks the agent")
	}
	if ts, _ := s.Tokens(t.Context()); len(ts) != 0 {
		t.Errorf("publishing made tokens: %+v", ts)
	}
	if ds, _ := s.Store.AppDistributions(t.Context()); len(ds) != 0 {
		t.Errorf("a new entry is distributed: %+v", ds)
	}
}

func TestPublishAgentUpdatesTheOneEntry(t *testing.T) {
	s := newTenant(t)
	dir := agentDir(t, macho.CpuArm64, macho.CpuAmd64)
	first, err := s.PublishAgent(t.Context(), PublishAgentOptions{AgentDir: dir, Version: "1.4.2"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DistributeApp(t.Context(), first.App.ID, []string{"all"}); err != nil {
		t.Fatal(err)
	}
	next, err := s.PublishAgent(t.Context(), PublishAgentOptions{AgentDir: dir, Version: "1.10.0"})
	if err != nil {
		t.Fatal(err)
	}
	if next.App.ID != first.App.ID || next.Previous != "1.4.2" || next.App.Version != "1.10.0" || next.App.FileSHA256 == first.App.FileSHA256 {
		t.Fatalf("update %+v after %+v", next, first)
	}
	apps, _ := s.Store.Apps(t.Context())
	if len(apps) != 1 || apps[0].Version != "1.10.0" || apps[0].FileSHA256 != next.App.FileSHA256 || !apps[0].CreatedAt.Equal(first.App.CreatedAt) {
		t.Fatalf("catalog %+v, want the one entry at 1.10.0", apps)
	}
	if info, _, _ := readPublished(t, s, apps[0]); !strings.Contains(info, `version="1.10.0"`) {
		t.Errorf("PackageInfo:\n%s", info)
	}
	if has, _ := s.Files.Has(first.App.FileSHA256); has {
		t.Error("the replaced package is still kept")
	}
	if ds, _ := s.Store.AppDistributions(t.Context()); len(ds) != 1 || ds[0].AppID != first.App.ID {
		t.Errorf("distributions %+v, want the one kept", ds)
	}
}

func TestPublishAgentRefuses(t *testing.T) {
	s := newTenant(t)
	dir := agentDir(t, macho.CpuArm64, macho.CpuAmd64)
	first, err := s.PublishAgent(t.Context(), PublishAgentOptions{AgentDir: dir, Version: "1.4.2"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		o    PublishAgentOptions
		want string
	}{
		{"same version", PublishAgentOptions{Version: "1.4.2"}, "not newer than the published 1.4.2"},
		{"same version written longer", PublishAgentOptions{Version: "1.4.2.0"}, "not newer"},
		{"older version", PublishAgentOptions{Version: "1.4.1"}, "not newer"},
		{"pre-release of the published", PublishAgentOptions{Version: "1.4.2-rc1"}, "not newer"},
		{"bad version", PublishAgentOptions{Version: "latest"}, "--version"},
		{"missing agent dir", PublishAgentOptions{Version: "2.0", AgentDir: t.TempDir()}, "--agent-dir: no "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.o.AgentDir == "" {
				tc.o.AgentDir = dir
			}
			_, err := s.PublishAgent(t.Context(), tc.o)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrInvalid saying %q", err, tc.want)
			}
			apps, _ := s.Store.Apps(t.Context())
			if len(apps) != 1 || apps[0] != first.App {
				t.Errorf("catalog changed: %+v", apps)
			}
		})
	}
	// --force republishes an older version.
	p, err := s.PublishAgent(t.Context(), PublishAgentOptions{AgentDir: dir, Version: "1.4.1", Force: true})
	if err != nil || p.App.ID != first.App.ID || p.App.Version != "1.4.1" || p.Previous != "1.4.2" {
		t.Fatalf("forced publish %+v %v", p, err)
	}
}

func TestPublishAgentRefusesAnEntryOfAnotherKind(t *testing.T) {
	s := newTenant(t)
	a, err := s.AddApp(t.Context(), AddAppRequest{Name: "Agent", Kind: protocol.AppKindPackager, PackageID: "com.mobileatwork.agent"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.PublishAgent(t.Context(), PublishAgentOptions{AgentDir: agentDir(t, macho.CpuArm64, macho.CpuAmd64), Version: "1.0"})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "only an in-house app") {
		t.Fatalf("err = %v", err)
	}
	if apps, _ := s.Store.Apps(t.Context()); len(apps) != 1 || apps[0].ID != a.ID || apps[0].FileSHA256 != "" {
		t.Errorf("catalog changed: %+v", apps)
	}
}
