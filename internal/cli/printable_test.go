package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestPrintable(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "mac-ada.local", "mac-ada.local"},
		{"letters of any script", "Zoë’s MacBook — 東京", "Zoë’s MacBook — 東京"},
		{"clear the screen", "evil\x1b[2J\x1b[H", `evil\x1b[2J\x1b[H`},
		{"retitle the terminal", "\x1b]0;pwned\x07", `\x1b]0;pwned\x07`},
		{"C1 CSI", "a\u009b31mb", `a\u009b31mb`},
		{"carriage return overwrites", "ok\rFAIL", `ok\x0dFAIL`},
		{"backspace and DEL", "x\x08\x7f", `x\x08\x7f`},
		{"right-to-left override", "exe.\u202etxt", `exe.\u202etxt`},
		{"not UTF-8", "a\xffb", `a\xffb`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Printable(tt.in); got != tt.want {
				t.Errorf("Printable(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// No table, whole or streamed, writes a byte that a terminal acts on; the
// same cell in JSON is kept exact.
func TestTablesWriteNoTerminalControls(t *testing.T) {
	hostile := "mac\x1b[31m\x1b]0;owned\x07\u009b2J\u202e\rname"
	var whole, streamed bytes.Buffer
	if err := Table(&whole, []string{"ID", "NAME"}, [][]string{{"dev_1", hostile}}); err != nil {
		t.Fatal(err)
	}
	ts := NewTableStream(&streamed, []string{"ID", "NAME"})
	if err := ts.Row([]string{"dev_1", hostile}); err != nil {
		t.Fatal(err)
	}
	if err := ts.Close(); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"Table": whole.String(), "TableStream": streamed.String()} {
		body := strings.TrimSuffix(out, "\n")
		if strings.ContainsFunc(strings.ReplaceAll(body, "\n", ""), unsafeRune) {
			t.Errorf("%s wrote a control character: %q", name, out)
		}
		if !strings.Contains(out, `mac\x1b[31m`) {
			t.Errorf("%s does not show the escape: %q", name, out)
		}
	}
	var j bytes.Buffer
	if err := JSON(&j, map[string]string{"name": hostile}); err != nil {
		t.Fatal(err)
	}
	var back map[string]string
	if err := json.Unmarshal(j.Bytes(), &back); err != nil || back["name"] != hostile {
		t.Errorf("JSON round trip: %q, %v", back["name"], err)
	}
	if strings.ContainsFunc(strings.ReplaceAll(j.String(), "\n", ""), unsafeRune) {
		t.Errorf("JSON wrote a control character: %q", j.String())
	}
}
