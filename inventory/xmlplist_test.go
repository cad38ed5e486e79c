package inventory

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCheckXMLPlist(t *testing.T) {
	nested := func(n int) []byte {
		return []byte(`<?xml version="1.0" encoding="UTF-8"?><plist version="1.0">` +
			strings.Repeat("<array>", n) + strings.Repeat("</array>", n) + `</plist>`)
	}
	tests := []struct {
		name string
		in   []byte
		want error
		msg  string
	}{
		{"valid", []byte(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict><key>CFBundleName</key><string>Café</string></dict></plist>`), nil, ""},
		{"nesting 512 accepted", nested(511), nil, ""},
		{"nesting 513", nested(512), ErrMalformed, "nesting"},
		{"nesting 10000", nested(10000), ErrMalformed, "nesting"},
		{"unclosed", []byte(`<plist><dict>`), ErrMalformed, "xml"},
		{"not xml", []byte("\x00\x01garbage<"), ErrMalformed, "xml"},
		{"no elements", []byte(`<?xml version="1.0"?>`), ErrMalformed, "no elements"},
		{"empty", nil, ErrMalformed, "no elements"},
		{"too large", []byte("<plist>" + strings.Repeat(" ", MaxPlistSize) + "</plist>"), ErrTooLarge, "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			err := CheckXMLPlist(tt.in)
			if elapsed := time.Since(start); elapsed > time.Second {
				t.Errorf("took %v", elapsed)
			}
			if tt.want == nil {
				if err != nil {
					t.Fatalf("CheckXMLPlist: %v, want accepted", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("CheckXMLPlist = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not mention %q", err, tt.msg)
			}
		})
	}
}
