package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"unicode/utf8"
)

// JSONArray writes a JSON array one element at a time, byte for byte as
// JSON would write the whole slice, so a listing of any length holds one
// element in memory. Close writes the closing bracket (or [] when empty).
type JSONArray struct {
	w   io.Writer
	buf bytes.Buffer
	enc *json.Encoder
	n   int
}

// NewJSONArray starts an array on w.
func NewJSONArray(w io.Writer) *JSONArray {
	a := &JSONArray{w: w}
	a.enc = json.NewEncoder(&a.buf)
	a.enc.SetIndent("  ", "  ")
	return a
}

// Add writes v as the next element.
func (a *JSONArray) Add(v any) error {
	a.buf.Reset()
	if a.n == 0 {
		a.buf.WriteString("[\n  ")
	} else {
		a.buf.WriteString(",\n  ")
	}
	if err := a.enc.Encode(v); err != nil {
		return err
	}
	a.n++
	// Encode ends the element with a newline; the separator comes first.
	_, err := a.w.Write(escapeJSON(bytes.TrimSuffix(a.buf.Bytes(), []byte("\n"))))
	return err
}

// Close ends the array.
func (a *JSONArray) Close() error {
	end := "\n]\n"
	if a.n == 0 {
		end = "[]\n"
	}
	_, err := io.WriteString(a.w, end)
	return err
}

// tableBlock is how many rows a TableStream aligns at once.
const tableBlock = 1000

// TableStream writes rows under a header as Table does, aligned a block of
// rows at a time so memory stays bounded however many rows there are.
// Columns never narrow from one block to the next; a later, wider cell
// widens its column from that block on.
type TableStream struct {
	w      io.Writer
	widths []int
	rows   [][]string
	block  int
}

// NewTableStream starts a table on w; the header is the first row.
func NewTableStream(w io.Writer, header []string) *TableStream {
	t := &TableStream{w: w, block: tableBlock}
	t.rows = append(t.rows, header)
	return t
}

// Row adds a row, writing the block it completes.
func (t *TableStream) Row(cells []string) error {
	clean := make([]string, len(cells))
	for i, c := range cells {
		clean[i] = oneLine(c)
	}
	t.rows = append(t.rows, clean)
	if len(t.rows) >= t.block {
		return t.flush()
	}
	return nil
}

// Close writes the rows not yet written.
func (t *TableStream) Close() error { return t.flush() }

// flush pads each cell but the last of a row to its column's width plus
// two spaces (at least two), as Table's tabwriter does.
func (t *TableStream) flush() error {
	for _, r := range t.rows {
		for i, c := range r[:max(len(r)-1, 0)] {
			if i == len(t.widths) {
				t.widths = append(t.widths, 0)
			}
			t.widths[i] = max(t.widths[i], utf8.RuneCountInString(c)+2)
		}
	}
	var b strings.Builder
	for _, r := range t.rows {
		b.Reset()
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", t.widths[i]-utf8.RuneCountInString(c)))
			}
		}
		b.WriteByte('\n')
		if _, err := io.WriteString(t.w, b.String()); err != nil {
			return err
		}
	}
	t.rows = t.rows[:0]
	return nil
}
