package domain_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
	"waystation/eventstore/bolt"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	store *bolt.Store
	svc   *domain.Service
	clock *clock
	ctx   context.Context
}

var (
	admin  = domain.Actor{ID: "admin", Role: domain.RoleAdmin}
	staff1 = domain.Actor{ID: "staff-1", Role: domain.RoleStaff, Station: "S01"}
	staff2 = domain.Actor{ID: "staff-2", Role: domain.RoleStaff, Station: "S02"}
)

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	st, err := bolt.Open(tb.TempDir(), bolt.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	clk := &clock{t: t0}
	f := &fixture{store: st, svc: domain.NewService(st, clk.Now), clock: clk, ctx: context.Background()}
	for _, code := range []string{"S01", "S02"} {
		reg := &domain.RegisterStation{Code: code, Name: code, Region: "R1", Kind: domain.KindStation, Zones: station.Zones}
		if _, err := f.svc.RegisterStation(f.ctx, admin, reg, domain.Options{}); err != nil {
			tb.Fatal(err)
		}
	}
	return f
}

// ok returns a function that fails the test on an error and passes the
// result through: ok(t)(svc.Execute(...)).
func ok(tb testing.TB) func(domain.Result, error) domain.Result {
	tb.Helper()
	return func(r domain.Result, err error) domain.Result {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
		return r
	}
}

// admit opens a case for p at S01 and screens and checks it.
func (f *fixture) admit(tb testing.TB, p domain.Person, in domain.Inspection) uuid.UUID {
	tb.Helper()
	r := ok(tb)(f.svc.Intake(f.ctx, staff1, &domain.Intake{Station: "S01", Referral: walkIn, Person: p, Inspection: in}, domain.Options{}))
	id := uuid.MustParse(r.ID)
	ok(tb)(f.svc.Execute(f.ctx, staff1, id, &domain.EligibilityCmd{Eligible: ptr(true), AssistFirst: false}, domain.Options{}))
	checker := domain.Checker{StaffID: "c", Sex: p.Sex}
	ok(tb)(f.svc.Execute(f.ctx, staff1, id, &domain.SecurityCheckCmd{CheckedBy: checker}, domain.Options{}))
	return id
}

