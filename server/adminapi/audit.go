package adminapi

import (
	"context"
	"strconv"

	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/accounts"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
)

// AuditRequest filters the audit log; it pages from the newest entry back.
type AuditRequest struct {
	PageRequest
	Since  string `json:"since,omitempty"`  // an RFC 3339 time, or a duration back from now (24h)
	Actor  string `json:"actor,omitempty"`  // an account, a token, local:USER
	Action string `json:"action,omitempty"` // a prefix: config. for every configuration change
}

// ListAudit is the audit log, newest first. Its cursor is the sequence
// number of the last entry given, so a page stays right while new entries
// are appended above it.
var ListAudit = register(&Endpoint[AuditRequest, Page[jsonview.AuditEntry]]{
	Name: "audit.list", Method: "GET", Path: "/audit", Class: accounts.ClassRead,
	Summary: "List the audit log, newest first",
	Do: func(ctx context.Context, s *server.Server, req AuditRequest) (Page[jsonview.AuditEntry], error) {
		since, err := parseSince(req.Since, s.Now())
		if err != nil {
			return Page[jsonview.AuditEntry]{}, err
		}
		limit, err := req.size()
		if err != nil {
			return Page[jsonview.AuditEntry]{}, err
		}
		q := server.AuditQuery{Since: since, Actor: req.Actor, Action: req.Action, Limit: limit + 1}
		if req.Cursor != "" {
			n, err := strconv.ParseInt(req.Cursor, 10, 64)
			if err != nil || n < 1 {
				return Page[jsonview.AuditEntry]{}, badRequest("cursor %q is not one this server gave", req.Cursor)
			}
			q.Before = n
		}
		es, err := s.AuditLog(ctx, q)
		if err != nil {
			return Page[jsonview.AuditEntry]{}, err
		}
		out := Page[jsonview.AuditEntry]{Items: []jsonview.AuditEntry{}}
		for i, e := range es {
			if i == limit {
				out.Next = strconv.FormatInt(es[limit-1].Seq, 10)
				break
			}
			out.Items = append(out.Items, jsonview.NewAuditEntry(e))
		}
		return out, nil
	},
})
