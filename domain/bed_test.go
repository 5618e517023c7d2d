package domain_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
)

var otherID = uuid.MustParse("01940000-0000-7000-8000-000000000003")

type bedSpec struct {
	name    string
	station []any // station stream
	given   []any // case stream
	when    domain.Command
	then    []domain.Event
	rule    string
	code    domain.Code
}

func runBedSpecs(t *testing.T, specs []bedSpec) {
	t.Helper()
	for _, s := range specs {
		t.Run(s.name, func(t *testing.T) {
			st := foldStation(s.station)
			c := foldCase(s.given)
			got, err := domain.DecideBed(&st, c, s.when, t0.Add(24*time.Hour))
			wantOutcome(t, got, err, s.then, s.rule, s.code)
		})
	}
}

func assigned(id uuid.UUID, z domain.Zone, bed string) domain.BedAssigned {
	return domain.BedAssigned{CaseID: id, Zone: z, Bed: bed}
}

func TestBeds(t *testing.T) {
	st := []any{station}
	childCase := []any{
		domain.IntakeRegistered{CaseID: caseID, Station: "S01", Referral: walkIn, Person: child4, MotherCaseID: motherID},
		domain.EligibilityDecided{AssistFirst: true}, checkedM,
	}
	runBedSpecs(t, []bedSpec{
		{name: "an adult man goes to the male zone", station: st, given: inStation(man, noFlags),
			when: &domain.AssignBed{Zone: domain.ZoneAdultMale}, then: []domain.Event{assigned(caseID, domain.ZoneAdultMale, "adult_male-1")}},
		{name: "a named bed", station: st, given: inStation(man, noFlags),
			when: &domain.AssignBed{Zone: domain.ZoneAdultMale, Bed: "adult_male-2"}, then: []domain.Event{assigned(caseID, domain.ZoneAdultMale, "adult_male-2")}},
		{name: "a man does not go to the female zone", station: st, given: inStation(man, noFlags),
			when: &domain.AssignBed{Zone: domain.ZoneAdultFemale}, rule: domain.RuleZoneDoesNotFit},
		{name: "a woman goes to the female zone", station: st, given: inStation(woman, noFlags),
			when: &domain.AssignBed{Zone: domain.ZoneAdultFemale}, then: []domain.Event{assigned(caseID, domain.ZoneAdultFemale, "adult_female-1")}},
		{name: "seasonal beds count", station: with(st, assigned(otherID, domain.ZoneAdultFemale, "adult_female-1")), given: inStation(woman, noFlags),
			when: &domain.AssignBed{Zone: domain.ZoneAdultFemale}, then: []domain.Event{assigned(caseID, domain.ZoneAdultFemale, "adult_female-2")}},
		{name: "a minor does not go to an adult zone", station: st, given: inStation(girl17, noFlags),
			when: &domain.AssignBed{Zone: domain.ZoneAdultFemale}, rule: domain.RuleZoneDoesNotFit},
		{name: "a minor goes to the minors' zone", station: st, given: inStation(boy10, noFlags),
			when: &domain.AssignBed{Zone: domain.ZoneMinors}, then: []domain.Event{assigned(caseID, domain.ZoneMinors, "minors-1")}},
		{name: "an adult does not go to the minors' zone", station: st, given: inStation(man, noFlags),
			when: &domain.AssignBed{Zone: domain.ZoneMinors}, rule: domain.RuleZoneDoesNotFit},
		{name: "a suspected infectious disease goes to isolation", station: st, given: inStation(man, domain.Inspection{SuspectedInfectious: true}),
			when: &domain.AssignBed{Zone: domain.ZoneIsolation}, then: []domain.Event{assigned(caseID, domain.ZoneIsolation, "isolation-1")}},
		{name: "a suspected infectious disease goes nowhere else", station: st, given: inStation(man, domain.Inspection{SuspectedInfectious: true}),
			when: &domain.AssignBed{Zone: domain.ZoneAdultMale}, rule: domain.RuleZoneDoesNotFit},
		{name: "the elderly go to care", station: st, given: inStation(elderly, noFlags),
			when: &domain.AssignBed{Zone: domain.ZoneCare}, then: []domain.Event{assigned(caseID, domain.ZoneCare, "care-1")}},
		{name: "a healthy adult does not go to care", station: st, given: inStation(man, noFlags),
			when: &domain.AssignBed{Zone: domain.ZoneCare}, rule: domain.RuleZoneDoesNotFit},
		{name: "a zone the station lacks", station: st, given: inStation(man, noFlags),
			when: &domain.AssignBed{Zone: domain.ZoneObservation}, rule: domain.RuleZoneNotAtStation},
		{name: "a bed the zone lacks", station: st, given: inStation(man, noFlags),
			when: &domain.AssignBed{Zone: domain.ZoneAdultMale, Bed: "adult_male-3"}, rule: domain.RuleUnknownBed},
		{name: "one person per bed", station: with(st, assigned(otherID, domain.ZoneAdultMale, "adult_male-1")), given: inStation(man, noFlags),
			when: &domain.AssignBed{Zone: domain.ZoneAdultMale, Bed: "adult_male-1"}, rule: domain.RuleBedTaken},
		{name: "the first free bed", station: with(st, assigned(otherID, domain.ZoneAdultMale, "adult_male-1")), given: inStation(man, noFlags),
			when: &domain.AssignBed{Zone: domain.ZoneAdultMale}, then: []domain.Event{assigned(caseID, domain.ZoneAdultMale, "adult_male-2")}},
		{name: "a full zone", station: with(st, assigned(otherID, domain.ZoneAdultMale, "adult_male-1"), assigned(motherID, domain.ZoneAdultMale, "adult_male-2")),
			given: inStation(man, noFlags), when: &domain.AssignBed{Zone: domain.ZoneAdultMale}, rule: domain.RuleZoneFull},
		{name: "a freed bed is free again", station: with(st, assigned(otherID, domain.ZoneAdultMale, "adult_male-1"),
			domain.BedReleased{CaseID: otherID, Zone: domain.ZoneAdultMale, Bed: "adult_male-1", Reason: domain.ReleaseExit}),
			given: inStation(man, noFlags), when: &domain.AssignBed{Zone: domain.ZoneAdultMale, Bed: "adult_male-1"},
			then: []domain.Event{assigned(caseID, domain.ZoneAdultMale, "adult_male-1")}},
		{name: "moving to another bed releases the old one", station: with(st, assigned(caseID, domain.ZoneAdultMale, "adult_male-1")),
			given: inStation(man, noFlags), when: &domain.AssignBed{Zone: domain.ZoneAdultMale, Bed: "adult_male-2"},
			then: []domain.Event{domain.BedReleased{CaseID: caseID, Zone: domain.ZoneAdultMale, Bed: "adult_male-1", Reason: domain.ReleaseMoved},
				assigned(caseID, domain.ZoneAdultMale, "adult_male-2")}},
		{name: "assigning the bed already held changes nothing", station: with(st, assigned(caseID, domain.ZoneAdultMale, "adult_male-1")),
			given: inStation(man, noFlags), when: &domain.AssignBed{Zone: domain.ZoneAdultMale}, then: nil},
		{name: "a child under 6 shares the mother's bed in the mother-and-child room",
			station: with(st, assigned(motherID, domain.ZoneMotherChild, "mother_child-1")), given: childCase,
			when: &domain.AssignBed{Zone: domain.ZoneMotherChild},
			then: []domain.Event{domain.BedAssigned{CaseID: caseID, Zone: domain.ZoneMotherChild, Bed: "mother_child-1", MotherCaseID: motherID}}},
		{name: "a child is not in the mother-and-child room without the mother", station: st, given: childCase,
			when: &domain.AssignBed{Zone: domain.ZoneMotherChild}, rule: domain.RuleZoneDoesNotFit},
		{name: "a child shares only the mother's bed",
			station: with(st, assigned(motherID, domain.ZoneMotherChild, "mother_child-1")), given: childCase,
			when: &domain.AssignBed{Zone: domain.ZoneMotherChild, Bed: "mother_child-2"}, rule: domain.RuleBedTaken},
		{name: "a 10-year-old is not in the mother-and-child room", station: with(st, assigned(motherID, domain.ZoneMotherChild, "mother_child-1")),
			given: []any{domain.IntakeRegistered{CaseID: caseID, Station: "S01", Referral: walkIn, Person: boy10, MotherCaseID: motherID}, eligible, checkedM},
			when:  &domain.AssignBed{Zone: domain.ZoneMotherChild}, rule: domain.RuleZoneDoesNotFit},
		{name: "no bed before screening", station: st, given: []any{intake(man, noFlags)},
			when: &domain.AssignBed{Zone: domain.ZoneAdultMale}, rule: domain.RuleEligibilityPending},
		{name: "no bed before the security check", station: st, given: []any{intake(man, noFlags), eligible},
			when: &domain.AssignBed{Zone: domain.ZoneAdultMale}, rule: domain.RuleSecurityCheckPending},
		{name: "no bed for an exited case", station: st, given: with(inStation(man, noFlags), domain.Absconded{}),
			when: &domain.AssignBed{Zone: domain.ZoneAdultMale}, rule: domain.RuleCaseExited},
		{name: "no bed while in hospital", station: st, given: with(inStation(man, noFlags), domain.MedicalReferred{Hospital: "H"}, domain.HospitalAdmitted{Hospital: "H"}),
			when: &domain.AssignBed{Zone: domain.ZoneAdultMale}, rule: domain.RuleAwayFromStation},
		{name: "no bed at another station", station: []any{domain.StationRegistered{Code: "S01", Region: "R1", Kind: domain.KindStation, Zones: station.Zones}},
			given: []any{domain.IntakeRegistered{CaseID: caseID, Station: "S02", Referral: walkIn, Person: man}, eligible, checkedM},
			when:  &domain.AssignBed{Zone: domain.ZoneAdultMale}, rule: domain.RuleAwayFromStation},
		{name: "release", station: with(st, assigned(caseID, domain.ZoneAdultMale, "adult_male-1")), given: inStation(man, noFlags),
			when: &domain.ReleaseBed{}, then: []domain.Event{domain.BedReleased{CaseID: caseID, Zone: domain.ZoneAdultMale, Bed: "adult_male-1", Reason: domain.ReleaseByStaff}}},
		{name: "no release without a bed", station: st, given: inStation(man, noFlags), when: &domain.ReleaseBed{}, rule: domain.RuleNotInBed},
		{name: "a bed name from another zone is invalid", station: st, given: inStation(man, noFlags),
			when: &domain.AssignBed{Zone: domain.ZoneAdultMale, Bed: "minors-1"}, code: domain.CodeInvalid},
	})
}

