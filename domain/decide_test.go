package domain_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"waystation/domain"
)

var (
	eligible = domain.EligibilityDecided{Eligible: true}
	checkedM = domain.SecurityChecked{CheckedBy: domain.Checker{StaffID: "s1", Sex: domain.Male}}
	checkedF = domain.SecurityChecked{CheckedBy: domain.Checker{StaffID: "s2", Sex: domain.Female}}
)

// inStation is the history of a person screened, checked and in the station.
func inStation(p domain.Person, in domain.Inspection) []any {
	check := checkedM
	if p.Sex == domain.Female {
		check = checkedF
	}
	return []any{intake(p, in), eligible, check}
}

func with(base []any, more ...any) []any { return append(append([]any(nil), base...), more...) }

type caseSpec struct {
	name  string
	given []any
	when  domain.Command
	now   time.Duration // after t0; default one day
	then  []domain.Event
	rule  string
	code  domain.Code
}

func runCaseSpecs(t *testing.T, specs []caseSpec) {
	t.Helper()
	for _, s := range specs {
		t.Run(s.name, func(t *testing.T) {
			now := t0.Add(24 * time.Hour)
			if s.now != 0 {
				now = t0.Add(s.now)
			}
			c := foldCase(s.given)
			c.ID = caseID
			got, err := domain.Decide(c, withTarget(s.when, s.given), now)
			wantOutcome(t, got, err, s.then, s.rule, s.code)
		})
	}
}

// withTarget gives a correction the event it names from the given
// history, as the Service does from the stream.
func withTarget(cmd domain.Command, given []any) domain.Command {
	v, ok := cmd.(*domain.Correct)
	if !ok || v.Target != nil {
		return cmd
	}
	for _, env := range envelopes(domain.CaseStream(caseID), given) {
		if env.ID == v.EventID {
			c := *v
			c.Target = &env
			return &c
		}
	}
	return cmd
}

func TestIntakeAndScreening(t *testing.T) {
	refused := &domain.EligibilityCmd{Eligible: ptr(false), Reason: "has a home", NoticeNo: "N-1"}
	runCaseSpecs(t, []caseSpec{
		{name: "intake opens the case", when: &domain.Intake{Station: "S01", Referral: walkIn, Person: man},
			then: []domain.Event{intake(man, noFlags)}},
		{name: "intake with an estimated age records when it was estimated",
			when: &domain.Intake{Common: domain.Common{OccurredAt: ptr(t0)}, Station: "S01", Referral: walkIn, Person: domain.Person{Sex: domain.Male, EstimatedAge: ptr(75)}},
			then: []domain.Event{intake(domain.Person{Sex: domain.Male, EstimatedAge: ptr(75), AgeEstimatedOn: date("2026-01-10")}, noFlags)}},
		{name: "intake of an existing case is a conflict", given: []any{intake(man, noFlags)},
			when: &domain.Intake{Station: "S01", Referral: walkIn, Person: man}, code: domain.CodeConflict},
		{name: "intake in the future is refused", now: time.Hour,
			when: &domain.Intake{Common: domain.Common{OccurredAt: ptr(t0.Add(2 * time.Hour))}, Station: "S01", Referral: walkIn, Person: man},
			rule: domain.RuleOccurredInFuture},
		{name: "a step a few minutes ahead of the clock is allowed", given: []any{intake(man, noFlags)}, now: time.Hour,
			when: &domain.EligibilityCmd{Common: domain.Common{OccurredAt: ptr(t0.Add(time.Hour + 4*time.Minute))}, Eligible: ptr(true)},
			then: []domain.Event{eligible}},
		{name: "a step before the case began is refused", given: []any{intake(man, noFlags)},
			when: &domain.EligibilityCmd{Common: domain.Common{OccurredAt: ptr(t0.Add(-time.Minute))}, Eligible: ptr(true)},
			rule: domain.RuleOccurredBeforeCaseBegan},
		{name: "a step on a missing case is not found", when: &domain.EligibilityCmd{Eligible: ptr(true)}, code: domain.CodeNotFound},
		{name: "an intake given the zero time is refused, not recorded as now",
			when: &domain.Intake{Common: domain.Common{OccurredAt: ptr(time.Time{})}, Station: "S01", Referral: walkIn, Person: man}, code: domain.CodeInvalid},
		{name: "an intake before the 2003 measures is refused",
			when: &domain.Intake{Common: domain.Common{OccurredAt: ptr(domain.EarliestTime.Add(-time.Second))}, Station: "S01", Referral: walkIn, Person: man}, code: domain.CodeInvalid},
		{name: "eligible", given: []any{intake(man, noFlags)}, when: &domain.EligibilityCmd{Eligible: ptr(true)},
			then: []domain.Event{eligible}},
		{name: "an adult who refuses may be refused with a notice", given: []any{intake(man, noFlags)}, when: refused,
			then: []domain.Event{domain.EligibilityDecided{Reason: "has a home", NoticeNo: "N-1"}}},
		{name: "a child is assisted first, not refused", given: []any{intake(boy10, noFlags)}, when: refused,
			rule: domain.RuleAssistFirst},
		{name: "an elderly person is assisted first, not refused", given: []any{intake(elderly, noFlags)}, when: refused,
			rule: domain.RuleAssistFirst},
		{name: "someone who cannot state their details is assisted first",
			given: []any{intake(domain.Person{Sex: domain.Male, BirthDate: date("1980-01-01"), CanStateIdentity: ptr(false)}, noFlags)},
			when:  refused, rule: domain.RuleAssistFirst},
		{name: "assist first", given: []any{intake(boy10, noFlags)}, when: &domain.EligibilityCmd{AssistFirst: true},
			then: []domain.Event{domain.EligibilityDecided{AssistFirst: true}}},
		{name: "treated first, screened in hospital", given: []any{intake(man, noFlags), domain.MedicalReferred{Hospital: "H"}, domain.HospitalAdmitted{Hospital: "H"}},
			when: &domain.EligibilityCmd{Eligible: ptr(true)}, then: []domain.Event{eligible}},
		{name: "eligibility is decided once", given: []any{intake(man, noFlags), eligible},
			when: &domain.EligibilityCmd{Eligible: ptr(true)}, rule: domain.RuleEligibilityAlreadyDecided},
		{name: "a man is checked by a man", given: []any{intake(man, noFlags), eligible},
			when: &domain.SecurityCheckCmd{CheckedBy: domain.Checker{StaffID: "s1", Sex: domain.Male}}, then: []domain.Event{checkedM}},
		{name: "a woman is not checked by a man", given: []any{intake(woman, noFlags), eligible},
			when: &domain.SecurityCheckCmd{CheckedBy: domain.Checker{StaffID: "s1", Sex: domain.Male}},
			rule: domain.RuleFemaleCheckedByFemaleStaff},
		{name: "a woman is checked by a woman", given: []any{intake(woman, noFlags), eligible},
			when: &domain.SecurityCheckCmd{CheckedBy: domain.Checker{StaffID: "s2", Sex: domain.Female}}, then: []domain.Event{checkedF}},
		{name: "refusing the check ends assistance", given: []any{intake(man, noFlags), eligible},
			when: &domain.SecurityCheckCmd{CheckedBy: domain.Checker{StaffID: "s1", Sex: domain.Male}, Refused: true},
			then: []domain.Event{domain.SecurityChecked{CheckedBy: domain.Checker{StaffID: "s1", Sex: domain.Male}, Refused: true}}},
		{name: "the check is done once", given: inStation(man, noFlags),
			when: &domain.SecurityCheckCmd{CheckedBy: domain.Checker{StaffID: "s1", Sex: domain.Male}}, rule: domain.RuleSecurityCheckAlreadyDone},
		{name: "dangerous items go to the police", given: []any{intake(man, noFlags), eligible},
			when: &domain.SecurityCheckCmd{CheckedBy: domain.Checker{StaffID: "s1", Sex: domain.Male}, ItemsToPolice: []string{"knife"}},
			then: []domain.Event{domain.SecurityChecked{CheckedBy: domain.Checker{StaffID: "s1", Sex: domain.Male}, ItemsToPolice: []string{"knife"}}}},
	})
}

