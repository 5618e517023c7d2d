package projections

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
)

// RuleLeadReceived is the work item of a lead the public sent about a
// notice, until the station contacts relatives (or the person is
// identified, or leaves). A work item only, never a safety alert.
const RuleLeadReceived = "lead_received"

// LeadAnswerDue is how long after a lead arrives the station should have
// followed it up.
const LeadAnswerDue = Day

// PublicNotice is a family-search notice as the public sees it: only what
// the notice shows, the station that published it and when. It holds no
// case ID, name, ID number or internal note.
type PublicNotice struct {
	ID          uuid.UUID            `json:"id" doc:"The notice's ID."`
	Station     string               `json:"station" doc:"Code of the station that published it."`
	StationName string               `json:"station_name" doc:"Name of that station."`
	Region      string               `json:"region" doc:"Code of the station's region."`
	PublishedAt time.Time            `json:"published_at" doc:"When it was published."`
	Shows       []domain.NoticeField `json:"shows" doc:"The fields it shows."`
	Sex         domain.Sex           `json:"sex,omitempty" doc:"The person's sex."`
	Age         *int                 `json:"age,omitempty" doc:"Age or estimated age in years when published."`
	AgeBand     string               `json:"age_band" doc:"The age band (0-5, 6-13, 14-15, 16-17, 18-59, 60+, unknown)."`
	HeightCM    int                  `json:"height_cm,omitempty" doc:"Height in centimetres."`
	Health      string               `json:"health,omitempty" doc:"Health and mental state."`
	Features    string               `json:"features,omitempty" doc:"Distinguishing features."`
	Clothing    string               `json:"clothing,omitempty" doc:"Clothing when found."`
	FoundPlace  string               `json:"found_place,omitempty" doc:"Where the person was found."`
	FoundOn     *domain.Date         `json:"found_on,omitempty" doc:"The date the person was found (arrived)."`
	Contact     string               `json:"contact,omitempty" doc:"The station's contact."`
	Photo       bool                 `json:"photo" doc:"Whether it shows a photo (GET /v1/public/notices/{id}/photo)."`
}

// NoticeQuery selects public notices: every field is optional.
type NoticeQuery struct {
	Sex       domain.Sex
	AgeBand   string
	Region    string
	FoundFrom domain.Date
	FoundTo   domain.Date // inclusive
	Limit     int
	Offset    int
}

// NoticePage is one page of public notices, newest first.
type NoticePage struct {
	Items      []PublicNotice `json:"items" doc:"The notices of this page, newest first."`
	Total      int            `json:"total" doc:"How many notices the search finds."`
	NextCursor string         `json:"next_cursor,omitempty" doc:"Pass it as cursor for the next page; absent on the last."`
}

// noticeBand returns a notice's age band.
func noticeBand(age *int) string {
	if age == nil {
		return "unknown"
	}
	on := domain.Date{Year: 2026, Month: 1, Day: 1}
	return ageBand(domain.Person{EstimatedAge: age, AgeEstimatedOn: on}, on.Time())
}

// publicNotice returns the notice of ce that is public now, as the public
// sees it.
func (m *model) publicNotice(ce *caseEntry) (PublicNotice, uuid.UUID, bool) {
	c := &ce.c
	n, ok := c.PublicNotice()
	if !ok || !c.Active() || c.PersonalDataErased() {
		return PublicNotice{}, uuid.UUID{}, false
	}
	p := PublicNotice{
		ID: n.NoticeID, Station: c.Station, Region: m.region(c.Station), PublishedAt: n.PublishedAt,
		Shows: n.Shows, Sex: n.Sex, Age: n.Age, AgeBand: noticeBand(n.Age), HeightCM: n.HeightCM, Health: n.Health,
		Features: n.Features, Clothing: n.Clothing, FoundPlace: n.FoundPlace, Contact: n.Contact,
		Photo: n.PhotoID != uuid.Nil,
	}
	if s := m.stations[c.Station]; s != nil {
		p.StationName = s.st.Name
	}
	if !n.FoundOn.IsZero() {
		d := n.FoundOn
		p.FoundOn = &d
	}
	return p, n.PhotoID, true
}

// PublicNotices returns a page of the notices public now that q selects,
// newest first.
func (r *Runner) PublicNotices(q NoticeQuery) (NoticePage, error) {
	var all []PublicNotice
	err := r.view(context.Background(), AsOf{}, func(m *model, at time.Time) error {
		m.eachCase(Filter{}, at, func(ce *caseEntry) {
			p, _, ok := m.publicNotice(ce)
			if !ok || (q.Sex != "" && p.Sex != q.Sex) || (q.AgeBand != "" && p.AgeBand != q.AgeBand) ||
				(q.Region != "" && p.Region != q.Region) {
				return
			}
			if !q.FoundFrom.IsZero() || !q.FoundTo.IsZero() {
				if p.FoundOn == nil || (!q.FoundFrom.IsZero() && p.FoundOn.Time().Before(q.FoundFrom.Time())) ||
					(!q.FoundTo.IsZero() && p.FoundOn.Time().After(q.FoundTo.Time())) {
					return
				}
			}
			all = append(all, p)
		})
		return nil
	})
	if err != nil {
		return NoticePage{}, err
	}
	slices.SortFunc(all, func(a, b PublicNotice) int {
		if c := b.PublishedAt.Compare(a.PublishedAt); c != 0 {
			return c
		}
		return slices.Compare(a.ID[:], b.ID[:])
	})
	out := NoticePage{Items: []PublicNotice{}, Total: len(all)}
	limit := q.Limit
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	if q.Offset < len(all) {
		end := min(len(all), q.Offset+limit)
		out.Items = all[q.Offset:end]
		if end < len(all) {
			out.NextCursor = strconv.Itoa(end)
		}
	}
	return out, nil
}

// PublicNoticeOf returns the public notice id, the case it is on and the
// photo it shows (uuid.Nil for none), while it is public.
func (r *Runner) PublicNoticeOf(id uuid.UUID) (PublicNotice, uuid.UUID, uuid.UUID, bool) {
	var (
		out           PublicNotice
		caseID, photo uuid.UUID
		found         bool
	)
	_ = r.view(context.Background(), AsOf{}, func(m *model, at time.Time) error {
		m.eachCase(Filter{}, at, func(ce *caseEntry) {
			if found {
				return
			}
			if p, ph, ok := m.publicNotice(ce); ok && p.ID == id {
				out, caseID, photo, found = p, ce.c.ID, ph, true
			}
		})
		return nil
	})
	return out, caseID, photo, found
}

// leadSignals emits the work item of the case's latest lead while it has
// not been followed up: no relatives contacted since, not identified, and
// the case still open.
func leadSignals(c *domain.Case, emit func(signal)) {
	leads := c.Leads()
	if len(leads) == 0 || !c.Active() || c.Identity.Verified {
		return
	}
	last := leads[len(leads)-1]
	if !c.Identity.RelativesContactedAt.Before(last.At) {
		return
	}
	emit(signal{rule: RuleLeadReceived, severity: SeverityHigh, due: last.At.Add(LeadAnswerDue), deadline: true,
		step: domain.StepRelativesContacted, worklistOnly: true, detail: "a lead from the public is not followed up"})
}
