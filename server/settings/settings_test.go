package settings

import (
	"errors"
	"testing"

	"github.com/mobileatwork/mobileatwork/protocol"
)

func TestParseAssignments(t *testing.T) {
	tests := []struct {
		name  string
		words []string
		want  map[string]string
		ok    bool
	}{
		{"ints", []string{"max_execution_seconds=2", "max_response_kb=4"}, map[string]string{"max_execution_seconds": "2", "max_response_kb": "4"}, true},
		{"bool canonical", []string{"onboarding.enabled=1"}, map[string]string{"onboarding.enabled": "true"}, true},
		{"url", []string{"onboarding.landing_url=https://example.com/welcome"}, map[string]string{"onboarding.landing_url": "https://example.com/welcome"}, true},
		{"negative", []string{"max_execution_seconds=-1"}, nil, false},
		{"zero", []string{"checkin_interval_minutes=0"}, nil, false},
		{"not a number", []string{"max_response_kb=abc"}, nil, false},
		{"unknown key", []string{"color=blue"}, nil, false},
		{"no equals", []string{"max_response_kb"}, nil, false},
		{"one bad spoils all", []string{"max_response_kb=2", "max_execution_seconds=x"}, nil, false},
		{"bad url", []string{"onboarding.landing_url=javascript:alert(1)"}, nil, false},
		{"empty", nil, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAssignments(tt.words)
			if tt.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if err != nil {
				if !errors.Is(err, ErrInvalid) || got != nil {
					t.Fatalf("error %v not ErrInvalid, or partial result %v", err, got)
				}
				return
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func TestDeviceConfigDefaults(t *testing.T) {
	if got := DeviceConfig(nil); got != protocol.DefaultConfig {
		t.Fatalf("defaults = %+v, want %+v", got, protocol.DefaultConfig)
	}
	got := DeviceConfig(map[string]string{"max_execution_seconds": "2", "stale_key": "9"})
	if got.MaxExecutionSeconds != 2 || got.MaxResponseKB != 1 {
		t.Fatalf("merge = %+v", got)
	}
}

// Every spec a form is built from is accepted back as its default.
func TestSpecsDescribeEveryKey(t *testing.T) {
	specs := Specs()
	if len(specs) != len(Keys()) {
		t.Fatalf("%d specs for %d keys", len(specs), len(Keys()))
	}
	for _, sp := range specs {
		if sp.Type == "" || sp.Help == "" {
			t.Errorf("%s: type %q help %q", sp.Key, sp.Type, sp.Help)
		}
		if got, err := Validate(sp.Key, sp.Default); err != nil || got != sp.Default {
			t.Errorf("%s: default %q validates to %q, %v", sp.Key, sp.Default, got, err)
		}
		if sp.Type == "int" && (sp.Min < 1 || sp.Max < sp.Min) {
			t.Errorf("%s: range %d..%d", sp.Key, sp.Min, sp.Max)
		}
	}
}
