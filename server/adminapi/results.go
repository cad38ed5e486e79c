package adminapi

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/accounts"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// ResultsRequest filters results; every filter is optional.
type ResultsRequest struct {
	PageRequest
	Device string `json:"device,omitempty"`
	Config string `json:"config,omitempty"` // id or name
	Script string `json:"script,omitempty"` // id or name
	Status string `json:"status,omitempty"`
	Since  string `json:"since,omitempty"` // an RFC 3339 time, or a duration back from now (24h)
}

// Results.
var ListResults = register(&Endpoint[ResultsRequest, Page[jsonview.Result]]{
	Name: "results.list", Method: "GET", Path: "/results", Class: accounts.ClassRead,
	Summary: "List script results, the newest first",
	Do: func(ctx context.Context, s *server.Server, req ResultsRequest) (Page[jsonview.Result], error) {
		since, err := parseSince(req.Since, s.Now())
		if err != nil {
			return Page[jsonview.Result]{}, err
		}
		start, limit, err := req.bounds()
		if err != nil {
			return Page[jsonview.Result]{}, err
		}
		// The store hands the newest N oldest first: read the newest
		// start+limit+1, the one past the page telling that more follow.
		q := server.ResultQuery{Device: req.Device, Config: req.Config, Script: req.Script, Status: req.Status, Since: since, Limit: start + limit + 1}
		var rs []store.StoredResult
		if err := s.EachResult(ctx, q, func(r store.StoredResult) error { rs = append(rs, r); return nil }); err != nil {
			return Page[jsonview.Result]{}, err
		}
		slices.Reverse(rs)
		names, err := configNames(ctx, s)
		if err != nil {
			return Page[jsonview.Result]{}, err
		}
		out := Page[jsonview.Result]{Items: []jsonview.Result{}}
		for _, r := range rs[min(start, len(rs)):min(start+limit, len(rs))] {
			out.Items = append(out.Items, jsonview.NewResult(r, names[r.AssignmentID]))
		}
		if len(rs) > start+limit {
			out.Next = strconv.Itoa(start + limit)
		}
		return out, nil
	},
})

// configNames are the names of the configurations, by id: a result names
// its configuration, unless it was deleted.
func configNames(ctx context.Context, s *server.Server) (map[string]string, error) {
	cs, err := s.Configurations(ctx, "")
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(cs))
	for _, c := range cs {
		names[c.ID] = c.Name
	}
	return names, nil
}

// parseSince reads a --since: an RFC 3339 time, or a duration back from
// now; "" is no bound.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, refusal{fmt.Errorf("--since %q: want an RFC 3339 time (2027-01-31T08:00:00Z) or a duration (24h)", s)}
}
