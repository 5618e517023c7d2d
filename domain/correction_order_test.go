package domain_test

import (
	"testing"
	"time"

	"waystation/domain"
)

// TestCorrectedTimesKeepTheOrderOfSteps: a correction of when a step
// happened obeys the order the deciders enforce when the step is recorded.
func TestCorrectedTimesKeepTheOrderOfSteps(t *testing.T) {
	hour := time.Hour
	base := inStation(man, noFlags) // events 0 intake at t0, 1 eligibility at +1m, 2 security check at +2m
	left := domain.LeftVoluntarily{DeclarationRef: "d1"}
	requested := domain.TransferRequested{From: "S01", To: "S02", Reason: "closer to home"}
	declined := domain.TransferDeclined{From: "S01", To: "S02", Reason: "full"}
	accepted := domain.TransferAccepted{From: "S01", To: "S02"}
	departed := domain.EscortDeparted{From: "S01", To: "S02", Escorts: []string{"e1"}}
	report := domain.PoliceReportFiled{Reason: domain.ReportOther}
	moved := func(id int, typ string, old, new time.Duration) []domain.Event {
		return []domain.Event{corrected(id, typ, domain.OccurredAtField, t0.Add(old), t0.Add(new), "paperwork")}
	}
	// spread is a screened case whose screening steps came hours after the
	// intake, so the intake has room to move.
	spread := []any{intake(man, noFlags), after{2 * hour, eligible}, after{3 * hour, checkedM}}
	hospital := with(base, after{4 * hour, domain.MedicalReferred{Hospital: "H"}}, after{5 * hour, domain.HospitalAdmitted{Hospital: "H"}},
		after{6 * hour, domain.HospitalDischarged{Hospital: "H"}}, after{7 * hour, domain.MedicalReturned{}})
	runCaseSpecs(t, []caseSpec{
		// The intake.
		{name: "the intake is not moved after the exit (reviewer's case)", given: with(base, after{5 * hour, left}),
			when: correct(0, domain.OccurredAtField, t0, t0.Add(10*hour)), rule: domain.RuleOccurredAfterNextStep},
		{name: "the intake is not moved after the first later step", given: spread,
			when: correct(0, domain.OccurredAtField, t0, t0.Add(2*hour+time.Minute)), rule: domain.RuleOccurredAfterNextStep},
		{name: "the intake moves later up to the first later step", given: spread,
			when: correct(0, domain.OccurredAtField, t0, t0.Add(2*hour)), then: moved(0, domain.TypeIntakeRegistered, 0, 2*hour)},
		{name: "the intake is not moved after late paperwork, which no step precedes the case in",
			given: []any{intake(man, noFlags), after{30 * time.Minute, report}, after{2 * hour, eligible}},
			when:  correct(0, domain.OccurredAtField, t0, t0.Add(hour)), rule: domain.RuleOccurredAfterNextStep},
		{name: "the intake moves earlier", given: with(base, after{5 * hour, left}),
			when: correct(0, domain.OccurredAtField, t0, t0.Add(-hour)), then: moved(0, domain.TypeIntakeRegistered, 0, -hour)},

		// The exit.
		{name: "the exit is not moved before the latest earlier step (reviewer's case)",
			given: with(base, after{5 * hour, domain.DNARequested{Lab: "L"}}, after{6 * hour, left}),
			when:  correct(4, domain.OccurredAtField, t0.Add(6*hour), t0.Add(hour)), rule: domain.RuleOccurredBeforePreviousStep},
		{name: "the exit moves earlier down to the latest earlier step",
			given: with(base, after{5 * hour, domain.DNARequested{Lab: "L"}}, after{6 * hour, left}),
			when:  correct(4, domain.OccurredAtField, t0.Add(6*hour), t0.Add(5*hour)), then: moved(4, domain.TypeLeftVoluntarily, 6*hour, 5*hour)},
		{name: "a refused eligibility is an exit and is not moved before an earlier step",
			given: []any{intake(man, noFlags), after{2 * hour, domain.DNARequested{Lab: "L"}}, after{5 * hour, domain.EligibilityDecided{Eligible: false, Reason: "has a home", NoticeNo: "N-1"}}},
			when:  correct(2, domain.OccurredAtField, t0.Add(5*hour), t0.Add(hour)), rule: domain.RuleOccurredBeforePreviousStep},
		{name: "a step is not moved after the exit",
			given: with(base, after{5 * hour, domain.DNARequested{Lab: "L"}}, after{6 * hour, left}),
			when:  correct(3, domain.OccurredAtField, t0.Add(5*hour), t0.Add(7*hour)), rule: domain.RuleOccurredAfterNextStep},
		{name: "late paperwork before the exit moves after it",
			given: with(base, after{5 * hour, report}, after{6 * hour, left}),
			when:  correct(3, domain.OccurredAtField, t0.Add(5*hour), t0.Add(8*hour)), then: moved(3, domain.TypePoliceReportFiled, 5*hour, 8*hour)},
		{name: "late paperwork after the exit moves before it",
			given: with(base, after{5 * hour, left}, after{7 * hour, report}),
			when:  correct(4, domain.OccurredAtField, t0.Add(7*hour), t0.Add(3*hour)), then: moved(4, domain.TypePoliceReportFiled, 7*hour, 3*hour)},

		// A step and the step it follows.
		{name: "a decline is not moved before its request", given: with(base, after{5 * hour, requested}, after{6 * hour, declined}),
			when: correct(4, domain.OccurredAtField, t0.Add(6*hour), t0.Add(4*hour)), rule: domain.RuleOccurredBeforePreviousStep},
		{name: "a request is not moved after its decline", given: with(base, after{5 * hour, requested}, after{6 * hour, declined}),
			when: correct(3, domain.OccurredAtField, t0.Add(5*hour), t0.Add(7*hour)), rule: domain.RuleOccurredAfterNextStep},
		{name: "a request moves later up to its decline", given: with(base, after{5 * hour, requested}, after{6 * hour, declined}),
			when: correct(3, domain.OccurredAtField, t0.Add(5*hour), t0.Add(6*hour)), then: moved(3, domain.TypeTransferRequested, 5*hour, 6*hour)},
		{name: "a decline is bounded by its request's corrected time",
			given: with(base, after{5 * hour, requested}, after{6 * hour, declined}, corrected(3, domain.TypeTransferRequested, domain.OccurredAtField, t0.Add(5*hour), t0.Add(3*hour), "x")),
			when:  correct(4, domain.OccurredAtField, t0.Add(6*hour), t0.Add(4*hour)), then: moved(4, domain.TypeTransferDeclined, 6*hour, 4*hour)},
		{name: "an escort's departure is not moved before the acceptance",
			given: with(base, after{4 * hour, requested}, after{5 * hour, accepted}, after{6 * hour, departed}),
			when:  correct(5, domain.OccurredAtField, t0.Add(6*hour), t0.Add(4*hour)), rule: domain.RuleOccurredBeforePreviousStep},
		{name: "a closure is not moved before the exit", given: with(base, after{5 * hour, left}, after{6 * hour, domain.CaseClosed{}}),
			when: correct(4, domain.OccurredAtField, t0.Add(6*hour), t0.Add(4*hour)), rule: domain.RuleOccurredBeforePreviousStep},
		{name: "the exit is not moved after the closure", given: with(base, after{5 * hour, left}, after{6 * hour, domain.CaseClosed{}}),
			when: correct(3, domain.OccurredAtField, t0.Add(5*hour), t0.Add(7*hour)), rule: domain.RuleOccurredAfterNextStep},
		{name: "a DNA result is not moved before its request",
			given: with(base, after{5 * hour, domain.DNARequested{Lab: "L"}}, after{6 * hour, domain.DNAResultReceived{Matched: true}}),
			when:  correct(4, domain.OccurredAtField, t0.Add(6*hour), t0.Add(4*hour)), rule: domain.RuleOccurredBeforePreviousStep},
		{name: "a DNA request is not moved after its result",
			given: with(base, after{5 * hour, domain.DNARequested{Lab: "L"}}, after{6 * hour, domain.DNAResultReceived{Matched: true}}),
			when:  correct(3, domain.OccurredAtField, t0.Add(5*hour), t0.Add(7*hour)), rule: domain.RuleOccurredAfterNextStep},
		{name: "an earlier DNA request, which the result does not follow, moves after it",
			given: with(base, after{4 * hour, domain.DNARequested{Lab: "L"}}, after{5 * hour, domain.DNARequested{Lab: "M"}}, after{6 * hour, domain.DNAResultReceived{Matched: true}}),
			when:  correct(3, domain.OccurredAtField, t0.Add(4*hour), t0.Add(7*hour)), then: moved(3, domain.TypeDNARequested, 4*hour, 7*hour)},
		{name: "an admission is not moved before the referral", given: hospital,
			when: correct(4, domain.OccurredAtField, t0.Add(5*hour), t0.Add(3*hour)), rule: domain.RuleOccurredBeforePreviousStep},
		{name: "an admission is not moved after the discharge", given: hospital,
			when: correct(4, domain.OccurredAtField, t0.Add(5*hour), t0.Add(6*hour+30*time.Minute)), rule: domain.RuleOccurredAfterNextStep},
		{name: "a return is not moved before the discharge", given: hospital,
			when: correct(6, domain.OccurredAtField, t0.Add(7*hour), t0.Add(5*hour)), rule: domain.RuleOccurredBeforePreviousStep},
		{name: "an admission moves between the referral and the discharge", given: hospital,
			when: correct(4, domain.OccurredAtField, t0.Add(5*hour), t0.Add(4*hour+30*time.Minute)), then: moved(4, domain.TypeHospitalAdmitted, 5*hour, 4*hour+30*time.Minute)},

		// Steps the deciders do not order among themselves.
		{name: "an identity query moves after a later DNA request",
			given: with(base, after{5 * hour, domain.IdentityQueried{Channel: domain.QueryPolice}}, after{6 * hour, domain.DNARequested{Lab: "L"}}),
			when:  correct(3, domain.OccurredAtField, t0.Add(5*hour), t0.Add(7*hour)), then: moved(3, domain.TypeIdentityQueried, 5*hour, 7*hour)},
	})
}