func (f *fixture) head(tb testing.TB) eventstore.Position {
	tb.Helper()
	h, err := f.store.Head(f.ctx)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

func wantRule(tb testing.TB, err error, rule string) {
	tb.Helper()
	if domain.RuleOf(err) != rule {
		tb.Fatalf("got %v, want rule %s", err, rule)
	}
}

func TestServiceTransferJourney(t *testing.T) {
	f := newFixture(t)
	id := f.admit(t, man, noFlags)
	r := ok(t)(f.svc.Execute(f.ctx, staff1, id, &domain.AssignBed{Zone: domain.ZoneAdultMale}, domain.Options{}))
	if r.Version != 3 || r.Status != domain.StatusInStation {
		t.Fatalf("bed result %+v", r)
	}
	c, err := f.svc.Case(f.ctx, id)
	if err != nil || c.Bed == nil || c.Bed.Bed != "adult_male-1" {
		t.Fatalf("case bed %+v %v", c.Bed, err)
	}
	_, err = f.svc.Execute(f.ctx, staff1, id, &domain.TransferRequest{ToStation: "S99", Reason: "x"}, domain.Options{})
	wantRule(t, err, domain.RuleUnknownStation)
	ok(t)(f.svc.Execute(f.ctx, staff1, id, &domain.TransferRequest{ToStation: "S02", Reason: "home"}, domain.Options{}))
	_, err = f.svc.Execute(f.ctx, staff1, id, &domain.TransferAccept{}, domain.Options{})
	if domain.ErrorCode(err) != domain.CodeForbidden {
		t.Fatalf("the sending station accepted its own transfer: %v", err)
	}
	ok(t)(f.svc.Execute(f.ctx, staff2, id, &domain.TransferAccept{}, domain.Options{}))
	_, err = f.svc.Execute(f.ctx, staff2, id, &domain.HandoverCmd{ReceivedBy: "r"}, domain.Options{})
	wantRule(t, err, domain.RuleNotInTransit)
	ok(t)(f.svc.Execute(f.ctx, staff1, id, &domain.EscortDeparture{Escorts: []string{"e"}}, domain.Options{}))
	before := f.head(t)
	r = ok(t)(f.svc.Execute(f.ctx, staff2, id, &domain.HandoverCmd{ReceivedBy: "r"}, domain.Options{}))
	if r.Position.Compare(before) <= 0 || r.Status != domain.StatusInStation {
		t.Fatalf("handover result %+v after %v", r, before)
	}
	c, err = f.svc.Case(f.ctx, id)
	if err != nil || c.Station != "S02" || c.Bed != nil {
		t.Fatalf("after handover: station %s bed %+v %v", c.Station, c.Bed, err)
	}
	s1, _ := f.svc.Station(f.ctx, "S01")
	if _, held := s1.BedOf(id); held {
		t.Fatal("the sending station still holds the bed after the handover")
	}
	// From now on the case belongs to the receiving station.
	_, err = f.svc.Execute(f.ctx, staff1, id, &domain.RelativesContact{}, domain.Options{})
	if domain.ErrorCode(err) != domain.CodeForbidden {
		t.Fatalf("the old station still acts on the case: %v", err)
	}
	ok(t)(f.svc.Execute(f.ctx, staff2, id, &domain.AssignBed{Zone: domain.ZoneAdultMale}, domain.Options{}))
}

func TestServiceIdempotency(t *testing.T) {
	f := newFixture(t)
	in := &domain.Intake{Station: "S01", Referral: walkIn, Person: man}
	first := ok(t)(f.svc.Intake(f.ctx, staff1, in, domain.Options{IdempotencyKey: "k1"}))
	head := f.head(t)
	again := ok(t)(f.svc.Intake(f.ctx, staff1, in, domain.Options{IdempotencyKey: "k1"}))
	if again.ID != first.ID || again.Version != first.Version || !again.Replayed || again.Position != first.Position {
		t.Fatalf("replay %+v, first %+v", again, first)
	}
	if f.head(t) != head {
		t.Fatal("the replayed intake wrote events")
	}
	_, err := f.svc.Intake(f.ctx, staff1, &domain.Intake{Station: "S01", Referral: walkIn, Person: woman}, domain.Options{IdempotencyKey: "k1"})
	wantRule(t, err, domain.RuleIdempotencyKeyReused)

	id := uuid.MustParse(first.ID)
	step := &domain.EligibilityCmd{Eligible: ptr(true)}
	r1 := ok(t)(f.svc.Execute(f.ctx, staff1, id, step, domain.Options{IdempotencyKey: "k2"}))
	head = f.head(t)
	r2 := ok(t)(f.svc.Execute(f.ctx, staff1, id, step, domain.Options{IdempotencyKey: "k2"}))
	if r2.Version != r1.Version || r2.Status != r1.Status || !r2.Replayed || f.head(t) != head {
		t.Fatalf("replayed step %+v, first %+v", r2, r1)
	}
	_, err = f.svc.Execute(f.ctx, staff1, id, &domain.RelativesContact{}, domain.Options{IdempotencyKey: "k2"})
	wantRule(t, err, domain.RuleIdempotencyKeyReused)
	// The same key on another case is a reuse too.
	other := f.admit(t, woman, noFlags)
	_, err = f.svc.Execute(f.ctx, staff1, other, &domain.RelativesContact{}, domain.Options{IdempotencyKey: "k2"})
	wantRule(t, err, domain.RuleIdempotencyKeyReused)
	// Keys are the actor's own: another actor's k2 is a new request.
	ok(t)(f.svc.Execute(f.ctx, admin, other, &domain.RelativesContact{}, domain.Options{IdempotencyKey: "k2"}))

	// A keyed bed assignment is replayed from the station stream.
	ok(t)(f.svc.Execute(f.ctx, staff1, id, &domain.SecurityCheckCmd{CheckedBy: domain.Checker{StaffID: "c", Sex: domain.Male}}, domain.Options{}))
	b1 := ok(t)(f.svc.Execute(f.ctx, staff1, id, &domain.AssignBed{Zone: domain.ZoneAdultMale}, domain.Options{IdempotencyKey: "bed"}))
	head = f.head(t)
	b2 := ok(t)(f.svc.Execute(f.ctx, staff1, id, &domain.AssignBed{Zone: domain.ZoneAdultMale}, domain.Options{IdempotencyKey: "bed"}))
	if !b2.Replayed || b2.Position != b1.Position || f.head(t) != head {
		t.Fatalf("replayed bed %+v, first %+v", b2, b1)
	}
}

func TestServiceIfMatch(t *testing.T) {
	f := newFixture(t)
	r := ok(t)(f.svc.Intake(f.ctx, staff1, &domain.Intake{Station: "S01", Referral: walkIn, Person: man}, domain.Options{}))
	id := uuid.MustParse(r.ID)
	stale := uint64(0)
	_, err := f.svc.Execute(f.ctx, staff1, id, &domain.EligibilityCmd{Eligible: ptr(true)}, domain.Options{IfMatch: domain.Versions(stale)})
	if !errors.Is(err, domain.ErrPreconditionFailed) {
		t.Fatalf("stale If-Match: %v", err)
	}
	cur := r.Version
	r = ok(t)(f.svc.Execute(f.ctx, staff1, id, &domain.EligibilityCmd{Eligible: ptr(true)}, domain.Options{IfMatch: domain.Versions(cur)}))
	if r.Version != 2 {
		t.Fatalf("version %d", r.Version)
	}
	_, err = f.svc.Execute(f.ctx, staff1, uuid.New(), &domain.RelativesContact{}, domain.Options{})
	if !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("missing case: %v", err)
	}
}

