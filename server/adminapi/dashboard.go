package adminapi

import (
	"context"
	"time"

	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/accounts"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// Dashboard is the fleet at a glance: how many devices, how recently they
// checked in, and how the last day's runs went.
type Dashboard struct {
	At             time.Time      `json:"at"`
	Devices        int            `json:"devices"` // enrolled and not left
	Left           int            `json:"left"`    // uninstalled the agent
	Configurations int            `json:"configurations"`
	CheckinAges    []AgeBucket    `json:"checkin_ages"`
	Results24h     map[string]int `json:"results_24h"` // by status, received in the last 24 hours
}

// AgeBucket counts the devices whose last check-in is as old as Label
// says; MaxSeconds bounds the age (0: no bound).
type AgeBucket struct {
	Label      string `json:"label"`
	MaxSeconds int64  `json:"max_seconds,omitempty"`
	Count      int    `json:"count"`
}

// ageBuckets are the dashboard's check-in ages, youngest first; devices
// that never checked in are counted apart.
var ageBuckets = []struct {
	label string
	max   time.Duration
}{
	{"within an hour", time.Hour},
	{"1 to 24 hours", 24 * time.Hour},
	{"1 to 7 days", 7 * 24 * time.Hour},
	{"over 7 days", 0},
}

// ShowDashboard is the console's first page.
var ShowDashboard = register(&Endpoint[None, Dashboard]{
	Name: "dashboard.show", Method: "GET", Path: "/dashboard", Class: accounts.ClassRead,
	Summary: "Show the fleet at a glance",
	Do: func(ctx context.Context, s *server.Server, _ None) (Dashboard, error) {
		return dashboard(ctx, s, time.Now())
	},
})

func dashboard(ctx context.Context, s *server.Server, now time.Time) (Dashboard, error) {
	d := Dashboard{At: now.UTC(), Results24h: map[string]int{}}
	devs, err := s.Store.Devices(ctx)
	if err != nil {
		return d, err
	}
	for _, b := range ageBuckets {
		d.CheckinAges = append(d.CheckinAges, AgeBucket{Label: b.label, MaxSeconds: int64(b.max / time.Second)})
	}
	never := AgeBucket{Label: "never"}
	for _, dev := range devs {
		if dev.Left {
			d.Left++
			continue
		}
		d.Devices++
		if dev.LastCheckin.IsZero() {
			never.Count++
			continue
		}
		age := now.Sub(dev.LastCheckin)
		for i, b := range ageBuckets {
			if b.max == 0 || age < b.max {
				d.CheckinAges[i].Count++
				break
			}
		}
	}
	d.CheckinAges = append(d.CheckinAges, never)
	cs, err := s.Configurations(ctx, "")
	if err != nil {
		return d, err
	}
	d.Configurations = len(cs)
	err = s.Store.EachResult(ctx, store.ResultFilter{Since: now.Add(-24 * time.Hour)}, func(r store.StoredResult) error {
		d.Results24h[r.Status]++
		return nil
	})
	return d, err
}