// TestMovingTheLatestStepEarlierLetsAnExitPrecedeItsOldTime: the exit is
// bounded by the latest step's corrected time, not by the time it was
// first recorded with.
func TestMovingTheLatestStepEarlierLetsAnExitPrecedeItsOldTime(t *testing.T) {
	hour := time.Hour
	at := func(d time.Duration) domain.Common { return domain.Common{OccurredAt: ptr(t0.Add(d))} }
	requestedLate := with(inStation(man, noFlags), after{5 * hour, domain.DNARequested{Lab: "L"}})
	movedEarlier := with(requestedLate, corrected(3, domain.TypeDNARequested, domain.OccurredAtField, t0.Add(5*hour), t0.Add(hour), "x"))
	runCaseSpecs(t, []caseSpec{
		{name: "before the correction an exit between the two times is refused", given: requestedLate,
			when: &domain.VoluntaryLeave{Common: at(3 * hour), DeclarationRef: "D1"}, rule: domain.RuleOccurredBeforePreviousStep},
		{name: "after it the exit between them is accepted", given: movedEarlier,
			when: &domain.VoluntaryLeave{Common: at(3 * hour), DeclarationRef: "D1"}, then: []domain.Event{domain.LeftVoluntarily{DeclarationRef: "D1"}}},
		{name: "and an exit before the corrected time is still refused", given: movedEarlier,
			when: &domain.VoluntaryLeave{Common: at(30 * time.Minute), DeclarationRef: "D1"}, rule: domain.RuleOccurredBeforePreviousStep},
	})
	t.Run("the state the correction was folded onto keeps the old time", func(t *testing.T) {
		exited := with(requestedLate, after{6 * hour, domain.LeftVoluntarily{DeclarationRef: "D1"}})
		envs := envelopes(domain.CaseStream(caseID), with(exited, corrected(3, domain.TypeDNARequested, domain.OccurredAtField, t0.Add(5*hour), t0.Add(hour), "x")))
		before := domain.Fold(envs[:len(envs)-1])
		// Apply advances a state in place and promises that a copy taken
		// before stays valid.
		after := before
		after.Apply(envs[len(envs)-1])
		exitEarlier := withTarget(correct(4, domain.OccurredAtField, t0.Add(6*hour), t0.Add(3*hour)), exited)
		if _, err := domain.Decide(after, exitEarlier, t0.Add(24*hour)); err != nil {
			t.Fatalf("after the correction: %v, want the exit moved to between the two times", err)
		}
		_, err := domain.Decide(before, exitEarlier, t0.Add(24*hour))
		if got := domain.RuleOf(err); got != domain.RuleOccurredBeforePreviousStep {
			t.Fatalf("before the correction: rule %q, want %s", got, domain.RuleOccurredBeforePreviousStep)
		}
	})
}
