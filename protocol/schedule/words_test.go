package schedule

import (
	"reflect"
	"strings"
	"testing"
)

func TestWordsSpec(t *testing.T) {
	tests := []struct {
		name    string
		w       Words
		want    Spec
		given   bool
		wantErr string // a fragment of the error; "" when it parses
	}{
		{name: "none is once", w: Words{}, want: Spec{Kind: Once}},
		{name: "once", w: Words{Once: true}, want: Spec{Kind: Once}, given: true},
		{name: "daily, local by default", w: Words{Daily: "10:00"}, want: Spec{Kind: Daily, At: "10:00", TZ: Local}, given: true},
		{name: "weekly days sorted", w: Words{Weekly: "18:30", Days: "fri,mon", TZ: "utc", Start: "2027-01-01", End: "2027-12-31"},
			want: Spec{Kind: Weekly, At: "18:30", Days: []string{"mon", "fri"}, TZ: UTC, Start: "2027-01-01", End: "2027-12-31"}, given: true},
		{name: "trigger", w: Words{On: "login"}, want: Spec{Kind: Login}, given: true},
		{name: "daily and weekly", w: Words{Daily: "10:00", Weekly: "10:00", Days: "mon"}, given: true, wantErr: "choose one of"},
		{name: "once and daily", w: Words{Once: true, Daily: "10:00"}, given: true, wantErr: "choose one of"},
		{name: "trigger and time", w: Words{On: "login", Daily: "10:00"}, given: true, wantErr: "takes no --daily"},
		{name: "trigger and zone", w: Words{On: "network", TZ: "utc"}, given: true, wantErr: "takes no --tz"},
		{name: "bad time", w: Words{Daily: "24:00"}, given: true, wantErr: "24:00"},
		{name: "bad trigger", w: Words{On: "reboot"}, given: true, wantErr: "want enrollment"},
		{name: "dates without time", w: Words{Start: "2027-01-01"}, given: true, wantErr: "once"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if g := tt.w.Given(); g != tt.given {
				t.Errorf("Given() = %v, want %v", g, tt.given)
			}
			got, err := tt.w.Spec()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Spec() = %+v, %v; want an error mentioning %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Spec() = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
