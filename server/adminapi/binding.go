package adminapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
)

// maxBody bounds a request body: app set's images are the largest, an
// icon and ten screenshots of 2 MB each, base64 in JSON (about 30 MB).
const maxBody = 32 << 20

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// hasBody says whether a method's request fields travel in a JSON body
// rather than in the query.
func hasBody(method string) bool {
	return method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch
}

// field is a request field as the wire names it.
type field struct {
	name string
	v    reflect.Value
}

// fields lists the json-named fields of the struct v points to, those of
// embedded structs included.
func fields(v reflect.Value) []field {
	var out []field
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			out = append(out, fields(v.Field(i))...)
			continue
		}
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, field{name, v.Field(i)})
	}
	return out
}

// decodeRequest fills req (a pointer to a struct) from r.
func decodeRequest(r *http.Request, method string, req any) error {
	v := reflect.ValueOf(req).Elem()
	if v.Kind() != reflect.Struct {
		return fmt.Errorf("adminapi: request %T is not a struct", req)
	}
	if hasBody(method) {
		body := http.MaxBytesReader(nil, r.Body, maxBody)
		dec := json.NewDecoder(body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(req); err != nil && !errors.Is(err, io.EOF) {
			return badRequest("the request body is not the expected JSON: %v", err)
		}
	} else if err := decodeQuery(r.URL.Query(), v); err != nil {
		return err
	}
	byName := map[string]reflect.Value{}
	for _, f := range fields(v) {
		byName[f.name] = f.v
	}
	for _, m := range pathParam.FindAllStringSubmatch(r.Pattern, -1) {
		f, ok := byName[m[1]]
		if !ok || f.Kind() != reflect.String {
			return fmt.Errorf("adminapi: path parameter %s has no string field", m[1])
		}
		f.SetString(r.PathValue(m[1]))
	}
	return nil
}

// decodeQuery sets the fields of v named in q. Unknown parameters are
// refused, as unknown JSON keys are.
func decodeQuery(q url.Values, v reflect.Value) error {
	byName := map[string]reflect.Value{}
	for _, f := range fields(v) {
		byName[f.name] = f.v
	}
	for name, vals := range q {
		f, ok := byName[name]
		if !ok {
			return badRequest("unknown query parameter %q", name)
		}
		if err := setScalar(f, name, vals); err != nil {
			return err
		}
	}
	return nil
}

func setScalar(f reflect.Value, name string, vals []string) error {
	if f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String {
		f.Set(reflect.ValueOf(append([]string(nil), vals...)))
		return nil
	}
	if len(vals) != 1 {
		return badRequest("query parameter %q given %d times", name, len(vals))
	}
	s := vals[0]
	switch f.Kind() {
	case reflect.String:
		f.SetString(s)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return badRequest("query parameter %q: %q is not a whole number", name, s)
		}
		f.SetInt(n)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return badRequest("query parameter %q: %q is not true or false", name, s)
		}
		f.SetBool(b)
	default:
		return fmt.Errorf("adminapi: query parameter %s has unsupported type %s", name, f.Type())
	}
	return nil
}

// encodeRequest is decodeRequest's inverse, for the remote client: the
// path with its parameters filled, the query, and the body.
func encodeRequest(method, path string, req any) (string, url.Values, []byte, error) {
	v := reflect.ValueOf(req)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	byName := map[string]reflect.Value{}
	var order []string
	for _, f := range fields(v) {
		byName[f.name] = f.v
		order = append(order, f.name)
	}
	used := map[string]bool{}
	var perr error
	filled := pathParam.ReplaceAllStringFunc(path, func(m string) string {
		name := m[1 : len(m)-1]
		f, ok := byName[name]
		if !ok || f.Kind() != reflect.String || f.String() == "" {
			perr = fmt.Errorf("adminapi: %s needs %s", path, name)
			return m
		}
		used[name] = true
		return url.PathEscape(f.String())
	})
	if perr != nil {
		return "", nil, nil, perr
	}
	if hasBody(method) {
		b, err := json.Marshal(req)
		return filled, nil, b, err
	}
	q := url.Values{}
	for _, name := range order {
		if used[name] {
			continue
		}
		f := byName[name]
		switch f.Kind() {
		case reflect.String:
			if f.String() != "" {
				q.Set(name, f.String())
			}
		case reflect.Int, reflect.Int64:
			if f.Int() != 0 {
				q.Set(name, strconv.FormatInt(f.Int(), 10))
			}
		case reflect.Bool:
			if f.Bool() {
				q.Set(name, "true")
			}
		case reflect.Slice:
			for i := range f.Len() {
				q.Add(name, f.Index(i).String())
			}
		default:
			return "", nil, nil, fmt.Errorf("adminapi: query field %s has unsupported type %s", name, f.Type())
		}
	}
	return filled, q, nil, nil
}
