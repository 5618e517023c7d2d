package projections_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore/bolt"
	"waystation/eventstore/sealed"
	"waystation/projections"
)

// sealedCases runs the domain's Service on a sealed store (personal values
// encrypted with a key per case, as served), with a clock that each step
// moves on by an hour, and a Runner following it.
type sealedCases struct {
	store *sealed.Store
	svc   *domain.Service
	now   time.Time
	r     *projections.Runner
}

var (
	erasureAdmin = domain.Actor{ID: "admin", Role: domain.RoleAdmin}
	erasureStaff = domain.Actor{ID: "staff-1", Role: domain.RoleStaff, Station: "S01"}
)

func newSealedCases(tb testing.TB) *sealedCases {
	tb.Helper()
	dir := tb.TempDir()
	inner, err := bolt.Open(dir, bolt.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	master := make([]byte, 32)
	for i := range master {
		master[i] = byte(i + 1)
	}
	ks, err := sealed.OpenKeyStore(dir, master)
	if err != nil {
		inner.Close()
		tb.Fatal(err)
	}
	s := sealed.New(inner, ks, domain.PersonalPaths, domain.DataSubject)
	c := &sealedCases{store: s, now: t0}
	c.svc = domain.NewService(s, func() time.Time { return c.now })
	c.r = projections.NewRunner(
		s, inner, projections.Options{Now: func() time.Time { return c.now }, Logger: slog.New(slog.DiscardHandler)},
	)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.r.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("Run: %v", err)
		}
		s.Close()
	})
	reg := &domain.RegisterStation{Code: "S01", Name: "S01", Region: "R1", Kind: domain.KindStation,
		Zones: []domain.ZoneBeds{{Zone: domain.ZoneAdultMale, Beds: 2}}}
	if _, err := c.svc.RegisterStation(ctx, erasureAdmin, reg, domain.Options{}); err != nil {
		tb.Fatal(err)
	}
	return c
}

