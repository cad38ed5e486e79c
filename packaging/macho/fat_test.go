package macho

import (
	"bytes"
	"debug/macho"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// fakeThin returns the smallest Mach-O that debug/macho accepts: a 64-bit
// header with no load commands, followed by padding.
func fakeThin(cpu macho.Cpu, sub uint32, typ macho.Type, pad int) []byte {
	b := make([]byte, 32+pad)
	le := binary.LittleEndian
	le.PutUint32(b[0:], macho.Magic64)
	le.PutUint32(b[4:], uint32(cpu))
	le.PutUint32(b[8:], sub)
	le.PutUint32(b[12:], uint32(typ))
	for i := 32; i < len(b); i++ {
		b[i] = byte(i)
	}
	return b
}

func checkFat(t *testing.T, fat []byte, slices []Slice) {
	t.Helper()
	ff, err := macho.NewFatFile(bytes.NewReader(fat))
	if err != nil {
		t.Fatalf("OpenFat: %v", err)
	}
	if binary.BigEndian.Uint32(fat) != 0xcafebabe {
		t.Fatalf("magic %x", fat[:4])
	}
	if len(ff.Arches) != len(slices) {
		t.Fatalf("%d arches, want %d", len(ff.Arches), len(slices))
	}
	for i, a := range ff.Arches {
		if a.Cpu != slices[i].CPU || a.Align != 14 || a.Offset%(1<<14) != 0 {
			t.Errorf("arch %d: cpu %s align %d offset %d", i, a.Cpu, a.Align, a.Offset)
		}
		if !bytes.Equal(fat[a.Offset:a.Offset+a.Size], slices[i].Data) {
			t.Errorf("arch %d: slice bytes differ", i)
		}
	}
}

func TestUniversalFromFakeSlices(t *testing.T) {
	slices := []Slice{
		{CPU: macho.CpuAmd64, Data: fakeThin(macho.CpuAmd64, 3, macho.TypeExec, 100)},
		{CPU: macho.CpuArm64, Data: fakeThin(macho.CpuArm64, 0, macho.TypeExec, 20000)},
	}
	fat, err := Universal(slices...)
	if err != nil {
		t.Fatal(err)
	}
	checkFat(t, fat, slices)
	ff, _ := macho.NewFatFile(bytes.NewReader(fat))
	if ff.Arches[0].SubCpu != 3 {
		t.Errorf("x86_64 subtype %d, want 3 (copied from the slice)", ff.Arches[0].SubCpu)
	}
}

func TestUniversalRejects(t *testing.T) {
	arm := fakeThin(macho.CpuArm64, 0, macho.TypeExec, 0)
	fat, err := Universal(Slice{CPU: macho.CpuArm64, Data: arm})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		slices []Slice
		want   error
	}{
		{"none", nil, ErrNotThin},
		{"elf", []Slice{{CPU: macho.CpuAmd64, Data: []byte("\x7fELF\x02\x01\x01\x00rest of an elf file..........")}}, ErrNotThin},
		{"already fat", []Slice{{CPU: macho.CpuArm64, Data: fat}}, ErrNotThin},
		{"object file", []Slice{{CPU: macho.CpuArm64, Data: fakeThin(macho.CpuArm64, 0, macho.TypeObj, 0)}}, ErrNotThin},
		{"amd64 given as arm64", []Slice{{CPU: macho.CpuArm64, Data: fakeThin(macho.CpuAmd64, 3, macho.TypeExec, 0)}}, ErrWrongCPU},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Universal(tc.slices...); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := Universal(Slice{CPU: macho.CpuArm64, Data: arm}, Slice{CPU: macho.CpuArm64, Data: arm}); err == nil {
		t.Error("two arm64 slices accepted")
	}
}

// TestUniversalFromGoBuilds cross-compiles a tiny program for both Mac CPUs
// and checks the result the way the PKG build uses it.
func TestUniversalFromGoBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles two binaries")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go toolchain not available")
	}
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/tiny\n\ngo 1.21\n")
	write("main.go", "package main\n\nfunc main() { println(\"hi\") }\n")
	var slices []Slice
	for _, a := range []struct {
		goarch string
		cpu    macho.Cpu
	}{{"amd64", macho.CpuAmd64}, {"arm64", macho.CpuArm64}} {
		out := filepath.Join(dir, "tiny-"+a.goarch)
		cmd := exec.Command(gobin, "build", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOOS=darwin", "GOARCH="+a.goarch, "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false", "GOWORK=off")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", a.goarch, err, b)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		slices = append(slices, Slice{CPU: a.cpu, Data: data})
	}
	fat, err := Universal(slices...)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "tiny")
	if err := os.WriteFile(path, fat, 0o755); err != nil {
		t.Fatal(err)
	}
	ff, err := macho.OpenFat(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ff.Close()
	checkFat(t, fat, slices)
	for _, a := range ff.Arches {
		if a.Type != macho.TypeExec || a.Symtab == nil && a.Dysymtab == nil && len(a.Loads) == 0 {
			t.Errorf("%s slice does not parse as an executable", a.Cpu)
		}
	}
	// The wrong-cpu check must hold for real binaries too.
	if _, err := Universal(Slice{CPU: macho.CpuArm64, Data: slices[0].Data}); !errors.Is(err, ErrWrongCPU) {
		t.Errorf("amd64 build accepted as arm64: %v", err)
	}
}
