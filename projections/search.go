package projections

import (
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
)

// CaseQuery selects cases: by station or region, by status, and by Q, a
// fragment of the person's name, ID number or case number. Limit is the page size (50
// when zero, at most 500); Cursor is the NextCursor of the previous page.
type CaseQuery struct {
	Station string
	Region  string
	Status  string
	Q       string
	// Number, when set, selects the case with that case number alone
	// (S01-2026-000123, in any case of letters).
	Number string
	Limit  int
	Cursor string
}

// CaseSummary is one case in a search result.
type CaseSummary struct {
	ID         uuid.UUID     `json:"id" doc:"The case's ID."`
	CaseNumber string        `json:"case_number,omitempty" doc:"The case's number (S01-2026-000123); absent until it is numbered."`
	Version    uint64        `json:"version" doc:"The case's version."`
	Station    string        `json:"station" doc:"Code of its station."`
	Region     string        `json:"region,omitempty" doc:"Code of the station's region."`
	Status     domain.Status `json:"status" doc:"Where the case stands."`
	Name       string        `json:"name,omitempty" doc:"The person's name."`
	Sex        domain.Sex    `json:"sex" doc:"The person's sex."`
	Age        *int          `json:"age,omitempty" doc:"The person's age now, in whole years, when known."`
	OpenedAt   time.Time     `json:"opened_at" doc:"When the person arrived."`
	ExitedAt   time.Time     `json:"exited_at,omitzero" doc:"When the person left."`
}

// CasePage is one page of a case search, newest intake first.
// NextCursor is empty on the last page.
type CasePage struct {
	Items      []CaseSummary `json:"items" doc:"The cases of this page, newest intake first."`
	NextCursor string        `json:"next_cursor" doc:"Pass it as cursor for the next page; empty on the last page."`
}

// SearchCases returns the live cases that q selects, newest intake first.
func (r *Runner) SearchCases(q CaseQuery) (CasePage, error) {
	if q.Status != "" && !validStatus(domain.Status(q.Status)) {
		return CasePage{}, domain.Invalid("status", "unknown status")
	}
	limit, err := pageSize(q.Limit)
	if err != nil {
		return CasePage{}, err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	m := r.live
	start, err := m.cursorStart(q.Cursor)
	if err != nil {
		return CasePage{}, err
	}
	name, idFrag := normalise(q.Q), strings.ToUpper(strings.TrimSpace(q.Q))
	now := r.opts.Now()
	page := CasePage{Items: []CaseSummary{}}
	for i := start; i >= 0; i-- {
		ce := m.order[i]
		c := &ce.c
		if q.Station != "" && c.Station != q.Station ||
			q.Region != "" && m.region(c.Station) != q.Region ||
			q.Status != "" && string(c.Status) != q.Status ||
			q.Number != "" && !strings.EqualFold(ce.number, strings.TrimSpace(q.Number)) {
			continue
		}
		if q.Q != "" && !(name != "" && strings.Contains(normalise(c.Person.Name), name) ||
			idFrag != "" && (strings.Contains(strings.ToUpper(c.Person.IDNumber), idFrag) ||
				strings.Contains(ce.number, idFrag))) {
			continue
		}
		if len(page.Items) == limit {
			page.NextCursor = strconv.Itoa(i + 1)
			break
		}
		s := CaseSummary{ID: c.ID, CaseNumber: ce.number, Version: c.Version, Station: c.Station, Region: m.region(c.Station),
			Status: c.Status, Name: c.Person.Name, Sex: c.Person.Sex, OpenedAt: c.OpenedAt, ExitedAt: c.ExitedAt}
		if age, ok := c.AgeOn(now); ok {
			s.Age = &age
		}
		page.Items = append(page.Items, s)
	}
	return page, nil
}

func validStatus(s domain.Status) bool {
	switch s {
	case domain.StatusReceived, domain.StatusInStation, domain.StatusInHospital, domain.StatusLongStay,
		domain.StatusInTransit, domain.StatusExited, domain.StatusRefused, domain.StatusClosed:
		return true
	}
	return false
}
