package cli

import (
	"slices"
	"testing"
)

func TestJSONProblems(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"clean", `{"device_id": "d", "next_runs": [{"assignment_id": "a", "next": "2027-01-01T09:00:00Z"}], "n": 1, "ok": true, "x": null}`, nil},
		{"camel key", `{"deviceId": "d"}`, []string{"$.deviceId: key not snake_case"}},
		{"Go field name", `{"next_runs": [{"Next": 1}]}`, []string{"$.next_runs[0].Next: key not snake_case"}},
		{"kebab and digits", `{"dry-run": 1, "v2_name": 1, "_x": 1, "a__b": 1}`, []string{"$._x: key not snake_case", "$.a__b: key not snake_case", "$.dry-run: key not snake_case"}},
		{"zero time", `{"enrolled_at": "0001-01-01T00:00:00Z", "list": ["0001-01-01T00:00:00Z"]}`, []string{
			`$.enrolled_at: unset time "0001-01-01T00:00:00Z" (tag the field omitzero)`,
			`$.list[0]: unset time "0001-01-01T00:00:00Z" (tag the field omitzero)`,
		}},
		{"one document per line", "{\"state\": \"running\"}\n{\"State\": \"done\"}\n", []string{"$2.State: key not snake_case"}},
		{"top-level array", `[{"a_b": 1}, {"aB": 2}]`, []string{"$[1].aB: key not snake_case"}},
		{"dotted settings keys", `{"onboarding.enabled": 1, "a.B": 2, "a.": 3}`, []string{"$.a.: key not snake_case", "$.a.B: key not snake_case"}},
		{"empty", ``, []string{"no JSON document"}},
		{"not JSON", `{"a": `, []string{"document 1: not JSON: unexpected EOF"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := JSONProblems([]byte(tc.doc)); !slices.Equal(got, tc.want) {
				t.Errorf("JSONProblems(%s)\n got %q\nwant %q", tc.doc, got, tc.want)
			}
		})
	}
}
