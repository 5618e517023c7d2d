package projections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
)

// StationInfo is a registered station.
type StationInfo struct {
	Code         string             `json:"code" doc:"The station's code."`
	Name         string             `json:"name" doc:"The station's name."`
	Region       string             `json:"region" doc:"Code of its region."`
	Kind         domain.StationKind `json:"kind" doc:"What kind of institution it is."`
	Zones        []domain.ZoneBeds  `json:"zones" doc:"Its zones and beds."`
	RegisteredAt time.Time          `json:"registered_at" doc:"When it was registered."`
}

func stationInfo(s *stationEntry) StationInfo {
	return StationInfo{Code: s.st.Code, Name: s.st.Name, Region: s.st.Region, Kind: s.st.Kind,
		Zones: slices.Clone(s.st.Zones), RegisteredAt: s.registeredAt}
}

// Stations returns every registered station of the live views, ordered by
// code.
func (r *Runner) Stations() []StationInfo {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]StationInfo, 0, len(r.live.stations))
	for _, s := range r.live.stations {
		if s.st.Registered() {
			out = append(out, stationInfo(s))
		}
	}
	slices.SortFunc(out, func(a, b StationInfo) int { return strings.Compare(a.Code, b.Code) })
	return out
}

// Station returns the registered station with code, and whether there is
// one.
func (r *Runner) Station(code string) (StationInfo, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s := r.live.stations[code]
	if s == nil || !s.st.Registered() {
		return StationInfo{}, false
	}
	return stationInfo(s), true
}

// ZoneOccupancy counts the beds of one zone: Beds includes the Seasonal
// (winter-warmth and summer-cooling) ones.
type ZoneOccupancy struct {
	Zone     domain.Zone `json:"zone" doc:"The zone."`
	Beds     int         `json:"beds" doc:"Number of beds, seasonal ones included."`
	Seasonal int         `json:"seasonal,omitempty" doc:"How many of them are seasonal beds."`
	Occupied int         `json:"occupied" doc:"Beds held by someone."`
	Free     int         `json:"free" doc:"Beds free."`
}

// Resident is a case in a bed.
type Resident struct {
	CaseID uuid.UUID   `json:"case_id" doc:"The case in the bed."`
	Zone   domain.Zone `json:"zone" doc:"The bed's zone."`
	Bed    string      `json:"bed" doc:"The bed."`
	Since  time.Time   `json:"since" doc:"Since when the case holds it."`
}

// Occupancy is a station's beds per zone, its residents with their beds,
// and the people of the station who are away in hospital or in transit
// (counted apart from beds).
type Occupancy struct {
	Station    string          `json:"station" doc:"The station's code."`
	At         time.Time       `json:"at" doc:"The moment shown."`
	Zones      []ZoneOccupancy `json:"zones" doc:"Beds per zone."`
	InHospital int             `json:"in_hospital" doc:"People of the station away in hospital, counted apart from beds."`
	InTransit  int             `json:"in_transit" doc:"People of the station in transit to another station."`
	Residents  []Resident      `json:"residents" doc:"Every case in a bed, by zone and bed."`
}

// Occupancy returns the occupancy of the station with code as of asOf. An
// unknown station is a domain not_found error.
func (r *Runner) Occupancy(code string, asOf AsOf) (Occupancy, error) {
	var out Occupancy
	err := r.view(context.Background(), asOf, func(m *model, at time.Time) error {
		s := m.stations[code]
		if s == nil || !s.st.Registered() {
			return domain.NotFound("no station %q", code)
		}
		out = occupancy(m, s, at)
		return nil
	})
	return out, err
}

