package inventory

import "testing"

func TestParseIoregSerial(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"ioreg output", `+-o J314sAP  <class IOPlatformExpertDevice, id 0x100000202, registered, matched, active, busy 0 (118 ms), retain 37>
    {
      "IOPlatformUUID" = "0F6E1C4D-1234-5678-9ABC-DEF012345678"
      "IOPlatformSerialNumber" = "C02XK0AAJGH5"
      "serial-number" = <433032584b3041414a4748350000000000000000000000000000000000000000>
    }`, "C02XK0AAJGH5"},
		{"missing", `"IOPlatformUUID" = "0F6E1C4D"`, ""},
		{"not a string", `"IOPlatformSerialNumber" = <00>`, ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseIoregSerial([]byte(tt.in)); got != tt.want {
				t.Errorf("parseIoregSerial = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseOSRelease(t *testing.T) {
	const release = "NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\nPRETTY='Debian 12'\n"
	tests := []struct {
		key, want string
	}{
		{"VERSION_ID", "12"},
		{"ID", "debian"},
		{"PRETTY", "Debian 12"},
		{"VERSION", ""},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if got := parseOSRelease([]byte(release), tt.key); got != tt.want {
				t.Errorf("parseOSRelease(%s) = %q, want %q", tt.key, got, tt.want)
			}
		})
	}
}
