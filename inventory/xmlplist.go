package inventory

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// CheckXMLPlist checks that b is small enough, well formed, and that its
// elements nest at most 512 levels, with a flat token loop. A recursive
// decoder (such as the plist module's) goes one call deeper per level, so
// depth is the one thing it must not be handed unchecked.
func CheckXMLPlist(b []byte) error {
	return scanXMLPlist(b, nil)
}

// scanXMLPlist is the XML guard and, when fields is not nil, the reader: one
// pass of encoding/xml tokens that enforces the limits and picks the wanted
// scalar values out of the top-level dictionary.
func scanXMLPlist(b []byte, fields []field) error {
	if len(b) > MaxPlistSize {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(b), MaxPlistSize)
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	var (
		open     []string // names of the open elements
		elements int
		topDict  = -1 // depth of the top-level dictionary's children
		inKey    bool
		key      []byte
		haveKey  bool
		target   *field // value being captured
		valName  string
		text     []byte
	)
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return malformed("xml: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			open = append(open, name)
			elements++
			depth := len(open)
			if depth > maxDepth {
				return malformed("nesting deeper than %d", maxDepth)
			}
			if fields == nil {
				continue
			}
			switch {
			case inKey || target != nil:
				return malformed("xml: element <%s> inside a scalar", name)
			case depth == 1 && name == "dict":
				topDict = 2
			case depth == 1 && name != "plist":
				return malformed("top-level object is not a dictionary")
			case depth == 2 && topDict < 0:
				if name != "dict" {
					return malformed("top-level object is not a dictionary")
				}
				topDict = 3
			case depth == topDict && name == "key":
				inKey, key = true, key[:0]
			case depth == topDict:
				if !haveKey {
					return malformed("xml: dictionary value without a key")
				}
				haveKey = false
				switch name {
				case "string", "integer", "real", "date":
					if f := setField(fields, key); f != nil {
						target, valName, text = f, name, text[:0]
					}
				}
			}
		case xml.EndElement:
			if len(open) == 0 || open[len(open)-1] != t.Name.Local {
				return malformed("xml: unexpected </%s>", t.Name.Local)
			}
			open = open[:len(open)-1]
			switch {
			case inKey:
				inKey, haveKey = false, true
			case target != nil:
				setXMLValue(target, valName, string(text))
				target = nil
			}
		case xml.CharData:
			switch {
			case inKey:
				key = append(key, t...)
			case target != nil:
				text = append(text, t...)
			}
		}
	}
	if len(open) != 0 {
		return malformed("xml: %d unclosed elements", len(open))
	}
	if elements == 0 {
		return malformed("xml: no elements")
	}
	if fields != nil && topDict < 0 {
		return malformed("top-level object is not a dictionary")
	}
	return nil
}

func setXMLValue(f *field, element, text string) {
	if element == "string" {
		f.str = text
		return
	}
	text = strings.TrimSpace(text)
	if element == "date" {
		if t, err := time.Parse(time.RFC3339, text); err == nil {
			f.date = t.UTC()
		}
		return
	}
	f.str = text
}