func occupancy(m *model, s *stationEntry, at time.Time) Occupancy {
	o := Occupancy{Station: s.st.Code, At: at, Zones: []ZoneOccupancy{}, Residents: []Resident{}}
	for _, z := range s.st.Occupancy() {
		zb, _ := s.st.ZoneBeds(z.Zone)
		o.Zones = append(o.Zones, ZoneOccupancy{Zone: z.Zone, Beds: z.Beds, Seasonal: zb.Seasonal, Occupied: z.Occupied, Free: z.Free})
	}
	placements := s.st.Placements()
	zoneIndex := func(z domain.Zone) int {
		return slices.IndexFunc(s.st.Zones, func(zb domain.ZoneBeds) bool { return zb.Zone == z })
	}
	// Placements come ordered by zone name and bed number; show them in the
	// station's zone order instead.
	slices.SortStableFunc(placements, func(a, b domain.Placement) int { return zoneIndex(a.Zone) - zoneIndex(b.Zone) })
	for _, p := range placements {
		o.Residents = append(o.Residents, Resident{CaseID: p.CaseID, Zone: p.Zone, Bed: p.Bed, Since: p.Since})
	}
	for _, ce := range m.order {
		if ce.c.Station != s.st.Code {
			continue
		}
		switch ce.c.Status {
		case domain.StatusInHospital:
			o.InHospital++
		case domain.StatusInTransit:
			o.InTransit++
		}
	}
	return o
}

// CaseView is a case's current state: the domain's fold with the bed it
// holds (nil when none), its region and its flags now.
//
// PersonalDataErased is true once the person's personal data was erased:
// the personal values (name, ID number, birth date, health details...)
// then read as absent because they were erased, not because they were
// never recorded. In a history, or any view of the case as of a past
// moment or version, it says whether they are erased now, even when the
// view shows the case before its erasure: an erased value reads as erased
// in every view of the past too.
type CaseView struct {
	domain.Case
	Region             string   `json:"region,omitempty" doc:"Code of the region of the case's station."`
	Flags              []string `json:"flags" doc:"What the person needs care for at that moment (minor, under_16, elderly...)."`
	PersonalDataErased bool     `json:"personal_data_erased,omitempty" doc:"True when the person's personal data has been erased (now, even in a view of the past)."`
}

func caseView(m *model, ce *caseEntry, at time.Time) CaseView {
	v := CaseView{Case: ce.c, Region: m.region(ce.c.Station), Flags: ce.c.Flags(at), PersonalDataErased: ce.c.PersonalDataErased()}
	v.Bed = nil
	if ce.bed != nil {
		v.Bed = &domain.Bed{Zone: ce.bed.Zone, Bed: ce.bed.Bed}
	}
	if v.Flags == nil {
		v.Flags = []string{}
	}
	return v
}

// Case returns the current state of case id from the live views, and
// whether the case exists.
func (r *Runner) Case(id uuid.UUID) (CaseView, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	ce := r.live.cases[id]
	if ce == nil || !ce.opened() {
		return CaseView{}, false
	}
	return caseView(r.live, ce, r.opts.Now()), true
}

// HistoryEvent is one event of a case's timeline: an event of the case's
// stream, or a station event about the case (its bed). EventID is the
// event's ID, the one a correction names (docs/api.md: correction's event_id);
// Position is its place in the global log; Version is the revision of the
// event in its own stream, plus one. Erased lists the dotted JSON paths of
// the event's personal values (domain.PersonalPaths) that read as erased:
// recorded, then erased with the case's personal data, so that Data shows
// them absent or empty. It is empty for a case whose personal data was not
// erased, for the events recorded after the erasure (they hold no
// personal values) and for station events.
type HistoryEvent struct {
	EventID    uuid.UUID           `json:"event_id" doc:"The event's ID: the one a correction names."`
	Position   eventstore.Position `json:"position" doc:"The event's position in the global log."`
	Stream     string              `json:"stream" doc:"The stream it belongs to (the case's, or the station's for bed events)."`
	Version    uint64              `json:"version" doc:"Its revision in its stream, plus one."`
	Type       string              `json:"type" doc:"Its stored type (e.g. case.intake_registered)."`
	OccurredAt time.Time           `json:"occurred_at" doc:"When the step happened."`
	RecordedAt time.Time           `json:"recorded_at" doc:"When it was recorded."`
	Actor      string              `json:"actor" doc:"ID of the token that recorded it."`
	Role       domain.Role         `json:"role,omitempty" doc:"Role of that token."`
	Station    string              `json:"station,omitempty" doc:"Station of that token, for staff."`
	Data       json.RawMessage     `json:"data" doc:"The event's data as it reads now."`
	Erased     []string            `json:"erased,omitempty" doc:"Dotted paths of the personal values erased since (they read as absent in data)."`
}