func TestServiceRefusals(t *testing.T) {
	f := newFixture(t)
	_, err := f.svc.Intake(f.ctx, admin, &domain.Intake{Station: "S99", Referral: walkIn, Person: man}, domain.Options{})
	wantRule(t, err, domain.RuleUnknownStation)
	_, err = f.svc.Intake(f.ctx, staff1, &domain.Intake{Station: "S02", Referral: walkIn, Person: man}, domain.Options{})
	if domain.ErrorCode(err) != domain.CodeForbidden {
		t.Fatalf("intake at another station: %v", err)
	}
	_, err = f.svc.Intake(f.ctx, staff1, &domain.Intake{Station: "S01", Referral: walkIn, Person: domain.Person{Sex: "x"}}, domain.Options{})
	if !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("bad person: %v", err)
	}
	id := f.admit(t, man, noFlags)
	insp := domain.Actor{ID: "i", Role: domain.RoleInspector}
	_, err = f.svc.Execute(f.ctx, insp, id, &domain.RelativesContact{}, domain.Options{})
	if domain.ErrorCode(err) != domain.CodeForbidden {
		t.Fatalf("inspector wrote: %v", err)
	}
	_, err = f.svc.RegisterStation(f.ctx, staff1, &domain.RegisterStation{Code: "S03", Name: "n", Region: "R", Kind: domain.KindStation}, domain.Options{})
	if domain.ErrorCode(err) != domain.CodeForbidden {
		t.Fatalf("staff registered a station: %v", err)
	}
	_, err = f.svc.RegisterStation(f.ctx, admin, &domain.RegisterStation{Code: "S01", Name: "n", Region: "R", Kind: domain.KindStation}, domain.Options{})
	if !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("station registered twice: %v", err)
	}
	_, err = f.svc.Execute(f.ctx, staff1, id, &domain.RegisterStation{}, domain.Options{})
	if !errors.Is(err, domain.ErrInvalid) {
		t.Fatalf("station command as a case step: %v", err)
	}
	_, err = f.svc.Station(f.ctx, "S99")
	if !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("missing station: %v", err)
	}
	_, err = f.svc.Case(f.ctx, uuid.New())
	if !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("missing case: %v", err)
	}
}

