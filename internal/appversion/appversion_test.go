package appversion

import "testing"

func TestCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0", 0},
		{"1.2", "1.2.0", 0},
		{"1.2.0.0", "1.2", 0},
		{"1.9", "1.10", -1},
		{"1.10", "1.9", +1},
		{"2", "10", -1},
		{"1.01", "1.1", 0},
		{"0010", "9", +1},
		{"128.0.3", "128.0", +1},
		{"3.1b2", "3.1", -1},
		{"3.1", "3.1b2", +1},
		{"3.1b2", "3.1b10", -1},
		{"3.1a9", "3.1b1", -1},
		{"3.1RC1", "3.1rc1", 0},
		{"3.1.1", "3.1b2", +1},
		{"1.0.0b", "1.0", -1},
		{"v5.1", "5.1", 0},
		{"V5.2", "5.1", +1},
		{"24.1 (8137)", "24.1", +1},
		{"24.1 (8137)", "24.1 (8140)", -1},
		{"2024-03-01", "2024.3.1", 0},
		{"1_2_3", "1.2.3", 0},
		{"123456789012345678901234567890", "123456789012345678901234567889", +1},
		{"", "", 0},
		{"", "0", 0},
		{"", "1", -1},
		{"é1", "1", 0}, // non-ASCII is a separator
	}
	for _, tt := range tests {
		t.Run(tt.a+"_vs_"+tt.b, func(t *testing.T) {
			if got := Compare(tt.a, tt.b); got != tt.want {
				t.Errorf("Compare(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			if got := Compare(tt.b, tt.a); got != -tt.want {
				t.Errorf("Compare(%q, %q) = %d, want %d (antisymmetry)", tt.b, tt.a, got, -tt.want)
			}
		})
	}
}

func TestAtLeast(t *testing.T) {
	tests := []struct {
		installed, minimum string
		want               bool
	}{
		{"128.0.3", "128.0", true},
		{"128.0", "128.0", true},
		{"127.9.9", "128.0", false},
		{"1.10", "1.9", true},
		{"1.0b1", "1.0", false},
		{"anything", "", true},
		{"", "", true},
		{"", "1.0", false},
		{"  ", "1.0", false},
	}
	for _, tt := range tests {
		t.Run(tt.installed+"_min_"+tt.minimum, func(t *testing.T) {
			if got := AtLeast(tt.installed, tt.minimum); got != tt.want {
				t.Errorf("AtLeast(%q, %q) = %v, want %v", tt.installed, tt.minimum, got, tt.want)
			}
		})
	}
}

// FuzzCompare checks that Compare is a consistent order on any input.
func FuzzCompare(f *testing.F) {
	for _, s := range []string{"1.0", "1.0b1", "v2", "", "24.1 (8137)", "1..2"} {
		f.Add(s, "1.0")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if Compare(a, a) != 0 {
			t.Fatalf("Compare(%q, itself) != 0", a)
		}
		if Compare(a, b) != -Compare(b, a) {
			t.Fatalf("Compare(%q, %q) is not antisymmetric", a, b)
		}
	})
}
