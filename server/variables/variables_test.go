package variables

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, v := range []string{"", "plain", "{$deviceSerialNumber}", "a {$userUID} b {$deviceId}", "{not a var}", "$deviceId"} {
		if err := Check(v); err != nil {
			t.Errorf("Check(%q) = %v", v, err)
		}
	}
	err := Check("x {$noSuchVariable}")
	if !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), "{$deviceSerialNumber}") {
		t.Fatalf("Check(unknown) = %v, want ErrUnknown listing the known ones", err)
	}
}

func TestResolve(t *testing.T) {
	vals := map[string]string{
		UserWorkEmailAddress: "ada@example.com",
		UserUID:              "ada",
		UserDisplayName:      "Ada Lovelace",
		DeviceSerialNumber:   "C02XYZ",
		DeviceName:           "{$deviceId}", // a device-chosen value is not re-scanned
		DeviceID:             "dev-1",
	}
	tests := map[string]string{
		"{$userWorkEmailAddress}":                     "ada@example.com",
		"{$userUID}/{$userDisplayName}":               "ada/Ada Lovelace",
		"serial={$deviceSerialNumber};id={$deviceId}": "serial=C02XYZ;id=dev-1",
		"{$deviceName}":                               "{$deviceId}",
		"no placeholders; rm -rf /":                   "no placeholders; rm -rf /",
	}
	for in, want := range tests {
		if got := Resolve(in, vals); got != want {
			t.Errorf("Resolve(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Resolve("{$deviceSerialNumber}", nil); got != "" {
		t.Errorf("missing value resolved to %q, want empty", got)
	}
}
