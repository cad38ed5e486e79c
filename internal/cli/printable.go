package cli

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Printable is s safe to write to a terminal: control characters (C0, DEL,
// C1, among them ESC and CSI, which start terminal escape sequences),
// Unicode's bidirectional controls, which reorder what follows them, and
// bytes that are not UTF-8 are written as Go escapes (\x1b, \u202e), so
// text a device supplied can neither move the cursor, recolour, retitle
// nor hide what the administrator reads. Everything else is kept as is.
// JSON output needs none of this: its encoder escapes them already.
func Printable(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x80 && unsafeRune(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func unsafeRune(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) }

func needsEscape(s string) bool {
	return !utf8.ValidString(s) || strings.ContainsFunc(s, unsafeRune)
}

// escapeJSON writes as \u escapes the terminal controls encoding/json
// leaves as they are: DEL, C1 and the bidirectional controls (it escapes
// C0 itself; the C0 bytes left are the layout's newlines). They can only
// stand inside strings, so the document decodes to the same values:
// --json stays exact, and is as safe on a terminal as a table.
func escapeJSON(b []byte) []byte {
	if !bytes.ContainsFunc(b, jsonUnsafe) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if jsonUnsafe(r) {
			out = fmt.Appendf(out, `\u%04x`, r)
		} else {
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	return out
}

func jsonUnsafe(r rune) bool { return r >= 0x7f && unsafeRune(r) }