func TestBelongingsIdentityAndMedical(t *testing.T) {
	deposited := domain.BelongingsDeposited{Items: []domain.Item{{Item: "phone", Qty: 1}, {Item: "bag", Qty: 1}}}
	base := inStation(man, noFlags)
	runCaseSpecs(t, []caseSpec{
		{name: "belongings deposited", given: base, when: &domain.Belongings{Deposited: deposited.Items}, then: []domain.Event{deposited}},
		{name: "belongings returned", given: with(base, deposited), when: &domain.Belongings{Returned: []string{"phone"}},
			then: []domain.Event{domain.BelongingsReturned{Items: []string{"phone"}}}},
		{name: "an item never deposited is not returned", given: with(base, deposited), when: &domain.Belongings{Returned: []string{"watch"}},
			rule: domain.RuleBelongingsNotDeposited},
		{name: "an item is returned once", given: with(base, deposited, domain.BelongingsReturned{Items: []string{"phone"}}),
			when: &domain.Belongings{Returned: []string{"phone"}}, rule: domain.RuleBelongingsNotDeposited},
		{name: "identity query", given: base, when: &domain.IdentityQuery{Channel: domain.QueryPolice, Result: domain.QueryNoMatch},
			then: []domain.Event{domain.IdentityQueried{Channel: domain.QueryPolice, Result: domain.QueryNoMatch}}},
		{name: "identity verified", given: base, when: &domain.IdentityVerification{Method: domain.VerifiedByPolice, HukouPlace: "Anhui"},
			then: []domain.Event{domain.IdentityVerified{Method: domain.VerifiedByPolice, HukouPlace: "Anhui"}}},
		{name: "identity is verified once", given: with(base, domain.IdentityVerified{Method: domain.VerifiedByPolice}),
			when: &domain.IdentityVerification{Method: domain.VerifiedByDNA}, rule: domain.RuleAlreadyIdentified},
		{name: "family-search notice", given: base, when: &domain.FamilySearchNotice{Channel: "national_platform"},
			then: []domain.Event{domain.FamilySearchNoticePublished{Channel: "national_platform"}}},
		{name: "no family-search notice for an identified person", given: with(base, domain.IdentityVerified{Method: domain.VerifiedByPolice}),
			when: &domain.FamilySearchNotice{}, rule: domain.RuleAlreadyIdentified},
		{name: "DNA request", given: base, when: &domain.DNARequest{Lab: "L"}, then: []domain.Event{domain.DNARequested{Lab: "L"}}},
		{name: "DNA result after a request", given: with(base, domain.DNARequested{}), when: &domain.DNAResult{Matched: ptr(true)},
			then: []domain.Event{domain.DNAResultReceived{Matched: true}}},
		{name: "no DNA result without a request", given: base, when: &domain.DNAResult{Matched: ptr(false)}, rule: domain.RuleDNANotRequested},
		{name: "a DNA result cannot precede its request", given: with(base, after{48 * time.Hour, domain.DNARequested{}}), now: 72 * time.Hour,
			when: &domain.DNAResult{Common: domain.Common{OccurredAt: ptr(t0.Add(24 * time.Hour))}, Matched: ptr(false)},
			rule: domain.RuleOccurredBeforePreviousStep},
		{name: "relatives contacted", given: base, when: &domain.RelativesContact{Relationship: "son", Outcome: "reached"},
			then: []domain.Event{domain.RelativesContacted{Relationship: "son", Outcome: "reached"}}},
		{name: "medical referral", given: base, when: &domain.MedicalReferral{Hospital: "H1"}, then: []domain.Event{domain.MedicalReferred{Hospital: "H1"}}},
		{name: "admission after referral", given: with(base, domain.MedicalReferred{Hospital: "H1"}), when: &domain.HospitalAdmission{},
			then: []domain.Event{domain.HospitalAdmitted{Hospital: "H1"}}},
		{name: "no admission without referral", given: base, when: &domain.HospitalAdmission{Hospital: "H1"}, rule: domain.RuleNoMedicalReferral},
		{name: "discharge from hospital", given: with(base, domain.MedicalReferred{Hospital: "H1"}, domain.HospitalAdmitted{Hospital: "H1"}),
			when: &domain.HospitalDischarge{}, then: []domain.Event{domain.HospitalDischarged{Hospital: "H1"}}},
		{name: "no discharge when not in hospital", given: base, when: &domain.HospitalDischarge{}, rule: domain.RuleNotInHospital},
		{name: "return after discharge", given: with(base, domain.MedicalReferred{Hospital: "H1"}, domain.HospitalAdmitted{Hospital: "H1"}, domain.HospitalDischarged{}),
			when: &domain.MedicalReturn{}, then: []domain.Event{domain.MedicalReturned{}}},
		{name: "no return before discharge", given: with(base, domain.MedicalReferred{Hospital: "H1"}, domain.HospitalAdmitted{Hospital: "H1"}),
			when: &domain.MedicalReturn{}, rule: domain.RuleNotDischarged},
		{name: "no referral while in hospital", given: with(base, domain.MedicalReferred{Hospital: "H1"}, domain.HospitalAdmitted{Hospital: "H1"}),
			when: &domain.MedicalReferral{Hospital: "H2"}, rule: domain.RuleAwayFromStation},
	})
}

