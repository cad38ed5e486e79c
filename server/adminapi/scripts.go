package adminapi

import (
	"context"
	"strconv"

	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/accounts"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
	"github.com/mobileatwork/mobileatwork/server/store"
)

// ScriptAddRequest stores a script; the body travels base64-encoded.
type ScriptAddRequest struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Body        []byte   `json:"body"`
	Inputs      []string `json:"inputs,omitempty"` // LABEL:NAME[=DEFAULT], in order
}

// ScriptSetRequest edits a script; what is absent stays. A body is a new
// version.
type ScriptSetRequest struct {
	Ref         string    `json:"ref"`
	Name        *string   `json:"name,omitempty"`
	Description *string   `json:"description,omitempty"`
	Body        *[]byte   `json:"body,omitempty"`
	Inputs      *[]string `json:"inputs,omitempty"` // replaces the declarations, all of them
}

// ScriptVersionRequest names one version of a script.
type ScriptVersionRequest struct {
	Ref     string `json:"ref"`
	Version string `json:"version"`
}

// ScriptBody is one version of a script with its body.
type ScriptBody struct {
	ScriptID string `json:"script_id"`
	jsonview.ScriptVersion
	Body []byte `json:"body"`
}

// The script repository.
var (
	ListScripts = register(&Endpoint[ListRequest, Page[jsonview.Script]]{
		Name: "scripts.list", Method: "GET", Path: "/scripts", Class: accounts.ClassRead,
		Summary: "List the script repository",
		Do: func(ctx context.Context, s *server.Server, req ListRequest) (Page[jsonview.Script], error) {
			all, err := s.Store.Scripts(ctx)
			if err != nil {
				return Page[jsonview.Script]{}, err
			}
			return paginate(mapSlice(all, func(sc store.Script) jsonview.Script { return jsonview.NewScript(sc, nil) }), req.PageRequest)
		},
	})
	ShowScript = register(&Endpoint[RefRequest, jsonview.Script]{
		Name: "scripts.show", Method: "GET", Path: "/scripts/{ref}", Class: accounts.ClassRead,
		Summary: "Show a script: its versions and the configurations that use it",
		Do: func(ctx context.Context, s *server.Server, req RefRequest) (jsonview.Script, error) {
			info, err := s.ScriptInfo(ctx, req.Ref)
			if err != nil {
				return jsonview.Script{}, err
			}
			vs, err := s.ScriptVersions(ctx, info.Script)
			if err != nil {
				return jsonview.Script{}, err
			}
			out := jsonview.NewScript(info.Script, info.UsedBy)
			out.Versions = mapSlice(vs, jsonview.NewScriptVersion)
			return out, nil
		},
	})
	AddScript = register(&Endpoint[ScriptAddRequest, jsonview.Script]{
		Name: "scripts.add", Method: "POST", Path: "/scripts", Class: accounts.ClassOperate,
		Summary: "Store a script, signed and encrypted at rest",
		Do: func(ctx context.Context, s *server.Server, req ScriptAddRequest) (jsonview.Script, error) {
			decls, err := inputDecls(req.Inputs)
			if err != nil {
				return jsonview.Script{}, err
			}
			sc, err := s.AddScript(ctx, req.Name, req.Description, req.Body, decls)
			if err != nil {
				return jsonview.Script{}, err
			}
			return jsonview.NewScript(sc, nil), nil
		},
	})
	SetScript = register(&Endpoint[ScriptSetRequest, jsonview.Script]{
		Name: "scripts.set", Method: "PATCH", Path: "/scripts/{ref}", Class: accounts.ClassOperate,
		Summary: "Edit a script; a new body is a new version its configurations deliver",
		Do: func(ctx context.Context, s *server.Server, req ScriptSetRequest) (jsonview.Script, error) {
			u := server.ScriptUpdate{Name: req.Name, Description: req.Description}
			if req.Body != nil {
				u.Body = *req.Body
				if u.Body == nil {
					u.Body = []byte{} // an empty body is refused, not taken for none
				}
			}
			if req.Inputs != nil {
				decls, err := inputDecls(*req.Inputs)
				if err != nil {
					return jsonview.Script{}, err
				}
				if decls == nil {
					decls = []store.InputDecl{}
				}
				u.Inputs = &decls
			}
			sc, err := s.UpdateScript(ctx, req.Ref, u)
			if err != nil {
				return jsonview.Script{}, err
			}
			return jsonview.NewScript(sc, nil), nil
		},
	})
	DeleteScript = register(&Endpoint[RefRequest, jsonview.Script]{
		Name: "scripts.delete", Method: "DELETE", Path: "/scripts/{ref}", Class: accounts.ClassOperate,
		Summary: "Delete a script; refused while a configuration uses it",
		Do: func(ctx context.Context, s *server.Server, req RefRequest) (jsonview.Script, error) {
			sc, err := s.DeleteScript(ctx, req.Ref)
			if err != nil {
				return jsonview.Script{}, err
			}
			return jsonview.NewScript(sc, nil), nil
		},
	})
	ShowScriptVersion = register(&Endpoint[ScriptVersionRequest, ScriptBody]{
		Name: "scripts.version", Method: "GET", Path: "/scripts/{ref}/versions/{version}", Class: accounts.ClassRead,
		Summary: "Show the body of one version of a script",
		Do: func(ctx context.Context, s *server.Server, req ScriptVersionRequest) (ScriptBody, error) {
			n, err := strconv.Atoi(req.Version)
			if err != nil || n < 1 {
				return ScriptBody{}, badRequest("version %q is not a version number (1, 2, ...)", req.Version)
			}
			sv, body, err := s.ScriptBody(ctx, req.Ref, n)
			if err != nil {
				return ScriptBody{}, err
			}
			return ScriptBody{ScriptID: sv.ScriptID, ScriptVersion: jsonview.NewScriptVersion(sv), Body: body}, nil
		},
	})
)

// inputDecls reads input declarations, LABEL:NAME[=DEFAULT].
func inputDecls(words []string) ([]store.InputDecl, error) {
	var decls []store.InputDecl
	for _, in := range words {
		d, err := server.ParseInputDecl(in)
		if err != nil {
			return nil, err
		}
		decls = append(decls, d)
	}
	return decls, nil
}
