package projections

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
)

// model is every view's state, folded from the global log by apply. One
// model is written by one goroutine at a time; the Runner guards the live
// one with its mutex and replays "as of" into private ones.
type model struct {
	pos      eventstore.Position
	applied  uint64
	stations map[string]*stationEntry
	cases    map[uuid.UUID]*caseEntry
	order    []*caseEntry            // cases in intake order
	persons  map[string][]*caseEntry // person key -> cases, in intake order
	// atStation lists, for each station, the cases that belong to its
	// boards: those at the station and those in transfer to it.
	atStation map[string][]*caseEntry
}

// stationEntry is a station folded by the domain's station fold.
type stationEntry struct {
	st           domain.Station
	registeredAt time.Time
	stream       string // the station's stream name, shared by its bedRefs
	// capacity is the station's bed count over time, ordered by from: the
	// zones of its registration count from the start of time (reference
	// data, see AsOf), each change of zones from when it happened.
	capacity []capacityChange
}

// capacityChange is a station's bed count (permanent and seasonal, every
// zone) from a moment on (Unix nanoseconds).
type capacityChange struct {
	from int64
	beds int
}

// bedRef names a station event about a case (a bed assigned or released),
// which a history reads back from the store: holding the decoded events
// would take a large share of the live views' memory.
type bedRef struct {
	stream   string
	revision uint64
}

// placement is the bed a case holds, from the station streams.
type placement struct {
	Station string
	Zone    domain.Zone
	Bed     string
	Since   time.Time
}

// stay is one interval that a case spent belonging to a station; To is zero
// while it lasts (or until the case's exit).
type stay struct {
	Station string
	From    time.Time
	To      time.Time
}

// span is an interval of occurred times in Unix nanoseconds, from
// inclusive to exclusive; to is 0 while it lasts.
type span struct{ from, to int64 }

// end returns s.to, or the largest time while s lasts.
func (s span) end() int64 {
	if s.to == 0 {
		return math.MaxInt64
	}
	return s.to
}

// hold is a span over which a case held a bed at a station (from its
// assignment to its release, or to the next assignment).
type hold struct {
	station string
	span
}

// caseEntry is one case: the domain's fold plus what the views add.
type caseEntry struct {
	c       domain.Case
	seq     int // index in model.order
	bed     *placement
	beds    []bedRef  // station events about the case, for histories
	lastAt  time.Time // occurred_at of the case's latest event
	stays   []stay
	holds   []hold   // the beds the case held, in log order, for bed nights
	away    []span   // in hospital or in transit, ordered by start
	keys    []string // person keys
	openPos eventstore.Position
	number  string // the case number, from the station's register

	// transfers are every transfer of the case, in request order.
	transfers []transferRecord
}

// closeHold ends the bed hold that lasts, if any, at t.
func (ce *caseEntry) closeHold(t time.Time) {
	if n := len(ce.holds); n > 0 && ce.holds[n-1].to == 0 {
		ce.holds[n-1].to = max(t.UnixNano(), ce.holds[n-1].from)
	}
}

// leave starts a time away from the station (hospital, transit) at t,
// unless one lasts already.
func (ce *caseEntry) leave(t time.Time) {
	for _, a := range ce.away {
		if a.to == 0 {
			return
		}
	}
	ce.away = append(ce.away, span{from: t.UnixNano()})
	// Paperwork caught up late may start a span before earlier ones.
	slices.SortStableFunc(ce.away, func(a, b span) int { return cmp.Compare(a.from, b.from) })
}

// comeBack ends the time away that lasts, if any, at t.
func (ce *caseEntry) comeBack(t time.Time) {
	for i, a := range ce.away {
		if a.to == 0 {
			ce.away[i].to = max(t.UnixNano(), a.from)
		}
	}
}

func newModel() *model {
	return &model{
		stations:  map[string]*stationEntry{},
		cases:     map[uuid.UUID]*caseEntry{},
		persons:   map[string][]*caseEntry{},
		atStation: map[string][]*caseEntry{},
	}
}