func TestStayLimitLongStayAndSettlement(t *testing.T) {
	base := inStation(man, noFlags)
	day := 24 * time.Hour
	runCaseSpecs(t, []caseSpec{
		{name: "an adult's stay is extended", given: base,
			when: &domain.Extension{Until: t0.Add(20 * day), ApprovedBy: "director", Reason: "awaiting relatives"},
			then: []domain.Event{domain.StayExtended{Until: t0.Add(20 * day), ApprovedBy: "director", Reason: "awaiting relatives"}}},
		{name: "an extension must move the limit later", given: base,
			when: &domain.Extension{Until: t0.Add(5 * day), ApprovedBy: "director", Reason: "x"}, rule: domain.RuleExtensionNotLater},
		{name: "an extension may reach 90 days after it is filed", given: base,
			when: &domain.Extension{Until: t0.Add(91 * day), ApprovedBy: "director", Reason: "x"},
			then: []domain.Event{domain.StayExtended{Until: t0.Add(91 * day), ApprovedBy: "director", Reason: "x"}}},
		{name: "an extension cannot reach further than 90 days after it is filed", given: base,
			when: &domain.Extension{Until: t0.Add(91*day + time.Second), ApprovedBy: "director", Reason: "x"}, rule: domain.RuleExtensionTooLong},
		{name: "an extension to 9999 does not switch the stay limit off", given: base,
			when: &domain.Extension{Until: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), ApprovedBy: "director", Reason: "x"}, rule: domain.RuleExtensionTooLong},
		{name: "a child under 16 has no stay limit to extend", given: inStation(boy10, noFlags),
			when: &domain.Extension{Until: t0.Add(20 * day), ApprovedBy: "director", Reason: "x"}, rule: domain.RuleNoStayLimit},
		{name: "a person with a mental disorder flag has no stay limit", given: inStation(man, mindFlag),
			when: &domain.Extension{Until: t0.Add(20 * day), ApprovedBy: "director", Reason: "x"}, rule: domain.RuleNoStayLimit},
		{name: "long stay after 10 days unidentified", given: base, now: 11 * day,
			when: &domain.LongStayCmd{Kind: domain.LongStayOffSite}, then: []domain.Event{domain.LongStayStarted{Kind: domain.LongStayOffSite}}},
		{name: "no long stay before 10 days", given: base, now: 9 * day,
			when: &domain.LongStayCmd{Kind: domain.LongStayInStation}, rule: domain.RuleLongStayTooEarly},
		{name: "no long stay once identified", given: with(base, domain.IdentityVerified{Method: domain.VerifiedByPolice}), now: 11 * day,
			when: &domain.LongStayCmd{Kind: domain.LongStayInStation}, rule: domain.RuleAlreadyIdentified},
		{name: "settlement application after 3 months", given: base, now: 91 * day,
			when: &domain.SettlementCmd{Stage: domain.SettlementApplied}, then: []domain.Event{domain.SettlementRecorded{Stage: domain.SettlementApplied}}},
		{name: "no settlement application before 3 months", given: base, now: 80 * day,
			when: &domain.SettlementCmd{Stage: domain.SettlementApplied}, rule: domain.RuleSettlementTooEarly},
		{name: "settled after applying", given: with(base, after{91 * day, domain.SettlementRecorded{Stage: domain.SettlementApplied}}), now: 120 * day,
			when: &domain.SettlementCmd{Stage: domain.SettlementSettled, Place: "X"}, then: []domain.Event{domain.SettlementRecorded{Stage: domain.SettlementSettled, Place: "X"}}},
		{name: "not settled without an application", given: base, now: 120 * day,
			when: &domain.SettlementCmd{Stage: domain.SettlementSettled}, rule: domain.RuleSettlementNotApplied},
	})
}