func TestServiceExitAndHospitalFreeTheBed(t *testing.T) {
	f := newFixture(t)
	leaver := f.admit(t, man, noFlags)
	ok(t)(f.svc.Execute(f.ctx, staff1, leaver, &domain.AssignBed{Zone: domain.ZoneAdultMale}, domain.Options{}))
	r := ok(t)(f.svc.Execute(f.ctx, staff1, leaver, &domain.VoluntaryLeave{DeclarationRef: "d"}, domain.Options{IdempotencyKey: "leave"}))
	if r.BedReleasePending || r.Status != domain.StatusExited {
		t.Fatalf("leave result %+v", r)
	}
	if r.Position != f.head(t) {
		t.Fatalf("the result's position %v is before the bed release at %v", r.Position, f.head(t))
	}
	st, _ := f.svc.Station(f.ctx, "S01")
	if _, held := st.BedOf(leaver); held {
		t.Fatal("an exited case holds a bed")
	}
	head := f.head(t)
	ok(t)(f.svc.Execute(f.ctx, staff1, leaver, &domain.VoluntaryLeave{DeclarationRef: "d"}, domain.Options{IdempotencyKey: "leave"}))
	if f.head(t) != head {
		t.Fatal("replaying the exit wrote again")
	}

	f.svc.HospitalBedHold = 48 * time.Hour
	patient := f.admit(t, man, noFlags)
	ok(t)(f.svc.Execute(f.ctx, staff1, patient, &domain.AssignBed{Zone: domain.ZoneAdultMale}, domain.Options{}))
	ok(t)(f.svc.Execute(f.ctx, staff1, patient, &domain.MedicalReferral{Hospital: "H"}, domain.Options{}))
	ok(t)(f.svc.Execute(f.ctx, staff1, patient, &domain.HospitalAdmission{}, domain.Options{}))
	if c, _ := f.svc.Case(f.ctx, patient); c.Bed == nil {
		t.Fatal("the bed was not held during the hold")
	}
	f.clock.Advance(24 * time.Hour)
	if n, err := f.svc.Reconcile(f.ctx, "S01"); err != nil || n != 0 {
		t.Fatalf("reconcile within the hold freed %d (%v)", n, err)
	}
	f.clock.Advance(25 * time.Hour)
	if n, err := f.svc.Reconcile(f.ctx, "S01"); err != nil || n != 1 {
		t.Fatalf("reconcile after the hold freed %d (%v)", n, err)
	}
	if c, _ := f.svc.Case(f.ctx, patient); c.Bed != nil {
		t.Fatal("the bed is still held after the hold expired")
	}

	f.svc.HospitalBedHold = 0
	other := f.admit(t, man, noFlags)
	ok(t)(f.svc.Execute(f.ctx, staff1, other, &domain.AssignBed{Zone: domain.ZoneAdultMale}, domain.Options{}))
	ok(t)(f.svc.Execute(f.ctx, staff1, other, &domain.MedicalReferral{Hospital: "H"}, domain.Options{}))
	ok(t)(f.svc.Execute(f.ctx, staff1, other, &domain.HospitalAdmission{}, domain.Options{}))
	if c, _ := f.svc.Case(f.ctx, other); c.Bed != nil {
		t.Fatal("without a hold the bed is freed at admission")
	}
}

