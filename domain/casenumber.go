package domain

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"waystation/eventstore"
)

// Case numbers (docs/domain.md, Case numbers): every case gets a number
// at its intake, S01-2026-000123, unique per station and year (the civil
// year in Beijing time of the intake) and without gaps. The register of a
// station's year is the stream CaseNumbersStream(station, year); the n-th
// CaseNumbered event on it (revision n-1) gives its case number n. An
// append expects the revision the writer has read up to and that the case
// is not on it yet, so two writers can never give one number twice, one
// case two numbers, or leave a gap: the loser of a race reads the winner's
// event and tries again. The stores append atomically to one stream only,
// so the intake and its number are two writes; Reconcile numbers the
// intakes that a crash left between them, and those recorded before case
// numbers existed, in the order of the log.

// TypeCaseNumbered is the stored name of CaseNumbered. Never rename or
// reuse it.
const TypeCaseNumbered = "numbers.case_numbered"

// CaseNumbersStreamPrefix begins the name of every case number register.
const CaseNumbersStreamPrefix = "numbers-"

// CaseNumbersStream returns the name of the register of the case numbers
// of station in year.
func CaseNumbersStream(station string, year int) string {
	return CaseNumbersStreamPrefix + station + "-" + strconv.Itoa(year)
}

// CaseNumbered gives case CaseID the number Number of the register of
// Station's Year; Number is the event's revision in the register plus
// one.
type CaseNumbered struct {
	CaseID  uuid.UUID `json:"case_id"`
	Station string    `json:"station"`
	Year    int       `json:"year"`
	Number  int       `json:"number"`
}

// EventType returns TypeCaseNumbered.
func (CaseNumbered) EventType() string { return TypeCaseNumbered }

// CaseNumber formats the number n of station's year: S01-2026-000123 (six
// digits at least).
func CaseNumber(station string, year, n int) string {
	return fmt.Sprintf("%s-%04d-%06d", station, year, n)
}

// String returns the case number e gives (CaseNumber).
func (e CaseNumbered) String() string { return CaseNumber(e.Station, e.Year, e.Number) }

// NumberYear returns the year whose register numbers a case opened at
// opened: its civil year in Beijing time.
func NumberYear(opened time.Time) int { return opened.In(CivilZone).Year() }

// IntakeStation returns the station that recorded case c's intake, whose
// register numbers it: the sending station of its first handover, or its
// station when it never moved.
func IntakeStation(c Case) string {
	if len(c.Handovers) > 0 {
		return c.Handovers[0].From
	}
	return c.Station
}

// numberNamespace derives the ID of a case's CaseNumbered event from the
// case ID, so that a repeated append of it is recognized by the store too.
var numberNamespace = uuid.MustParse("4f0c1a52-6c1e-4d0e-9a58-3d5c2f7b9e10")

func init() {
	if err := Register[CaseNumbered](Events, 1); err != nil {
		panic(err)
	}
}

// register is a case number register folded up to count events: the
// number of each case on it and the position of the event that gave it.
type register struct {
	mu     sync.Mutex
	count  uint64                 // guarded by mu
	byCase map[uuid.UUID]numberAt // guarded by mu
}

// numberAt is a case's number and the log position of its CaseNumbered.
type numberAt struct {
	n   int
	pos eventstore.Position
}

// registers holds the registers a Service has read, by stream name.
type registers struct {
	mu sync.Mutex
	m  map[string]*register // guarded by mu
}

func (rs *registers) get(stream string) *register {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.m == nil {
		rs.m = map[string]*register{}
	}
	r := rs.m[stream]
	if r == nil {
		r = &register{byCase: map[uuid.UUID]numberAt{}}
		rs.m[stream] = r
	}
	return r
}

// catchUp folds the register's events written since r.count, by this
// service or any other. The caller holds r.mu.
func (s *Service) catchUp(ctx context.Context, stream string, r *register) error {
	for rec, err := range s.store.ReadStream(ctx, stream, eventstore.ReadStreamOptions{From: r.count}) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return nil
		}
		if err != nil {
			return Internal(err, "the case number register cannot be read")
		}
		env, err := Decode(rec)
		if err != nil {
			return Internal(err, "the case number register holds an undecodable event")
		}
		if e, ok := env.Event.(CaseNumbered); ok {
			r.byCase[e.CaseID] = numberAt{int(rec.Revision) + 1, rec.Position}
		}
		r.count = rec.Revision + 1
	}
	return nil
}

// CaseNumber returns case c's number, or "" while it has none.
func (s *Service) CaseNumber(ctx context.Context, c Case) (string, error) {
	if !c.Exists() {
		return "", nil
	}
	station, year := IntakeStation(c), NumberYear(c.OpenedAt)
	stream := CaseNumbersStream(station, year)
	r := s.numbers.get(stream)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := s.catchUp(ctx, stream, r); err != nil {
		return "", err
	}
	if at, ok := r.byCase[c.ID]; ok {
		return CaseNumber(station, year, at.n), nil
	}
	return "", nil
}

