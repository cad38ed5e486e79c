package executor

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// capture keeps the first and the last bytes of a stream and counts the
// rest. Its memory is bounded by the cap whatever the script writes: the
// head fills once, the tail is a ring buffer.
type capture struct {
	head    []byte
	headMax int
	ring    []byte // allocated on first overflow of the head
	tailMax int
	ringPos int // next write position in ring
	ringLen int // valid bytes in ring (≤ tailMax)
	total   int64

	invalidUTF8 bool // set by text()
}

func newCapture(max int) *capture {
	h := max / 2
	return &capture{headMax: h, tailMax: max - h}
}

// Write never fails: dropping output is the whole point.
func (c *capture) Write(p []byte) (int, error) {
	n := len(p)
	c.total += int64(n)
	if room := c.headMax - len(c.head); room > 0 {
		if c.head == nil {
			c.head = make([]byte, 0, c.headMax)
		}
		k := min(room, len(p))
		c.head = append(c.head, p[:k]...)
		p = p[k:]
	}
	if len(p) == 0 || c.tailMax == 0 {
		return n, nil
	}
	if c.ring == nil {
		c.ring = make([]byte, c.tailMax)
	}
	if len(p) >= c.tailMax {
		copy(c.ring, p[len(p)-c.tailMax:])
		c.ringPos, c.ringLen = 0, c.tailMax
		return n, nil
	}
	k := copy(c.ring[c.ringPos:], p)
	copy(c.ring, p[k:])
	c.ringPos = (c.ringPos + len(p)) % c.tailMax
	c.ringLen = min(c.ringLen+len(p), c.tailMax)
	return n, nil
}

func (c *capture) tail() []byte {
	if c.ringLen < c.tailMax {
		return c.ring[:c.ringLen]
	}
	out := make([]byte, 0, c.tailMax)
	out = append(out, c.ring[c.ringPos:]...)
	return append(out, c.ring[:c.ringPos]...)
}

func (c *capture) dropped() int64 {
	return c.total - int64(len(c.head)) - int64(c.ringLen)
}

func (c *capture) truncated() bool { return c.dropped() > 0 }

// text returns the kept output as valid UTF-8 and the number of bytes the
// stream carried. When bytes were dropped, a one-line marker separates head
// and tail; a character cut in half by the cap is counted as dropped rather
// than reported as invalid output.
func (c *capture) text() (string, int64) {
	tail := c.tail()
	if !c.truncated() {
		s := string(c.head) + string(tail)
		return c.valid(s), c.total
	}
	head := c.head
	cut := int64(0)
	if k := partialRuneSuffix(head); k > 0 {
		head = head[:len(head)-k]
		cut += int64(k)
	}
	if k := continuationPrefix(tail); k > 0 {
		tail = tail[k:]
		cut += int64(k)
	}
	marker := fmt.Sprintf("\n… [%d bytes dropped] …\n", c.dropped()+cut)
	return c.valid(string(head)) + marker + c.valid(string(tail)), c.total
}

func (c *capture) valid(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	c.invalidUTF8 = true
	return strings.ToValidUTF8(s, "\uFFFD")
}

// partialRuneSuffix returns how many trailing bytes of b start a UTF-8
// sequence that the cut left incomplete.
func partialRuneSuffix(b []byte) int {
	for k := 1; k <= 3 && k <= len(b); k++ {
		c := b[len(b)-k]
		if !utf8.RuneStart(c) {
			continue
		}
		if c >= 0xC0 && !utf8.FullRune(b[len(b)-k:]) {
			return k
		}
		return 0
	}
	return 0
}

// continuationPrefix returns how many leading bytes of b continue a UTF-8
// sequence that began before the cut.
func continuationPrefix(b []byte) int {
	k := 0
	for k < len(b) && k < 3 && !utf8.RuneStart(b[k]) {
		k++
	}
	return k
}