func TestServiceReconcileCompletesAHalfDoneExit(t *testing.T) {
	f := newFixture(t)
	id := f.admit(t, man, noFlags)
	ok(t)(f.svc.Execute(f.ctx, staff1, id, &domain.AssignBed{Zone: domain.ZoneAdultMale, Bed: "adult_male-2"}, domain.Options{}))
	// The process died after writing the exit and before freeing the bed.
	meta := domain.Metadata{OccurredAt: t0.Add(time.Hour), RecordedAt: t0.Add(time.Hour), Actor: "staff-1", Role: domain.RoleStaff}
	d, err := domain.Encode(uuid.New(), domain.Absconded{}, meta)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Append(f.ctx, domain.CaseStream(id), eventstore.Exact(2), d); err != nil {
		t.Fatal(err)
	}
	st, _ := f.svc.Station(f.ctx, "S01")
	if _, held := st.BedOf(id); !held {
		t.Fatal("setup: the bed should still be held")
	}
	if n, err := f.svc.Reconcile(f.ctx, "S01"); err != nil || n != 1 {
		t.Fatalf("reconcile freed %d (%v)", n, err)
	}
	head := f.head(t)
	if n, err := f.svc.Reconcile(f.ctx, "S01"); err != nil || n != 0 || f.head(t) != head {
		t.Fatalf("a second reconcile freed %d (%v)", n, err)
	}
	st, _ = f.svc.Station(f.ctx, "S01")
	if _, held := st.BedOf(id); held {
		t.Fatal("reconcile left the exited case in bed")
	}
	// A full zone reconciles on its own: fill the zone, half-exit one, assign.
	a := f.admit(t, man, noFlags)
	b := f.admit(t, man, noFlags)
	c := f.admit(t, man, noFlags)
	ok(t)(f.svc.Execute(f.ctx, staff1, a, &domain.AssignBed{Zone: domain.ZoneAdultMale}, domain.Options{}))
	ok(t)(f.svc.Execute(f.ctx, staff1, b, &domain.AssignBed{Zone: domain.ZoneAdultMale}, domain.Options{}))
	_, err = f.svc.Execute(f.ctx, staff1, c, &domain.AssignBed{Zone: domain.ZoneAdultMale}, domain.Options{})
	wantRule(t, err, domain.RuleZoneFull)
	ca, _ := f.svc.Case(f.ctx, a)
	d, _ = domain.Encode(uuid.New(), domain.Terminated{Reason: "r"}, meta)
	if _, err := f.store.Append(f.ctx, domain.CaseStream(a), eventstore.Exact(ca.Version-1), d); err != nil {
		t.Fatal(err)
	}
	ok(t)(f.svc.Execute(f.ctx, staff1, c, &domain.AssignBed{Zone: domain.ZoneAdultMale}, domain.Options{}))
}

func TestServiceMotherAndChild(t *testing.T) {
	f := newFixture(t)
	mother := f.admit(t, woman, noFlags)
	_, err := f.svc.Intake(f.ctx, staff1, &domain.Intake{Station: "S01", Referral: walkIn, Person: child4, MotherCaseID: uuid.New()}, domain.Options{})
	wantRule(t, err, domain.RuleMotherCaseInvalid)
	man1 := f.admit(t, man, noFlags)
	_, err = f.svc.Intake(f.ctx, staff1, &domain.Intake{Station: "S01", Referral: walkIn, Person: child4, MotherCaseID: man1}, domain.Options{})
	wantRule(t, err, domain.RuleMotherCaseInvalid)
	r := ok(t)(f.svc.Intake(f.ctx, staff1, &domain.Intake{Station: "S01", Referral: walkIn, Person: child4, MotherCaseID: mother}, domain.Options{}))
	child := uuid.MustParse(r.ID)
	ok(t)(f.svc.Execute(f.ctx, staff1, child, &domain.EligibilityCmd{AssistFirst: true}, domain.Options{}))
	ok(t)(f.svc.Execute(f.ctx, staff1, child, &domain.SecurityCheckCmd{CheckedBy: domain.Checker{StaffID: "c", Sex: domain.Female}}, domain.Options{}))
	ok(t)(f.svc.Execute(f.ctx, staff1, mother, &domain.AssignBed{Zone: domain.ZoneMotherChild}, domain.Options{}))
	ok(t)(f.svc.Execute(f.ctx, staff1, child, &domain.AssignBed{Zone: domain.ZoneMotherChild}, domain.Options{}))
	cm, _ := f.svc.Case(f.ctx, mother)
	cc, _ := f.svc.Case(f.ctx, child)
	if cm.Bed == nil || cc.Bed == nil || cm.Bed.Bed != cc.Bed.Bed {
		t.Fatalf("mother %+v, child %+v", cm.Bed, cc.Bed)
	}
}