// intake opens a case for p, with notes, and returns its ID.
func (c *sealedCases) intake(tb testing.TB, p domain.Person) uuid.UUID {
	tb.Helper()
	c.now = c.now.Add(time.Hour)
	res, err := c.svc.Intake(context.Background(), erasureStaff, &domain.Intake{
		Common:  domain.Common{Notes: "came in from the rain"},
		Station: "S01", Referral: domain.Referral{Source: domain.SourceWalkIn}, Person: p,
	}, domain.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return uuid.MustParse(res.ID)
}

func (c *sealedCases) do(tb testing.TB, id uuid.UUID, cmd domain.Command) {
	tb.Helper()
	c.now = c.now.Add(time.Hour)
	if _, err := c.svc.Execute(context.Background(), erasureStaff, id, cmd, domain.Options{}); err != nil {
		tb.Fatalf("%T: %v", cmd, err)
	}
}

func (c *sealedCases) erase(tb testing.TB, id uuid.UUID) {
	tb.Helper()
	c.now = c.now.Add(time.Hour)
	if _, err := c.svc.ErasePersonalData(context.Background(), erasureAdmin, id,
		domain.Erasure{Reason: domain.ErasureSubjectRequest, Trigger: domain.ErasureOnRequest},
		func(ctx context.Context, subject string) error { return c.store.Erase(ctx, subject) }); err != nil {
		tb.Fatal(err)
	}
}

// sync waits until the runner has folded everything written so far.
func (c *sealedCases) sync(tb testing.TB) {
	tb.Helper()
	head, err := c.store.Head(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.r.WaitFor(ctx, head); err != nil {
		tb.Fatal(err)
	}
}

// leave takes a case from intake to a voluntary leave, with a correction
// of the person's name on the way.
func (c *sealedCases) leave(tb testing.TB, id uuid.UUID) {
	tb.Helper()
	yes := true
	c.do(tb, id, &domain.EligibilityCmd{Eligible: &yes})
	c.sync(tb)
	h, err := c.r.History(id, projections.AsOf{}, 0)
	if err != nil {
		tb.Fatal(err)
	}
	c.do(tb, id, &domain.Correct{EventID: h.Events[0].EventID, Field: "person.name",
		Old: json.RawMessage(`"Zhang San"`), New: json.RawMessage(`"Zhang Shan"`), Reason: "misheard at the gate"})
	c.do(tb, id, &domain.VoluntaryLeave{DeclarationRef: "D-1"})
}

// TestHistoryShowsErasedValuesAsErased: after a person's personal data is
// erased, the case's history (whole, by version, or as of a moment before
// the erasure) says so in its state, and each event recorded before the
// erasure lists the personal values that now read as erased, never the
// ones that were not recorded; a case that was not erased shows neither.
func TestHistoryShowsErasedValuesAsErased(t *testing.T) {
	c := newSealedCases(t)
	person := domain.Person{
		Name: "Zhang San", Sex: domain.Male, BirthDate: domain.Date{Year: 1980, Month: 5, Day: 1}, HukouPlace: "Hunan",
	}
	erased := c.intake(t, person)
	kept := c.intake(t, person)
	c.leave(t, erased)
	c.leave(t, kept)
	beforeErasure := c.now
	c.erase(t, erased)
	c.do(t, erased, &domain.Closure{})
	c.sync(t)

	// The inspection is sealed as one value, recorded even with no flag raised.
	intakeErased := []string{"person.name", "person.birth_date", "person.hukou_place", "inspection", "notes"}
	tests := []struct {
		name    string
		id      uuid.UUID
		asOf    projections.AsOf
		version int
		erased  bool
		// wantErased is each event type's Erased list, in history order.
		wantErased map[string][]string
	}{
		{name: "the whole history of an erased case marks it erased", id: erased, erased: true,
			wantErased: map[string][]string{
				domain.TypeIntakeRegistered: intakeErased, domain.TypeEligibilityDecided: nil,
				domain.TypeCorrected: {"old", "new", "reason"}, domain.TypeLeftVoluntarily: nil,
				domain.TypePersonalDataErased: nil, domain.TypeCaseClosed: nil,
			}},
		{name: "an erased case as of a moment before its erasure is erased", id: erased,
			asOf: projections.AsOf{At: beforeErasure}, erased: true,
			wantErased: map[string][]string{
				domain.TypeIntakeRegistered: intakeErased, domain.TypeEligibilityDecided: nil,
				domain.TypeCorrected: {"old", "new", "reason"}, domain.TypeLeftVoluntarily: nil,
			}},
		{name: "an erased case at its first version is erased", id: erased, version: 1, erased: true,
			wantErased: map[string][]string{domain.TypeIntakeRegistered: intakeErased}},
		{name: "a case that was not erased shows nothing erased", id: kept, erased: false, wantErased: map[string][]string{
			domain.TypeIntakeRegistered: nil, domain.TypeEligibilityDecided: nil,
			domain.TypeCorrected: nil, domain.TypeLeftVoluntarily: nil,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := c.r.History(tt.id, tt.asOf, tt.version)
			if err != nil {
				t.Fatal(err)
			}
			if got := h.State.PersonalDataErased; got != tt.erased {
				t.Errorf("state's personal_data_erased = %v, want %v", got, tt.erased)
			}
			if len(h.Events) != len(tt.wantErased) {
				t.Fatalf("history has %d events, want %d", len(h.Events), len(tt.wantErased))
			}
			for _, e := range h.Events {
				want, ok := tt.wantErased[e.Type]
				if !ok {
					t.Errorf("unexpected event %s in the history", e.Type)
					continue
				}
				got := slices.Clone(e.Erased)
				slices.Sort(got)
				want = slices.Clone(want)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("%s: erased = %v, want %v", e.Type, e.Erased, want)
				}
			}
			b, err := json.Marshal(h)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(string(b), `"personal_data_erased":true`); got != tt.erased {
				t.Errorf("the history's JSON says personal_data_erased: %v, want %v", got, tt.erased)
			}
			if strings.Contains(string(b), "Zhang") || strings.Contains(string(b), "Hunan") {
				if tt.erased {
					t.Errorf("the erased history still shows the person's name or household registration place")
				}
			} else if !tt.erased {
				t.Errorf("the history of a case that was not erased lost the person's name")
			}
		})
	}

	t.Run("the live case view is marked erased", func(t *testing.T) {
		for id, want := range map[uuid.UUID]bool{erased: true, kept: false} {
			v, ok := c.r.Case(id)
			if !ok {
				t.Fatalf("case %s not found", id)
			}
			if v.PersonalDataErased != want {
				t.Errorf("case view's personal_data_erased = %v, want %v", v.PersonalDataErased, want)
			}
		}
	})
}