func TestMinorsAndPolice(t *testing.T) {
	trafficked := domain.Inspection{SuspectedTrafficked: true}
	collector := domain.Collector{Name: "Wang Senior", IDType: domain.IDResidentCard, IDNumber: residentID(t, "110101", "19700101", "123"), Relationship: "father"}
	runCaseSpecs(t, []caseSpec{
		{name: "guardianship of a minor", given: inStation(boy10, noFlags), when: &domain.GuardianshipCmd{Basis: "art. 92"},
			then: []domain.Event{domain.GuardianshipTaken{Basis: "art. 92", Guardian: "civil_affairs"}}},
		{name: "no guardianship of an adult", given: inStation(man, noFlags), when: &domain.GuardianshipCmd{Basis: "art. 92"},
			rule: domain.RuleGuardianshipOnlyForMinors},
		{name: "guardianship is taken once", given: with(inStation(boy10, noFlags), domain.GuardianshipTaken{Basis: "x"}),
			when: &domain.GuardianshipCmd{Basis: "art. 92"}, rule: domain.RuleGuardianshipAlreadyTaken},
		{name: "a guardian's consent is circular when civil affairs is the guardian",
			given: with(inStation(boy10, noFlags), domain.GuardianshipTaken{Basis: "x"}),
			when:  &domain.DNARequest{Common: domain.Common{LegalBasis: domain.BasisGuardianConsent}}, rule: domain.RuleGuardianConsentCircular},
		{name: "a guardian's consent is a basis while parents are the guardians", given: inStation(boy10, noFlags),
			when: &domain.DNARequest{Common: domain.Common{LegalBasis: domain.BasisGuardianConsent}}, then: []domain.Event{domain.DNARequested{}}},
		{name: "a suspected trafficked child is not handed to a collector before a police report", given: inStation(boy10, trafficked),
			when: &domain.Pickup{Collector: collector}, rule: domain.RulePoliceReportRequired},
		{name: "police report", given: inStation(boy10, trafficked), when: &domain.PoliceReportCmd{Reason: domain.ReportSuspectedTrafficked, ReportNo: "P1"},
			then: []domain.Event{domain.PoliceReportFiled{Reason: domain.ReportSuspectedTrafficked, ReportNo: "P1"}}},
		{name: "pickup after the police report", given: with(inStation(boy10, trafficked), domain.PoliceReportFiled{Reason: domain.ReportSuspectedTrafficked}),
			when: &domain.Pickup{Collector: collector}, then: []domain.Event{domain.PickedUp{Collector: collector}}},
		{name: "a harmed minor is not transferred before a police report", given: inStation(boy10, domain.Inspection{SignsOfHarm: true}),
			when: &domain.TransferRequest{ToStation: "S02", Reason: "minors center"}, rule: domain.RulePoliceReportRequired},
		{name: "signs of harm on an adult need no report before leaving", given: inStation(man, domain.Inspection{SignsOfHarm: true}),
			when: &domain.VoluntaryLeave{DeclarationRef: "D1"}, then: []domain.Event{domain.LeftVoluntarily{DeclarationRef: "D1"}}},
	})
}

// TestPoliceReportBeforeLeaving: every exit the station decides waits for a
// police report of each reason that made one due; a report of another
// reason does not count.
func TestPoliceReportBeforeLeaving(t *testing.T) {
	trafficked := domain.Inspection{SuspectedTrafficked: true}
	lost := domain.Inspection{SuspectedLost: true}
	abandoned := domain.Inspection{Abandoned: true}
	harm := domain.Inspection{SignsOfHarm: true}
	report := func(reason domain.ReportReason) domain.PoliceReportFiled {
		return domain.PoliceReportFiled{Reason: reason, ReportNo: "P1"}
	}
	leave := &domain.VoluntaryLeave{DeclarationRef: "D1"}
	left := []domain.Event{domain.LeftVoluntarily{DeclarationRef: "D1"}}
	collector := domain.Collector{Name: "Li Senior", IDType: domain.IDResidentCard, IDNumber: residentID(t, "110101", "19700101", "123"), Relationship: "father"}
	day := 24 * time.Hour
	runCaseSpecs(t, []caseSpec{
		{name: "a trafficked adult is not terminated before a police report", given: inStation(man, trafficked),
			when: &domain.Termination{Reason: "rules"}, rule: domain.RulePoliceReportRequired},
		{name: "a trafficked adult is terminated after a trafficking report", given: with(inStation(man, trafficked), report(domain.ReportSuspectedTrafficked)),
			when: &domain.Termination{Reason: "rules"}, then: []domain.Event{domain.Terminated{Reason: "rules"}}},
		{name: "a trafficked adult is not refused as not eligible before a police report", given: []any{intake(man, trafficked)},
			when: &domain.EligibilityCmd{Eligible: ptr(false), Reason: "has a home", NoticeNo: "N-1"}, rule: domain.RulePoliceReportRequired},
		{name: "a report of dangerous items does not let a trafficked person leave", given: with(inStation(man, trafficked), report(domain.ReportDangerousItems)),
			when: leave, rule: domain.RulePoliceReportRequired},
		{name: "a report of another kind does not let a lost person be picked up", given: with(inStation(man, lost), report(domain.ReportOther)),
			when: &domain.Pickup{Collector: collector}, rule: domain.RulePoliceReportRequired},
		{name: "a lost person leaves after a report that they were lost", given: with(inStation(man, lost), report(domain.ReportSuspectedLost)),
			when: leave, then: left},
		{name: "an abandoned person is not returned home before a report", given: with(inStation(man, abandoned), report(domain.ReportSuspectedLost)),
			when: &domain.EscortedReturnCmd{Destination: "Anhui"}, rule: domain.RulePoliceReportRequired},
		{name: "an abandoned person is returned home after a report of abandonment", given: with(inStation(man, abandoned), report(domain.ReportAbandoned)),
			when: &domain.EscortedReturnCmd{Destination: "Anhui"}, then: []domain.Event{domain.EscortedReturn{Destination: "Anhui"}}},
		{name: "a harmed minor is not transferred after a report of another reason", given: with(inStation(boy10, harm), report(domain.ReportSuspectedLost)),
			when: &domain.TransferRequest{ToStation: "S02", Reason: "minors center"}, rule: domain.RulePoliceReportRequired},
		{name: "a harmed minor is transferred after a report of harm", given: with(inStation(boy10, harm), report(domain.ReportHarmToMinor)),
			when: &domain.TransferRequest{ToStation: "S02", Reason: "minors center"},
			then: []domain.Event{domain.TransferRequested{From: "S01", To: "S02", Reason: "minors center"}}},
		{name: "each reason needs its own report", given: with(inStation(man, domain.Inspection{SuspectedTrafficked: true, SuspectedLost: true}), report(domain.ReportSuspectedTrafficked)),
			when: leave, rule: domain.RulePoliceReportRequired},
		{name: "with a report of each reason the person leaves", given: with(inStation(man, domain.Inspection{SuspectedTrafficked: true, SuspectedLost: true}),
			report(domain.ReportSuspectedLost), report(domain.ReportSuspectedTrafficked)),
			when: leave, then: left},
		{name: "a trafficked person is not settled before a report",
			given: with(inStation(man, trafficked), after{91 * day, domain.SettlementRecorded{Stage: domain.SettlementApplied}}), now: 120 * day,
			when: &domain.SettlementCmd{Stage: domain.SettlementSettled, Place: "X"}, rule: domain.RulePoliceReportRequired},
		{name: "absconding is recorded though a report is due", given: inStation(man, trafficked),
			when: &domain.Absconding{}, then: []domain.Event{domain.Absconded{}}},
	})
}

