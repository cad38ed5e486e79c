package desktop

import (
	"slices"
	"testing"
)

func TestShieldFrames(t *testing.T) {
	laptop := Rect{0, 0, 1512, 982}
	right := Rect{1512, -200, 2560, 1440}
	above := Rect{0, 982, 1920, 1080}
	for _, tc := range []struct {
		name    string
		screens []Rect
		main    Rect
		want    []Rect
	}{
		{"one screen: no shield", []Rect{laptop}, laptop, nil},
		{"page on the primary screen", []Rect{laptop, right, above}, laptop, []Rect{right, above}},
		{"page on an external screen", []Rect{laptop, right, above}, right, []Rect{laptop, above}},
		{"mirrored screen: no shield over the page", []Rect{laptop, laptop, right}, laptop, []Rect{right}},
		{"duplicate of another screen: one shield", []Rect{laptop, right, right}, laptop, []Rect{right}},
		{"screen without area: none", []Rect{laptop, {1512, 0, 0, 0}, right}, laptop, []Rect{right}},
		{"main not among the screens: all shielded", []Rect{right, above}, laptop, []Rect{right, above}},
		{"no screens", nil, laptop, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := shieldFrames(tc.screens, tc.main); !slices.Equal(got, tc.want) {
				t.Errorf("shieldFrames(%v, %v) = %v, want %v", tc.screens, tc.main, got, tc.want)
			}
		})
	}
}
