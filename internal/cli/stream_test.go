package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

type streamed struct {
	ID    string            `json:"id"`
	N     int               `json:"n"`
	Tags  []string          `json:"tags"`
	Attrs map[string]string `json:"attrs,omitempty"`
}

func TestJSONArrayWritesWhatJSONWrites(t *testing.T) {
	tests := []struct {
		name  string
		elems []streamed
	}{
		{"empty", []streamed{}},
		{"one", []streamed{{ID: "a", N: 1, Tags: []string{"x"}}}},
		{"several, nested", []streamed{
			{ID: "a", N: 1, Tags: []string{}},
			{ID: "b</script>", N: -2, Tags: []string{"y", "z"}, Attrs: map[string]string{"k": "v\n"}},
			{ID: "é", Tags: nil},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var whole, stream bytes.Buffer
			if err := JSON(&whole, tt.elems); err != nil {
				t.Fatal(err)
			}
			a := NewJSONArray(&stream)
			for _, e := range tt.elems {
				if err := a.Add(e); err != nil {
					t.Fatal(err)
				}
			}
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			if stream.String() != whole.String() {
				t.Fatalf("streamed\n%s\nwant\n%s", stream.String(), whole.String())
			}
			var back []streamed
			if err := json.Unmarshal(stream.Bytes(), &back); err != nil {
				t.Fatalf("the streamed array does not parse: %v", err)
			}
			if len(back) != len(tt.elems) {
				t.Fatalf("parsed %d elements, want %d", len(back), len(tt.elems))
			}
		})
	}
}

func TestJSONArrayRefusesWhatJSONCannotEncode(t *testing.T) {
	var out bytes.Buffer
	a := NewJSONArray(&out)
	if err := a.Add(map[string]any{"f": func() {}}); err == nil {
		t.Fatal("Add of a func succeeded, want an error")
	}
	if out.Len() != 0 {
		t.Fatalf("a refused element wrote %q", out.String())
	}
}

func TestTableStream(t *testing.T) {
	header := []string{"RUN", "DEVICE", "STDOUT", "TRUNCATED"}
	rows := [][]string{
		{"r1", "dévice-1", "hello\nworld", ""},
		{"r22", "d2", strings.Repeat("x", 80), "yes"},
		{"r3", "", "", ""},
	}
	t.Run("one block is Table", func(t *testing.T) {
		var want, got bytes.Buffer
		if err := Table(&want, header, rows); err != nil {
			t.Fatal(err)
		}
		ts := NewTableStream(&got, header)
		for _, r := range rows {
			if err := ts.Row(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := ts.Close(); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Fatalf("streamed\n%s\nwant\n%s", got.String(), want.String())
		}
	})
	t.Run("blocks write as they fill and never narrow", func(t *testing.T) {
		var got bytes.Buffer
		ts := NewTableStream(&got, []string{"A", "B"})
		ts.block = 2
		if err := ts.Row([]string{"wide-cell", "1"}); err != nil {
			t.Fatal(err)
		}
		if want := "A          B\nwide-cell  1\n"; got.String() != want {
			t.Fatalf("after the first block: %q, want %q", got.String(), want)
		}
		for _, r := range [][]string{{"x", "2"}, {"wider-cell!", "3"}} {
			if err := ts.Row(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := ts.Close(); err != nil {
			t.Fatal(err)
		}
		want := "A          B\nwide-cell  1\nx            2\nwider-cell!  3\n"
		if got.String() != want {
			t.Fatalf("got %q, want %q", got.String(), want)
		}
	})
}
