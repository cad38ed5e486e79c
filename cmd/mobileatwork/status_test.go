package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/agent"
	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/protocol"
)

func TestStatusShowsConfiguration(t *testing.T) {
	cfg := protocol.DefaultConfig
	tests := []struct {
		name     string
		st       agent.Status
		want     string // in the text output; "" for no configuration line
		wantJSON string // in the JSON output; "" for no configuration key
	}{
		{
			name: "never checked in",
			st:   agent.Status{Enrolled: true},
		},
		{
			name:     "configured",
			st:       agent.Status{Enrolled: true, Config: &cfg, Configuration: &protocol.ConfigurationRef{ID: "cfg_1", Name: "Sales Macs", Version: 3}},
			want:     "configuration: Sales Macs (version 3, cfg_1)\n",
			wantJSON: `"configuration":{"id":"cfg_1","name":"Sales Macs","version":3}`,
		},
		{
			name: "none distributed",
			st:   agent.Status{Enrolled: true, Config: &cfg},
			want: "configuration: none distributed to this device: no script runs\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			cmd := &cobra.Command{}
			cmd.SetOut(&out)
			if err := printStatus(cmd, tt.st); err != nil {
				t.Fatal(err)
			}
			text := out.String()
			if tt.want == "" && strings.Contains(text, "configuration:") || !strings.Contains(text, tt.want) {
				t.Errorf("status prints\n%s\nwant the line %q", text, tt.want)
			}
			var js bytes.Buffer
			if err := cli.JSON(&js, tt.st); err != nil {
				t.Fatal(err)
			}
			var compact bytes.Buffer
			json.Compact(&compact, js.Bytes())
			has := strings.Contains(compact.String(), `"configuration":`)
			if has != (tt.wantJSON != "") || !strings.Contains(compact.String(), tt.wantJSON) {
				t.Errorf("status --json prints %s, want %q", compact.String(), tt.wantJSON)
			}
		})
	}
}