// caseReader returns the events of case id's stream before revision
// before, decoded, that the fold of a model kept: every decodable one, or
// those a moment selects (AsOf). A model folds a case again from them for
// a correction (applyCase).
type caseReader func(id uuid.UUID, before uint64) ([]domain.Envelope, error)

// apply folds one event into the model; read gives a case's earlier
// events for a correction. Events of unknown streams are counted and
// otherwise ignored. When read fails, apply returns its error and the
// model stays as it was.
func (m *model) apply(env domain.Envelope, read caseReader) error {
	if env.Event == nil {
		m.pos = env.Position
		return nil // undecodable: the position moves on, nothing else
	}
	if id, ok := domain.CaseIDOf(env.Stream); ok {
		if err := m.applyCase(id, env, read); err != nil {
			return err
		}
	} else if code, ok := domain.StationCodeOf(env.Stream); ok {
		m.applyStation(code, env)
	} else if e, ok := env.Event.(domain.CaseNumbered); ok && strings.HasPrefix(env.Stream, domain.CaseNumbersStreamPrefix) {
		// The register's revision is the number (domain.CaseNumbered).
		m.caseFor(e.CaseID).number = domain.CaseNumber(e.Station, e.Year, int(env.Revision)+1)
	}
	m.pos = env.Position
	m.applied++
	return nil
}

func (m *model) applyStation(code string, env domain.Envelope) {
	s := m.stations[code]
	if s == nil {
		s = &stationEntry{stream: env.Stream}
		m.stations[code] = s
	}
	s.st.Evolve(env)
	at := env.Meta.OccurredAt
	switch e := env.Event.(type) {
	case domain.StationRegistered:
		s.registeredAt = at
		s.setCapacity(math.MinInt64, e.Zones)
	case domain.ZonesChanged:
		s.setCapacity(at.UnixNano(), e.Zones)
	case domain.BedAssigned:
		ce := m.caseFor(e.CaseID)
		ce.bed = &placement{Station: code, Zone: e.Zone, Bed: e.Bed, Since: at}
		ce.beds = append(ce.beds, bedRef{s.stream, env.Revision})
		ce.closeHold(at)
		ce.holds = append(
			ce.holds, hold{station: strings.TrimPrefix(s.stream, domain.StationStreamPrefix), span: span{from: at.UnixNano()}},
		)
	case domain.BedReleased:
		ce := m.caseFor(e.CaseID)
		if ce.bed != nil && ce.bed.Station == code && ce.bed.Bed == e.Bed {
			ce.bed = nil
			ce.closeHold(at)
		}
		ce.beds = append(ce.beds, bedRef{s.stream, env.Revision})
	}
}

// caseFor returns the entry of case id, creating an empty one for a case
// whose intake has not been seen (bed events only follow intakes, so this
// happens only in an "as of" replay that filtered the intake out).
func (m *model) caseFor(id uuid.UUID) *caseEntry {
	ce := m.cases[id]
	if ce == nil {
		ce = &caseEntry{seq: -1, c: domain.Case{}.WithoutPayloads()}
		m.cases[id] = ce
	}
	return ce
}

// applyCase folds an event of case id's stream into the model.
func (m *model) applyCase(id uuid.UUID, env domain.Envelope, read caseReader) error {
	if _, ok := env.Event.(domain.Corrected); ok {
		return m.applyCorrection(id, env, read)
	}
	ce := m.caseFor(id)
	before, filed := ce.c.Station, boardsOf(&ce.c)
	ce.c.Apply(env)
	m.afterCase(ce, before, filed, env)
	return nil
}

