// Package adminapi is the tenant's administration API: every operation an
// administrator has, described once as an Endpoint, served as versioned JSON
// under /api/v1 on the admin listener, documented by the OpenAPI document
// made from the same descriptions, and called by the CLI through a Conn —
// on the tenant's data directory (local mode) or over HTTPS (remote mode),
// so both modes print the same documents.
package adminapi

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strings"

	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/accounts"
)

// Prefix is where the API's routes live.
const Prefix = "/api/v1"

// Endpoint is one administrative operation. Req and Resp are JSON
// documents: a request's fields named in Path ({name}, by json key) come
// from the path, the rest from the query (GET, DELETE) or the body.
type Endpoint[Req, Resp any] struct {
	Name    string // dotted, as the audit log and the OpenAPI operationId say
	Method  string
	Path    string // under Prefix, e.g. "/tokens/{id}"
	Class   accounts.Class
	Summary string
	Do      func(ctx context.Context, s *server.Server, req Req) (Resp, error)
}

// info is what the router and the OpenAPI document need of an endpoint,
// whatever its types.
type info struct {
	name, method, path, summary string
	class                       accounts.Class
	req, resp                   reflect.Type
	stream                      bool // a server-sent event stream, not a document
	serve                       func(ctx context.Context, s *server.Server, r *http.Request) (any, error)
}

var endpoints []info

// register adds e to the endpoints the API serves; endpoints are package
// variables, so registration happens once, at start.
func register[Req, Resp any](e *Endpoint[Req, Resp]) *Endpoint[Req, Resp] {
	for _, o := range endpoints {
		if o.name == e.Name || (o.method == e.Method && o.path == e.Path) {
			panic(fmt.Sprintf("adminapi: %s %s registered twice", e.Method, e.Path))
		}
	}
	if !strings.HasPrefix(e.Path, "/") || e.Do == nil || e.Summary == "" {
		panic("adminapi: endpoint " + e.Name + " is incomplete")
	}
	endpoints = append(endpoints, info{
		name: e.Name, method: e.Method, path: e.Path, summary: e.Summary, class: e.Class,
		req: reflect.TypeFor[Req](), resp: reflect.TypeFor[Resp](),
		serve: func(ctx context.Context, s *server.Server, r *http.Request) (any, error) {
			var req Req
			if err := decodeRequest(r, e.Method, &req); err != nil {
				return nil, err
			}
			return e.Do(ctx, s, req)
		},
	})
	return e
}

// None is the request or response of an endpoint that has none.
type None struct{}
