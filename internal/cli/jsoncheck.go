package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
)

// snakeCase also accepts dotted names of snake_case parts: the Mobile@Work
// settings keys (onboarding.enabled) are documented that way and appear as
// map keys.
var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*(\.[a-z][a-z0-9]*(_[a-z0-9]+)*)*$`)

// zeroDate starts Go's zero time.Time as JSON renders it
// ("0001-01-01T00:00:00Z"): a time that was never set, printed because
// omitempty does not omit a struct.
const zeroDate = "0001-01-01"

// JSONProblems checks what a --json output promises: every object key is
// snake_case and no value is an unset time. doc holds one or more JSON
// documents (--watch prints one per line). Each problem names its place,
// e.g. `$.next_runs[0].Next: key not snake_case`; none means nil. Meant for
// documents whose keys are all field names, not data.
func JSONProblems(doc []byte) []string {
	var out []string
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	for i := 0; ; i++ {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			if i == 0 {
				out = append(out, "no JSON document")
			}
			return out
		}
		if err != nil {
			return append(out, fmt.Sprintf("document %d: not JSON: %v", i+1, err))
		}
		root := "$"
		if i > 0 {
			root = fmt.Sprintf("$%d", i+1)
		}
		out = jsonProblems(out, root, v)
	}
}

func jsonProblems(out []string, path string, v any) []string {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := path + "." + k
			if !snakeCase.MatchString(k) {
				out = append(out, p+": key not snake_case")
			}
			out = jsonProblems(out, p, v[k])
		}
	case []any:
		for i, e := range v {
			out = jsonProblems(out, fmt.Sprintf("%s[%d]", path, i), e)
		}
	case string:
		if strings.HasPrefix(v, zeroDate) {
			out = append(out, fmt.Sprintf("%s: unset time %q (tag the field omitzero)", path, v))
		}
	}
	return out
}