func TestPoliceReportsDue(t *testing.T) {
	c := foldCase(with(inStation(boy10, domain.Inspection{SignsOfHarm: true, Abandoned: true}),
		domain.PoliceReportFiled{Reason: domain.ReportDangerousItems}, domain.PoliceReportFiled{Reason: domain.ReportAbandoned}))
	if got, want := c.PoliceReportsDue(), []domain.ReportReason{domain.ReportHarmToMinor}; !slices.Equal(got, want) {
		t.Fatalf("due = %v, want %v", got, want)
	}
	if !c.HasFlag(domain.FlagPoliceReportDue, t0) {
		t.Fatalf("flags %v lack %s", c.Flags(t0), domain.FlagPoliceReportDue)
	}
}

func TestLeaving(t *testing.T) {
	base := inStation(man, noFlags)
	deposited := domain.BelongingsDeposited{Items: []domain.Item{{Item: "ID card", Qty: 1}, {Item: "cash", Qty: 1}, {Item: "phone", Qty: 1}}}
	runCaseSpecs(t, []caseSpec{
		{name: "an adult leaves voluntarily with 20 yuan against a receipt", given: base,
			when: &domain.VoluntaryLeave{DeclarationRef: "D1", CashYuan: 20, ReceiptRef: "R1"},
			then: []domain.Event{domain.LeftVoluntarily{DeclarationRef: "D1", CashYuan: 20, ReceiptRef: "R1"}}},
		{name: "cash over 20 yuan is refused", given: base,
			when: &domain.VoluntaryLeave{DeclarationRef: "D1", CashYuan: 21, ReceiptRef: "R1"}, rule: domain.RuleCashOverLimit},
		{name: "cash needs a signed receipt", given: base,
			when: &domain.VoluntaryLeave{DeclarationRef: "D1", CashYuan: 10}, rule: domain.RuleCashNeedsReceipt},
		{name: "a child under 16 cannot leave alone", given: inStation(boy10, noFlags),
			when: &domain.VoluntaryLeave{DeclarationRef: "D1"}, rule: domain.RuleMinorCannotLeaveAlone},
		{name: "a 17-year-old may leave", given: inStation(girl17, noFlags),
			when: &domain.VoluntaryLeave{DeclarationRef: "D1"}, then: []domain.Event{domain.LeftVoluntarily{DeclarationRef: "D1"}}},
		{name: "a person with an intellectual disability flag cannot leave alone", given: inStation(man, domain.Inspection{IntellectualDisability: true}),
			when: &domain.VoluntaryLeave{DeclarationRef: "D1"}, rule: domain.RuleSpecialGroupCannotLeaveAlone},
		{name: "assistance of a child is not terminated", given: inStation(boy10, noFlags),
			when: &domain.Termination{Reason: "rules"}, rule: domain.RuleMinorCannotLeaveAlone},
		{name: "termination", given: base, when: &domain.Termination{Reason: "rules"}, then: []domain.Event{domain.Terminated{Reason: "rules"}}},
		{name: "a child leaves by escorted return", given: inStation(boy10, noFlags),
			when: &domain.EscortedReturnCmd{Destination: "Anhui", Escorts: []string{"e1"}},
			then: []domain.Event{domain.EscortedReturn{Destination: "Anhui", Escorts: []string{"e1"}}}},
		{name: "absconding", given: base, when: &domain.Absconding{LastSeen: "gate"}, then: []domain.Event{domain.Absconded{LastSeen: "gate"}}},
		{name: "death", given: base, when: &domain.DeathCmd{Place: "station", DeathChecklist: domain.DeathChecklist{CertifiedBy: "hospital", PoliceNotified: ptr(true)}},
			then: []domain.Event{domain.Died{Place: "station", DeathChecklist: domain.DeathChecklist{CertifiedBy: "hospital", PoliceNotified: ptr(true)}}}},
		{name: "a death needs its place", given: base, when: &domain.DeathCmd{}, code: domain.CodeInvalid},
		{name: "no voluntary leave with the ID card, cash and phone still deposited", given: with(base, deposited),
			when: &domain.VoluntaryLeave{DeclarationRef: "D1"}, rule: domain.RuleBelongingsStillDeposited},
		{name: "no pickup with belongings still deposited", given: with(base, deposited),
			when: &domain.Pickup{Collector: domain.Collector{Name: "Zhang Senior", IDType: domain.IDPassport, IDNumber: "E1", Relationship: "son"}}, rule: domain.RuleBelongingsStillDeposited},
		{name: "no escorted return with belongings still deposited", given: with(base, deposited),
			when: &domain.EscortedReturnCmd{Destination: "Anhui", Escorts: []string{"e1"}}, rule: domain.RuleBelongingsStillDeposited},
		{name: "no termination with belongings still deposited", given: with(base, deposited),
			when: &domain.Termination{Reason: "rules"}, rule: domain.RuleBelongingsStillDeposited},
		{name: "a voluntary leave once every item is returned", given: with(base, deposited, domain.BelongingsReturned{Items: []string{"ID card", "cash", "phone"}}),
			when: &domain.VoluntaryLeave{DeclarationRef: "D1"}, then: []domain.Event{domain.LeftVoluntarily{DeclarationRef: "D1"}}},
		{name: "no voluntary leave while one item of three is still deposited", given: with(base, deposited, domain.BelongingsReturned{Items: []string{"ID card", "cash"}}),
			when: &domain.VoluntaryLeave{DeclarationRef: "D1"}, rule: domain.RuleBelongingsStillDeposited},
		{name: "an absconding with belongings deposited is recorded (the board shows them)", given: with(base, deposited),
			when: &domain.Absconding{LastSeen: "gate"}, then: []domain.Event{domain.Absconded{LastSeen: "gate"}}},
		{name: "death checklist items after the death", given: with(base, domain.Died{Place: "station"}),
			when: &domain.DeathCmd{DeathChecklist: domain.DeathChecklist{PublicNotice: "notice-1"}},
			then: []domain.Event{domain.DeathChecklistUpdated{DeathChecklist: domain.DeathChecklist{PublicNotice: "notice-1"}}}},
		{name: "closure of an exited case", given: with(base, domain.Absconded{}), when: &domain.Closure{}, then: []domain.Event{domain.CaseClosed{}}},
		{name: "no closure before exit", given: base, when: &domain.Closure{}, rule: domain.RuleCaseNotExited},
		{name: "closure of a refused case", given: []any{intake(man, noFlags), domain.EligibilityDecided{NoticeNo: "N"}},
			when: &domain.Closure{}, then: []domain.Event{domain.CaseClosed{}}},
		{name: "an exited case takes no new steps", given: with(base, domain.Absconded{}),
			when: &domain.MedicalReferral{Hospital: "H"}, rule: domain.RuleCaseExited},
		{name: "an exited case cannot leave again", given: with(base, domain.Absconded{}),
			when: &domain.VoluntaryLeave{DeclarationRef: "D"}, rule: domain.RuleCaseExited},
		{name: "an exited case still returns belongings", given: with(base, domain.BelongingsDeposited{Items: []domain.Item{{Item: "bag", Qty: 1}}}, domain.Absconded{}),
			when: &domain.Belongings{Returned: []string{"bag"}}, then: []domain.Event{domain.BelongingsReturned{Items: []string{"bag"}}}},
		{name: "an exited case takes no new deposits", given: with(base, domain.Absconded{}),
			when: &domain.Belongings{Deposited: []domain.Item{{Item: "bag", Qty: 1}}}, rule: domain.RuleCaseExited},
		{name: "a death is not recorded on an exited case", given: with(base, domain.Absconded{}),
			when: &domain.DeathCmd{Place: "x"}, rule: domain.RuleCaseExited},
		{name: "a closed case is not closed again", given: with(base, domain.Absconded{}, domain.CaseClosed{}),
			when: &domain.Closure{}, rule: domain.RuleCaseClosed},
		{name: "a closed case still completes the death checklist", given: with(base, domain.Died{Place: "x"}, domain.CaseClosed{}),
			when: &domain.DeathCmd{DeathChecklist: domain.DeathChecklist{BodyDisposition: "cremated"}},
			then: []domain.Event{domain.DeathChecklistUpdated{DeathChecklist: domain.DeathChecklist{BodyDisposition: "cremated"}}}},
	})
}