// applyCorrection folds correction env of case id into the model. The
// views keep no payloads of the cases' events (domain.Case.WithoutPayloads),
// which a correction folds the case again from, so the case is folded
// again from its stream, which read gives, through the one fold
// (domain.Fold). Corrections are rare.
func (m *model) applyCorrection(id uuid.UUID, env domain.Envelope, read caseReader) error {
	earlier, err := read(id, env.Revision)
	if err != nil {
		return fmt.Errorf("projections: reading case %s to fold a correction: %w", id, err)
	}
	ce := m.caseFor(id)
	before, filed := ce.c.Station, boardsOf(&ce.c)
	ce.c = domain.Fold(append(earlier, env)).WithoutPayloads()
	m.afterCase(ce, before, filed, env)
	return nil
}

// afterCase folds event env of case ce, which ce.c has folded, into what
// the views add to the case; before is the case's station before env, and
// filed the stations it was filed under (boardsOf).
func (m *model) afterCase(ce *caseEntry, before string, filed []string, env domain.Envelope) {
	ce.foldTransfer(env)
	ce.lastAt = env.Meta.OccurredAt
	at := env.Meta.OccurredAt
	switch env.Event.(type) {
	case domain.IntakeRegistered:
		if ce.seq < 0 {
			ce.seq = len(m.order)
			m.order = append(m.order, ce)
		}
		ce.openPos = env.Position
		ce.stays = []stay{{Station: ce.c.Station, From: at}}
		m.reindex(ce)
	case domain.HandedOver:
		ce.comeBack(at)
		if n := len(ce.stays); n > 0 && ce.c.Station != before {
			ce.stays[n-1].To = at
			ce.stays = append(ce.stays, stay{Station: ce.c.Station, From: at})
		}
	case domain.IdentityVerified, domain.Corrected, domain.PersonalDataErased:
		m.reindex(ce)
	case domain.HospitalAdmitted, domain.EscortDeparted:
		ce.leave(at)
	case domain.MedicalReturned:
		ce.comeBack(at)
	}
	m.refile(ce, filed)
}

// boardsOf lists the stations whose boards case c belongs to: its own and
// the one a transfer in flight is addressed to. (Computed, not kept: a
// case entry's size decides its allocation class.)
func boardsOf(c *domain.Case) []string {
	out := make([]string, 0, 2)
	if c.Station != "" {
		out = append(out, c.Station)
	}
	if t := c.Transfer; t != nil && t.To != "" && t.To != c.Station {
		out = append(out, t.To)
	}
	return out
}

// refile moves the case from the atStation lists of the stations it was
// filed under to those of boardsOf it now.
func (m *model) refile(ce *caseEntry, was []string) {
	now := boardsOf(&ce.c)
	if slices.Equal(now, was) {
		return
	}
	for _, code := range was {
		if !slices.Contains(now, code) {
			m.atStation[code] = slices.DeleteFunc(m.atStation[code], func(x *caseEntry) bool { return x == ce })
		}
	}
	for _, code := range now {
		if !slices.Contains(was, code) {
			m.atStation[code] = append(m.atStation[code], ce)
		}
	}
}

// reindex files the case under its current person keys.
func (m *model) reindex(ce *caseEntry) {
	keys := personKeys(ce.c.Person)
	if slices.Equal(keys, ce.keys) {
		return
	}
	for _, k := range ce.keys {
		list := slices.DeleteFunc(m.persons[k], func(x *caseEntry) bool { return x == ce })
		if len(list) == 0 {
			delete(m.persons, k)
		} else {
			m.persons[k] = list
		}
	}
	for _, k := range keys {
		list := append(m.persons[k], ce)
		slices.SortFunc(list, func(a, b *caseEntry) int { return a.seq - b.seq })
		m.persons[k] = list
	}
	ce.keys = keys
}

// region returns the region of a station, or "".
func (m *model) region(code string) string {
	if s := m.stations[code]; s != nil {
		return s.st.Region
	}
	return ""
}

// opened reports whether the entry is a case whose intake was applied.
func (ce *caseEntry) opened() bool { return ce.seq >= 0 && ce.c.Exists() }
