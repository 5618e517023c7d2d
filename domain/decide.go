package domain

import (
	"encoding/json"
	"strings"
	"time"
)

// FutureTolerance is how far in the future a step's occurred_at may lie
// (clock skew between devices).
const FutureTolerance = 5 * time.Minute

// MaxExtension is the longest a stay extension may reach past the day it
// is filed: an unidentified person still in the station three months after
// arriving is for long-stay care and settlement, not another extension.
const MaxExtension = 90 * 24 * time.Hour

// EarliestTime is the earliest moment any step can have happened: the
// first day of the 2003 Measures for the Administration of Assistance
// (救助管理办法), before which no station kept these records. Every time a
// request carries (occurred_at, a board's or history's moment, a
// correction's new time) is refused before it; the zero time is a time
// like any other and is refused too, never read as "now".
var EarliestTime = time.Date(2003, 8, 1, 0, 0, 0, 0, CivilZone)

// CheckTimeBounds refuses t, the value of field, when it lies before
// EarliestTime, with an invalid Error naming field.
func CheckTimeBounds(field string, t time.Time) error {
	if t.Before(EarliestTime) {
		return Invalid(field, "%s must be on or after 2003-08-01 (Beijing time), when the assistance measures took effect", field)
	}
	return nil
}

// checkTime refuses an occurred_at beyond FutureTolerance after now or, for
// an existing case, before the case began.
func checkTime(c Case, at, now time.Time) error {
	if at.After(now.Add(FutureTolerance)) {
		return Violation(RuleOccurredInFuture, "the step cannot have happened in the future")
	}
	if c.Exists() && at.Before(c.OpenedAt) {
		return Violation(RuleOccurredBeforeCaseBegan, "the step cannot have happened before the case began")
	}
	return nil
}

func notBefore(at, prev time.Time, what string) error {
	if !prev.IsZero() && at.Before(prev) {
		return Violation(RuleOccurredBeforePreviousStep, "the step cannot have happened before the %s", what)
	}
	return nil
}

// lateWork reports whether cmd is paperwork that an exited or closed case
// still accepts: corrections, belongings returned, death checklist items
// and police reports; and, for an exited (not closed) case, closure.
func lateWork(c Case, cmd Command) bool {
	switch v := cmd.(type) {
	case *Correct, *PoliceReportCmd:
		return true
	case *Belongings:
		return len(v.Returned) > 0
	case *DeathCmd:
		return c.Death != nil
	case *Closure:
		return c.Status != StatusClosed
	}
	return false
}

// vulnerable reports whether the person is helped first and checked later:
// a child, an elderly, disabled or seriously ill person, or one who cannot
// state their details.
func vulnerable(c Case, at time.Time) bool {
	age, ok := c.AgeOn(at)
	in := c.Inspection
	return !ok || age < AdultAge || age >= ElderlyAge || c.Disabled() || in.PhysicalDisability || in.SeriouslyIll ||
		(c.Person.CanStateIdentity != nil && !*c.Person.CanStateIdentity)
}

// leaveAlone refuses a step that lets the person go on their own when they
// are under 16 or carry a mental or intellectual disability flag.
func leaveAlone(c Case, at time.Time) error {
	if age, ok := c.AgeOn(at); !ok || age < VoluntaryLeaveAge {
		return Violation(RuleMinorCannotLeaveAlone, "a person under 16 leaves only by pickup, escorted return, transfer or placement")
	}
	if c.Disabled() {
		return Violation(RuleSpecialGroupCannotLeaveAlone, "a person with a mental or intellectual disability flag leaves only by pickup, escorted return, transfer or placement")
	}
	return nil
}

// refusable refuses turning away (eligibility refused, not assisted first)
// on at a person who is helped first and checked later (vulnerable).
func refusable(c Case, at time.Time) error {
	if vulnerable(c, at) {
		return Violation(RuleAssistFirst, "a person who cannot state their details is assisted first and checked later")
	}
	return nil
}

// extendable refuses an extension of the stay on at when no stay limit
// applies to the person then (StayLimitApplies).
func extendable(c Case, at time.Time) error {
	if !c.StayLimitApplies(at) {
		return Violation(RuleNoStayLimit, "no stay limit applies to this person")
	}
	return nil
}

