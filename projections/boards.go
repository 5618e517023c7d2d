package projections

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
)

// TransferInFlight is one transfer on a regional board: its state, its age
// since the request, and whether it is past the 48-hour mark for an answer
// or the 72-hour mark for the handover.
type TransferInFlight struct {
	CaseID          uuid.UUID `json:"case_id" doc:"The case being transferred."`
	From            string    `json:"from" doc:"Code of the sending station."`
	To              string    `json:"to" doc:"Code of the receiving station."`
	State           string    `json:"state" doc:"Where the transfer stands: requested, accepted or departed."`
	RequestedAt     time.Time `json:"requested_at" doc:"When it was requested."`
	AcceptedAt      time.Time `json:"accepted_at,omitzero" doc:"When it was accepted."`
	DepartedAt      time.Time `json:"departed_at,omitzero" doc:"When the escort left."`
	AgeHours        float64   `json:"age_hours" doc:"Hours since the request."`
	Unanswered      bool      `json:"unanswered" doc:"Requested and not answered for more than 48 hours."`
	HandoverOverdue bool      `json:"handover_overdue" doc:"Escort departed and no handover for more than 72 hours."`
}

// TransferBoard lists the transfers in flight that leave from or arrive at
// a station of Region, oldest request first.
type TransferBoard struct {
	Region    string             `json:"region" doc:"The region."`
	At        time.Time          `json:"at" doc:"The moment the board shows."`
	Transfers []TransferInFlight `json:"transfers" doc:"Transfers in flight from or to the region's stations, oldest request first."`
}

// Transfers returns the transfer board of region as of asOf. A region with
// no station is not_found.
func (r *Runner) Transfers(region string, asOf AsOf) (TransferBoard, error) {
	var out TransferBoard
	err := r.view(context.Background(), asOf, func(m *model, at time.Time) error {
		if err := m.checkFilter(Filter{Region: region}); err != nil {
			return err
		}
		out = TransferBoard{Region: region, At: at, Transfers: []TransferInFlight{}}
		for _, ce := range m.order {
			t := ce.c.Transfer
			if t == nil || !ce.c.Active() || t.RequestedAt.After(at) ||
				m.region(t.From) != region && m.region(t.To) != region {
				continue
			}
			out.Transfers = append(out.Transfers, TransferInFlight{
				CaseID: ce.c.ID, From: t.From, To: t.To, State: t.State,
				RequestedAt: t.RequestedAt, AcceptedAt: t.AcceptedAt, DepartedAt: t.DepartedAt,
				AgeHours:        at.Sub(t.RequestedAt).Hours(),
				Unanswered:      t.State == domain.TransferStateRequested && at.After(t.RequestedAt.Add(TransferAnswerDue)),
				HandoverOverdue: t.State == domain.TransferStateDeparted && at.After(t.DepartedAt.Add(HandoverDue)),
			})
		}
		slices.SortFunc(out.Transfers, func(a, b TransferInFlight) int {
			if c := a.RequestedAt.Compare(b.RequestedAt); c != 0 {
				return c
			}
			return strings.Compare(a.CaseID.String(), b.CaseID.String())
		})
		return nil
	})
	return out, err
}

// PersonCase is one case of a person, as the person index shows it.
type PersonCase struct {
	CaseID   uuid.UUID       `json:"case_id" doc:"The case's ID."`
	Station  string          `json:"station" doc:"Code of the station the case is at."`
	Stations []string        `json:"stations" doc:"Codes of every station the person stayed at in this case."`
	Status   domain.Status   `json:"status" doc:"Where the case stands."`
	OpenedAt time.Time       `json:"opened_at" doc:"When the person arrived."`
	ExitedAt time.Time       `json:"exited_at,omitzero" doc:"When the person left."`
	ExitType domain.ExitType `json:"exit_type,omitempty" doc:"How the person left."`
	// TransferTo is the station a transfer in flight is addressed to, empty
	// when none is: with Station, all that domain.Authorize reads of a case
	// to decide a read. It is not part of the answer.
	TransferTo string `json:"-"`
}

// Person returns every case linked to case id's person, id's own included,
// oldest first: cases that share the resident ID number, or the
// normalised name with the birth date and household registration place.
// An unknown case is not_found.
func (r *Runner) Person(id uuid.UUID) ([]PersonCase, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	ce := r.live.cases[id]
	if ce == nil || !ce.opened() {
		return nil, domain.NotFound("no case %s", id)
	}
	return personCases(r.live.linked(ce)), nil
}

// linked returns the cases that share a person key with ce, and ce, in
// intake order.
func (m *model) linked(ce *caseEntry) []*caseEntry {
	set := []*caseEntry{ce}
	for _, k := range ce.keys {
		for _, p := range m.persons[k] {
			if !slices.Contains(set, p) {
				set = append(set, p)
			}
		}
	}
	slices.SortFunc(set, func(a, b *caseEntry) int { return a.seq - b.seq })
	return set
}

func personCases(list []*caseEntry) []PersonCase {
	out := make([]PersonCase, 0, len(list))
	for _, p := range list {
		pc := PersonCase{CaseID: p.c.ID, Station: p.c.Station, Status: p.c.Status, OpenedAt: p.c.OpenedAt, ExitedAt: p.c.ExitedAt, ExitType: p.c.ExitType}
		if p.c.Transfer != nil {
			pc.TransferTo = p.c.Transfer.To
		}
		for _, s := range p.stays {
			if !slices.Contains(pc.Stations, s.Station) {
				pc.Stations = append(pc.Stations, s.Station)
			}
		}
		out = append(out, pc)
	}
	return out
}

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
