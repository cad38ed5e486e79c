package executor

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
)

func TestCapture(t *testing.T) {
	tests := []struct {
		name      string
		max       int
		writes    []string
		want      string
		wantTotal int64
		truncated bool
		invalid   bool
	}{
		{name: "empty", max: 8, want: "", wantTotal: 0},
		{name: "under cap", max: 8, writes: []string{"abc"}, want: "abc", wantTotal: 3},
		{name: "exactly cap in pieces", max: 8, writes: []string{"abcd", "ef", "gh"}, want: "abcdefgh", wantTotal: 8},
		{
			name: "over cap keeps head and tail", max: 8,
			writes:    []string{"abcdefghij", "klmnop"},
			want:      "abcd\n… [8 bytes dropped] …\nmnop",
			wantTotal: 16, truncated: true,
		},
		{
			name: "tail ring wraps over small writes", max: 6,
			writes:    []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"},
			want:      "abc\n… [3 bytes dropped] …\nghi",
			wantTotal: 9, truncated: true,
		},
		{
			name: "odd cap gives the extra byte to the tail", max: 5,
			writes:    []string{"0123456789"},
			want:      "01\n… [5 bytes dropped] …\n789",
			wantTotal: 10, truncated: true,
		},
		{
			name: "cap of one keeps the last byte", max: 1,
			writes:    []string{"xyz"},
			want:      "\n… [2 bytes dropped] …\nz",
			wantTotal: 3, truncated: true,
		},
		{
			// "é" is two bytes; the head cut after its first byte and the
			// tail cut before the last byte of "€" (three bytes).
			name: "characters cut by the cap are dropped, not invalid", max: 6,
			writes:    []string{"ab\xc3\xa9", "----", "\xe2\x82\xacz"},
			want:      "ab\n… [9 bytes dropped] …\nz",
			wantTotal: 12, truncated: true,
		},
		{
			name: "invalid bytes are replaced", max: 16,
			writes:    []string{"ok\xff\xfeend"},
			want:      "ok\uFFFDend",
			wantTotal: 7, invalid: true,
		},
		{
			// The head ends on a whole "é"; the tail holds only the last
			// two bytes of "€", which are cut away.
			name: "whole rune at the head boundary stays", max: 4,
			writes:    []string{"é-", "--", "€"},
			want:      "é\n… [6 bytes dropped] …\n",
			wantTotal: 8, truncated: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCapture(tt.max)
			for _, w := range tt.writes {
				if n, err := c.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", w, n, err)
				}
			}
			got, total := c.text()
			if got != tt.want {
				t.Errorf("text = %q, want %q", got, tt.want)
			}
			if total != tt.wantTotal {
				t.Errorf("total = %d, want %d", total, tt.wantTotal)
			}
			if c.truncated() != tt.truncated {
				t.Errorf("truncated = %v, want %v", c.truncated(), tt.truncated)
			}
			if c.invalidUTF8 != tt.invalid {
				t.Errorf("invalidUTF8 = %v, want %v", c.invalidUTF8, tt.invalid)
			}
		})
	}
}

// TestCaptureMemoryIsBounded writes far more than the cap in uneven chunks
// and checks the ring never grows past its size and keeps the real tail.
func TestCaptureMemoryIsBounded(t *testing.T) {
	c := newCapture(100)
	var all bytes.Buffer
	chunk := []byte(strings.Repeat("0123456789abcdefghij", 7)) // 140 bytes
	for i := range 1000 {
		p := chunk[:i%len(chunk)+1]
		c.Write(p)
		all.Write(p)
	}
	if cap(c.head) > 50 || len(c.ring) != 50 {
		t.Fatalf("buffers grew: head cap %d, ring %d", cap(c.head), len(c.ring))
	}
	got, total := c.text()
	b := all.Bytes()
	want := string(b[:50]) + "\n… [" + strconv.Itoa(len(b)-100) + " bytes dropped] …\n" + string(b[len(b)-50:])
	if got != want || total != int64(len(b)) {
		t.Fatalf("text = %q (total %d), want %q (total %d)", got, total, want, len(b))
	}
}
