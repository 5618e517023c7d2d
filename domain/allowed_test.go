package domain_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
)

// validCommands returns valid commands of step for case c at now, one for
// each form of the step, with fields chosen to keep every rule about the
// command's own fields (a female checker, another station, a deposited
// item, the furthest new limit, no notes), so that Decide refuses them
// only for a state rule. intake is the case's intake as stored, for a
// correction to name.
func validCommands(c domain.Case, step domain.Step, now time.Time, intake *domain.Envelope) []domain.Command {
	switch step {
	case domain.StepEligibility:
		return []domain.Command{&domain.EligibilityCmd{Eligible: ptr(true)}, &domain.EligibilityCmd{AssistFirst: true},
			&domain.EligibilityCmd{Eligible: ptr(false), Reason: "r", NoticeNo: "n"}}
	case domain.StepSecurityCheck:
		by := domain.Checker{StaffID: "c", Sex: domain.Female}
		return []domain.Command{&domain.SecurityCheckCmd{CheckedBy: by}, &domain.SecurityCheckCmd{CheckedBy: by, Refused: true}}
	case domain.StepBelongings:
		out := []domain.Command{&domain.Belongings{Deposited: []domain.Item{{Item: "phone", Qty: 1}}}}
		for _, b := range c.Belongings {
			if !b.Returned {
				return append(out, &domain.Belongings{Returned: []string{b.Item}})
			}
		}
		return out
	case domain.StepBed:
		var out []domain.Command
		for _, z := range domain.Zones {
			out = append(out, &domain.AssignBed{Zone: z})
		}
		return out
	case domain.StepBedRelease:
		return []domain.Command{&domain.ReleaseBed{}}
	case domain.StepIdentityQuery:
		return []domain.Command{&domain.IdentityQuery{Channel: domain.QueryQuick}}
	case domain.StepIdentityVerified:
		return []domain.Command{&domain.IdentityVerification{Method: domain.VerifiedBySelf}}
	case domain.StepFamilySearchNotice:
		return []domain.Command{&domain.FamilySearchNotice{}}
	case domain.StepDNARequest:
		return []domain.Command{&domain.DNARequest{}}
	case domain.StepDNAResult:
		return []domain.Command{&domain.DNAResult{Matched: ptr(false)}}
	case domain.StepRelativesContacted:
		return []domain.Command{&domain.RelativesContact{}}
	case domain.StepMedicalReferral:
		return []domain.Command{&domain.MedicalReferral{Hospital: "H"}}
	case domain.StepHospitalAdmission:
		return []domain.Command{&domain.HospitalAdmission{}}
	case domain.StepHospitalDischarge:
		return []domain.Command{&domain.HospitalDischarge{}}
	case domain.StepMedicalReturn:
		return []domain.Command{&domain.MedicalReturn{}}
	case domain.StepExtension:
		return []domain.Command{&domain.Extension{Until: now.Add(domain.MaxExtension), ApprovedBy: "a", Reason: "r"}}
	case domain.StepLongStay:
		return []domain.Command{&domain.LongStayCmd{Kind: domain.LongStayInStation}}
	case domain.StepSettlement:
		return []domain.Command{&domain.SettlementCmd{Stage: domain.SettlementApplied},
			&domain.SettlementCmd{Stage: domain.SettlementSettled}}
	case domain.StepGuardianship:
		return []domain.Command{&domain.GuardianshipCmd{Basis: "b"}}
	case domain.StepPoliceReport:
		return []domain.Command{&domain.PoliceReportCmd{Reason: domain.ReportOther}}
	case domain.StepTransferRequest:
		to := "S02"
		if c.Station == to {
			to = "S01"
		}
		return []domain.Command{&domain.TransferRequest{ToStation: to, Reason: "r"}}
	case domain.StepTransferAccept:
		return []domain.Command{&domain.TransferAccept{}}
	case domain.StepTransferDecline:
		return []domain.Command{&domain.TransferDecline{}}
	case domain.StepEscortDeparture:
		return []domain.Command{&domain.EscortDeparture{Escorts: []string{"e"}}}
	case domain.StepHandover:
		return []domain.Command{&domain.HandoverCmd{ReceivedBy: "r"}}
	case domain.StepVoluntaryLeave:
		return []domain.Command{&domain.VoluntaryLeave{DeclarationRef: "d"}}
	case domain.StepPickup:
		return []domain.Command{&domain.Pickup{Collector: domain.Collector{Name: "n", IDType: domain.IDPassport,
			IDNumber: "p", Relationship: "r"}}}
	case domain.StepEscortedReturn:
		return []domain.Command{&domain.EscortedReturnCmd{Destination: "d"}}
	case domain.StepAbsconding:
		return []domain.Command{&domain.Absconding{}}
	case domain.StepTermination:
		return []domain.Command{&domain.Termination{Reason: "r"}}
	case domain.StepDeath:
		return []domain.Command{&domain.DeathCmd{Place: "p"}}
	case domain.StepClosure:
		return []domain.Command{&domain.Closure{}}
	case domain.StepPublicNotice:
		return []domain.Command{&domain.PublishNotice{Shows: []domain.NoticeField{domain.NoticeSex}}}
	case domain.StepWithdrawNotice:
		return []domain.Command{&domain.WithdrawNotice{}}
	case domain.StepCorrection:
		return []domain.Command{nameCorrection(c, intake)}
	}
	panic(fmt.Sprintf("no valid command of step %s", step))
}

