package server

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
)

func TestDevicesFilter(t *testing.T) {
	s, _ := newTestServer(t)
	ctx := t.Context()
	for i, d := range []store.Device{
		{ID: "dev_a1", Facts: protocol.Facts{SerialNumber: "C02AAA", Hostname: "ada-mbp"}, User: "ada@example.com", Groups: []string{"lab"}},
		{ID: "dev_b2", Facts: protocol.Facts{SerialNumber: "C02BBB", Hostname: "build-01"}, Groups: []string{"lab", "ci"}},
		{ID: "dev_c3", Facts: protocol.Facts{SerialNumber: "XYZ123", Hostname: "bob-air"}, User: "bob@example.com"},
	} {
		d.EnrolledAt = t0.Add(time.Duration(i) * time.Minute)
		if err := s.Store.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
		if len(d.Groups) > 0 {
			if err := s.Store.SetDeviceGroups(ctx, d.ID, d.Groups); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name string
		f    DeviceFilter
		want []string
	}{
		{"no filter", DeviceFilter{}, []string{"dev_a1", "dev_b2", "dev_c3"}},
		{"serial, any case", DeviceFilter{Search: "c02"}, []string{"dev_a1", "dev_b2"}},
		{"host name", DeviceFilter{Search: "AIR"}, []string{"dev_c3"}},
		{"user in search", DeviceFilter{Search: "ada@"}, []string{"dev_a1"}},
		{"id piece", DeviceFilter{Search: "_b"}, []string{"dev_b2"}},
		{"group", DeviceFilter{Group: "lab"}, []string{"dev_a1", "dev_b2"}},
		{"group is exact", DeviceFilter{Group: "la"}, []string{}},
		{"user, any case", DeviceFilter{User: "BOB@example.com"}, []string{"dev_c3"}},
		{"all together", DeviceFilter{Search: "build", Group: "ci"}, []string{"dev_b2"}},
		{"nothing matches", DeviceFilter{Search: "nope"}, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := s.Devices(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, d := range ds {
				got = append(got, d.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := s.Devices(ctx, DeviceFilter{User: "bob"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("user filter %q: %v, want ErrInvalid", "bob", err)
	}
}