func TestStationOccupancy(t *testing.T) {
	st := foldStation([]any{station, assigned(otherID, domain.ZoneAdultMale, "adult_male-2"),
		assigned(motherID, domain.ZoneMotherChild, "mother_child-1"),
		domain.BedAssigned{CaseID: caseID, Zone: domain.ZoneMotherChild, Bed: "mother_child-1", MotherCaseID: motherID}})
	occ := st.Occupancy()
	want := map[domain.Zone][3]int{domain.ZoneAdultMale: {2, 1, 1}, domain.ZoneAdultFemale: {2, 0, 2}, domain.ZoneMotherChild: {1, 1, 0}}
	for _, o := range occ {
		if w, ok := want[o.Zone]; ok && (o.Beds != w[0] || o.Occupied != w[1] || o.Free != w[2]) {
			t.Errorf("%s: got beds %d occupied %d free %d, want %v", o.Zone, o.Beds, o.Occupied, o.Free, w)
		}
	}
	if got := len(st.Placements()); got != 3 {
		t.Errorf("placements = %d, want 3", got)
	}
	if got := st.FreeBeds(domain.ZoneAdultMale); len(got) != 1 || got[0] != "adult_male-1" {
		t.Errorf("free male beds = %v", got)
	}
	old := st.Clone()
	st.Evolve(domain.Envelope{Revision: 4, Event: domain.BedReleased{CaseID: motherID, Zone: domain.ZoneMotherChild, Bed: "mother_child-1"}})
	if len(st.Occupants("mother_child-1")) != 1 || len(old.Occupants("mother_child-1")) != 2 {
		t.Errorf("after the mother leaves: %v; before: %v", st.Occupants("mother_child-1"), old.Occupants("mother_child-1"))
	}
}

