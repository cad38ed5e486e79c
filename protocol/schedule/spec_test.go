package schedule

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseNormalises(t *testing.T) {
	tests := []struct {
		name           string
		kind, at       string
		days           []string
		tz, start, end string
		want           Spec
	}{
		{
			name: "once",
			kind: "once",
			want: Spec{Kind: Once},
		},
		{
			name: "daily defaults to local",
			kind: " Daily ", at: "09:00", start: "2027-01-01", end: "2027-01-31",
			want: Spec{Kind: Daily, At: "09:00", TZ: Local, Start: "2027-01-01", End: "2027-01-31"},
		},
		{
			name: "weekly days lower-cased sorted deduplicated",
			kind: "weekly", at: "23:59", days: []string{"SUN", " fri", "mon", "Fri", "wed", "mon"}, tz: "UTC",
			want: Spec{Kind: Weekly, At: "23:59", Days: []string{"mon", "wed", "fri", "sun"}, TZ: UTC},
		},
		{
			name: "open range and midnight",
			kind: "daily", at: "00:00", tz: "local",
			want: Spec{Kind: Daily, At: "00:00", TZ: Local},
		},
		{
			name: "start equals end",
			kind: "weekly", at: "12:30", days: []string{"tue"}, start: "2028-02-29", end: "2028-02-29",
			want: Spec{Kind: Weekly, At: "12:30", Days: []string{"tue"}, TZ: Local, Start: "2028-02-29", End: "2028-02-29"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.kind, tt.at, tt.days, tt.tz, tt.start, tt.end)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Parse = %#v, want %#v", got, tt.want)
			}
			if err := got.Validate(); err != nil {
				t.Fatalf("Validate of a parsed spec: %v", err)
			}
		})
	}
}

func TestParseRefusesInvalid(t *testing.T) {
	tests := []struct {
		name           string
		kind, at       string
		days           []string
		tz, start, end string
		wantMsg        string // a fragment the administrator needs to see
	}{
		{name: "hour 24", kind: "daily", at: "24:00", wantMsg: `"24:00"`},
		{name: "minute not a digit", kind: "daily", at: "9:5x", wantMsg: "HH:MM"},
		{name: "one digit hour", kind: "daily", at: "7:00", wantMsg: "HH:MM"},
		{name: "minute 60", kind: "daily", at: "12:60", wantMsg: "HH:MM"},
		{name: "missing time", kind: "daily", at: "", wantMsg: "HH:MM"},
		{name: "seconds", kind: "daily", at: "12:00:00", wantMsg: "HH:MM"},
		{name: "dot separator", kind: "daily", at: "12.00", wantMsg: "HH:MM"},
		{name: "unknown day", kind: "weekly", at: "09:00", days: []string{"mon", "funday"}, wantMsg: `"funday"`},
		{name: "empty day", kind: "weekly", at: "09:00", days: []string{""}, wantMsg: "unknown day"},
		{name: "weekly without days", kind: "weekly", at: "09:00", wantMsg: "at least one day"},
		{name: "daily with days", kind: "daily", at: "09:00", days: []string{"mon"}, wantMsg: "takes no days"},
		{name: "end before start", kind: "daily", at: "09:00", start: "2027-02-01", end: "2027-01-31", wantMsg: "before start"},
		{name: "nonexistent date", kind: "daily", at: "09:00", start: "2027-02-30", wantMsg: `"2027-02-30"`},
		{name: "no leap day in 2027", kind: "daily", at: "09:00", end: "2027-02-29", wantMsg: "end"},
		{name: "short date", kind: "daily", at: "09:00", start: "2027-1-05", wantMsg: "YYYY-MM-DD"},
		{name: "date with time", kind: "daily", at: "09:00", start: "2027-01-05T00:00:00Z", wantMsg: "YYYY-MM-DD"},
		{name: "unknown tz", kind: "daily", at: "09:00", tz: "Europe/Paris", wantMsg: `"europe/paris"`},
		{name: "unknown kind", kind: "monthly", at: "09:00", wantMsg: `"monthly"`},
		{name: "missing kind", kind: "", wantMsg: "missing kind"},
		{name: "once with time", kind: "once", at: "09:00", wantMsg: "takes no at"},
		{name: "once with everything", kind: "once", at: "09:00", days: []string{"mon"}, tz: "utc", start: "2027-01-01", end: "2027-01-02",
			wantMsg: "takes no at, tz, start, end, days"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse(tt.kind, tt.at, tt.days, tt.tz, tt.start, tt.end)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse error = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Parse error %q does not mention %q", err, tt.wantMsg)
			}
			if !reflect.DeepEqual(s, Spec{}) {
				t.Errorf("Parse returned %#v with an error, want the zero Spec", s)
			}
		})
	}
}

// A Spec decoded from the wire is validated as is: Validate must not depend on
// Parse having normalised it first, beyond what the wire format allows.
func TestValidateWireSpecs(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		wantErr bool
	}{
		{name: "recurring without tz is local", json: `{"kind":"daily","at":"08:15"}`},
		{name: "unsorted days", json: `{"kind":"weekly","at":"08:15","days":["sun","mon"]}`},
		{name: "upper-case day", json: `{"kind":"weekly","at":"08:15","days":["MON"]}`, wantErr: true},
		{name: "upper-case kind", json: `{"kind":"Daily","at":"08:15"}`, wantErr: true},
		{name: "empty kind", json: `{}`, wantErr: true},
		{name: "once with dates", json: `{"kind":"once","start":"2027-01-01"}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Spec
			if err := json.Unmarshal([]byte(tt.json), &s); err != nil {
				t.Fatal(err)
			}
			err := s.Validate()
			if tt.wantErr != (err != nil) {
				t.Fatalf("Validate = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

func TestStringAndRecurring(t *testing.T) {
	tests := []struct {
		spec      Spec
		want      string
		recurring bool
	}{
		{Spec{Kind: Once}, "once", false},
		{Spec{Kind: Daily, At: "09:00", TZ: Local, Start: "2027-01-01", End: "2027-01-31"},
			"daily at 09:00 (local) from 2027-01-01 to 2027-01-31", true},
		{Spec{Kind: Weekly, At: "18:30", Days: []string{"mon", "fri"}, TZ: UTC}, "weekly on mon,fri at 18:30 (utc)", true},
		{Spec{Kind: Daily, At: "07:05"}, "daily at 07:05 (local)", true},
		{Spec{Kind: Daily, At: "07:05", TZ: UTC, Start: "2027-03-01"}, "daily at 07:05 (utc) from 2027-03-01", true},
		{Spec{Kind: Daily, At: "07:05", TZ: UTC, End: "2027-03-01"}, "daily at 07:05 (utc) until 2027-03-01", true},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.spec.String(); got != tt.want {
				t.Errorf("String = %q, want %q", got, tt.want)
			}
			if got := tt.spec.Recurring(); got != tt.recurring {
				t.Errorf("Recurring = %v, want %v", got, tt.recurring)
			}
		})
	}
}