// History is a case's timeline up to a moment or a version, in global log
// order, and the case's state at that point. When the case's personal data
// has been erased (by now, whatever the moment shown), the state's
// PersonalDataErased is true and each event lists the personal values
// that read as erased (HistoryEvent.Erased).
type History struct {
	ID      uuid.UUID      `json:"id" doc:"The case's ID."`
	AsOf    time.Time      `json:"as_of,omitzero" doc:"The moment shown, when as_of was given."`
	Known   bool           `json:"known,omitempty" doc:"True when only what had been recorded by as_of is shown."`
	Version uint64         `json:"version" doc:"The case's version at that point."`
	State   CaseView       `json:"state" doc:"The case as it stood at that point."`
	Events  []HistoryEvent `json:"events" doc:"The case's events up to that point, in log order."`
}

// History returns the timeline of case id and its state: all of it, or as
// of asOf (see AsOf), or up to the case's version when version > 0. An
// unknown case, or one that had not begun by asOf, is not_found; a version
// beyond the case's is invalid.
func (r *Runner) History(id uuid.UUID, asOf AsOf, version int) (History, error) {
	if version < 0 {
		return History{}, domain.Invalid("version", "version must be positive")
	}
	r.mu.RLock()
	ce := r.live.cases[id]
	var refs []bedRef
	if ce != nil {
		refs = ce.beds[:len(ce.beds):len(ce.beds)]
	}
	r.mu.RUnlock()
	if ce == nil {
		return History{}, domain.NotFound("no case %s", id)
	}
	ctx := context.Background()
	var events []domain.Envelope
	var data [][]byte // the events' data as read, erased values as null
	erasure := -1     // the index of the case's erasure in events, if any
	for rec, err := range r.store.ReadStream(ctx, domain.CaseStream(id), eventstore.ReadStreamOptions{}) {
		if err != nil {
			if errorsIsNotFound(err) {
				return History{}, domain.NotFound("no case %s", id)
			}
			return History{}, domain.Internal(err, "reading the case failed")
		}
		env, err := domain.Decode(rec)
		if err != nil {
			return History{}, domain.Internal(err, "decoding an event of the case failed")
		}
		if rec.Type == domain.TypePersonalDataErased && erasure < 0 {
			erasure = len(events)
		}
		events = append(events, env)
		data = append(data, rec.Data)
	}
	// Only the events before the erasure can hold erased values: the
	// sealed store takes no personal value for an erased case.
	erased := make(map[uuid.UUID][]string)
	for i := range erasure {
		if paths := erasedPaths(events[i].Event.EventType(), data[i]); len(paths) > 0 {
			erased[events[i].ID] = paths
		}
	}
	if version > len(events) {
		return History{}, domain.Invalid("version", "version must be at most the case's version, %d", len(events))
	}
	// The cut: the last case event kept, by version or by time.
	limit := eventstore.End
	if version > 0 {
		limit = events[version-1].Position
	}
	if !asOf.Position.IsZero() && asOf.Position.Before(limit) {
		limit = asOf.Position
	}
	beds := make([]domain.Envelope, 0, len(refs))
	for _, ref := range refs {
		env, err := r.readEvent(ctx, ref)
		if err != nil {
			return History{}, domain.Internal(err, "reading a bed event of the case failed")
		}
		beds = append(beds, env)
	}
	merged := mergeByPosition(events, beds)
	h := History{ID: id, AsOf: asOf.At, Known: asOf.Known && !asOf.At.IsZero(), Events: []HistoryEvent{}}
	m := newModel()
	for _, env := range merged {
		if limit.Before(env.Position) {
			break
		}
		if !asOf.At.IsZero() && !asOf.keeps(env) {
			continue
		}
		m.apply(env)
		he := historyEvent(env)
		he.Erased = erased[env.ID] // none for a station event
		h.Events = append(h.Events, he)
	}
	st := m.cases[id]
	if st == nil || !st.opened() {
		return History{}, domain.NotFound("case %s had not begun by then", id)
	}
	at := asOf.At
	if at.IsZero() {
		at = r.opts.Now()
	}
	h.State = caseView(m, st, at)
	h.State.Region = r.regionOf(st.c.Station)
	h.State.PersonalDataErased = erasure >= 0
	h.Version = st.c.Version
	return h, nil
}

