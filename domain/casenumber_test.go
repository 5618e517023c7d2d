package domain_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
)

// numberOf returns case id's number as the service shows it.
func (f *fixture) numberOf(tb testing.TB, svc *domain.Service, id uuid.UUID) string {
	tb.Helper()
	c, err := svc.Case(f.ctx, id)
	if err != nil {
		tb.Fatal(err)
	}
	return c.CaseNumber
}

// registerLength is how many numbers the register of station's year holds.
func (f *fixture) registerLength(tb testing.TB, station string, year int) int {
	tb.Helper()
	n := 0
	for _, err := range f.store.ReadStream(f.ctx, domain.CaseNumbersStream(station, year), eventstore.ReadStreamOptions{}) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return 0
		}
		if err != nil {
			tb.Fatal(err)
		}
		n++
	}
	return n
}

func manIntake(station string) *domain.Intake {
	return &domain.Intake{Station: station, Referral: walkIn, Person: man}
}

// TestConcurrentIntakesAreNumberedOneToNWithoutGaps: intakes at one
// station from many goroutines on two services over one store (two
// replicas) get the numbers 1..N once each; another station counts apart.
func TestConcurrentIntakesAreNumberedOneToNWithoutGaps(t *testing.T) {
	f := newFixture(t)
	other := domain.NewService(f.store, f.clock.Now)
	const n = 40
	var wg sync.WaitGroup
	ids := make([]uuid.UUID, n)
	numbers := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			svc := f.svc
			if i%2 == 1 {
				svc = other
			}
			r, err := svc.Intake(f.ctx, staff1, manIntake("S01"), domain.Options{})
			if err == nil && r.NumberPending {
				err = errors.New("number pending")
			}
			ids[i], numbers[i], errs[i] = uuid.MustParse(r.ID), r.CaseNumber, err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	want := make([]string, n)
	for i := range n {
		want[i] = fmt.Sprintf("S01-2026-%06d", i+1)
	}
	got := slices.Clone(numbers)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("numbers %v, want 1..%d once each", got, n)
	}
	for i, id := range ids {
		for _, svc := range []*domain.Service{f.svc, other} {
			if got := f.numberOf(t, svc, id); got != numbers[i] {
				t.Errorf("case %s shows number %q, the intake answered %q", id, got, numbers[i])
			}
		}
	}
	if got := f.registerLength(t, "S01", 2026); got != n {
		t.Errorf("the register holds %d numbers, want %d", got, n)
	}
	r := ok(t)(f.svc.Intake(f.ctx, staff2, manIntake("S02"), domain.Options{}))
	if r.CaseNumber != "S02-2026-000001" {
		t.Errorf("S02's first case is %q, want S02-2026-000001", r.CaseNumber)
	}
}

// TestARetriedIntakeKeepsItsNumber: a keyed intake sent again answers the
// same number and writes nothing.
func TestARetriedIntakeKeepsItsNumber(t *testing.T) {
	f := newFixture(t)
	first := ok(t)(f.svc.Intake(f.ctx, staff1, manIntake("S01"), domain.Options{IdempotencyKey: "k"}))
	head := f.head(t)
	again := ok(t)(f.svc.Intake(f.ctx, staff1, manIntake("S01"), domain.Options{IdempotencyKey: "k"}))
	if !again.Replayed || again.CaseNumber != first.CaseNumber || first.CaseNumber != "S01-2026-000001" ||
		again.Position != first.Position || f.head(t) != head {
		t.Fatalf("retry %+v, first %+v: want the same number and nothing written", again, first)
	}
}

// failingNumbers is a store whose appends to case number registers fail
// while fail is set: a crash between an intake and its number.
type failingNumbers struct {
	eventstore.Store
	fail atomic.Bool
}

func (s *failingNumbers) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision,
	events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if s.fail.Load() && strings.HasPrefix(stream, domain.CaseNumbersStreamPrefix) {
		return eventstore.AppendResult{}, errors.New("the process died")
	}
	return s.Store.Append(ctx, stream, expected, events...)
}

