package projections

import (
	"strconv"

	"github.com/google/uuid"
)

// RepeatVisitor is a person with more than one case, by their latest case.
type RepeatVisitor struct {
	LatestCase uuid.UUID    `json:"latest_case"`
	Cases      []PersonCase `json:"cases"`
}

// RepeatVisitorQuery selects repeat visitors: those whose latest case is
// at a station Filter selects. Limit is the page size (50 when zero, at
// most 500, as for a case search); Cursor is the NextCursor of the
// previous page.
type RepeatVisitorQuery struct {
	Filter
	Limit  int
	Cursor string
}

// RepeatVisitorPage is one page of repeat visitors, most recent intake
// first. NextCursor is empty on the last page.
type RepeatVisitorPage struct {
	Items      []RepeatVisitor `json:"items"`
	NextCursor string          `json:"next_cursor"`
}

// RepeatVisitors lists the people with more than one case whose latest
// case is at a station q selects, most recent intake first, a page at a
// time. Paging through with NextCursor lists each person once, unless a
// new case of theirs is opened meanwhile (it then becomes their latest).
func (r *Runner) RepeatVisitors(q RepeatVisitorQuery) (RepeatVisitorPage, error) {
	limit, err := pageSize(q.Limit)
	if err != nil {
		return RepeatVisitorPage{}, err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	m := r.live
	if err := m.checkFilter(q.Filter); err != nil {
		return RepeatVisitorPage{}, err
	}
	start, err := m.cursorStart(q.Cursor)
	if err != nil {
		return RepeatVisitorPage{}, err
	}
	page := RepeatVisitorPage{Items: []RepeatVisitor{}}
	for i := start; i >= 0; i-- {
		ce := m.order[i]
		if len(ce.keys) == 0 || !m.selects(q.Filter, ce.c.Station) {
			continue
		}
		list := m.linked(ce)
		if len(list) < 2 || list[len(list)-1] != ce {
			continue // a single case, or not the person's latest
		}
		if len(page.Items) == limit {
			page.NextCursor = strconv.Itoa(i + 1)
			break
		}
		page.Items = append(page.Items, RepeatVisitor{LatestCase: ce.c.ID, Cases: personCases(list)})
	}
	return page, nil
}