func TestServiceTokens(t *testing.T) {
	f := newFixture(t)
	hash := "aa23456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	_, err := f.svc.IssueToken(f.ctx, admin, &domain.IssueToken{ID: "t1", Role: domain.RoleStaff, Station: "S99", Hash: hash}, domain.Options{})
	wantRule(t, err, domain.RuleUnknownStation)
	_, err = f.svc.IssueToken(f.ctx, staff1, &domain.IssueToken{ID: "t1", Role: domain.RoleStaff, Station: "S01", Hash: hash}, domain.Options{})
	if domain.ErrorCode(err) != domain.CodeForbidden {
		t.Fatalf("staff issued a token: %v", err)
	}
	ok(t)(f.svc.IssueToken(f.ctx, admin, &domain.IssueToken{ID: "t1", Role: domain.RoleStaff, Station: "S01", Hash: hash}, domain.Options{IdempotencyKey: "tok"}))
	r := ok(t)(f.svc.IssueToken(f.ctx, admin, &domain.IssueToken{ID: "t1", Role: domain.RoleStaff, Station: "S01", Hash: hash}, domain.Options{IdempotencyKey: "tok"}))
	if !r.Replayed {
		t.Fatal("a repeated token request was not replayed")
	}
	a, err := f.svc.Access(f.ctx)
	if tok, ok := a.ByHash(hash); err != nil || !ok || tok.Actor() != staff1WithID("t1") {
		t.Fatalf("token %+v %v %v", tok, ok, err)
	}
	ok(t)(f.svc.RevokeToken(f.ctx, admin, &domain.RevokeToken{ID: "t1"}, domain.Options{}))
	a, _ = f.svc.Access(f.ctx)
	if _, ok := a.ByHash(hash); ok {
		t.Fatal("a revoked token authenticates")
	}
	ok(t)(f.svc.ChangeZones(f.ctx, admin, "S01", &domain.ChangeZones{Zones: []domain.ZoneBeds{{Zone: domain.ZoneAdultMale, Beds: 5}}}, domain.Options{}))
	st, _ := f.svc.Station(f.ctx, "S01")
	if len(st.Zones) != 1 || st.Zones[0].Beds != 5 {
		t.Fatalf("zones %+v", st.Zones)
	}
}

func staff1WithID(id string) domain.Actor { a := staff1; a.ID = id; return a }

func TestServiceReadsVersion1Intakes(t *testing.T) {
	f := newFixture(t)
	meta := []byte(`{"schema_version":1,"occurred_at":"2024-11-03T22:00:00Z","actor":"a","role":"staff"}`)
	_, err := f.store.Append(f.ctx, domain.CaseStream(caseID), eventstore.NoStream,
		eventstore.EventData{ID: uuid.New(), Type: domain.TypeIntakeRegistered, Data: []byte(v1Intake), Metadata: meta})
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.svc.Case(f.ctx, caseID)
	if err != nil || c.Person.EstimatedAge == nil || *c.Person.EstimatedAge != 58 {
		t.Fatalf("case %+v %v", c.Person, err)
	}
	ok(t)(f.svc.Execute(f.ctx, staff1, caseID, &domain.EligibilityCmd{Eligible: ptr(true)}, domain.Options{}))
}

