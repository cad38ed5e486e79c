package console

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/mobileatwork/mobileatwork/server/settings"
)

func get(t *testing.T, h http.Handler, method, path string, hdr ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Result()
}

// Every answer, refusals included, carries the headers that confine the
// page to its own files.
func TestConsoleSecurityHeadersOnEveryAnswer(t *testing.T) {
	h := New()
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/", 200},
		{"HEAD", "/", 200},
		{"GET", "/assets/js/app.js", 200},
		{"GET", "/assets/style.css", 200},
		{"GET", "/settings.json", 200},
		{"GET", "/assets/index.html", 404},
		{"GET", "/nope", 404},
		{"GET", "/assets/../console.go", 404},
		{"POST", "/", 405},
		{"DELETE", "/assets/js/app.js", 405},
	} {
		res := get(t, h, c.method, c.path)
		if res.StatusCode != c.status {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, res.StatusCode, c.status)
		}
		want := map[string]string{
			"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
			"X-Frame-Options":         "DENY",
		}
		for k, v := range want {
			if got := res.Header.Get(k); got != v {
				t.Errorf("%s %s: %s = %q, want %q", c.method, c.path, k, got, v)
			}
		}
	}
}

func TestConsoleContentTypesAndCaching(t *testing.T) {
	h := New()
	for path, ctype := range map[string]string{
		"/":                             "text/html; charset=utf-8",
		"/assets/js/app.js":             "text/javascript; charset=utf-8",
		"/assets/js/pages/dashboard.js": "text/javascript; charset=utf-8",
		"/assets/style.css":             "text/css; charset=utf-8",
		"/settings.json":                "application/json",
	} {
		res := get(t, h, "GET", path)
		if got := res.Header.Get("Content-Type"); got != ctype {
			t.Errorf("%s: Content-Type %q, want %q", path, got, ctype)
		}
		if got := res.Header.Get("Cache-Control"); got != "no-cache" {
			t.Errorf("%s: Cache-Control %q, want no-cache (revalidated)", path, got)
		}
		etag := res.Header.Get("ETag")
		if etag == "" {
			t.Fatalf("%s: no ETag", path)
		}
		again := get(t, h, "GET", path, "If-None-Match", etag)
		if again.StatusCode != http.StatusNotModified {
			t.Errorf("%s with its ETag: %d, want 304", path, again.StatusCode)
		}
	}
	for path, f := range h.files {
		if f.ctype == "application/octet-stream" {
			t.Errorf("%s has no content type: add its extension to types", path)
		}
	}
	if got := get(t, h, "GET", "/nope").Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("a refusal's Cache-Control %q, want no-store", got)
	}
}

// index.html loads only same-origin files and holds no inline script,
// style or event handler: the CSP would refuse them. encoding/xml in its
// lenient HTML mode reads every element and attribute.
func TestConsoleIndexHasNoInlineCode(t *testing.T) {
	body, _ := io.ReadAll(get(t, New(), "GET", "/").Body)
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.Strict, dec.AutoClose, dec.Entity = false, xml.HTMLAutoClose, xml.HTMLEntity
	scripts, elements := 0, 0
	inScript := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("index.html: %v", err)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			elements++
			attrs := map[string]string{}
			for _, a := range tk.Attr {
				k := strings.ToLower(a.Name.Local)
				attrs[k] = a.Value
				if strings.HasPrefix(k, "on") {
					t.Errorf("<%s %s=...>: inline event handler", tk.Name.Local, k)
				}
				if k == "style" {
					t.Errorf("<%s style=...>: inline style", tk.Name.Local)
				}
				if (k == "href" || k == "src") && strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Value)), "javascript:") {
					t.Errorf("<%s %s=%q>", tk.Name.Local, k, a.Value)
				}
			}
			switch strings.ToLower(tk.Name.Local) {
			case "script":
				scripts++
				inScript = true
				if !strings.HasPrefix(attrs["src"], "/assets/") || attrs["type"] != "module" {
					t.Errorf("script %v: want a module from /assets/", attrs)
				}
			case "style":
				t.Error("inline <style>")
			case "link":
				if attrs["rel"] == "stylesheet" && !strings.HasPrefix(attrs["href"], "/assets/") {
					t.Errorf("stylesheet from %q", attrs["href"])
				}
			}
		case xml.EndElement:
			inScript = false
		case xml.CharData:
			if inScript && strings.TrimSpace(string(tk)) != "" {
				t.Errorf("inline script text %q", tk)
			}
		}
	}
	if scripts != 1 || elements < 10 {
		t.Errorf("%d scripts in %d elements, want the one module in the whole page", scripts, elements)
	}
}

// The page's modules insert data as text: no innerHTML, outerHTML,
// insertAdjacentHTML or document.write anywhere, and every import is a
// relative module of the console.
func TestConsoleScriptsNeverParseDataAsHTML(t *testing.T) {
	h := New()
	imports := regexp.MustCompile(`(?m)^\s*import\s.*from\s+'([^']+)'`)
	n := 0
	for path, f := range h.files {
		if !strings.HasSuffix(path, ".js") {
			continue
		}
		n++
		src := string(f.body)
		for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"} {
			if strings.Contains(src, bad) {
				t.Errorf("%s uses %s", path, bad)
			}
		}
		for _, m := range imports.FindAllStringSubmatch(src, -1) {
			if !strings.HasPrefix(m[1], "./") && !strings.HasPrefix(m[1], "../") {
				t.Errorf("%s imports %q: only the console's own modules", path, m[1])
			}
		}
	}
	if n < 5 {
		t.Fatalf("only %d modules embedded", n)
	}
}

func TestConsoleSettingsDescribeTheKeys(t *testing.T) {
	var specs []settings.Spec
	if err := json.NewDecoder(get(t, New(), "GET", "/settings.json").Body).Decode(&specs); err != nil {
		t.Fatal(err)
	}
	if len(specs) != len(settings.Keys()) {
		t.Fatalf("%d keys described, the tenant has %d", len(specs), len(settings.Keys()))
	}
	for _, sp := range specs {
		if sp.Key == "max_execution_seconds" && (sp.Type != "int" || sp.Default != "60") {
			t.Errorf("max_execution_seconds: %+v", sp)
		}
	}
}
