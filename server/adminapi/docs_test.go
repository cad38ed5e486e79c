package adminapi

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

var routeRow = regexp.MustCompile("^\\| `(GET|POST|PUT|PATCH|DELETE) " + Prefix + "/")

// docs/api.md names every route the API serves, and no other.
func TestDocsNameEveryRoute(t *testing.T) {
	b, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	served := map[string]bool{}
	for _, e := range allRoutes() {
		row := "| `" + e.method + " " + Prefix + e.path + "` | `" + e.name + "` |"
		served[row] = true
		if !strings.Contains(doc, row) {
			t.Errorf("docs/api.md lacks the row of %s %s (%s)", e.method, e.path, e.name)
		}
	}
	for _, line := range strings.Split(doc, "\n") {
		if routeRow.MatchString(line) {
			cells := strings.SplitN(line, "|", 4)
			row := "|" + cells[1] + "|" + cells[2] + "|"
			if !served[row] {
				t.Errorf("docs/api.md names a route the API does not serve: %s", strings.TrimSpace(row))
			}
		}
	}
}
