package adminapi

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
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
	// OldestFirst pages from the oldest: how a whole history is read, each
	// page as cheap as the first.
	OldestFirst bool `json:"oldest_first,omitempty"`
}

// Results.
var ListResults = register(&Endpoint[ResultsRequest, Page[jsonview.Result]]{
	Name: "results.list", Method: "GET", Path: "/results", Class: accounts.ClassRead,
	Summary: "List script results, the newest first (or the oldest first)",
	Do: func(ctx context.Context, s *server.Server, req ResultsRequest) (Page[jsonview.Result], error) {
		since, err := parseSince(req.Since, s.Now())
		if err != nil {
			return Page[jsonview.Result]{}, err
		}
		q := server.ResultQuery{Device: req.Device, Config: req.Config, Script: req.Script, Status: req.Status, Since: since}
		names, err := configNames(ctx, s)
		if err != nil {
			return Page[jsonview.Result]{}, err
		}
		if req.OldestFirst {
			return oldestResults(ctx, s, q, req.PageRequest, names)
		}
		return newestResults(ctx, s, q, req.PageRequest, names)
	},
})

// newestResults is a page of results, the newest first. Its cursor is the
// reception time of the page's last result and how many of that instant
// it handed: the store hands the newest N received until that instant,
// oldest first, and the page skips those already handed. Every page costs
// its size, however deep in the history.
func newestResults(ctx context.Context, s *server.Server, q server.ResultQuery, p PageRequest, names map[string]string) (Page[jsonview.Result], error) {
	cur, limit, err := instantPage(p)
	if err != nil {
		return Page[jsonview.Result]{}, err
	}
	// One more than the page tells that more follow.
	q.Until, q.Limit = cur.at, cur.handed+limit+1
	var rs []store.StoredResult
	if err := s.EachResult(ctx, q, func(r store.StoredResult) error { rs = append(rs, r); return nil }); err != nil {
		return Page[jsonview.Result]{}, err
	}
	out := Page[jsonview.Result]{Items: []jsonview.Result{}}
	skip, last := cur.handed, cur
	for _, r := range slices.Backward(rs) {
		if skip > 0 && r.ReceivedAt.Equal(cur.at) {
			skip--
			continue
		}
		if len(out.Items) == limit {
			out.Next = last.String()
			break
		}
		out.Items = append(out.Items, jsonview.NewResult(r, names[r.AssignmentID]))
		last = last.after(r.ReceivedAt)
	}
	return out, nil
}

// instantPage reads a results page's cursor and limit.
func instantPage(p PageRequest) (instantCursor, int, error) {
	cur, err := parseInstantCursor(p.Cursor)
	if err != nil {
		return instantCursor{}, 0, err
	}
	p.Cursor = ""
	_, limit, err := p.bounds()
	return cur, limit, err
}

// errPageFull stops a read of the store once a page is full.
var errPageFull = errors.New("page full")

// oldestResults is a page of results, the oldest first. Its cursor is the
// reception time of the page's last result and how many results received
// at that instant were handed already: the next page reads from that
// instant on (the store's index on reception time) and stops when full,
// so every page costs the same however deep in the history.
func oldestResults(ctx context.Context, s *server.Server, q server.ResultQuery, p PageRequest, names map[string]string) (Page[jsonview.Result], error) {
	cur, limit, err := instantPage(p)
	if err != nil {
		return Page[jsonview.Result]{}, err
	}
	if cur.at.After(q.Since) {
		q.Since = cur.at
	}
	// Those handed at the cursor's instant, the page, and one more that
	// tells more follow: the store reads no further.
	q.First = cur.handed + limit + 1
	out := Page[jsonview.Result]{Items: []jsonview.Result{}}
	skip, last := cur.handed, cur
	err = s.EachResult(ctx, q, func(r store.StoredResult) error {
		if skip > 0 && r.ReceivedAt.Equal(cur.at) {
			skip--
			return nil
		}
		if len(out.Items) == limit {
			out.Next = last.String()
			return errPageFull
		}
		out.Items = append(out.Items, jsonview.NewResult(r, names[r.AssignmentID]))
		last = last.after(r.ReceivedAt)
		return nil
	})
	if err != nil && !errors.Is(err, errPageFull) {
		return Page[jsonview.Result]{}, err
	}
	return out, nil
}

// instantCursor is where a page of results ends: handed results received
// at at were on it or on the pages before it.
type instantCursor struct {
	at     time.Time
	handed int
}

// after is the cursor once a result received at at was handed too.
func (c instantCursor) after(at time.Time) instantCursor {
	if at.Equal(c.at) {
		return instantCursor{at: c.at, handed: c.handed + 1}
	}
	return instantCursor{at: at, handed: 1}
}

func (c instantCursor) String() string {
	return c.at.UTC().Format(time.RFC3339Nano) + "~" + strconv.Itoa(c.handed)
}

func parseInstantCursor(s string) (instantCursor, error) {
	if s == "" {
		return instantCursor{}, nil
	}
	at, n, ok := strings.Cut(s, "~")
	t, terr := time.Parse(time.RFC3339Nano, at)
	k, kerr := strconv.Atoi(n)
	if !ok || terr != nil || kerr != nil || k < 0 {
		return instantCursor{}, badRequest("cursor %q is not one this server gave", s)
	}
	return instantCursor{at: t, handed: k}, nil
}

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
