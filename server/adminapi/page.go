package adminapi

import (
	"strconv"
)

// Paging bounds: a list answers DefaultLimit items unless asked for up to
// MaxLimit.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// PageRequest is embedded in the request of every list.
type PageRequest struct {
	Limit  int    `json:"limit,omitempty"`
	Cursor string `json:"cursor,omitempty"` // from the previous page's next
}

func (p *PageRequest) page() *PageRequest { return p }

// Page is one page of a list; Next, when set, is the cursor of the next.
type Page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

// paginate cuts one page out of a whole list. The cursor is the offset of
// the page's first item: lists whose order is stable between calls (all
// of them are sorted) page correctly while nothing is added or removed.
func paginate[T any](all []T, p PageRequest) (Page[T], error) {
	start, limit, err := p.bounds()
	if err != nil {
		return Page[T]{}, err
	}
	start = min(start, len(all))
	end := min(start+limit, len(all))
	out := Page[T]{Items: append([]T{}, all[start:end]...)}
	if end < len(all) {
		out.Next = strconv.Itoa(end)
	}
	return out, nil
}

// bounds reads the page asked for: the offset of its first item and how
// many it holds at most.
func (p PageRequest) bounds() (start, limit int, err error) {
	if limit, err = p.size(); err != nil {
		return 0, 0, err
	}
	if p.Cursor != "" {
		n, err := strconv.Atoi(p.Cursor)
		if err != nil || n < 0 {
			return 0, 0, badRequest("cursor %q is not one this server gave", p.Cursor)
		}
		start = n
	}
	return start, limit, nil
}

// size is how many items the page holds at most: DefaultLimit unless
// asked for, up to MaxLimit.
func (p PageRequest) size() (int, error) {
	switch {
	case p.Limit == 0:
		return DefaultLimit, nil
	case p.Limit < 0 || p.Limit > MaxLimit:
		return 0, badRequest("limit must be between 1 and %d, got %d", MaxLimit, p.Limit)
	}
	return p.Limit, nil
}
