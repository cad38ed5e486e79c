package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/server/store"
)

func testRetireDevice(t *testing.T, newStore NewStore) {
	s := newStore(t)
	d1, d2 := sampleDevice("d1", at(0*time.Minute)), sampleDevice("d2", at(1*time.Minute))
	d2.CertSerial = "0b"
	mustCreateDevice(t, s, d1)
	mustCreateDevice(t, s, d2)

	if _, err := s.RetireDevice(ctx(t), "nope", store.Retirement{At: at(2 * time.Minute), By: "ada", Reason: "lost"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("retire unknown device: %v, want ErrNotFound", err)
	}
	r, err := s.RetireDevice(ctx(t), "d1", store.Retirement{CertSerial: "ignored", At: at(3 * time.Minute), By: "local:ada", Reason: "stolen from a car"})
	if err != nil {
		t.Fatal(err)
	}
	want := store.Retirement{CertSerial: d1.CertSerial, At: utc(at(3 * time.Minute)), By: "local:ada", Reason: "stolen from a car"}
	if r != want {
		t.Errorf("RetireDevice = %+v, want %+v", r, want)
	}
	// Read back by one device and in the list; the other is untouched.
	d1.Retired = &want
	checkDevice(t, mustDevice(t, s, "d1"), d1)
	checkDevice(t, mustDevice(t, s, "d2"), d2)
	list, err := s.Devices(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Retired == nil || list[1].Retired != nil {
		t.Fatalf("Devices = %+v, want d1 retired and d2 not", list)
	}

	// Twice is refused and keeps the first entry.
	if _, err := s.RetireDevice(ctx(t), "d1", store.Retirement{At: at(4 * time.Minute), By: "bob", Reason: "again"}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("retire twice: %v, want ErrExists", err)
	}
	checkDevice(t, mustDevice(t, s, "d1"), d1)

	// The deny list holds the certificate: another device with a new
	// certificate is not retired, and a device still holding the retired
	// one is.
	d3 := sampleDevice("d3", at(5*time.Minute))
	d3.CertSerial = "0c"
	mustCreateDevice(t, s, d3)
	if mustDevice(t, s, "d3").Retired != nil {
		t.Error("a device with a new certificate is retired")
	}
	// The entry names the device too: another device whose certificate
	// has the same serial is not denied.
	d4 := sampleDevice("d4", at(6*time.Minute))
	mustCreateDevice(t, s, d4)
	if mustDevice(t, s, "d4").Retired != nil {
		t.Error("another device with the same serial is retired")
	}
}