// nameCorrection corrects the name of the intake, as it reads with the
// corrections the case made to it.
func nameCorrection(c domain.Case, intake *domain.Envelope) domain.Command {
	name := intake.Event.(domain.IntakeRegistered).Person.Name
	for _, k := range c.Corrections {
		if k.EventID == intake.ID && k.Field == "person.name" {
			if err := json.Unmarshal(k.New, &name); err != nil {
				panic(err)
			}
		}
	}
	old, _ := json.Marshal(name)
	renamed, _ := json.Marshal(name + "x")
	return &domain.Correct{EventID: intake.ID, Field: "person.name", Old: old, New: renamed, Reason: "typo",
		Target: intake}
}

// roomyStation is c's station with 50 beds in every zone, holding c's bed
// only, so that a bed step is refused only for the case's state or the
// command's zone.
func roomyStation(c domain.Case) domain.Station {
	var zones []domain.ZoneBeds
	for _, z := range domain.Zones {
		zones = append(zones, domain.ZoneBeds{Zone: z, Beds: 50})
	}
	st := domain.Station{}
	given := []any{domain.StationRegistered{Code: c.Station, Name: "roomy", Region: "R1", Kind: domain.KindStation,
		Zones: zones}}
	if c.Bed != nil {
		given = append(given, domain.BedAssigned{CaseID: c.ID, Zone: c.Bed.Zone, Bed: c.Bed.Bed})
	}
	for _, env := range envelopes(domain.StationStream(c.Station), given) {
		st.Evolve(env)
	}
	return st
}

// decideStep decides cmd on c at now as the Service would: a bed step on
// c's (roomy) station, any other with Decide.
func decideStep(c domain.Case, cmd domain.Command, now time.Time) error {
	switch cmd.(type) {
	case *domain.AssignBed, *domain.ReleaseBed:
		st := roomyStation(c)
		_, err := domain.DecideBed(&st, c, cmd, now)
		return err
	}
	_, err := domain.Decide(c, cmd, now)
	return err
}

// wantAgreement checks AllowedSteps(c, now) against Decide: every step it
// lists accepts one of the step's valid commands, and every step it omits
// refuses all of them with a state rule (a rule violation, or not found
// for a case that does not exist).
func wantAgreement(tb testing.TB, c domain.Case, now time.Time, intake *domain.Envelope) []domain.Step {
	tb.Helper()
	allowed := domain.AllowedSteps(c, now)
	for _, step := range domain.CaseSteps() {
		var refusals []error
		for _, cmd := range validCommands(c, step, now, intake) {
			if err := cmd.Validate(); err != nil {
				tb.Fatalf("the %s command %+v is not valid: %v", step, cmd, err)
			}
			err := decideStep(c, cmd, now)
			if err == nil {
				refusals = nil
				break
			}
			if code := domain.ErrorCode(err); code != domain.CodeRuleViolation && code != domain.CodeNotFound {
				tb.Errorf("step %s (%s, %s): %T refused with %v, not by a state rule", step, c.Status, now, cmd, err)
			}
			refusals = append(refusals, err)
		}
		if listed := slices.Contains(allowed, step); listed != (refusals == nil) {
			tb.Errorf("status %s at %s: AllowedSteps lists %s: %v; Decide refuses its commands with %v",
				c.Status, now, step, listed, refusals)
		}
	}
	return allowed
}