func TestTransfers(t *testing.T) {
	base := inStation(man, noFlags)
	requested := domain.TransferRequested{From: "S01", To: "S02", Reason: "closer to home"}
	accepted := domain.TransferAccepted{From: "S01", To: "S02"}
	departed := domain.EscortDeparted{From: "S01", To: "S02", Escorts: []string{"e1"}}
	runCaseSpecs(t, []caseSpec{
		{name: "transfer requested", given: base, when: &domain.TransferRequest{ToStation: "S02", Reason: "closer to home"},
			then: []domain.Event{requested}},
		{name: "no transfer to the same station", given: base, when: &domain.TransferRequest{ToStation: "S01", Reason: "x"}, rule: domain.RuleSameStation},
		{name: "one transfer at a time", given: with(base, requested), when: &domain.TransferRequest{ToStation: "S03", Reason: "x"}, rule: domain.RuleTransferPending},
		{name: "no transfer from hospital", given: with(base, domain.MedicalReferred{Hospital: "H"}, domain.HospitalAdmitted{Hospital: "H"}),
			when: &domain.TransferRequest{ToStation: "S02", Reason: "x"}, rule: domain.RuleAwayFromStation},
		{name: "transfer accepted", given: with(base, requested), when: &domain.TransferAccept{}, then: []domain.Event{accepted}},
		{name: "no acceptance without a request", given: base, when: &domain.TransferAccept{}, rule: domain.RuleNoTransferPending},
		{name: "no second acceptance", given: with(base, requested, accepted), when: &domain.TransferAccept{}, rule: domain.RuleTransferAlreadyAccepted},
		{name: "transfer declined", given: with(base, requested), when: &domain.TransferDecline{Reason: "full"},
			then: []domain.Event{domain.TransferDeclined{From: "S01", To: "S02", Reason: "full"}}},
		{name: "no decline without a request", given: base, when: &domain.TransferDecline{}, rule: domain.RuleNoTransferPending},
		{name: "no decline after acceptance", given: with(base, requested, accepted), when: &domain.TransferDecline{}, rule: domain.RuleTransferAlreadyAccepted},
		{name: "a declined transfer can be requested anew", given: with(base, requested, domain.TransferDeclined{From: "S01", To: "S02"}),
			when: &domain.TransferRequest{ToStation: "S03", Reason: "x"}, then: []domain.Event{domain.TransferRequested{From: "S01", To: "S03", Reason: "x"}}},
		{name: "escort departs after acceptance", given: with(base, requested, accepted), when: &domain.EscortDeparture{Escorts: []string{"e1"}},
			then: []domain.Event{departed}},
		{name: "no departure before acceptance", given: with(base, requested), when: &domain.EscortDeparture{Escorts: []string{"e1"}},
			rule: domain.RuleTransferNotAccepted},
		{name: "no departure without a transfer", given: base, when: &domain.EscortDeparture{Escorts: []string{"e1"}}, rule: domain.RuleNoTransferPending},
		{name: "the escort departs once", given: with(base, requested, accepted, departed), when: &domain.EscortDeparture{Escorts: []string{"e1"}},
			rule: domain.RuleEscortAlreadyDeparted},
		{name: "handover after departure", given: with(base, requested, accepted, departed), when: &domain.HandoverCmd{ReceivedBy: "r1"},
			then: []domain.Event{domain.HandedOver{From: "S01", To: "S02", ReceivedBy: "r1"}}},
		{name: "no handover before the escort departs", given: with(base, requested, accepted), when: &domain.HandoverCmd{ReceivedBy: "r1"},
			rule: domain.RuleNotInTransit},
		{name: "no handover without a transfer", given: base, when: &domain.HandoverCmd{ReceivedBy: "r1"}, rule: domain.RuleNotInTransit},
		{name: "no voluntary leave in transit", given: with(base, requested, accepted, departed), when: &domain.VoluntaryLeave{DeclarationRef: "D"},
			rule: domain.RuleAwayFromStation},
		{name: "absconding in transit", given: with(base, requested, accepted, departed), when: &domain.Absconding{},
			then: []domain.Event{domain.Absconded{}}},
	})
}

