package projections_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
	"waystation/eventstore/bolt"
	"waystation/projections"
)

// t0 is when every test's story begins.
var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

func openStore(tb testing.TB) *bolt.Store {
	tb.Helper()
	s, err := bolt.Open(tb.TempDir(), bolt.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// world writes valid domain events straight into a store, with the
// occurred-at and recorded-at times the test chooses.
type world struct {
	tb    testing.TB
	store *bolt.Store
	seq   atomic.Uint64
}

func newWorld(tb testing.TB) *world {
	tb.Helper()
	return &world{tb: tb, store: openStore(tb)}
}

// write appends ev to stream, occurred at `at` and recorded at rec (at
// when rec is zero), and returns its position.
func (w *world) write(stream string, at, rec time.Time, ev domain.Event) eventstore.Position {
	w.tb.Helper()
	if rec.IsZero() {
		rec = at
	}
	id := uuid.MustParse(fmt.Sprintf("01950000-0000-7000-8000-%012d", w.seq.Add(1)))
	meta := domain.Metadata{
		OccurredAt: at, RecordedAt: rec, Actor: "tok-staff", Role: domain.RoleStaff, LegalBasis: domain.BasisStatutoryDuty,
	}
	data, err := domain.Encode(id, ev, meta)
	if err != nil {
		w.tb.Fatal(err)
	}
	res, err := w.store.Append(context.Background(), stream, eventstore.Any, data)
	if err != nil {
		w.tb.Fatal(err)
	}
	return res.Position
}

func (w *world) station(code, region string, zones ...domain.ZoneBeds) {
	w.tb.Helper()
	w.write(domain.StationStream(code), t0.Add(-time.Hour), time.Time{},
		domain.StationRegistered{Code: code, Name: "Station " + code, Region: region, Kind: domain.KindStation, Zones: zones})
}

// intake opens a case at station, at `at`.
func (w *world) intake(station string, at time.Time, p domain.Person, in domain.Inspection) uuid.UUID {
	w.tb.Helper()
	id := uuid.MustParse(fmt.Sprintf("01960000-0000-7000-8000-%012d", w.seq.Add(1)))
	w.write(domain.CaseStream(id), at, time.Time{}, domain.IntakeRegistered{
		CaseID: id, Station: station, Referral: domain.Referral{Source: domain.SourceWalkIn}, Person: p, Inspection: in})
	return id
}

func (w *world) step(id uuid.UUID, at time.Time, ev domain.Event) eventstore.Position {
	w.tb.Helper()
	return w.write(domain.CaseStream(id), at, time.Time{}, ev)
}

func (w *world) bed(station string, id uuid.UUID, at time.Time, zone domain.Zone, n int) eventstore.Position {
	w.tb.Helper()
	return w.write(
		domain.StationStream(station), at, time.Time{},
		domain.BedAssigned{CaseID: id, Zone: zone, Bed: domain.BedName(zone, n)},
	)
}

func (w *world) release(
	station string, id uuid.UUID, at time.Time, zone domain.Zone, n int, reason string,
) eventstore.Position {
	w.tb.Helper()
	return w.write(
		domain.StationStream(station), at, time.Time{},
		domain.BedReleased{CaseID: id, Zone: zone, Bed: domain.BedName(zone, n), Reason: reason},
	)
}

// clock is a settable clock for the runner's "now".
type clock struct{ t atomic.Pointer[time.Time] }

func newClock(t time.Time) *clock { c := &clock{}; c.set(t); return c }
func (c *clock) set(t time.Time)  { c.t.Store(&t) }
func (c *clock) now() time.Time   { return *c.t.Load() }

// runner starts a Runner over w's store, waits until it has caught up, and
// stops it at the end of the test.
func (w *world) runner(now func() time.Time) *projections.Runner {
	w.tb.Helper()
	r := projections.NewRunner(w.store, w.store, projections.Options{Now: now, Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	w.tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			w.tb.Errorf("Run: %v", err)
		}
	})
	w.sync(r)
	return r
}

// sync waits until r has folded everything written so far.
func (w *world) sync(r *projections.Runner) {
	w.tb.Helper()
	head, err := w.store.Head(context.Background())
	if err != nil {
		w.tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.WaitFor(ctx, head); err != nil {
		w.tb.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

var (
	man = domain.Person{
		Name: "Zhang San", Sex: domain.Male, BirthDate: domain.Date{Year: 1980, Month: 5, Day: 1}, HukouPlace: "Hunan",
	}
	woman = domain.Person{Name: "Li Si", Sex: domain.Female, BirthDate: domain.Date{Year: 1990, Month: 3, Day: 4}}
	boy   = domain.Person{Name: "Wang Wu", Sex: domain.Male, BirthDate: domain.Date{Year: 2015, Month: 6, Day: 1}}
	old   = domain.Person{Name: "Liu Liu", Sex: domain.Male, EstimatedAge: ptr(75)}
)

var stdZones = []domain.ZoneBeds{
	{Zone: domain.ZoneAdultMale, Beds: 4, Seasonal: 2},
	{Zone: domain.ZoneAdultFemale, Beds: 2},
	{Zone: domain.ZoneMinors, Beds: 2},
}
