package desktop

import "slices"

// Rect is a screen's frame in AppKit's global coordinates.
type Rect struct {
	X, Y, W, H float64
}

// shieldFrames returns the frames the kiosk covers with a shield window:
// every screen but the one holding the page (main), so no other display
// stays usable during onboarding. A screen with no area, one that mirrors
// main (same frame) and a duplicate of a screen already shielded get none.
func shieldFrames(screens []Rect, main Rect) []Rect {
	var out []Rect
	for _, s := range screens {
		if s.W <= 0 || s.H <= 0 || s == main || slices.Contains(out, s) {
			continue
		}
		out = append(out, s)
	}
	return out
}
