package schedule

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseTrigger(t *testing.T) {
	tests := []struct {
		on      string
		want    Spec
		wantErr string // a fragment of the error; "" when it parses
	}{
		{on: "enrollment", want: Spec{Kind: Enrollment}},
		{on: " Login ", want: Spec{Kind: Login}},
		{on: "NETWORK", want: Spec{Kind: Network}},
		{on: "event:deploy-vpn_2.0", want: Spec{Kind: Event, Event: "deploy-vpn_2.0"}},
		{on: "Event:MixedCase", want: Spec{Kind: Event, Event: "MixedCase"}},
		{on: "event:" + strings.Repeat("a", 64), want: Spec{Kind: Event, Event: strings.Repeat("a", 64)}},
		{on: "event:" + strings.Repeat("a", 65), wantErr: "1 to 64"},
		{on: "event:", wantErr: "1 to 64"},
		{on: "event", wantErr: "event:NAME"},
		{on: "event:a b", wantErr: "only letters"},
		{on: "event:a;rm", wantErr: "only letters"},
		{on: "event:été", wantErr: "only letters"},
		{on: "event:a:b", wantErr: "only letters"},
		{on: "login:bob", wantErr: "takes no name"},
		{on: "reboot", wantErr: `"reboot"`},
		{on: "", wantErr: "want enrollment"},
	}
	for _, tt := range tests {
		t.Run(tt.on, func(t *testing.T) {
			got, err := ParseTrigger(tt.on)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseTrigger = %+v, %v; want an ErrInvalid mentioning %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseTrigger = %#v, want %#v", got, tt.want)
			}
			if !got.Triggered() || got.Recurring() {
				t.Errorf("Triggered = %v, Recurring = %v; want a trigger that does not recur", got.Triggered(), got.Recurring())
			}
		})
	}
}

// A trigger validated from the wire takes nothing of a time schedule, and
// only an event names one.
func TestValidateTriggers(t *testing.T) {
	tests := []struct {
		json    string
		wantErr string
	}{
		{json: `{"kind":"enrollment"}`},
		{json: `{"kind":"login"}`},
		{json: `{"kind":"network"}`},
		{json: `{"kind":"event","event":"x"}`},
		{json: `{"kind":"event"}`, wantErr: "1 to 64"},
		{json: `{"kind":"event","event":"a/b"}`, wantErr: "only letters"},
		{json: `{"kind":"login","at":"09:00"}`, wantErr: "takes no at"},
		{json: `{"kind":"network","tz":"utc","days":["mon"]}`, wantErr: "takes no tz, days"},
		{json: `{"kind":"login","event":"x"}`, wantErr: "only an event trigger"},
		{json: `{"kind":"once","event":"x"}`, wantErr: "only an event trigger"},
		{json: `{"kind":"daily","at":"09:00","event":"x"}`, wantErr: "only an event trigger"},
		{json: `{"kind":"Login"}`, wantErr: "unknown kind"},
	}
	for _, tt := range tests {
		t.Run(tt.json, func(t *testing.T) {
			var s Spec
			if err := json.Unmarshal([]byte(tt.json), &s); err != nil {
				t.Fatal(err)
			}
			err := s.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate = %v, want an ErrInvalid mentioning %q", err, tt.wantErr)
			}
		})
	}
}

func TestTriggerStringKindsAndTime(t *testing.T) {
	now := time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		spec              Spec
		want              string
		triggered, single bool
	}{
		{Spec{Kind: Enrollment}, "on enrollment", true, true},
		{Spec{Kind: Login}, "at each login", true, false},
		{Spec{Kind: Network}, "at each network change", true, false},
		{Spec{Kind: Event, Event: "vpn.up"}, "on event vpn.up", true, false},
		{Spec{Kind: Once}, "once", false, true},
		{Spec{Kind: Daily, At: "09:00"}, "daily at 09:00 (local)", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.spec.String(); got != tt.want {
				t.Errorf("String = %q, want %q", got, tt.want)
			}
			if got := tt.spec.Triggered(); got != tt.triggered {
				t.Errorf("Triggered = %v, want %v", got, tt.triggered)
			}
			if got := tt.spec.Single(); got != tt.single {
				t.Errorf("Single = %v, want %v", got, tt.single)
			}
			if !tt.triggered {
				return
			}
			// A trigger has no instant: no time computation yields one.
			if _, ok := tt.spec.Next(now, time.UTC); ok {
				t.Error("Next of a trigger found an instant")
			}
			if got := tt.spec.Preview(now, 3, time.UTC); len(got) != 0 {
				t.Errorf("Preview of a trigger = %v", got)
			}
			if _, ok, _, hasNext := tt.spec.Due(time.Time{}, now, time.UTC); ok || hasNext {
				t.Error("Due of a trigger found an occurrence")
			}
		})
	}
}

func TestTriggerJSONRoundTrip(t *testing.T) {
	for _, s := range []Spec{{Kind: Enrollment}, {Kind: Login}, {Kind: Network}, {Kind: Event, Event: "Deploy_1"}} {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if s.Kind != Event && strings.Contains(string(b), `"event"`) {
			t.Errorf("%s carries an empty event: %s", s.Kind, b)
		}
		var back Spec
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, s) || back.Validate() != nil {
			t.Errorf("round trip of %s = %#v (valid: %v), want %#v", b, back, back.Validate(), s)
		}
	}
}
