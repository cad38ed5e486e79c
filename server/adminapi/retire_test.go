package adminapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/accounts"
)

// devices.retire is an admin's change, the same in both modes: the
// device's documents say when, by whom and why, and every refusal is one
// sentence, the same locally and remotely.
func TestRetireDeviceInBothModes(t *testing.T) {
	a := newFleet(t)
	ctx := context.Background()
	if _, err := Call(ctx, a.remote(accounts.RoleOperator), RetireDevice, DeviceRetireRequest{ID: "dev_a1"}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("an operator retires: %v, want forbidden", err)
	}
	d, err := Call(ctx, a.remote(accounts.RoleAdmin), RetireDevice, DeviceRetireRequest{ID: "dev_a1", Reason: "stolen at the station"})
	if err != nil {
		t.Fatal(err)
	}
	if r := d.Retired; r == nil || r.Reason != "stolen at the station" || r.By == "" || r.At == nil {
		t.Fatalf("retired device: %+v", d.Retired)
	}
	if _, err := Call(ctx, a.local(), RetireDevice, DeviceRetireRequest{ID: "dev_b2"}); err != nil {
		t.Fatal(err)
	}
	show, err := sameCall(t, a, ShowDevice, IDRequest{ID: "dev_b2"})
	if err != nil || show.Retired == nil || show.Retired.By != "local:test" || show.Retired.Reason != server.DefaultRetireReason {
		t.Fatalf("device show: %+v, %v", show.Retired, err)
	}
	list, err := sameCall(t, a, ListDevices, DeviceListRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range list.Items {
		if (d.Retired != nil) != (d.ID != "dev_c3") {
			t.Errorf("%s retired: %+v", d.ID, d.Retired)
		}
	}
	for _, tc := range []struct{ name, id, reason, says string }{
		{"twice", "dev_a1", "", "retired already"},
		{"unknown device", "dev_nope", "", `no device "dev_nope"`},
		{"two lines", "dev_c3", "a\nb", "one line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := same(t, a, accounts.RoleAdmin, func(c Conn) (any, error) {
				return Call(ctx, c, RetireDevice, DeviceRetireRequest{ID: tc.id, Reason: tc.reason})
			})
			if !errors.Is(err, server.ErrInvalid) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("err = %v, want invalid saying %q", err, tc.says)
			}
		})
	}
	if code, body := a.do(accounts.RoleAdmin, "POST", "/devices/dev_a1/retire", map[string]string{}); code != http.StatusBadRequest {
		t.Errorf("POST retire again: %d %s, want 400", code, body)
	}
}