// TestReconcileNumbersIntakesLeftWithoutANumber: an intake whose number
// was never written (the process died between the two writes) is numbered
// by Reconcile, once; so are cases recorded before case numbers, in the
// order of their intakes; a retry of the half-done intake does the same.
func TestReconcileNumbersIntakesLeftWithoutANumber(t *testing.T) {
	f := newFixture(t)
	// Two cases recorded before case numbers existed: intakes in the log
	// and nothing on any register.
	var old []uuid.UUID
	for i := range 2 {
		id := uuid.New()
		meta := domain.Metadata{OccurredAt: t0.Add(-time.Duration(2-i) * time.Hour), RecordedAt: t0, Actor: "staff-1",
			Role: domain.RoleStaff, Station: "S01"}
		in := intake(man, domain.Inspection{})
		in.CaseID, in.Station = id, "S01"
		d, err := domain.Encode(uuid.New(), in, meta)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.Append(f.ctx, domain.CaseStream(id), eventstore.NoStream, d); err != nil {
			t.Fatal(err)
		}
		old = append(old, id)
	}
	crashing := &failingNumbers{Store: f.store}
	crashing.fail.Store(true)
	svc := domain.NewService(crashing, f.clock.Now)
	r := ok(t)(svc.Intake(f.ctx, staff1, manIntake("S01"), domain.Options{}))
	if !r.NumberPending || r.CaseNumber != "" {
		t.Fatalf("intake with the register failing: %+v, want its number pending", r)
	}
	half := uuid.MustParse(r.ID)
	if got := f.numberOf(t, f.svc, half); got != "" {
		t.Fatalf("the half-done intake shows number %q", got)
	}
	crashing.fail.Store(false)
	later := ok(t)(f.svc.Intake(f.ctx, staff1, manIntake("S01"), domain.Options{}))
	if later.CaseNumber != "S01-2026-000001" {
		t.Fatalf("a later intake got %q, want S01-2026-000001 (the others wait for the reconciler)", later.CaseNumber)
	}
	if _, err := f.svc.Reconcile(f.ctx, "S01"); err != nil {
		t.Fatal(err)
	}
	for i, want := range map[uuid.UUID]string{
		old[0]: "S01-2026-000002", old[1]: "S01-2026-000003", half: "S01-2026-000004",
		uuid.MustParse(later.ID): "S01-2026-000001",
	} {
		if got := f.numberOf(t, f.svc, i); got != want {
			t.Errorf("case %s: number %q, want %q", i, got, want)
		}
	}
	head := f.head(t)
	if n, err := f.svc.NumberCases(f.ctx, "S01"); err != nil || n != 0 || f.head(t) != head {
		t.Fatalf("a second reconcile numbered %d (%v)", n, err)
	}
	if n, err := domain.NewService(f.store, f.clock.Now).NumberCases(f.ctx, "S01"); err != nil || n != 0 ||
		f.head(t) != head {
		t.Fatalf("a fresh service's reconcile numbered %d (%v)", n, err)
	}
	if got := f.registerLength(t, "S01", 2026); got != 4 {
		t.Errorf("the register holds %d numbers, want 4", got)
	}

	// A keyed intake left half done is numbered by its retry.
	crashing.fail.Store(true)
	r = ok(t)(svc.Intake(f.ctx, staff1, manIntake("S01"), domain.Options{IdempotencyKey: "k"}))
	crashing.fail.Store(false)
	again := ok(t)(svc.Intake(f.ctx, staff1, manIntake("S01"), domain.Options{IdempotencyKey: "k"}))
	if !r.NumberPending || !again.Replayed || again.CaseNumber != "S01-2026-000005" {
		t.Fatalf("half-done keyed intake %+v, then its retry %+v: want the retry to number it", r, again)
	}
}

// TestCaseNumbersRestartWithTheYearInBeijing: the year of a number is
// the civil year in Beijing time of the intake, so an intake at 00:01 on
// 1 January in Beijing (still 31 December in UTC) begins the new year's
// register at 000001.
func TestCaseNumbersRestartWithTheYearInBeijing(t *testing.T) {
	f := newFixture(t)
	f.clock.t = time.Date(2027, 1, 1, 1, 0, 0, 0, domain.CivilZone)
	at := func(s string) *domain.Intake {
		in := manIntake("S01")
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		in.OccurredAt = &tm
		return in
	}
	for _, tc := range []struct{ at, want string }{
		{"2026-12-31T23:58:00+08:00", "S01-2026-000001"},
		{"2026-12-31T15:59:00Z", "S01-2026-000002"},
		{"2026-12-31T16:01:00Z", "S01-2027-000001"}, // 00:01 on 1 January in Beijing
		{"2027-01-01T00:30:00+08:00", "S01-2027-000002"},
	} {
		if r := ok(t)(f.svc.Intake(f.ctx, staff1, at(tc.at), domain.Options{})); r.CaseNumber != tc.want {
			t.Errorf("intake at %s: number %q, want %q", tc.at, r.CaseNumber, tc.want)
		}
	}
}
