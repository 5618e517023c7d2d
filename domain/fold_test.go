package domain_test

import (
	"testing"
	"time"

	"waystation/domain"
)

func TestCaseLifecycleStatus(t *testing.T) {
	day := 24 * time.Hour
	requested := domain.TransferRequested{From: "S01", To: "S02", Reason: "x"}
	steps := []struct {
		e      any
		status domain.Status
		check  func(t *testing.T, c domain.Case)
	}{
		{intake(man, noFlags), domain.StatusReceived, func(t *testing.T, c domain.Case) {
			if !c.OpenedAt.Equal(t0) || c.Station != "S01" || c.ID != caseID {
				t.Errorf("opened %v at %s, id %v", c.OpenedAt, c.Station, c.ID)
			}
		}},
		{eligible, domain.StatusInStation, nil},
		{checkedM, domain.StatusInStation, nil},
		{domain.MedicalReferred{Hospital: "H"}, domain.StatusInStation, nil},
		{domain.HospitalAdmitted{Hospital: "H"}, domain.StatusInHospital, func(t *testing.T, c domain.Case) {
			if c.ReleaseDue == nil || c.ReleaseDue.Reason != domain.ReleaseHospital {
				t.Errorf("admission does not ask for the bed to be freed: %+v", c.ReleaseDue)
			}
		}},
		{domain.HospitalDischarged{}, domain.StatusInHospital, nil},
		{after{11 * day, domain.MedicalReturned{}}, domain.StatusInStation, nil},
		{after{12 * day, domain.LongStayStarted{Kind: domain.LongStayInStation}}, domain.StatusLongStay, nil},
		{after{13 * day, domain.StayExtended{Until: t0.Add(40 * day), ApprovedBy: "d", Reason: "r"}}, domain.StatusLongStay, func(t *testing.T, c domain.Case) {
			if !c.StayDeadline().Equal(t0.Add(40 * day)) {
				t.Errorf("deadline %v", c.StayDeadline())
			}
		}},
		{after{14 * day, requested}, domain.StatusLongStay, nil},
		{after{14 * day, domain.TransferAccepted{From: "S01", To: "S02"}}, domain.StatusLongStay, nil},
		{after{15 * day, domain.EscortDeparted{From: "S01", To: "S02", Escorts: []string{"e"}}}, domain.StatusInTransit, nil},
		{after{16 * day, domain.HandedOver{From: "S01", To: "S02", ReceivedBy: "r"}}, domain.StatusLongStay, func(t *testing.T, c domain.Case) {
			if c.Station != "S02" || c.Transfer != nil || len(c.Handovers) != 1 {
				t.Errorf("after handover: station %s, transfer %+v", c.Station, c.Transfer)
			}
			if c.ReleaseDue == nil || c.ReleaseDue.Station != "S01" {
				t.Errorf("the sending station's bed is not freed: %+v", c.ReleaseDue)
			}
		}},
		{after{20 * day, domain.PickedUp{Collector: domain.Collector{Name: "n", IDNumber: "x", Relationship: "son"}}}, domain.StatusExited, func(t *testing.T, c domain.Case) {
			if c.ExitType != domain.ExitPickup || !c.ExitedAt.Equal(t0.Add(20*day)) || c.Active() {
				t.Errorf("exit %s at %v", c.ExitType, c.ExitedAt)
			}
		}},
		{after{21 * day, domain.CaseClosed{}}, domain.StatusClosed, nil},
	}
	var given []any
	for i, s := range steps {
		given = append(given, s.e)
		c := foldCase(given)
		if c.Status != s.status || c.Version != uint64(i+1) {
			t.Fatalf("after step %d (%T): status %s version %d, want %s %d", i, s.e, c.Status, c.Version, s.status, i+1)
		}
		if s.check != nil {
			s.check(t, c)
		}
	}
}

