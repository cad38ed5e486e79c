package packaging

import (
	"bytes"
	"debug/macho"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mobileatwork/mobileatwork/packaging/bom"
	machofat "github.com/mobileatwork/mobileatwork/packaging/macho"
)

const enrollEntry = "./Library/MobileAtWork/enroll.json"

func TestBuildWithEnrollFile(t *testing.T) {
	opt := testOptions()
	opt.EnrollFile = []byte(`{"server_url":"https://mdm.example.com","enrollment_token":"x"}` + "\n")
	a, _ := buildPkg(t, opt)
	names, payload := readCPIO(t, readMember(t, a, "mobileatwork.pkg/Payload"))
	if want := append(append([]string(nil), wantPayload...), enrollEntry); strings.Join(names, "\n") != strings.Join(want, "\n") {
		t.Fatalf("payload paths:\n%s", strings.Join(names, "\n"))
	}
	m := payload[enrollEntry]
	if m.mode != 0o100600 || m.uid != 0 || m.gid != 0 || !bytes.Equal(m.data, opt.EnrollFile) {
		t.Errorf("payload %s: mode %o owner %d:%d data %q", enrollEntry, m.mode, m.uid, m.gid, m.data)
	}
	bomData := readMember(t, a, "mobileatwork.pkg/Bom")
	e, err := bom.Lookup(bomData, enrollEntry)
	if err != nil {
		t.Fatalf("bom lookup: %v", err)
	}
	if e.Mode != 0o600 || e.UID != 0 || e.GID != 0 || e.Size != uint64(len(opt.EnrollFile)) || e.Checksum != bom.Cksum(opt.EnrollFile) {
		t.Errorf("bom %s: %+v", enrollEntry, e)
	}
	entries, err := bom.Unmarshal(bomData)
	if err != nil || len(entries) != len(wantPayload)+1 {
		t.Errorf("bom has %d paths (%v), want %d", len(entries), err, len(wantPayload)+1)
	}

	// Without one, the payload is as before.
	plain, _ := buildPkg(t, testOptions())
	names, _ = readCPIO(t, readMember(t, plain, "mobileatwork.pkg/Payload"))
	if strings.Join(names, "\n") != strings.Join(wantPayload, "\n") {
		t.Errorf("payload without enrollment file:\n%s", strings.Join(names, "\n"))
	}
}

func TestWriteFileWithEnrollFileIs0600(t *testing.T) {
	for _, tc := range []struct {
		name   string
		enroll []byte
		want   os.FileMode
	}{{"plain", nil, 0o644}, {"enrolling", []byte("{}"), 0o600}} {
		t.Run(tc.name, func(t *testing.T) {
			opt := testOptions()
			opt.EnrollFile = tc.enroll
			out := filepath.Join(t.TempDir(), "MobileAtWork.pkg")
			if err := WriteFile(out, opt); err != nil {
				t.Fatal(err)
			}
			if st, err := os.Stat(out); err != nil || st.Mode().Perm() != tc.want {
				t.Fatalf("stat %v %v, want mode %o", st, err, tc.want)
			}
		})
	}
}

func TestBuildErrorNamesTheBadFile(t *testing.T) {
	opt := testOptions()
	opt.ARM64, opt.ARM64File = fakeThin(macho.CpuAmd64, 3, 30000), "dist/darwin/mobileatwork-arm64"
	opt.AMD64File = "dist/darwin/mobileatwork-amd64"
	_, err := Build(opt)
	if !errors.Is(err, machofat.ErrWrongCPU) || !strings.Contains(err.Error(), "dist/darwin/mobileatwork-arm64") {
		t.Fatalf("err = %v, want ErrWrongCPU naming the arm64 file", err)
	}
	opt = testOptions()
	opt.AMD64, opt.AMD64File = []byte("#!/bin/sh\n"), "bin/mobileatwork-amd64"
	if _, err := Build(opt); !errors.Is(err, machofat.ErrNotThin) || !strings.Contains(err.Error(), "bin/mobileatwork-amd64") {
		t.Fatalf("err = %v, want ErrNotThin naming the amd64 file", err)
	}
}