// limitLater refuses an extension filed on at whose new limit until is not
// later than both the limit it extends (deadline) and at, or lies more
// than MaxExtension after at.
func limitLater(until, deadline, at time.Time) error {
	if !until.After(deadline) || !until.After(at) {
		return Violation(RuleExtensionNotLater, "the new limit must be later than the current one")
	}
	return limitWithin(until, at)
}

// limitWithin refuses an extension filed on at whose new limit until lies
// more than MaxExtension after at.
func limitWithin(until, at time.Time) error {
	if until.Sub(at) > MaxExtension {
		return Violation(RuleExtensionTooLong, "the new limit must be at most 90 days after the extension")
	}
	return nil
}

// longStayDue refuses long-stay care that starts on at, less than 10 days
// after the intake.
func longStayDue(c Case, at time.Time) error {
	if at.Sub(c.OpenedAt) < LongStayAfterDays*24*time.Hour {
		return Violation(RuleLongStayTooEarly, "long stay starts after 10 days unidentified")
	}
	return nil
}

// settlementDue refuses a settlement application made on at, less than 90
// days after the intake.
func settlementDue(c Case, at time.Time) error {
	if at.Sub(c.OpenedAt) < SettlementAfterDay*24*time.Hour {
		return Violation(RuleSettlementTooEarly, "settlement may be applied for after 3 months unidentified")
	}
	return nil
}

// guardianshipFits refuses temporary guardianship taken on at unless the
// person is then a minor of known age.
func guardianshipFits(c Case, at time.Time) error {
	if age, ok := c.AgeOn(at); !ok || age >= AdultAge {
		return Violation(RuleGuardianshipOnlyForMinors, "temporary guardianship is for minors")
	}
	return nil
}

// reportFirst refuses a step by which the station lets the person go
// (eligibility refused, transfer, settlement, voluntary leave, pickup,
// escorted return, termination) while a police report is due: one for each
// reason that made it due (Case.PoliceReportsDue). Exits the station does
// not decide (absconding, death, a refused security check) are facts and
// are recorded regardless; the safety board shows the missing report.
func reportFirst(c Case) error {
	if due := c.PoliceReportsDue(); len(due) > 0 {
		return Violation(RulePoliceReportRequired, "report the case to the police (reason %s) before the person leaves", strings.Join(strs(due), ", "))
	}
	return nil
}

// belongingsBack refuses a step by which the person leaves in person
// (voluntary leave, pickup, escorted return, termination) while any of
// their deposited belongings (an ID card, cash, a phone) is still held:
// staff record them returned first, at the moment it matters, not after
// the case is closed. Exits the person does not attend (absconding,
// death) are not refused; the safety board shows their belongings.
func belongingsBack(c Case) error {
	if n := c.BelongingsDeposited(); n > 0 {
		return Violation(RuleBelongingsStillDeposited, "%d deposited item(s) are not returned: record them returned (the belongings step) before the person leaves", n)
	}
	return nil
}

// leaving checks a step by which the person leaves the station: it cannot
// have happened before the latest step of the case (late paperwork aside),
// and, unless it is an exit that ends a transfer in flight (absconding,
// death, a refused security check: facts the station does not decide, after
// which the fold clears the transfer), it is refused while a transfer is
// requested, accepted or under way (rule transfer_in_flight): the
// receiving station declines the transfer first, or the handover completes
// it and the receiving station records the exit.
func leaving(c Case, at time.Time, endsTransfer bool) error {
	if err := notBefore(at, c.lastStepAt, "latest step of the case"); err != nil {
		return err
	}
	if !endsTransfer && c.Transfer != nil {
		return Violation(RuleTransferInFlight, "a transfer is in flight; the receiving station declines it before the person leaves another way")
	}
	return nil
}

func present(c Case) error {
	switch c.Status {
	case StatusInHospital, StatusInTransit:
		return Violation(RuleAwayFromStation, "the person is not at the station")
	}
	return nil
}

