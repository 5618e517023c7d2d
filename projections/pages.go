package projections

import (
	"strconv"

	"waystation/domain"
)

// Page sizes of a case search and of the repeat visitors.
const (
	defaultPageSize = 50
	maxPageSize     = 500
)

// pageSize returns the page size a query's limit asks for: defaultPageSize
// when zero, at most maxPageSize; a negative limit is invalid.
func pageSize(limit int) (int, error) {
	switch {
	case limit < 0:
		return 0, domain.Invalid("limit", "limit must be positive")
	case limit == 0:
		return defaultPageSize, nil
	}
	return min(limit, maxPageSize), nil
}

// cursorStart returns the index in m.order a page starts from, newest
// first: the last case without a cursor, else the case before the one the
// cursor (a NextCursor of the previous page) names.
func (m *model) cursorStart(cursor string) (int, error) {
	if cursor == "" {
		return len(m.order) - 1, nil
	}
	n, err := strconv.Atoi(cursor)
	if err != nil || n < 0 || n > len(m.order) {
		return 0, domain.Invalid("cursor", "not a cursor of this listing")
	}
	return n - 1, nil
}