// TestAllowedSteps: given a case's history, when AllowedSteps is asked at
// now, then it lists the steps whose valid commands Decide accepts and no
// other, among them the steps named here and none of those it omits.
func TestAllowedSteps(t *testing.T) {
	dnaRequested := domain.DNARequested{SampleRef: "s"}
	requested := domain.TransferRequested{From: "S01", To: "S02", Reason: "r"}
	accepted := domain.TransferAccepted{From: "S01", To: "S02"}
	departed := domain.EscortDeparted{From: "S01", To: "S02", Escorts: []string{"e"}}
	erased := domain.PersonalDataErased{Reason: domain.ErasureSubjectRequest, Trigger: domain.ErasureOnRequest}
	phone := domain.BelongingsDeposited{Items: []domain.Item{{Item: "phone", Qty: 1}}}
	day := 24 * time.Hour
	tests := []struct {
		name    string
		given   []any
		now     time.Duration // after t0; default one day
		lists   []domain.Step
		omits   []domain.Step
		exactly bool
	}{
		{name: "a case that does not exist allows nothing", exactly: true},
		{name: "a case received is screened and checked, not placed or closed", given: []any{intake(man, noFlags)},
			lists: []domain.Step{domain.StepEligibility, domain.StepSecurityCheck, domain.StepTransferRequest},
			omits: []domain.Step{domain.StepBed, domain.StepClosure, domain.StepTransferAccept, domain.StepDNAResult,
				domain.StepHospitalAdmission, domain.StepBedRelease}},
		{name: "a case screened and checked is placed, not screened again", given: inStation(man, noFlags),
			lists: []domain.Step{domain.StepBed, domain.StepVoluntaryLeave, domain.StepMedicalReferral},
			omits: []domain.Step{domain.StepEligibility, domain.StepSecurityCheck, domain.StepLongStay,
				domain.StepSettlement}},
		{name: "a child does not leave alone but is taken into guardianship", given: inStation(boy10, noFlags),
			lists: []domain.Step{domain.StepGuardianship, domain.StepPickup},
			omits: []domain.Step{domain.StepVoluntaryLeave, domain.StepTermination}},
		{name: "belongings held keep the person from leaving in person", given: with(inStation(man, noFlags), phone),
			lists: []domain.Step{domain.StepBelongings, domain.StepAbsconding},
			omits: []domain.Step{domain.StepVoluntaryLeave, domain.StepPickup, domain.StepTermination}},
		{name: "a requested transfer is answered, and holds the other exits",
			given: with(inStation(man, noFlags), requested),
			lists: []domain.Step{domain.StepTransferAccept, domain.StepTransferDecline, domain.StepAbsconding},
			omits: []domain.Step{domain.StepTransferRequest, domain.StepEscortDeparture, domain.StepVoluntaryLeave,
				domain.StepPickup}},
		{name: "an accepted transfer is escorted", given: with(inStation(man, noFlags), requested, accepted),
			lists: []domain.Step{domain.StepEscortDeparture},
			omits: []domain.Step{domain.StepTransferAccept, domain.StepTransferDecline, domain.StepHandover}},
		{name: "a person in transit is handed over, not referred",
			given: with(inStation(man, noFlags), requested, accepted, departed),
			lists: []domain.Step{domain.StepHandover},
			omits: []domain.Step{domain.StepMedicalReferral, domain.StepEscortDeparture, domain.StepBed}},
		{name: "a person in hospital is discharged, not placed",
			given: with(inStation(man, noFlags), domain.MedicalReferred{Hospital: "H"}, domain.HospitalAdmitted{Hospital: "H"}),
			lists: []domain.Step{domain.StepHospitalDischarge},
			omits: []domain.Step{domain.StepBed, domain.StepHospitalAdmission, domain.StepMedicalReturn}},
		{name: "a DNA request awaits its result", given: with(inStation(man, noFlags), dnaRequested),
			lists: []domain.Step{domain.StepDNAResult, domain.StepIdentityVerified}},
		{name: "long stay comes after 10 days", given: inStation(elderly, noFlags), now: 11 * day,
			lists: []domain.Step{domain.StepLongStay, domain.StepExtension}, omits: []domain.Step{domain.StepSettlement}},
		{name: "settlement is applied for after 3 months", given: inStation(elderly, noFlags), now: 91 * day,
			lists: []domain.Step{domain.StepSettlement, domain.StepLongStay}},
		{name: "an exited case takes closure and late paperwork only", given: with(inStation(man, noFlags), domain.Absconded{}),
			lists: []domain.Step{domain.StepClosure, domain.StepPoliceReport, domain.StepCorrection},
			omits: []domain.Step{domain.StepEligibility, domain.StepBelongings, domain.StepDeath, domain.StepBed}},
		{name: "belongings are returned after the exit", given: with(inStation(man, noFlags), phone, domain.Absconded{}),
			lists: []domain.Step{domain.StepBelongings, domain.StepClosure}},
		{name: "a death's checklist is completed after it", given: with(inStation(man, noFlags), domain.Died{Place: "p"}),
			lists: []domain.Step{domain.StepDeath, domain.StepClosure}},
		{name: "a closed case takes corrections and police reports",
			given:   with(inStation(man, noFlags), domain.Absconded{}, domain.CaseClosed{}),
			lists:   []domain.Step{domain.StepPoliceReport, domain.StepCorrection},
			exactly: true},
		{name: "an erased case records no personal data again",
			given:   with(inStation(man, noFlags), domain.Absconded{}, erased),
			lists:   []domain.Step{domain.StepClosure},
			exactly: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := t0.Add(24 * time.Hour)
			if tt.now != 0 {
				now = t0.Add(tt.now)
			}
			c := foldCase(tt.given)
			c.ID = caseID
			var in *domain.Envelope
			if len(tt.given) > 0 {
				in = &envelopes(domain.CaseStream(caseID), tt.given)[0]
			}
			var got []domain.Step
			if c.Exists() {
				got = wantAgreement(t, c, now, in)
			} else {
				got = domain.AllowedSteps(c, now)
			}
			for _, s := range tt.lists {
				if !slices.Contains(got, s) {
					t.Errorf("AllowedSteps omits %s: %v", s, got)
				}
			}
			for _, s := range tt.omits {
				if slices.Contains(got, s) {
					t.Errorf("AllowedSteps lists %s: %v", s, got)
				}
			}
			if tt.exactly && !slices.Equal(got, tt.lists) {
				t.Errorf("AllowedSteps = %v, want exactly %v", got, tt.lists)
			}
		})
	}
}

