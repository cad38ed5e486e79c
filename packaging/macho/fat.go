// Package macho joins thin Mach-O executables into a universal ("fat") binary,
// what lipo -create does on a Mac, so one PKG installs on Apple silicon and Intel.
package macho

import (
	"bytes"
	"debug/macho"
	"encoding/binary"
	"errors"
	"fmt"
)

// Sentinel errors, tested with errors.Is.
var (
	// ErrNotThin reports an input that is not a single-architecture Mach-O.
	ErrNotThin = errors.New("macho: not a thin Mach-O executable")
	// ErrWrongCPU reports a thin Mach-O built for another CPU than declared.
	ErrWrongCPU = errors.New("macho: wrong cpu type")
)

// Slice is one thin executable and the CPU it must have been built for.
type Slice struct {
	CPU  macho.Cpu
	Data []byte
	// Name says where Data came from (a file name) in errors; empty
	// names the slice by its CPU.
	Name string
}

func (s Slice) label() string {
	if s.Name == "" {
		return fmt.Sprintf("%s slice", s.CPU)
	}
	return fmt.Sprintf("%s slice %s", s.CPU, s.Name)
}

// sliceAlign is the page alignment of every slice: 2^14, the arm64 page size,
// which lipo also uses for x86_64 slices in current toolchains.
const sliceAlign = 14

const (
	fatHeaderSize = 8
	fatArchSize   = 20
)

// Universal validates each slice and returns a fat binary holding them in the
// given order (lipo writes x86_64 before arm64).
func Universal(slices ...Slice) ([]byte, error) {
	if len(slices) == 0 {
		return nil, fmt.Errorf("macho: no slices: %w", ErrNotThin)
	}
	type arch struct {
		cpu, sub  uint32
		off, size uint32
	}
	archs := make([]arch, 0, len(slices))
	seen := map[macho.Cpu]bool{}
	off := uint64(fatHeaderSize + fatArchSize*len(slices))
	for _, s := range slices {
		f, err := macho.NewFile(bytes.NewReader(s.Data))
		if err != nil {
			return nil, fmt.Errorf("macho: %s: %w: %w", s.label(), ErrNotThin, err)
		}
		if f.Cpu != s.CPU {
			return nil, fmt.Errorf("macho: %s is built for %s: %w", s.label(), f.Cpu, ErrWrongCPU)
		}
		if f.Type != macho.TypeExec {
			return nil, fmt.Errorf("macho: %s has file type %d, want an executable: %w", s.label(), f.Type, ErrNotThin)
		}
		if seen[f.Cpu] {
			return nil, fmt.Errorf("macho: two %s slices", f.Cpu)
		}
		seen[f.Cpu] = true
		off = alignUp(off)
		if off+uint64(len(s.Data)) > 1<<32-1 {
			return nil, fmt.Errorf("macho: universal binary would exceed 4 GiB")
		}
		archs = append(archs, arch{cpu: uint32(f.Cpu), sub: f.SubCpu, off: uint32(off), size: uint32(len(s.Data))})
		off += uint64(len(s.Data))
	}
	out := make([]byte, off)
	be := binary.BigEndian
	be.PutUint32(out[0:], macho.MagicFat)
	be.PutUint32(out[4:], uint32(len(archs)))
	for i, a := range archs {
		h := out[fatHeaderSize+fatArchSize*i:]
		be.PutUint32(h[0:], a.cpu)
		be.PutUint32(h[4:], a.sub)
		be.PutUint32(h[8:], a.off)
		be.PutUint32(h[12:], a.size)
		be.PutUint32(h[16:], sliceAlign)
		copy(out[a.off:], slices[i].Data)
	}
	return out, nil
}

func alignUp(n uint64) uint64 {
	const a = 1 << sliceAlign
	return (n + a - 1) &^ (a - 1)
}