// TestOrderOfSteps: an answer, an exit or a closure cannot be dated before
// the step it follows, and a person leaves during a transfer only by
// absconding or death.
func TestOrderOfSteps(t *testing.T) {
	base := inStation(man, noFlags)
	hour := time.Hour
	requested := domain.TransferRequested{From: "S01", To: "S02", Reason: "closer to home"}
	accepted := domain.TransferAccepted{From: "S01", To: "S02"}
	departed := domain.EscortDeparted{From: "S01", To: "S02", Escorts: []string{"e1"}}
	at := func(d time.Duration) domain.Common { return domain.Common{OccurredAt: ptr(t0.Add(d))} }
	runCaseSpecs(t, []caseSpec{
		{name: "a decline cannot precede the request", given: with(base, after{10 * hour, requested}),
			when: &domain.TransferDecline{Common: at(5 * hour), Reason: "full"}, rule: domain.RuleOccurredBeforePreviousStep},
		{name: "a decline after the request", given: with(base, after{10 * hour, requested}),
			when: &domain.TransferDecline{Common: at(11 * hour), Reason: "full"},
			then: []domain.Event{domain.TransferDeclined{From: "S01", To: "S02", Reason: "full"}}},
		{name: "a closure cannot precede the exit", given: with(base, after{10 * hour, domain.Absconded{}}),
			when: &domain.Closure{Common: at(5 * hour)}, rule: domain.RuleOccurredBeforePreviousStep},
		{name: "a closure after the exit", given: with(base, after{10 * hour, domain.Absconded{}}),
			when: &domain.Closure{Common: at(11 * hour)}, then: []domain.Event{domain.CaseClosed{}}},
		{name: "a voluntary leave cannot precede the latest step", given: with(base, after{10 * hour, domain.IdentityQueried{Channel: domain.QueryPolice}}),
			when: &domain.VoluntaryLeave{Common: at(5 * hour), DeclarationRef: "D1"}, rule: domain.RuleOccurredBeforePreviousStep},
		{name: "an absconding cannot precede the return from hospital",
			given: with(base, domain.MedicalReferred{Hospital: "H"}, domain.HospitalAdmitted{Hospital: "H"}, domain.HospitalDischarged{}, after{10 * hour, domain.MedicalReturned{}}),
			when:  &domain.Absconding{Common: at(5 * hour)}, rule: domain.RuleOccurredBeforePreviousStep},
		{name: "a death cannot precede the latest step", given: with(base, after{10 * hour, domain.RelativesContacted{}}),
			when: &domain.DeathCmd{Common: at(5 * hour), Place: "station"}, rule: domain.RuleOccurredBeforePreviousStep},
		{name: "a termination cannot precede the latest step", given: with(base, after{10 * hour, domain.FamilySearchNoticePublished{Channel: "x"}}),
			when: &domain.Termination{Common: at(5 * hour), Reason: "rules"}, rule: domain.RuleOccurredBeforePreviousStep},
		{name: "a pickup cannot precede the latest step", given: with(base, after{10 * hour, domain.DNARequested{}}),
			when: &domain.Pickup{Common: at(5 * hour), Collector: domain.Collector{Name: "Zhang Senior", IDType: domain.IDPassport, IDNumber: "E1", Relationship: "son"}},
			rule: domain.RuleOccurredBeforePreviousStep},
		{name: "late paperwork does not bound the exit", given: with(base, after{10 * hour, domain.PoliceReportFiled{Reason: domain.ReportOther}}),
			when: &domain.VoluntaryLeave{Common: at(5 * hour), DeclarationRef: "D1"}, then: []domain.Event{domain.LeftVoluntarily{DeclarationRef: "D1"}}},
		{name: "no voluntary leave while a transfer is requested", given: with(base, requested),
			when: &domain.VoluntaryLeave{DeclarationRef: "D1"}, rule: domain.RuleTransferInFlight},
		{name: "no pickup while a transfer is accepted", given: with(base, requested, accepted),
			when: &domain.Pickup{Collector: domain.Collector{Name: "Zhang Senior", IDType: domain.IDPassport, IDNumber: "E1", Relationship: "son"}},
			rule: domain.RuleTransferInFlight},
		{name: "no escorted return while a transfer is requested", given: with(base, requested),
			when: &domain.EscortedReturnCmd{Destination: "Anhui"}, rule: domain.RuleTransferInFlight},
		{name: "no termination while a transfer is under way", given: with(base, requested, accepted, departed),
			when: &domain.Termination{Reason: "rules"}, rule: domain.RuleTransferInFlight},
		{name: "a person leaves after the transfer is declined", given: with(base, requested, domain.TransferDeclined{From: "S01", To: "S02"}),
			when: &domain.VoluntaryLeave{DeclarationRef: "D1"}, then: []domain.Event{domain.LeftVoluntarily{DeclarationRef: "D1"}}},
		{name: "absconding while a transfer is requested", given: with(base, requested),
			when: &domain.Absconding{LastSeen: "gate"}, then: []domain.Event{domain.Absconded{LastSeen: "gate"}}},
		{name: "death while a transfer is accepted", given: with(base, requested, accepted),
			when: &domain.DeathCmd{Place: "station"}, then: []domain.Event{domain.Died{Place: "station"}}},
	})
}