// readEvent reads and decodes the station event that ref names.
func (r *Runner) readEvent(ctx context.Context, ref bedRef) (domain.Envelope, error) {
	for rec, err := range r.store.ReadStream(ctx, ref.stream, eventstore.ReadStreamOptions{From: ref.revision, Limit: 1}) {
		if err != nil {
			return domain.Envelope{}, err
		}
		if rec.Revision != ref.revision {
			break
		}
		return domain.Decode(rec)
	}
	return domain.Envelope{}, fmt.Errorf("projections: %s has no event at revision %d", ref.stream, ref.revision)
}

func (r *Runner) regionOf(code string) string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.live.region(code)
}

func mergeByPosition(a, b []domain.Envelope) []domain.Envelope {
	out := make([]domain.Envelope, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		if j == len(b) || (i < len(a) && a[i].Position.Before(b[j].Position)) {
			out = append(out, a[i])
			i++
		} else {
			out = append(out, b[j])
			j++
		}
	}
	return out
}

func historyEvent(env domain.Envelope) HistoryEvent {
	data, err := json.Marshal(env.Event)
	if err != nil {
		data = []byte("null")
	}
	rec := env.Meta.RecordedAt
	if rec.IsZero() {
		rec = env.RecordedAt
	}
	return HistoryEvent{
		EventID: env.ID, Position: env.Position, Stream: env.Stream, Version: env.Revision + 1,
		Type: env.Event.EventType(), OccurredAt: env.Meta.OccurredAt, RecordedAt: rec,
		Actor: env.Meta.Actor, Role: env.Meta.Role, Station: env.Meta.Station, Data: data,
	}
}

// CaseQuery selects cases: by station or region, by status, and by Q, a
// fragment of the person's name or ID number. Limit is the page size (50
// when zero, at most 500); Cursor is the NextCursor of the previous page.
type CaseQuery struct {
	Station string
	Region  string
	Status  string
	Q       string
	Limit   int
	Cursor  string
}

// CaseSummary is one case in a search result.
type CaseSummary struct {
	ID       uuid.UUID     `json:"id" doc:"The case's ID."`
	Version  uint64        `json:"version" doc:"The case's version."`
	Station  string        `json:"station" doc:"Code of its station."`
	Region   string        `json:"region,omitempty" doc:"Code of the station's region."`
	Status   domain.Status `json:"status" doc:"Where the case stands."`
	Name     string        `json:"name,omitempty" doc:"The person's name."`
	Sex      domain.Sex    `json:"sex" doc:"The person's sex."`
	Age      *int          `json:"age,omitempty" doc:"The person's age now, in whole years, when known."`
	OpenedAt time.Time     `json:"opened_at" doc:"When the person arrived."`
	ExitedAt time.Time     `json:"exited_at,omitzero" doc:"When the person left."`
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
			q.Status != "" && string(c.Status) != q.Status {
			continue
		}
		if q.Q != "" && !(name != "" && strings.Contains(normalise(c.Person.Name), name) ||
			idFrag != "" && strings.Contains(strings.ToUpper(c.Person.IDNumber), idFrag)) {
			continue
		}
		if len(page.Items) == limit {
			page.NextCursor = strconv.Itoa(i + 1)
			break
		}
		s := CaseSummary{ID: c.ID, Version: c.Version, Station: c.Station, Region: m.region(c.Station),
			Status: c.Status, Name: c.Person.Name, Sex: c.Person.Sex, OpenedAt: c.OpenedAt, ExitedAt: c.ExitedAt}
		if age, ok := c.AgeOn(now); ok {
			s.Age = &age
		}
		page.Items = append(page.Items, s)
	}
	return page, nil
}

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

func validStatus(s domain.Status) bool {
	switch s {
	case domain.StatusReceived, domain.StatusInStation, domain.StatusInHospital, domain.StatusLongStay,
		domain.StatusInTransit, domain.StatusExited, domain.StatusRefused, domain.StatusClosed:
		return true
	}
	return false
}

func errorsIsNotFound(err error) bool {
	return errors.Is(err, eventstore.ErrStreamNotFound) || errors.Is(err, eventstore.ErrStreamDeleted)
}