func TestStationAndAccessDeciders(t *testing.T) {
	now := t0
	var empty domain.Station
	reg := &domain.RegisterStation{Code: "S01", Name: "First", Region: "R1", Kind: domain.KindStation, Zones: station.Zones}
	got, err := domain.DecideStation(&empty, reg, now)
	wantOutcome(t, got, err, []domain.Event{station}, "", "")
	st := foldStation([]any{station})
	_, err = domain.DecideStation(&st, reg, now)
	wantOutcome(t, nil, err, nil, domain.RuleStationExists, "")

	st = foldStation([]any{station, assigned(otherID, domain.ZoneAdultMale, "adult_male-2")})
	_, err = domain.DecideStation(&st, &domain.ChangeZones{Zones: []domain.ZoneBeds{{Zone: domain.ZoneAdultMale, Beds: 1}}}, now)
	wantOutcome(t, nil, err, nil, domain.RuleBedOccupied, "")
	more := []domain.ZoneBeds{{Zone: domain.ZoneAdultMale, Beds: 2, Seasonal: 5}}
	got, err = domain.DecideStation(&st, &domain.ChangeZones{Zones: more}, now)
	wantOutcome(t, got, err, []domain.Event{domain.ZonesChanged{Zones: more}}, "", "")
	_, err = domain.DecideStation(&empty, &domain.ChangeZones{Zones: more}, now)
	wantOutcome(t, nil, err, nil, "", domain.CodeNotFound)

	var a domain.Access
	hash := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	issue := &domain.IssueToken{ID: "t1", Role: domain.RoleStaff, Station: "S01", Region: "ignored", Hash: hash}
	_, err = domain.DecideAccess(&a, issue, false, now)
	wantOutcome(t, nil, err, nil, domain.RuleUnknownStation, "")
	got, err = domain.DecideAccess(&a, issue, true, now)
	wantOutcome(t, got, err, []domain.Event{domain.TokenIssued{ID: "t1", Role: domain.RoleStaff, Station: "S01", Region: "ignored", Hash: hash}}, "", "")
	a.Evolve(domain.Envelope{Event: got[0], Meta: domain.Metadata{OccurredAt: now}})
	if tok, ok := a.ByHash(hash); !ok || tok.Actor().Station != "S01" {
		t.Fatalf("token by hash = %+v, %v", tok, ok)
	}
	_, err = domain.DecideAccess(&a, issue, true, now)
	wantOutcome(t, nil, err, nil, domain.RuleTokenExists, "")
	got, err = domain.DecideAccess(&a, &domain.RevokeToken{ID: "t1"}, false, now)
	wantOutcome(t, got, err, []domain.Event{domain.TokenRevoked{ID: "t1"}}, "", "")
	a.Evolve(domain.Envelope{Revision: 1, Event: got[0], Meta: domain.Metadata{OccurredAt: now}})
	if _, ok := a.ByHash(hash); ok {
		t.Fatal("a revoked token still authenticates")
	}
	_, err = domain.DecideAccess(&a, &domain.RevokeToken{ID: "t1"}, false, now)
	wantOutcome(t, nil, err, nil, domain.RuleTokenRevoked, "")
	_, err = domain.DecideAccess(&a, &domain.RevokeToken{ID: "nope"}, false, now)
	wantOutcome(t, nil, err, nil, "", domain.CodeNotFound)
	if len(a.Tokens()) != 1 {
		t.Fatalf("tokens = %v", a.Tokens())
	}
}
