package linkpage

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestPages(t *testing.T) {
	tests := []struct {
		name string
		page Page
		want []string
		not  []string
	}{
		{"active, not built", Page{State: Active, Organization: "Example <Corp>", Heading: "Register your Mac", Download: "/e/abc/MobileAtWork.pkg"},
			[]string{`data-state="active"`, "Example &lt;Corp&gt;", `href="/e/abc/MobileAtWork.pkg"`, ">Download<"}, []string{"SHA-256", "<Corp>"}},
		{"active, built", Page{State: Active, Organization: "Example", Download: "/e/abc/MobileAtWork.pkg", SHA256: "00ff"},
			[]string{`<code id="sha256">00ff</code>`}, nil},
		{"used", For(Used, "Example"), []string{`data-state="used"`, "used as many times as it allows"}, []string{"Download<", "href=\"/e/"}},
		{"unknown state is unknown", For("bogus", "Example"), []string{`data-state="unknown"`, "no download at this address"}, []string{"bogus"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			if err := Write(rec, 410, tt.page); err != nil {
				t.Fatal(err)
			}
			body := rec.Body.String()
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q:\n%s", w, body)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(body, n) {
					t.Errorf("page holds %q:\n%s", n, body)
				}
			}
			if strings.Contains(body, "<script") || strings.Contains(body, "style=") || strings.Contains(body, "http") {
				t.Errorf("page has a script, an inline style or an external reference:\n%s", body)
			}
			h := rec.Header()
			if rec.Code != 410 || !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") || h.Get("Referrer-Policy") != "no-referrer" {
				t.Errorf("status %d, headers %v", rec.Code, h)
			}
		})
	}
}
