package adminapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3gen"

	"github.com/mobileatwork/mobileatwork/internal/version"
	"github.com/mobileatwork/mobileatwork/server/accounts"
)

// OpenAPI is the API's OpenAPI 3 document, made from the endpoint table:
// what is served is what is documented.
var OpenAPI = sync.OnceValues(buildOpenAPI)

func (h *handler) openAPI(w http.ResponseWriter, r *http.Request) {
	doc, err := OpenAPI()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

func schemaOf(t reflect.Type) (*openapi3.SchemaRef, error) {
	return openapi3gen.NewSchemaRefForValue(reflect.New(t).Elem().Interface(), nil, openapi3gen.UseAllExportedFields())
}

func buildOpenAPI() (*openapi3.T, error) {
	doc := &openapi3.T{
		OpenAPI: "3.0.3",
		Info: &openapi3.Info{
			Title:   "Mobile@Work tenant administration API",
			Version: version.Version,
			Description: "Every administrative operation of the tenant. Authenticate with an API token " +
				"(Authorization: Bearer TOKEN) or a console session (cookie " + SessionCookie + ", and the " +
				CSRFHeader + " header on every change). Lists page with limit and cursor.",
		},
		Servers: openapi3.Servers{{URL: Prefix}},
		Paths:   openapi3.NewPaths(),
		Components: &openapi3.Components{
			Schemas: openapi3.Schemas{},
			SecuritySchemes: openapi3.SecuritySchemes{
				"token":   {Value: openapi3.NewSecurityScheme().WithType("http").WithScheme("bearer")},
				"session": {Value: openapi3.NewSecurityScheme().WithType("apiKey").WithIn("cookie").WithName(SessionCookie)},
			},
		},
		Security: openapi3.SecurityRequirements{{"token": {}}, {"session": {}}},
	}
	errSchema, err := schemaOf(reflect.TypeFor[Error]())
	if err != nil {
		return nil, err
	}
	doc.Components.Schemas["Error"] = errSchema
	for _, e := range allRoutes() {
		op, err := operation(e, errSchema)
		if err != nil {
			return nil, fmt.Errorf("openapi: %s: %w", e.name, err)
		}
		item := doc.Paths.Value(e.path)
		if item == nil {
			item = &openapi3.PathItem{}
			doc.Paths.Set(e.path, item)
		}
		item.SetOperation(e.method, op)
	}
	return doc, nil
}

// allRoutes is the endpoint table and the session routes, as documented.
func allRoutes() []info {
	out := append([]info{}, endpoints...)
	out = append(out,
		info{name: "session.create", method: http.MethodPost, path: "/session", summary: "Sign in to the console", req: reflect.TypeFor[LoginRequest](), resp: reflect.TypeFor[SessionView]()},
		info{name: "session.show", method: http.MethodGet, path: "/session", summary: "Show who is signed in", req: reflect.TypeFor[None](), resp: reflect.TypeFor[SessionView]()},
		info{name: "session.delete", method: http.MethodDelete, path: "/session", summary: "Sign out", req: reflect.TypeFor[None](), resp: reflect.TypeFor[None]()},
		info{name: "events.stream", method: http.MethodGet, path: "/events", summary: "Stream check-ins and results as server-sent events (checkin, result)", class: accounts.ClassRead, req: reflect.TypeFor[None](), resp: reflect.TypeFor[CheckinEvent](), stream: true},
	)
	return out
}

func operation(e info, errSchema *openapi3.SchemaRef) (*openapi3.Operation, error) {
	op := &openapi3.Operation{
		OperationID: e.name,
		Summary:     e.summary,
		Tags:        []string{strings.SplitN(e.name, ".", 2)[0]},
		Responses:   openapi3.NewResponses(),
	}
	if e.serve != nil {
		op.Description = "Allowed to: " + rolesFor(e.class) + "."
	}
	if e.name == "session.create" {
		op.Security = &openapi3.SecurityRequirements{} // signing in needs no credentials
	}
	inPath := map[string]bool{}
	for _, m := range pathParam.FindAllStringSubmatch(e.path, -1) {
		inPath[m[1]] = true
		op.Parameters = append(op.Parameters, &openapi3.ParameterRef{Value: openapi3.NewPathParameter(m[1]).WithSchema(openapi3.NewStringSchema())})
	}
	if hasBody(e.method) {
		s, err := schemaOf(e.req)
		if err != nil {
			return nil, err
		}
		op.RequestBody = &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().WithRequired(true).WithJSONSchemaRef(s)}
	} else {
		for _, f := range fields(reflect.New(e.req).Elem()) {
			if inPath[f.name] {
				continue
			}
			s, err := schemaOf(f.v.Type())
			if err != nil {
				return nil, err
			}
			op.Parameters = append(op.Parameters, &openapi3.ParameterRef{Value: func() *openapi3.Parameter { p := openapi3.NewQueryParameter(f.name); p.Schema = s; return p }()})
		}
	}
	ok, err := schemaOf(e.resp)
	if err != nil {
		return nil, err
	}
	if e.stream {
		// Each event's data is a JSON document: CheckinEvent or ResultEvent.
		op.Description = "Allowed to: " + rolesFor(e.class) + ". Events `checkin` (data: CheckinEvent) and `result` (data: ResultEvent), and a comment line as heartbeat."
		op.Responses.Set("200", &openapi3.ResponseRef{Value: openapi3.NewResponse().WithDescription("An event stream").
			WithContent(openapi3.Content{"text/event-stream": &openapi3.MediaType{Schema: openapi3.NewStringSchema().NewRef()}})})
	} else {
		op.Responses.Set("200", &openapi3.ResponseRef{Value: openapi3.NewResponse().WithDescription("OK").WithJSONSchemaRef(ok)})
	}
	refusal := "Refused: the body says why (code: " + codeList() + ")"
	op.Responses.Set("default", &openapi3.ResponseRef{Value: openapi3.NewResponse().WithDescription(refusal).
		WithJSONSchemaRef(&openapi3.SchemaRef{Ref: "#/components/schemas/Error", Value: errSchema.Value})})
	return op, nil
}

// rolesFor names the roles allowed a class, for the document.
func rolesFor(c accounts.Class) string {
	var rs []string
	for _, r := range accounts.Roles {
		if r.Can(c) {
			rs = append(rs, string(r))
		}
	}
	return strings.Join(rs, ", ")
}

func codeList() string {
	var cs []string
	for _, c := range codes {
		cs = append(cs, c.code)
	}
	return strings.Join(append(cs, "internal"), ", ")
}

// MarshalOpenAPI is the document as served, for `make` and the docs.
func MarshalOpenAPI() ([]byte, error) {
	doc, err := OpenAPI()
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(doc, "", "  ")
}