// numberCase gives the case id, opened at station at opened, its number,
// unless its register holds one already: it reads the register to its end
// and appends expecting that end, again after a conflict. It returns the
// number, the position of the event that gave it, and whether this call
// gave it.
func (s *Service) numberCase(ctx context.Context, actor Actor, id uuid.UUID, station string,
	opened time.Time) (string, eventstore.Position, bool, error) {
	year := NumberYear(opened)
	stream := CaseNumbersStream(station, year)
	r := s.numbers.get(stream)
	r.mu.Lock()
	defer r.mu.Unlock()
	attempts := max(s.MaxAttempts, 1)
	for range attempts {
		if err := s.catchUp(ctx, stream, r); err != nil {
			return "", eventstore.Position{}, false, err
		}
		if at, ok := r.byCase[id]; ok {
			return CaseNumber(station, year, at.n), at.pos, false, nil
		}
		expected := eventstore.NoStream
		if r.count > 0 {
			expected = eventstore.Exact(r.count - 1)
		}
		n := int(r.count) + 1
		now := s.now()
		ev := CaseNumbered{CaseID: id, Station: station, Year: year, Number: n}
		meta := Metadata{OccurredAt: now, RecordedAt: now, Actor: actor.ID, Role: actor.Role, Station: station,
			Region: actor.Region, LegalBasis: BasisStatutoryDuty}
		res, err := s.append(ctx, stream, expected, []uuid.UUID{uuid.NewSHA1(numberNamespace, id[:])},
			[]Event{ev}, meta)
		if errors.Is(err, eventstore.ErrWrongExpectedVersion) || errors.Is(err, eventstore.ErrIdempotencyConflict) {
			continue // another writer numbered a case (maybe this one) meanwhile: read it
		}
		if err != nil {
			return "", eventstore.Position{}, false, err
		}
		r.byCase[id] = numberAt{n, res.Position}
		r.count = uint64(n)
		return ev.String(), res.Position, true, nil
	}
	return "", eventstore.Position{}, false, &Error{Code: CodeConflict, Err: errRetry,
		Message: "the case number register was too busy; the case will be numbered by the reconciler"}
}

// unnumbered is what NumberCases knows of the log: the intakes without a
// number, in log order, as far as it has read.
type unnumbered struct {
	mu      sync.Mutex
	after   eventstore.Position  // guarded by mu
	pending map[uuid.UUID]string // guarded by mu: case → the station of its intake
	order   []uuid.UUID          // guarded by mu: pending's cases in log order, and some numbered since
}

// NumberCases gives a number to every case opened at the station with
// code that has none (a crash between the intake and its number, or a
// case recorded before case numbers existed), in the order of their
// intakes in the log, and returns how many it numbered. It reads the log
// from where its previous call stopped. Reconcile calls it.
func (s *Service) NumberCases(ctx context.Context, code string) (int, error) {
	u := &s.unnumbered
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.pending == nil {
		u.pending = map[uuid.UUID]string{}
	}
	for rec, err := range s.store.ReadAll(ctx, eventstore.ReadAllOptions{From: u.after}) {
		if err != nil {
			return 0, Internal(err, "the log cannot be read")
		}
		switch {
		case rec.Type == TypeIntakeRegistered:
			id, isCase := CaseIDOf(rec.Stream)
			if !isCase {
				break
			}
			env, err := Decode(rec)
			if err != nil {
				return 0, Internal(err, "an intake cannot be decoded")
			}
			if in, ok := env.Event.(IntakeRegistered); ok {
				u.pending[id] = in.Station
				u.order = append(u.order, id)
			}
		case rec.Type == TypeCaseNumbered && strings.HasPrefix(rec.Stream, CaseNumbersStreamPrefix):
			env, err := Decode(rec)
			if err != nil {
				return 0, Internal(err, "a case number cannot be decoded")
			}
			if e, ok := env.Event.(CaseNumbered); ok {
				delete(u.pending, e.CaseID) // numbers follow their intakes in the log
			}
		}
		u.after = rec.Position
	}
	actor := Actor{ID: ServiceActorID, Role: RoleAdmin}
	numbered := 0
	keep := make([]uuid.UUID, 0, len(u.order))
	for i, id := range u.order {
		station, ok := u.pending[id]
		if !ok {
			continue
		}
		if station != code {
			keep = append(keep, id)
			continue
		}
		if err := s.numberPending(ctx, actor, id, station, &numbered); err != nil {
			u.order = append(keep, u.order[i:]...)
			return numbered, err
		}
		delete(u.pending, id)
	}
	u.order = keep
	return numbered, nil
}

// numberPending numbers the case id, whose intake was at station, unless
// it is gone, counting in numbered the numbers it gives.
func (s *Service) numberPending(ctx context.Context, actor Actor, id uuid.UUID, station string, numbered *int) error {
	c, found, err := s.loadCase(ctx, id, nil)
	if err != nil || !found {
		return err
	}
	_, _, fresh, err := s.numberCase(ctx, actor, id, station, c.OpenedAt)
	if fresh {
		*numbered++
	}
	return err
}