func TestExitsAndStatuses(t *testing.T) {
	base := inStation(man, noFlags)
	cases := []struct {
		e    domain.Event
		exit domain.ExitType
		st   domain.Status
	}{
		{domain.LeftVoluntarily{DeclarationRef: "d"}, domain.ExitVoluntaryLeave, domain.StatusExited},
		{domain.EscortedReturn{Destination: "x"}, domain.ExitEscortedReturn, domain.StatusExited},
		{domain.Absconded{}, domain.ExitAbsconding, domain.StatusExited},
		{domain.Terminated{Reason: "r"}, domain.ExitTermination, domain.StatusExited},
		{domain.Died{Place: "p"}, domain.ExitDeath, domain.StatusExited},
	}
	for _, c := range cases {
		s := foldCase(with(base, c.e))
		if s.Status != c.st || s.ExitType != c.exit || s.ReleaseDue == nil || s.ReleaseDue.Reason != domain.ReleaseExit {
			t.Errorf("%T: status %s exit %s release %+v", c.e, s.Status, s.ExitType, s.ReleaseDue)
		}
	}
	refused := foldCase([]any{intake(man, noFlags), domain.EligibilityDecided{NoticeNo: "n"}})
	if refused.Status != domain.StatusRefused || refused.ExitType != domain.ExitNotEligible {
		t.Errorf("refused: %s %s", refused.Status, refused.ExitType)
	}
	noCheck := foldCase([]any{intake(man, noFlags), eligible, domain.SecurityChecked{CheckedBy: domain.Checker{StaffID: "s", Sex: domain.Male}, Refused: true}})
	if noCheck.Status != domain.StatusRefused || noCheck.ExitType != domain.ExitSecurityCheckRefused {
		t.Errorf("security check refused: %s %s", noCheck.Status, noCheck.ExitType)
	}
	dead := foldCase(with(base, domain.Died{Place: "p", DeathChecklist: domain.DeathChecklist{CertifiedBy: "hospital", PoliceNotified: ptr(true)}},
		domain.DeathChecklistUpdated{DeathChecklist: domain.DeathChecklist{RelativesNotified: ptr(true), PublicNotice: "n"}}))
	if dead.Death.ChecklistComplete() {
		t.Error("checklist complete without body disposition")
	}
	dead = foldCase(with(base, domain.Died{Place: "p", DeathChecklist: domain.DeathChecklist{CertifiedBy: "hospital", PoliceNotified: ptr(true)}},
		domain.DeathChecklistUpdated{DeathChecklist: domain.DeathChecklist{RelativesNotified: ptr(true), PublicNotice: "n"}},
		domain.DeathChecklistUpdated{DeathChecklist: domain.DeathChecklist{BodyDisposition: "cremated"}}))
	if !dead.Death.ChecklistComplete() || dead.Death.CertifiedBy != "hospital" {
		t.Errorf("checklist %+v", dead.Death)
	}
	declined := foldCase(with(base, domain.TransferRequested{From: "S01", To: "S02"}, domain.TransferDeclined{From: "S01", To: "S02"}))
	if declined.Transfer != nil || declined.Station != "S01" {
		t.Errorf("declined transfer: %+v at %s", declined.Transfer, declined.Station)
	}
	verified := foldCase(with(inStation(elderly, noFlags), domain.IdentityVerified{Method: domain.VerifiedByPolice, Name: "Real", IDNumber: "x", IDType: domain.IDOther, BirthDate: date("1950-01-01")}))
	if verified.Person.Name != "Real" || verified.Person.EstimatedAge != nil || !verified.Identity.Verified {
		t.Errorf("verified person %+v", verified.Person)
	}
	if age, _ := verified.AgeOn(t0); age != 76 {
		t.Errorf("age from the verified birth date = %d", age)
	}
}

func TestTreatFirstAssistAfter(t *testing.T) {
	hospital := []any{intake(man, noFlags), domain.MedicalReferred{Hospital: "H"}, domain.HospitalAdmitted{Hospital: "H"}, domain.HospitalDischarged{}}
	if c := foldCase(with(hospital, domain.MedicalReturned{})); c.Status != domain.StatusReceived {
		t.Errorf("back from hospital before screening: %s, want received", c.Status)
	}
	if c := foldCase(with(hospital, eligible, domain.MedicalReturned{})); c.Status != domain.StatusInStation {
		t.Errorf("screened in hospital, back: %s, want in_station", c.Status)
	}
}

func TestFoldDoesNotAliasEarlierStates(t *testing.T) {
	base := foldCase(with(inStation(man, noFlags), domain.BelongingsDeposited{Items: []domain.Item{{Item: "bag", Qty: 1}}}))
	env := domain.Envelope{Revision: base.Version, Event: domain.BelongingsReturned{Items: []string{"bag"}}}
	next := domain.Evolve(base, env)
	if !next.Belongings[0].Returned || base.Belongings[0].Returned {
		t.Fatalf("returning in a later state changed the earlier one: before %+v after %+v", base.Belongings, next.Belongings)
	}
}

func BenchmarkEvolve(b *testing.B) {
	given := []any{intake(man, noFlags), eligible, checkedM}
	for range 1000 {
		given = append(given, domain.RelativesContacted{Outcome: "not reached"})
	}
	envs := envelopes(domain.CaseStream(caseID), given)
	b.ReportAllocs()
	for b.Loop() {
		if c := domain.Fold(envs); c.Version != uint64(len(envs)) {
			b.Fatal(c.Version)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(envs)), "ns/event")
}