// Decide decides a case command: given the case's state, the command and
// the current time, it returns the events to append or an *Error. It is
// pure. The intake decides on a Case that does not exist yet but whose ID
// is set. Bed steps are decided on the station stream by DecideBed.
// Existence checks of other streams (the receiving station of a transfer,
// the mother's case) are the Service's. On a case whose personal data was
// erased, every correction, and any other step whose events would carry a
// personal value (PersonalPaths), is refused (rule personal_data_erased).
func Decide(c Case, cmd Command, now time.Time) ([]Event, error) {
	evs, err := decide(c, cmd, now)
	if err != nil || !c.PersonalDataErased() {
		return evs, err
	}
	for _, ev := range evs {
		if carriesPersonalData(ev) {
			return nil, Violation(RulePersonalDataErased, "the person's personal data was erased; the step would record personal data again (leave the notes out)")
		}
	}
	return evs, nil
}

// carriesPersonalData reports whether ev, as stored, holds a value at one
// of its personal paths that is present and not null: a value the event
// store would seal. An event that cannot be encoded counts as carrying one.
func carriesPersonalData(ev Event) bool {
	data, err := json.Marshal(ev)
	if err != nil {
		return true
	}
	paths := PersonalPaths(ev.EventType(), data)
	if len(paths) == 0 {
		return false
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return true
	}
	for _, p := range paths {
		if valueAt(doc, p) != nil {
			return true
		}
	}
	return false
}

// valueAt returns the value at the dotted path inside doc, nil when it is
// absent or null.
func valueAt(doc map[string]any, path string) any {
	for {
		head, rest, deep := strings.Cut(path, ".")
		v := doc[head]
		if !deep {
			return v
		}
		sub, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		doc, path = sub, rest
	}
}

