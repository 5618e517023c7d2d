package domain_test

import (
	"testing"
	"time"

	"waystation/domain"
)

// TestCorrectedTimesKeepTheLengthOfStayAndAgeRules: a correction of when a
// step happened may not make a step break a rule that depends on how long
// after the intake it happened or on the person's age then; it is refused
// with the rule the step's decider uses. Each rule is shown at its edge:
// the last accepted time and the first refused one.
func TestCorrectedTimesKeepTheLengthOfStayAndAgeRules(t *testing.T) {
	hour, day, second := time.Hour, 24*time.Hour, time.Second
	// turning16 and turning18 have their birthday 32 hours after t0 (the
	// civil day 2026-01-12 begins at 2026-01-11T16:00Z).
	birthday := 32 * hour
	turning16 := domain.Person{Name: "Sun", Sex: domain.Male, BirthDate: date("2010-01-12")}
	turning18 := domain.Person{Name: "Zhou", Sex: domain.Male, BirthDate: date("2008-01-12")}
	// newborn was born on 2026-01-01, which began at 2025-12-31T16:00Z, 9
	// days and 16 hours before t0.
	newborn := domain.Person{Name: "Qian", Sex: domain.Female, BirthDate: date("2026-01-01")}
	// spread is a screened case whose screening steps came hours after the
	// intake, so the intake has room to move later.
	spread := []any{intake(man, noFlags), after{2 * hour, eligible}, after{3 * hour, checkedM}}
	longStay := domain.LongStayStarted{Kind: domain.LongStayInStation}
	applied := domain.SettlementRecorded{Stage: domain.SettlementApplied, Place: "P"}
	extended := domain.StayExtended{Until: t0.Add(20 * day), ApprovedBy: "director", Reason: "waiting for family"}
	guardianship := domain.GuardianshipTaken{Basis: "art. 92", Guardian: "civil_affairs"}
	refused := domain.EligibilityDecided{Eligible: false, Reason: "has a home", NoticeNo: "N-1"}
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	move := func(id int, from, to time.Duration) domain.Command {
		return correct(id, domain.OccurredAtField, at(from), at(to))
	}
	moved := func(id int, typ string, from, to time.Duration) []domain.Event {
		return []domain.Event{corrected(id, typ, domain.OccurredAtField, at(from), at(to), "paperwork")}
	}
	later := 200 * day // the corrections are made long after the steps
	runCaseSpecs(t, []caseSpec{
		// The intake: on or after the person's birth date.
		{name: "the intake moves earlier down to the start of the person's birth date", now: later,
			given: []any{intake(newborn, noFlags)},
			when:  move(0, 0, -9*day-16*hour), then: moved(0, domain.TypeIntakeRegistered, 0, -9*day-16*hour)},
		{name: "the intake is not moved before the person's birth date", now: later,
			given: []any{intake(newborn, noFlags)},
			when:  move(0, 0, -9*day-16*hour-second), code: domain.CodeInvalid},

		// Long stay: 10 days after the intake.
		{name: "the intake moves later up to 10 days before the long stay", now: later,
			given: with(spread, after{10*day + hour, longStay}),
			when:  move(0, 0, hour), then: moved(0, domain.TypeIntakeRegistered, 0, hour)},
		{name: "the intake is not moved later to less than 10 days before the long stay", now: later,
			given: with(spread, after{10*day + hour, longStay}),
			when:  move(0, 0, hour+second), rule: domain.RuleLongStayTooEarly},
		{name: "the long stay moves earlier down to 10 days after the intake", now: later,
			given: with(inStation(man, noFlags), after{11 * day, longStay}),
			when:  move(3, 11*day, 10*day), then: moved(3, domain.TypeLongStayStarted, 11*day, 10*day)},
		{name: "the long stay is not moved earlier to less than 10 days after the intake", now: later,
			given: with(inStation(man, noFlags), after{11 * day, longStay}),
			when:  move(3, 11*day, 10*day-second), rule: domain.RuleLongStayTooEarly},

		// Settlement application: 90 days after the intake.
		{name: "the intake moves later up to 90 days before the settlement application", now: later,
			given: with(spread, after{90*day + hour, applied}),
			when:  move(0, 0, hour), then: moved(0, domain.TypeIntakeRegistered, 0, hour)},
		{name: "the intake is not moved later to less than 90 days before the settlement application", now: later,
			given: with(spread, after{90*day + hour, applied}),
			when:  move(0, 0, hour+second), rule: domain.RuleSettlementTooEarly},
		{name: "the settlement application moves earlier down to 90 days after the intake", now: later,
			given: with(inStation(man, noFlags), after{100 * day, applied}),
			when:  move(3, 100*day, 90*day), then: moved(3, domain.TypeSettlementRecorded, 100*day, 90*day)},
		{name: "the settlement application is not moved earlier to less than 90 days after the intake", now: later,
			given: with(inStation(man, noFlags), after{100 * day, applied}),
			when:  move(3, 100*day, 90*day-second), rule: domain.RuleSettlementTooEarly},

		// Extension: before its new limit, while a stay limit applies.
		{name: "an extension moves later up to just before its new limit", now: later,
			given: with(inStation(man, noFlags), after{5 * day, extended}),
			when:  move(3, 5*day, 20*day-second), then: moved(3, domain.TypeStayExtended, 5*day, 20*day-second)},
		{name: "an extension is not moved to its new limit", now: later,
			given: with(inStation(man, noFlags), after{5 * day, extended}),
			when:  move(3, 5*day, 20*day), rule: domain.RuleExtensionNotLater},
		{name: "an extension is bounded by its corrected limit", now: later,
			given: with(inStation(man, noFlags), after{5 * day, extended},
				corrected(3, domain.TypeStayExtended, "until", at(20*day), at(12*day), "typo")),
			when: move(3, 5*day, 12*day), rule: domain.RuleExtensionNotLater},
		{name: "the intake moves later until the 10 days after it reach the first extension's limit", now: later,
			given: with(spread, after{5 * day, domain.StayExtended{Until: at(10*day + hour + second), ApprovedBy: "director"}}),
			when:  move(0, 0, hour), then: moved(0, domain.TypeIntakeRegistered, 0, hour)},
		{name: "the intake is not moved later to 10 days before the first extension's limit", now: later,
			given: with(spread, after{5 * day, domain.StayExtended{Until: at(10*day + hour), ApprovedBy: "director"}}),
			when:  move(0, 0, hour), rule: domain.RuleExtensionNotLater},
		{name: "the first extension's limit bounds the intake, not the latest's", now: later,
			given: with(spread, after{5 * day, domain.StayExtended{Until: at(10*day + hour), ApprovedBy: "director"}},
				after{6 * day, domain.StayExtended{Until: at(30 * day), ApprovedBy: "director"}}),
			when: move(0, 0, hour), rule: domain.RuleExtensionNotLater},

		// The new limit of an extension: after the extension.
		{name: "an extension's limit is corrected down to just after the extension", now: later,
			given: with(inStation(man, noFlags), after{12 * day, extended}),
			when:  correct(3, "until", at(20*day), at(12*day+second)),
			then:  []domain.Event{corrected(3, domain.TypeStayExtended, "until", at(20*day), at(12*day+second), "paperwork")}},
		{name: "an extension's limit is not corrected to the extension's time", now: later,
			given: with(inStation(man, noFlags), after{12 * day, extended}),
			when:  correct(3, "until", at(20*day), at(12*day)), rule: domain.RuleExtensionNotLater},
		{name: "the first extension's limit is corrected down to just after 10 days after the intake", now: later,
			given: with(inStation(man, noFlags), after{5 * day, extended}),
			when:  correct(3, "until", at(20*day), at(10*day+second)),
			then:  []domain.Event{corrected(3, domain.TypeStayExtended, "until", at(20*day), at(10*day+second), "paperwork")}},
		{name: "the first extension's limit is not corrected to 10 days after the intake", now: later,
			given: with(inStation(man, noFlags), after{5 * day, extended}),
			when:  correct(3, "until", at(20*day), at(10*day)), rule: domain.RuleExtensionNotLater},
		{name: "an extension moves earlier down to the person's 16th birthday", now: later,
			given: with(inStation(turning16, noFlags), after{2 * day, extended}),
			when:  move(3, 2*day, birthday), then: moved(3, domain.TypeStayExtended, 2*day, birthday)},
		{name: "an extension is not moved before the person's 16th birthday", now: later,
			given: with(inStation(turning16, noFlags), after{2 * day, extended}),
			when:  move(3, 2*day, birthday-second), rule: domain.RuleNoStayLimit},

		// Guardianship: of a minor.
		{name: "guardianship moves later up to the last moment the person is a minor", now: later,
			given: with(inStation(turning18, noFlags), after{hour, guardianship}),
			when:  move(3, hour, birthday-second), then: moved(3, domain.TypeGuardianshipTaken, hour, birthday-second)},
		{name: "guardianship is not moved to the person's 18th birthday", now: later,
			given: with(inStation(turning18, noFlags), after{hour, guardianship}),
			when:  move(3, hour, birthday), rule: domain.RuleGuardianshipOnlyForMinors},

		// Leaving alone: aged 16 or over.
		{name: "a voluntary leave moves earlier down to the person's 16th birthday", now: later,
			given: with(inStation(turning16, noFlags), after{3 * day, domain.LeftVoluntarily{DeclarationRef: "D1"}}),
			when:  move(3, 3*day, birthday), then: moved(3, domain.TypeLeftVoluntarily, 3*day, birthday)},
		{name: "a voluntary leave is not moved before the person's 16th birthday", now: later,
			given: with(inStation(turning16, noFlags), after{3 * day, domain.LeftVoluntarily{DeclarationRef: "D1"}}),
			when:  move(3, 3*day, birthday-second), rule: domain.RuleMinorCannotLeaveAlone},
		{name: "a termination moves earlier down to the person's 16th birthday", now: later,
			given: with(inStation(turning16, noFlags), after{3 * day, domain.Terminated{Reason: "rules"}}),
			when:  move(3, 3*day, birthday), then: moved(3, domain.TypeTerminated, 3*day, birthday)},
		{name: "a termination is not moved before the person's 16th birthday", now: later,
			given: with(inStation(turning16, noFlags), after{3 * day, domain.Terminated{Reason: "rules"}}),
			when:  move(3, 3*day, birthday-second), rule: domain.RuleMinorCannotLeaveAlone},

		// Refused eligibility: not of a person helped first (a minor here).
		{name: "a refused eligibility moves earlier down to the person's 18th birthday", now: later,
			given: []any{intake(turning18, noFlags), after{2 * day, refused}},
			when:  move(1, 2*day, birthday), then: moved(1, domain.TypeEligibilityDecided, 2*day, birthday)},
		{name: "a refused eligibility is not moved before the person's 18th birthday", now: later,
			given: []any{intake(turning18, noFlags), after{2 * day, refused}},
			when:  move(1, 2*day, birthday-second), rule: domain.RuleAssistFirst},
		{name: "an eligibility decided with help first is not bound by age", now: later,
			given: []any{intake(turning18, noFlags), after{2 * day, domain.EligibilityDecided{Eligible: false, AssistFirst: true}}},
			when:  move(1, 2*day, hour), then: moved(1, domain.TypeEligibilityDecided, 2*day, hour)},

		// A rule the step broke before the correction.
		{name: "a step that already breaks a rule, by what was learnt of the person since, still has its time corrected", now: later,
			given: with(inStation(turning18, noFlags), after{hour, guardianship},
				after{2 * hour, domain.IdentityVerified{Method: domain.VerifiedByPolice, BirthDate: date("1990-01-01")}}),
			when: move(3, hour, 90*time.Minute), then: moved(3, domain.TypeGuardianshipTaken, hour, 90*time.Minute)},
	})
}
