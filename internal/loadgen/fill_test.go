package loadgen

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mobileatwork/mobileatwork/protocol"
	"github.com/mobileatwork/mobileatwork/server/store"
	"github.com/mobileatwork/mobileatwork/server/store/sqlite"
)

func TestFillResults(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "maw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var progress bytes.Buffer
	o := FillOptions{Count: 50, Devices: 7, Configs: 3, Workers: 4, Start: start, Step: time.Second, Progress: &progress}
	if n, err := FillResults(ctx, st, o); err != nil || n != 50 {
		t.Fatalf("FillResults = %d, %v; want 50 new", n, err)
	}
	rs, err := st.Results(ctx, store.ResultFilter{})
	if err != nil || len(rs) != 50 {
		t.Fatalf("Results = %d, %v; want 50", len(rs), err)
	}
	devices, configs, statuses := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for i, r := range rs {
		// Reception times follow the result's number, whatever the
		// order the workers wrote them in.
		if !r.ReceivedAt.Equal(start.Add(time.Duration(i) * time.Second)) {
			t.Fatalf("result %d received at %s, want %s", i, r.ReceivedAt, start.Add(time.Duration(i)*time.Second))
		}
		devices[r.DeviceID], configs[r.AssignmentID], statuses[r.Status] = true, true, true
		if len(r.Stdout) < 200 {
			t.Fatalf("result %d has %d bytes of output, want a few hundred", i, len(r.Stdout))
		}
	}
	if len(devices) != 7 || len(configs) != 3 || !statuses[protocol.StatusSucceeded] || !statuses[protocol.StatusFailed] {
		t.Fatalf("%d devices, %d configurations, statuses %v; want 7, 3, succeeded and failed", len(devices), len(configs), statuses)
	}
	if lines := strings.Count(progress.String(), "\n"); lines != 10 || !strings.HasSuffix(progress.String(), "50 of 50 results written\n") {
		t.Fatalf("progress:\n%s\nwant 10 lines ending at 50 of 50", progress.String())
	}
	// A second fill writes nothing twice.
	if n, err := FillResults(ctx, st, o); err != nil || n != 0 {
		t.Fatalf("second FillResults = %d, %v; want 0 new", n, err)
	}
}

func TestFillOptionsCheck(t *testing.T) {
	ok := FillOptions{Count: 1, Devices: 1, Configs: 1, Workers: 1, Step: time.Second}
	tests := []struct {
		name string
		edit func(*FillOptions)
		want string
	}{
		{"valid", func(*FillOptions) {}, ""},
		{"no count", func(o *FillOptions) { o.Count = 0 }, "--count"},
		{"no device", func(o *FillOptions) { o.Devices = 0 }, "--devices"},
		{"no configuration", func(o *FillOptions) { o.Configs = 0 }, "--configs"},
		{"no worker", func(o *FillOptions) { o.Workers = 0 }, "--workers"},
		{"no step", func(o *FillOptions) { o.Step = 0 }, "--step"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			tt.edit(&o)
			err := o.Check()
			if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("Check() = %v, want an error naming %q", err, tt.want)
			}
			if err != nil {
				if n, ferr := FillResults(context.Background(), nil, o); n != 0 || ferr == nil {
					t.Fatalf("FillResults with bad options = %d, %v; want an error and nothing written", n, ferr)
				}
			}
		})
	}
}