func TestExitEndsTheTransferInFlight(t *testing.T) {
	requested := domain.TransferRequested{From: "S01", To: "S02", Reason: "closer to home"}
	accepted := domain.TransferAccepted{From: "S01", To: "S02"}
	for _, tc := range []struct {
		name  string
		given []any
	}{
		{"absconding while requested", with(inStation(man, noFlags), requested, domain.Absconded{})},
		{"death while accepted", with(inStation(man, noFlags), requested, accepted, domain.Died{Place: "station"})},
		{"a refused security check while requested", []any{intake(man, noFlags), eligible, requested,
			domain.SecurityChecked{CheckedBy: domain.Checker{StaffID: "s1", Sex: domain.Male}, Refused: true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := foldCase(tc.given)
			if c.Transfer != nil {
				t.Fatalf("transfer still in flight after the exit: %+v", *c.Transfer)
			}
			if !c.Status.Ended() {
				t.Fatalf("status %s, want an ended one", c.Status)
			}
		})
	}
}

func TestCorrections(t *testing.T) {
	base := inStation(man, noFlags)
	intakeID := eventID(0)
	raw := func(v any) json.RawMessage { b, _ := json.Marshal(v); return b }
	runCaseSpecs(t, []caseSpec{
		{name: "a name is corrected", given: base,
			when: &domain.Correct{EventID: intakeID, Field: "person.name", Old: raw("Zhang"), New: raw("Zhang San"), Reason: "typo"},
			then: []domain.Event{domain.Corrected{EventID: intakeID, CorrectedType: domain.TypeIntakeRegistered, Field: "person.name", Old: raw("Zhang"), New: raw("Zhang San"), Reason: "typo"}}},
		{name: "a birth date is corrected", given: base,
			when: &domain.Correct{EventID: intakeID, Field: "person.birth_date", Old: raw("1980-05-01"), New: raw("1981-05-01"), Reason: "id card"},
			then: []domain.Event{domain.Corrected{EventID: intakeID, CorrectedType: domain.TypeIntakeRegistered, Field: "person.birth_date", Old: raw("1980-05-01"), New: raw("1981-05-01"), Reason: "id card"}}},
		{name: "the old value must be the current one", given: base,
			when: &domain.Correct{EventID: intakeID, Field: "person.name", Old: raw("Li"), New: raw("Zhang San"), Reason: "typo"},
			rule: domain.RuleCorrectionOldValueMismatch},
		{name: "the corrected event must be the case's", given: base,
			when: &domain.Correct{EventID: caseID, Field: "person.name", Old: raw("Zhang"), New: raw("Z"), Reason: "typo"},
			rule: domain.RuleCorrectionUnknownEvent},
		{name: "the field must be one the event records", given: base,
			when: &domain.Correct{EventID: eventID(1), Field: "person.name", Old: raw("Zhang"), New: raw("Z"), Reason: "typo"},
			rule: domain.RuleCorrectionFieldNotInEvent},
		{name: "an unknown field is invalid", given: base,
			when: &domain.Correct{EventID: intakeID, Field: "person.shoe_size", Old: raw(1), New: raw(2), Reason: "x"}, code: domain.CodeInvalid},
		{name: "the new value is validated", given: base,
			when: &domain.Correct{EventID: intakeID, Field: "person.id_number", Old: raw(""), New: raw("110101198005010000"), Reason: "x"}, code: domain.CodeInvalid},
		{name: "a closed case is still corrected", given: with(base, domain.Absconded{}, domain.CaseClosed{}),
			when: &domain.Correct{EventID: intakeID, Field: "person.sex", Old: raw("male"), New: raw("female"), Reason: "x"},
			then: []domain.Event{domain.Corrected{EventID: intakeID, CorrectedType: domain.TypeIntakeRegistered, Field: "person.sex", Old: raw("male"), New: raw("female"), Reason: "x"}}},
	})
}

func TestCorrectionIsAppliedByTheFold(t *testing.T) {
	raw := func(v any) json.RawMessage { b, _ := json.Marshal(v); return b }
	c := foldCase(with(inStation(boy10, noFlags),
		domain.Corrected{EventID: eventID(0), Field: "person.birth_date", Old: raw("2015-06-01"), New: raw("2000-06-01"), Reason: "id card"}))
	if c.Person.BirthDate != date("2000-06-01") {
		t.Fatalf("birth date after correction = %v", c.Person.BirthDate)
	}
	if c.HasFlag(domain.FlagMinor, t0) {
		t.Fatalf("still a minor after the correction: %v", c.Flags(t0))
	}
	if len(c.Corrections) != 1 || c.Corrections[0].Reason != "id card" {
		t.Fatalf("corrections = %+v", c.Corrections)
	}
	before := foldCase(inStation(boy10, noFlags))
	if !before.HasFlag(domain.FlagMinor, t0) {
		t.Fatal("the uncorrected history changed")
	}
}

func TestStepsAfterErasure(t *testing.T) {
	deposited := domain.BelongingsDeposited{Items: []domain.Item{{Item: "phone", Qty: 1}}}
	closed := with(inStation(man, noFlags), deposited, domain.Absconded{}, domain.CaseClosed{})
	erased := with(closed, domain.PersonalDataErased{Reason: "request of the person", Trigger: domain.ErasureOnRequest})
	intakeID := eventID(0)
	raw := func(v any) json.RawMessage { b, _ := json.Marshal(v); return b }
	runCaseSpecs(t, []caseSpec{
		{name: "a personal field is not corrected after erasure", given: erased,
			when: &domain.Correct{EventID: intakeID, Field: "person.name", Old: raw("Zhang"), New: raw("Zhang San"), Reason: "typo"},
			rule: domain.RulePersonalDataErased},
		{name: "nor with the erased (empty) value as old", given: erased,
			when: &domain.Correct{EventID: intakeID, Field: "person.name", Old: raw(""), New: raw("Zhang San"), Reason: "typo"},
			rule: domain.RulePersonalDataErased},
		{name: "nor a statistical field, whose correction records a reason", given: erased,
			when: &domain.Correct{EventID: intakeID, Field: "person.sex", Old: raw("male"), New: raw("female"), Reason: "x"},
			rule: domain.RulePersonalDataErased},
		{name: "before erasure the same correction is accepted", given: closed,
			when: &domain.Correct{EventID: intakeID, Field: "person.sex", Old: raw("male"), New: raw("female"), Reason: "x"},
			then: []domain.Event{domain.Corrected{EventID: intakeID, CorrectedType: domain.TypeIntakeRegistered, Field: "person.sex", Old: raw("male"), New: raw("female"), Reason: "x"}}},
		{name: "belongings are returned after erasure", given: erased,
			when: &domain.Belongings{Returned: []string{"phone"}},
			then: []domain.Event{domain.BelongingsReturned{Items: []string{"phone"}}}},
		{name: "but not with notes, which are personal", given: erased,
			when: &domain.Belongings{Common: domain.Common{Notes: "handed to the person at the gate"}, Returned: []string{"phone"}},
			rule: domain.RulePersonalDataErased},
	})
}
