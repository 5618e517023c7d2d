package domain

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/eventstore"
	"waystation/eventstore/bolt"
)

// TestLegacyDerivedIDsAreStable pins the version 7 form of the derived IDs
// that requests stored before version 8 carry: a retry of such a request
// must derive them to be recognised.
func TestLegacyDerivedIDsAreStable(t *testing.T) {
	tests := []struct {
		name string
		got  uuid.UUID
		want string
	}{
		{"first event of a keyed request", legacyKeyedEventID("staff-7", "key-1", 0),
			"6bcf1916-5d48-7005-90a8-eb6542c658e0"},
		{"fourth event of a keyed request", legacyKeyedEventID("staff-7", "key-1", 3),
			"cf316bf1-bcfb-7527-84f8-306bf3ef7822"},
		{"case of a keyed intake with a long key", legacyKeyedCaseID("staff-7", strings.Repeat("k", 200)),
			"2f5ca512-9dbd-731d-a08c-fe6de2b978c3"},
		{"case of a keyed intake with a key longer than the framing buffer",
			legacyKeyedCaseID("staff-7", strings.Repeat("k", 300)), "8556f9c1-e190-7904-8798-f18f737e2b2e"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.got.String(); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
			if v := tt.got.Version(); v != 7 {
				t.Errorf("version %d, want 7", v)
			}
		})
	}
}

// legacyWrite appends what a keyed request of actor with key wrote before
// derived IDs were stamped version 8: cmd decided on c at now, its events
// under the version 7 IDs, with the request's hash for target.
func legacyWrite(tb testing.TB, s *Service, actor Actor, key string, c Case, cmd Command, target string,
	now time.Time) {
	tb.Helper()
	events, err := Decide(c, cmd, now)
	if err != nil {
		tb.Fatal(err)
	}
	ids := make([]uuid.UUID, len(events))
	for i := range ids {
		ids[i] = legacyKeyedEventID(actor.ID, key, i)
	}
	meta := s.meta(actor, cmd, now, now, Options{IdempotencyKey: key}, requestHash(cmd.Step(), target, cmd))
	if _, err := s.append(context.Background(), CaseStream(c.ID), expectedFor(c.Version), ids, events, meta); err != nil {
		tb.Fatal(err)
	}
}

// TestRetryOfARequestStoredWithLegacyIDs: given a store holding a keyed
// intake and a keyed step written with version 7 IDs, when the same
// requests come again, then they are answered as replays of the earlier
// writes (the legacy case ID, the same version) and nothing is written;
// the same key with another request is still a reuse.
func TestRetryOfARequestStoredWithLegacyIDs(t *testing.T) {
	ctx := context.Background()
	store, err := bolt.Open(t.TempDir(), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	now := time.Date(2026, 1, 10, 8, 0, 0, 0, time.UTC)
	s := NewService(store, func() time.Time { return now })
	admin := Actor{ID: "admin", Role: RoleAdmin}
	staff := Actor{ID: "staff-1", Role: RoleStaff, Station: "S01"}
	reg := &RegisterStation{Code: "S01", Name: "S01", Region: "R1", Kind: KindStation,
		Zones: []ZoneBeds{{Zone: ZoneAdultMale, Beds: 1}}}
	if _, err := s.RegisterStation(ctx, admin, reg, Options{}); err != nil {
		t.Fatal(err)
	}
	head := func() eventstore.Position {
		h, err := store.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}

	in := &Intake{Station: "S01", Referral: Referral{Source: SourceWalkIn},
		Person: Person{Name: "Zhang", Sex: Male, BirthDate: Date{Year: 1980, Month: 5, Day: 1}}}
	legacyCase := legacyKeyedCaseID(staff.ID, "in")
	legacyWrite(t, s, staff, "in", Case{ID: legacyCase}, in, "", now)
	before := head()
	r, err := s.Intake(ctx, staff, in, Options{IdempotencyKey: "in"})
	if err != nil {
		t.Fatal(err)
	}
	// The replay writes one event: the number the case, written before
	// case numbers, lacked.
	if r.ID != legacyCase.String() || !r.Replayed || r.Version != 1 || head().Commit != before.Commit+1 ||
		r.CaseNumber == "" {
		t.Fatalf("retried intake %+v (head %v, was %v); want a replay of case %s, numbered", r, head(), before, legacyCase)
	}

	c, err := s.Case(ctx, legacyCase)
	if err != nil {
		t.Fatal(err)
	}
	step := &EligibilityCmd{Eligible: ptrTo(true)}
	legacyWrite(t, s, staff, "step", c, step, legacyCase.String(), now)
	before = head()
	r, err = s.Execute(ctx, staff, legacyCase, step, Options{IdempotencyKey: "step"})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Replayed || r.Version != 2 || head() != before {
		t.Fatalf("retried step %+v (head %v, was %v); want a replay at version 2", r, head(), before)
	}

	if _, err := s.Execute(ctx, staff, legacyCase, &RelativesContact{}, Options{IdempotencyKey: "step"}); RuleOf(err) != RuleIdempotencyKeyReused {
		t.Errorf("another step with the legacy write's key: %v, want rule %s", err, RuleIdempotencyKeyReused)
	}
	other := &Intake{Station: "S01", Referral: Referral{Source: SourceWalkIn}, Person: Person{Name: "Li", Sex: Female,
		BirthDate: Date{Year: 1990, Month: 3, Day: 4}}}
	if _, err := s.Intake(ctx, staff, other, Options{IdempotencyKey: "in"}); RuleOf(err) != RuleIdempotencyKeyReused {
		t.Errorf("another intake with the legacy write's key: %v, want rule %s", err, RuleIdempotencyKeyReused)
	}
}

func ptrTo[T any](v T) *T { return &v }
