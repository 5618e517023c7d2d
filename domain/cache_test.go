package domain_test

import (
	"testing"

	"github.com/google/uuid"

	"waystation/domain"
)

// TestTwoServicesSeeEachOthersCaseSteps: a service keeps folded cases
// between commands; it must still decide on what another service (another
// process) wrote to the case since.
func TestTwoServicesSeeEachOthersCaseSteps(t *testing.T) {
	f := newFixture(t)
	other := domain.NewService(f.store, f.clock.Now)
	id := f.admit(t, man, noFlags)
	before, err := other.Case(f.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	query := &domain.IdentityQuery{Channel: "police", Result: "no_match"}
	r := ok(t)(f.svc.Execute(f.ctx, staff1, id, query, domain.Options{}))

	t.Run("reads the step written elsewhere", func(t *testing.T) {
		c, err := other.Case(f.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if c.Version != r.Version || c.Identity.Queries != before.Identity.Queries+1 {
			t.Fatalf("got version %d with %d queries, want version %d with %d", c.Version, c.Identity.Queries, r.Version, before.Identity.Queries+1)
		}
	})
	t.Run("a version it had cached is no longer current", func(t *testing.T) {
		stale := before.Version
		_, err := other.Execute(f.ctx, staff1, id, query, domain.Options{IfMatch: domain.Versions(stale)})
		if domain.ErrorCode(err) != domain.CodePreconditionFailed {
			t.Fatalf("got %v, want precondition_failed", err)
		}
	})
	t.Run("the version current in the store is accepted", func(t *testing.T) {
		current := ok(t)(f.svc.Execute(f.ctx, staff1, id, query, domain.Options{})).Version
		r, err := other.Execute(f.ctx, staff1, id, query, domain.Options{IfMatch: domain.Versions(current)})
		if err != nil {
			t.Fatalf("got %v, want the step recorded", err)
		}
		if r.Version != current+1 {
			t.Fatalf("got version %d, want %d", r.Version, current+1)
		}
	})
	t.Run("decides on the exit written elsewhere", func(t *testing.T) {
		ok(t)(f.svc.Execute(f.ctx, staff1, id, &domain.VoluntaryLeave{DeclarationRef: "D1"}, domain.Options{}))
		_, err := other.Execute(f.ctx, staff1, id, query, domain.Options{})
		wantRule(t, err, domain.RuleCaseExited)
	})
}

// TestServiceWithOneCachedCase: with room for a single folded case, steps
// that alternate between cases still land on each case's own history.
func TestServiceWithOneCachedCase(t *testing.T) {
	f := newFixture(t)
	f.svc.CachedCases = 1
	ids := []uuid.UUID{f.admit(t, man, noFlags), f.admit(t, man, noFlags), f.admit(t, man, noFlags)}
	want := map[uuid.UUID]uint64{}
	for round := range 3 {
		for i, id := range ids {
			if i > round {
				continue
			}
			r := ok(t)(f.svc.Execute(f.ctx, staff1, id, &domain.IdentityQuery{Channel: "police", Result: "no_match"}, domain.Options{}))
			want[id] = r.Version
		}
	}
	for i, id := range ids {
		c, err := f.svc.Case(f.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if c.Version != want[id] || c.Identity.Queries != 3-i {
			t.Errorf("case %d: got version %d with %d queries, want version %d with %d", i, c.Version, c.Identity.Queries, want[id], 3-i)
		}
	}
}

// BenchmarkCaseSteps records, over the embedded store without fsync, the
// mix that `waystation bench http` sends: an intake, then eligibility, an
// identity query and a family-search notice on the same case. One op is
// one case.
func BenchmarkCaseSteps(b *testing.B) {
	f := newFixture(b)
	b.ReportAllocs()
	for b.Loop() {
		r := ok(b)(f.svc.Intake(f.ctx, staff1, &domain.Intake{Station: "S01", Referral: walkIn, Person: man}, domain.Options{}))
		id := uuid.MustParse(r.ID)
		ok(b)(f.svc.Execute(f.ctx, staff1, id, &domain.EligibilityCmd{Eligible: ptr(true)}, domain.Options{}))
		ok(b)(f.svc.Execute(f.ctx, staff1, id, &domain.IdentityQuery{Channel: "police", Result: "no_match"}, domain.Options{}))
		ok(b)(f.svc.Execute(f.ctx, staff1, id, &domain.FamilySearchNotice{Channel: "toutiao"}, domain.Options{}))
	}
}