func decide(c Case, cmd Command, now time.Time) ([]Event, error) {
	if err := cmd.Validate(); err != nil {
		return nil, err
	}
	at := OccurredAt(cmd, now)
	if err := checkTime(c, at, now); err != nil {
		return nil, err
	}
	if in, ok := cmd.(*Intake); ok {
		return decideIntake(c, in, at)
	}
	if !c.Exists() {
		return nil, NotFound("no such case")
	}
	if cmd.common().LegalBasis == BasisGuardianConsent && c.Guardianship != nil {
		return nil, Violation(RuleGuardianConsentCircular, "civil affairs is the guardian; its own consent is no legal basis")
	}
	if c.Status.Ended() && !lateWork(c, cmd) {
		if c.Status == StatusClosed {
			return nil, Violation(RuleCaseClosed, "the case is closed")
		}
		return nil, Violation(RuleCaseExited, "the case has exited; only closing, corrections and late paperwork are accepted")
	}
	notes := cmd.common().Notes
	switch v := cmd.(type) {
	case *EligibilityCmd:
		if c.Eligibility.Decided {
			return nil, Violation(RuleEligibilityAlreadyDecided, "eligibility was already decided")
		}
		eligible := v.Eligible != nil && *v.Eligible
		if !eligible && !v.AssistFirst {
			if err := firstErr(refusable(c, at), leaving(c, at, false), reportFirst(c)); err != nil {
				return nil, err
			}
		}
		return one(EligibilityDecided{Eligible: eligible, AssistFirst: v.AssistFirst, Reason: v.Reason, NoticeNo: v.NoticeNo, Notes: notes})
	case *SecurityCheckCmd:
		if c.SecurityCheck.Done {
			return nil, Violation(RuleSecurityCheckAlreadyDone, "the security check was already done")
		}
		if c.Person.Sex == Female && v.CheckedBy.Sex != Female {
			return nil, Violation(RuleFemaleCheckedByFemaleStaff, "a woman is security-checked by female staff")
		}
		if v.Refused {
			if err := leaving(c, at, true); err != nil {
				return nil, err
			}
		}
		return one(SecurityChecked{CheckedBy: v.CheckedBy, Refused: v.Refused, ItemsToPolice: v.ItemsToPolice, Notes: notes})
	case *Belongings:
		if len(v.Deposited) > 0 {
			return one(BelongingsDeposited{Items: v.Deposited, Notes: notes})
		}
		left := map[string]int{}
		for _, b := range c.Belongings {
			if !b.Returned {
				left[b.Item]++
			}
		}
		for _, it := range v.Returned {
			if left[it] == 0 {
				return nil, Violation(RuleBelongingsNotDeposited, "an item to return is not deposited")
			}
			left[it]--
		}
		return one(BelongingsReturned{Items: v.Returned, Notes: notes})
	case *AssignBed, *ReleaseBed:
		return nil, Internal(nil, "bed steps are decided on the station stream")
	case *IdentityQuery:
		return one(IdentityQueried{Channel: v.Channel, Result: v.Result, Reference: v.Reference, Notes: notes})
	case *IdentityVerification:
		if c.Identity.Verified {
			return nil, Violation(RuleAlreadyIdentified, "the identity is already verified")
		}
		idType := v.IDType
		if v.IDNumber != "" && idType == "" {
			idType = IDResidentCard
		}
		return one(IdentityVerified{Method: v.Method, Name: v.Name, IDType: idType, IDNumber: v.IDNumber, BirthDate: v.BirthDate, HukouPlace: v.HukouPlace, Reference: v.Reference, Notes: notes})
	case *FamilySearchNotice:
		if c.Identity.Verified {
			return nil, Violation(RuleAlreadyIdentified, "the identity is already verified")
		}
		return one(FamilySearchNoticePublished{Channel: v.Channel, Reference: v.Reference, Notes: notes})
	case *DNARequest:
		if c.Identity.Verified {
			return nil, Violation(RuleAlreadyIdentified, "the identity is already verified")
		}
		return one(DNARequested{SampleRef: v.SampleRef, Lab: v.Lab, Notes: notes})
	case *DNAResult:
		if c.Identity.DNARequestedAt.IsZero() || !c.Identity.DNAResultAt.IsZero() {
			return nil, Violation(RuleDNANotRequested, "no DNA request is awaiting a result")
		}
		if err := notBefore(at, c.Identity.DNARequestedAt, "DNA request"); err != nil {
			return nil, err
		}
		return one(DNAResultReceived{Matched: *v.Matched, Reference: v.Reference, Notes: notes})
	case *RelativesContact:
		return one(RelativesContacted{Relationship: v.Relationship, Channel: v.Channel, Outcome: v.Outcome, Notes: notes})
	case *MedicalReferral:
		if err := present(c); err != nil {
			return nil, err
		}
		return one(MedicalReferred{Hospital: v.Hospital, Reason: v.Reason, Notes: notes})
	case *HospitalAdmission:
		if c.Medical.State != MedicalStateReferred {
			return nil, Violation(RuleNoMedicalReferral, "admission follows a medical referral")
		}
		if err := present(c); err != nil {
			return nil, err
		}
		if err := notBefore(at, c.Medical.ReferredAt, "medical referral"); err != nil {
			return nil, err
		}
		h := v.Hospital
		if h == "" {
			h = c.Medical.Hospital
		}
		return one(HospitalAdmitted{Hospital: h, Notes: notes})
	case *HospitalDischarge:
		if c.Status != StatusInHospital || c.Medical.State != MedicalStateAdmitted {
			return nil, Violation(RuleNotInHospital, "the person is not in hospital")
		}
		if err := notBefore(at, c.Medical.AdmittedAt, "hospital admission"); err != nil {
			return nil, err
		}
		return one(HospitalDischarged{Hospital: c.Medical.Hospital, Notes: notes})
	case *MedicalReturn:
		if c.Medical.State != MedicalStateDischarged {
			return nil, Violation(RuleNotDischarged, "the person was not discharged from hospital")
		}
		if err := notBefore(at, c.Medical.DischargedAt, "hospital discharge"); err != nil {
			return nil, err
		}
		return one(MedicalReturned{Notes: notes})
	case *Extension:
		if err := extendable(c, at); err != nil {
			return nil, err
		}
		if err := limitLater(v.Until, c.StayDeadline(), at); err != nil {
			return nil, err
		}
		return one(StayExtended{Until: v.Until, ApprovedBy: v.ApprovedBy, Reason: v.Reason, Notes: notes})
	case *LongStayCmd:
		if c.Identity.Verified {
			return nil, Violation(RuleAlreadyIdentified, "long stay is for people not identified")
		}
		if c.Status == StatusInTransit {
			return nil, Violation(RuleAwayFromStation, "the person is in transit")
		}
		if err := longStayDue(c, at); err != nil {
			return nil, err
		}
		return one(LongStayStarted{Kind: v.Kind, Place: v.Place, Notes: notes})
	case *SettlementCmd:
		if c.Identity.Verified {
			return nil, Violation(RuleAlreadyIdentified, "settlement is for people not identified")
		}
		if v.Stage == SettlementApplied {
			if err := settlementDue(c, at); err != nil {
				return nil, err
			}
			return one(SettlementRecorded{Stage: v.Stage, Place: v.Place, Reference: v.Reference, Notes: notes})
		}
		if c.Settlement == nil || c.Settlement.Stage != SettlementApplied {
			return nil, Violation(RuleSettlementNotApplied, "settlement needs an application first")
		}
		if err := firstErr(present(c), leaving(c, at, false), reportFirst(c)); err != nil {
			return nil, err
		}
		return one(SettlementRecorded{Stage: v.Stage, Place: v.Place, Reference: v.Reference, Notes: notes})
	case *GuardianshipCmd:
		if err := guardianshipFits(c, at); err != nil {
			return nil, err
		}
		if c.Guardianship != nil {
			return nil, Violation(RuleGuardianshipAlreadyTaken, "guardianship was already taken")
		}
		g := v.Guardian
		if g == "" {
			g = "civil_affairs"
		}
		return one(GuardianshipTaken{Basis: v.Basis, Guardian: g, Notes: notes})
	case *PoliceReportCmd:
		return one(PoliceReportFiled{Reason: v.Reason, ReportNo: v.ReportNo, Agency: v.Agency, Notes: notes})
	case *TransferRequest:
		if c.Transfer != nil {
			return nil, Violation(RuleTransferPending, "a transfer is already in flight")
		}
		if v.ToStation == c.Station {
			return nil, Violation(RuleSameStation, "a transfer goes to another station")
		}
		if err := firstErr(present(c), reportFirst(c)); err != nil {
			return nil, err
		}
		return one(TransferRequested{From: c.Station, To: v.ToStation, Reason: v.Reason, Notes: notes})
	case *TransferAccept:
		if c.Transfer == nil {
			return nil, Violation(RuleNoTransferPending, "no transfer is pending")
		}
		if c.Transfer.State != TransferStateRequested {
			return nil, Violation(RuleTransferAlreadyAccepted, "the transfer was already accepted")
		}
		if err := notBefore(at, c.Transfer.RequestedAt, "transfer request"); err != nil {
			return nil, err
		}
		return one(TransferAccepted{From: c.Transfer.From, To: c.Transfer.To, Notes: notes})
	case *TransferDecline:
		if c.Transfer == nil {
			return nil, Violation(RuleNoTransferPending, "no transfer is pending")
		}
		if c.Transfer.State != TransferStateRequested {
			return nil, Violation(RuleTransferAlreadyAccepted, "the transfer was already accepted")
		}
		if err := notBefore(at, c.Transfer.RequestedAt, "transfer request"); err != nil {
			return nil, err
		}
		return one(TransferDeclined{From: c.Transfer.From, To: c.Transfer.To, Reason: v.Reason, Notes: notes})
	case *EscortDeparture:
		switch {
		case c.Transfer == nil:
			return nil, Violation(RuleNoTransferPending, "no transfer is pending")
		case c.Transfer.State == TransferStateRequested:
			return nil, Violation(RuleTransferNotAccepted, "the receiving station has not accepted the transfer")
		case c.Transfer.State == TransferStateDeparted:
			return nil, Violation(RuleEscortAlreadyDeparted, "the escort already departed")
		}
		if err := present(c); err != nil {
			return nil, err
		}
		if err := notBefore(at, c.Transfer.AcceptedAt, "transfer acceptance"); err != nil {
			return nil, err
		}
		return one(EscortDeparted{From: c.Transfer.From, To: c.Transfer.To, Escorts: v.Escorts, Transport: v.Transport, Notes: notes})
	case *HandoverCmd:
		if c.Status != StatusInTransit || c.Transfer == nil || c.Transfer.State != TransferStateDeparted {
			return nil, Violation(RuleNotInTransit, "a handover follows an accepted transfer and a departed escort")
		}
		if err := notBefore(at, c.Transfer.DepartedAt, "escort departure"); err != nil {
			return nil, err
		}
		return one(HandedOver{From: c.Transfer.From, To: c.Transfer.To, ReceivedBy: v.ReceivedBy, Notes: notes})
	case *VoluntaryLeave:
		if c.Status == StatusInTransit {
			return nil, Violation(RuleAwayFromStation, "the person is in transit")
		}
		if err := firstErr(leaveAlone(c, at), leaving(c, at, false), reportFirst(c), belongingsBack(c)); err != nil {
			return nil, err
		}
		if v.CashYuan > MaxCashYuan {
			return nil, Violation(RuleCashOverLimit, "cash handed out is at most %d yuan", MaxCashYuan)
		}
		if v.CashYuan > 0 && v.ReceiptRef == "" {
			return nil, Violation(RuleCashNeedsReceipt, "cash is handed out against a signed receipt")
		}
		return one(LeftVoluntarily{DeclarationRef: v.DeclarationRef, CashYuan: v.CashYuan, ReceiptRef: v.ReceiptRef, Notes: notes})
	case *Pickup:
		if c.Status == StatusInTransit {
			return nil, Violation(RuleAwayFromStation, "the person is in transit")
		}
		if err := firstErr(leaving(c, at, false), reportFirst(c), belongingsBack(c)); err != nil {
			return nil, err
		}
		col := v.Collector
		if col.IDType == "" {
			col.IDType = IDResidentCard
		}
		return one(PickedUp{Collector: col, Notes: notes})
	case *EscortedReturnCmd:
		if err := firstErr(present(c), leaving(c, at, false), reportFirst(c), belongingsBack(c)); err != nil {
			return nil, err
		}
		return one(EscortedReturn{Destination: v.Destination, Escorts: v.Escorts, Transport: v.Transport, ReceivedBy: v.ReceivedBy, Notes: notes})
	case *Absconding:
		if err := leaving(c, at, true); err != nil {
			return nil, err
		}
		return one(Absconded{LastSeen: v.LastSeen, Notes: notes})
	case *Termination:
		if err := firstErr(leaveAlone(c, at), leaving(c, at, false), reportFirst(c), belongingsBack(c)); err != nil {
			return nil, err
		}
		return one(Terminated{Reason: v.Reason, Notes: notes})
	case *DeathCmd:
		if c.Death != nil {
			return one(DeathChecklistUpdated{DeathChecklist: v.DeathChecklist, Notes: notes})
		}
		if err := firstErr(required("place", v.Place), leaving(c, at, true)); err != nil {
			return nil, err
		}
		return one(Died{Place: v.Place, DeathChecklist: v.DeathChecklist, Notes: notes})
	case *Closure:
		if c.Status != StatusExited && c.Status != StatusRefused {
			return nil, Violation(RuleCaseNotExited, "only an exited case is closed")
		}
		if err := notBefore(at, c.ExitedAt, "exit"); err != nil {
			return nil, err
		}
		return one(CaseClosed{Notes: notes})
	case *Correct:
		return decideCorrection(c, v, now)
	}
	return nil, Internal(nil, "the step %q is not a case step", cmd.Step())
}

func one(e Event) ([]Event, error) { return []Event{e}, nil }

func decideIntake(c Case, in *Intake, at time.Time) ([]Event, error) {
	if c.Exists() {
		return nil, &Error{Code: CodeConflict, Message: "the case already exists"}
	}
	if c.ID == [16]byte{} {
		return nil, Internal(nil, "an intake needs a case ID")
	}
	if err := in.Person.Validate("person", at); err != nil {
		return nil, err
	}
	p := in.Person
	if p.IDNumber != "" && p.IDType == "" {
		p.IDType = IDResidentCard
	}
	if p.EstimatedAge != nil && p.AgeEstimatedOn.IsZero() {
		p.AgeEstimatedOn = CivilDate(at)
	}
	if in.MotherCaseID == c.ID {
		return nil, Violation(RuleMotherCaseInvalid, "a case cannot be its own mother's case")
	}
	return one(IntakeRegistered{CaseID: c.ID, Station: in.Station, Referral: in.Referral, Person: p, Inspection: in.Inspection, MotherCaseID: in.MotherCaseID, Notes: in.Notes})
}

func compact(raw json.RawMessage) json.RawMessage {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return raw
	}
	b, err := json.Marshal(v)
	if err != nil {
		return raw
	}
	return b
}
