// Package appversion compares the version strings that Mac apps and PKG
// receipts carry (CFBundleShortVersionString, PackageVersion). They are not
// semantic versions: "1.10" follows "1.9", "2.0" equals "2.0.0", and vendors
// write "3.1b2", "24.1 (8137)" or "v5". Comparing them as text gets most of
// these wrong, so the catalog's "installed version ≥ required version" uses
// Compare instead.
package appversion

import (
	"strings"
)

// Compare returns -1, 0 or +1 as a is older than, the same as, or newer
// than b. Both are split into runs of digits (compared as numbers, of any
// length) and runs of letters (compared case-insensitively); every other
// character separates. A missing part counts as 0, so "1.2" equals "1.2.0".
// Letters mark a pre-release: "1.0b1" is older than "1.0", and a number
// beats letters in the same place ("1.0.1" is newer than "1.0b1").
func Compare(a, b string) int {
	pa, pb := parts(a), parts(b)
	for i := range max(len(pa), len(pb)) {
		x, y := part{num: "0"}, part{num: "0"}
		if i < len(pa) {
			x = pa[i]
		} else if pb[i].num == "" {
			return +1 // b goes on with a pre-release tag: a is the release
		}
		if i < len(pb) {
			y = pb[i]
		} else if x.num == "" {
			return -1
		}
		if c := x.compare(y); c != 0 {
			return c
		}
	}
	return 0
}

// AtLeast tells whether installed satisfies a minimum version. An empty
// minimum accepts any version; an unknown (empty) installed version
// satisfies only an empty minimum.
func AtLeast(installed, minimum string) bool {
	if strings.TrimSpace(minimum) == "" {
		return true
	}
	if len(parts(installed)) == 0 {
		return false
	}
	return Compare(installed, minimum) >= 0
}

// part is a run of digits (num, without leading zeros, "0" for zero) or a
// run of letters (alpha, lower case).
type part struct {
	num   string
	alpha string
}

func (p part) compare(q part) int {
	switch {
	case p.num != "" && q.num != "":
		// Without leading zeros, a longer run of digits is a larger number.
		if len(p.num) != len(q.num) {
			return sign(len(p.num) - len(q.num))
		}
		return strings.Compare(p.num, q.num)
	case p.num != "":
		return +1 // a number is a release, letters a pre-release
	case q.num != "":
		return -1
	}
	return strings.Compare(p.alpha, q.alpha)
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return +1
	}
	return 0
}

func parts(s string) []part {
	var out []part
	for i := 0; i < len(s); {
		c := s[i]
		j := i + 1
		switch {
		case isDigit(c):
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			n := strings.TrimLeft(s[i:j], "0")
			if n == "" {
				n = "0"
			}
			out = append(out, part{num: n})
		case isLetter(c):
			for j < len(s) && isLetter(s[j]) {
				j++
			}
			out = append(out, part{alpha: strings.ToLower(s[i:j])})
		}
		i = j
	}
	// A leading "v" ("v5.1") is decoration, not a pre-release tag.
	if len(out) > 1 && out[0].alpha == "v" && out[1].num != "" {
		out = out[1:]
	}
	return out
}

func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