// TestAllowedStepsAgreeWithDecideOverGeneratedHistories drives the random
// command sequences of the invariants test and checks, after every step,
// AllowedSteps of the case it touched against Decide, now and once the
// long-stay and settlement periods have passed.
func TestAllowedStepsAgreeWithDecideOverGeneratedHistories(t *testing.T) {
	seen := map[domain.Step]int{}
	for seed := range uint64(12) {
		w := &world{f: newFixture(t), rng: rand.New(rand.NewPCG(seed, 7))}
		for range 70 {
			cmd, id, actor := w.next()
			w.f.clock.Advance(time.Duration(w.rng.IntN(60)) * time.Minute)
			if in, ok := cmd.(*domain.Intake); ok {
				r, err := w.f.svc.Intake(w.f.ctx, actor, in, domain.Options{})
				if err != nil {
					continue
				}
				id = uuid.MustParse(r.ID)
				w.cases = append(w.cases, id)
			} else {
				w.f.svc.Execute(w.f.ctx, actor, id, cmd, domain.Options{})
			}
			c, err := w.f.svc.Case(w.f.ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			in := intakeOf(t, w, id)
			for _, later := range []time.Duration{0, 11 * 24 * time.Hour, 91 * 24 * time.Hour} {
				for _, s := range wantAgreement(t, c, w.f.clock.Now().Add(later), in) {
					seen[s]++
				}
			}
			if t.Failed() {
				t.Fatalf("seed %d, case %s after %s", seed, id, cmd.Step())
			}
		}
	}
	t.Logf("steps allowed: %v", seen)
	for _, s := range domain.CaseSteps() {
		if seen[s] == 0 && s != domain.StepDNAResult && s != domain.StepMedicalReturn {
			t.Errorf("no generated state allowed %s", s)
		}
	}
}

// intakeOf returns the stored intake of case id.
func intakeOf(tb testing.TB, w *world, id uuid.UUID) *domain.Envelope {
	tb.Helper()
	for rec, err := range w.f.store.ReadStream(w.f.ctx, domain.CaseStream(id), eventstore.ReadStreamOptions{Limit: 1}) {
		if err != nil {
			tb.Fatal(err)
		}
		env, err := domain.Decode(rec)
		if err != nil {
			tb.Fatal(err)
		}
		return &env
	}
	tb.Fatalf("case %s has no intake", id)
	return nil
}