// TestConcurrentBedAssignments: 50 people, one zone of 10 beds, 50
// goroutines assigning at once.
func TestConcurrentBedAssignments(t *testing.T) {
	f := newFixture(t)
	const beds, people = 10, 50
	ok(t)(f.svc.ChangeZones(f.ctx, admin, "S01", &domain.ChangeZones{Zones: []domain.ZoneBeds{{Zone: domain.ZoneAdultMale, Beds: beds}}}, domain.Options{}))
	ids := make([]uuid.UUID, people)
	for i := range ids {
		ids[i] = f.admit(t, man, noFlags)
	}
	var wg sync.WaitGroup
	errs := make([]error, people)
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.svc.Execute(f.ctx, staff1, id, &domain.AssignBed{Zone: domain.ZoneAdultMale}, domain.Options{})
		}()
	}
	wg.Wait()
	placed := 0
	for _, err := range errs {
		switch {
		case err == nil:
			placed++
		case domain.RuleOf(err) != domain.RuleZoneFull:
			t.Errorf("unexpected refusal: %v", err)
		}
	}
	st, _ := f.svc.Station(f.ctx, "S01")
	ps := st.Placements()
	if placed != beds || len(ps) != beds {
		t.Fatalf("%d assignments succeeded and %d people are placed; want %d", placed, len(ps), beds)
	}
	seen := map[string]bool{}
	for _, p := range ps {
		if seen[p.Bed] {
			t.Fatalf("bed %s held twice", p.Bed)
		}
		seen[p.Bed] = true
	}
	// The same named bed from two goroutines: one wins.
	ok(t)(f.svc.ChangeZones(f.ctx, admin, "S01", &domain.ChangeZones{Zones: []domain.ZoneBeds{{Zone: domain.ZoneAdultMale, Beds: beds + 1}}}, domain.Options{}))
	a, b := f.admit(t, man, noFlags), f.admit(t, man, noFlags)
	var e1, e2 error
	wg.Add(2)
	bed := domain.BedName(domain.ZoneAdultMale, beds+1)
	go func() {
		defer wg.Done()
		_, e1 = f.svc.Execute(f.ctx, staff1, a, &domain.AssignBed{Zone: domain.ZoneAdultMale, Bed: bed}, domain.Options{})
	}()
	go func() {
		defer wg.Done()
		_, e2 = f.svc.Execute(f.ctx, staff1, b, &domain.AssignBed{Zone: domain.ZoneAdultMale, Bed: bed}, domain.Options{})
	}()
	wg.Wait()
	if (e1 == nil) == (e2 == nil) {
		t.Fatalf("two assignments of one bed: %v, %v", e1, e2)
	}
	if domain.RuleOf(e1) != domain.RuleBedTaken && domain.RuleOf(e2) != domain.RuleBedTaken {
		t.Fatalf("the loser was not told the bed is taken: %v, %v", e1, e2)
	}
}

// TestTwoServicesSeeEachOthersBeds: a service keeps station state between
// commands; it must still see what another service (another process) wrote.
func TestTwoServicesSeeEachOthersBeds(t *testing.T) {
	f := newFixture(t)
	other := domain.NewService(f.store, f.clock.Now)
	a, b := f.admit(t, man, noFlags), f.admit(t, man, noFlags)
	if _, err := other.Station(f.ctx, "S01"); err != nil {
		t.Fatal(err)
	}
	ok(t)(f.svc.Execute(f.ctx, staff1, a, &domain.AssignBed{Zone: domain.ZoneAdultMale, Bed: "adult_male-1"}, domain.Options{}))
	_, err := other.Execute(f.ctx, staff1, b, &domain.AssignBed{Zone: domain.ZoneAdultMale, Bed: "adult_male-1"}, domain.Options{})
	wantRule(t, err, domain.RuleBedTaken)
	st, _ := other.Station(f.ctx, "S01")
	if occ := st.Occupants("adult_male-1"); len(occ) != 1 || occ[0] != a {
		t.Fatalf("the other service sees %v in the bed", occ)
	}
}
