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
		return Invalid(field,
			"%s must be on or after 2003-08-01 (Beijing time), when the assistance measures took effect", field)
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
	if err == nil {
		evs = withNoticeWithdrawn(c, evs, OccurredAt(cmd, now))
	}
	if err != nil || !c.PersonalDataErased() {
		return evs, err
	}
	for _, ev := range evs {
		if carriesPersonalData(ev) {
			return nil, Violation(RulePersonalDataErased, erasedMessage)
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

// decide runs, in order: the command's own validation, the time check,
// the intake's decider, the case's existence, the legal basis, and then
// the step's guards (caseStep.when) and decider.
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
		return nil, Violation(RuleGuardianConsentCircular,
			"civil affairs is the guardian; its own consent is no legal basis")
	}
	s, ok := caseStepRules[cmd.Step()]
	switch {
	case !ok:
		return nil, firstErr(open(c, at), Internal(nil, "the step %q is not a case step", cmd.Step()))
	case s.decide == nil:
		return nil, firstErr(open(c, at), Internal(nil, "bed steps are decided on the station stream"))
	}
	if err := check(c, at, s.when...); err != nil {
		return nil, err
	}
	return s.decide(c, cmd, at, now)
}

func decideEligibility(c Case, v *EligibilityCmd, at time.Time) ([]Event, error) {
	eligible := v.Eligible != nil && *v.Eligible
	if !eligible && !v.AssistFirst {
		if err := check(c, at, eligibilityRefused...); err != nil {
			return nil, err
		}
	}
	return one(EligibilityDecided{Eligible: eligible, AssistFirst: v.AssistFirst, Reason: v.Reason,
		NoticeNo: v.NoticeNo, Notes: v.Notes})
}

func decideSecurityCheck(c Case, v *SecurityCheckCmd, at time.Time) ([]Event, error) {
	if c.Person.Sex == Female && v.CheckedBy.Sex != Female {
		return nil, Violation(RuleFemaleCheckedByFemaleStaff, "a woman is security-checked by female staff")
	}
	if v.Refused {
		if err := check(c, at, checkRefused...); err != nil {
			return nil, err
		}
	}
	return one(SecurityChecked{CheckedBy: v.CheckedBy, Refused: v.Refused, ItemsToPolice: v.ItemsToPolice,
		Notes: v.Notes})
}

func decideBelongings(c Case, v *Belongings, at time.Time) ([]Event, error) {
	if len(v.Deposited) > 0 {
		if err := check(c, at, belongingsIn...); err != nil {
			return nil, err
		}
		return one(BelongingsDeposited{Items: v.Deposited, Notes: v.Notes})
	}
	if err := check(c, at, belongingsOut...); err != nil {
		return nil, err
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
	return one(BelongingsReturned{Items: v.Returned, Notes: v.Notes})
}

func decideIdentityQuery(_ Case, v *IdentityQuery, _ time.Time) ([]Event, error) {
	return one(IdentityQueried{Channel: v.Channel, Result: v.Result, Reference: v.Reference, Notes: v.Notes})
}

func decideIdentityVerified(_ Case, v *IdentityVerification, _ time.Time) ([]Event, error) {
	idType := v.IDType
	if v.IDNumber != "" && idType == "" {
		idType = IDResidentCard
	}
	return one(IdentityVerified{Method: v.Method, Name: v.Name, IDType: idType, IDNumber: v.IDNumber,
		BirthDate: v.BirthDate, HukouPlace: v.HukouPlace, Reference: v.Reference, Notes: v.Notes})
}

func decideFamilySearchNotice(_ Case, v *FamilySearchNotice, _ time.Time) ([]Event, error) {
	return one(FamilySearchNoticePublished{Channel: v.Channel, Reference: v.Reference, Notes: v.Notes})
}

func decideDNARequest(_ Case, v *DNARequest, _ time.Time) ([]Event, error) {
	return one(DNARequested{SampleRef: v.SampleRef, Lab: v.Lab, Notes: v.Notes})
}

func decideDNAResult(_ Case, v *DNAResult, _ time.Time) ([]Event, error) {
	return one(DNAResultReceived{Matched: *v.Matched, Reference: v.Reference, Notes: v.Notes})
}

func decideRelativesContacted(_ Case, v *RelativesContact, _ time.Time) ([]Event, error) {
	return one(RelativesContacted{Relationship: v.Relationship, Channel: v.Channel, Outcome: v.Outcome,
		Notes: v.Notes})
}

func decideMedicalReferral(_ Case, v *MedicalReferral, _ time.Time) ([]Event, error) {
	return one(MedicalReferred{Hospital: v.Hospital, Reason: v.Reason, Notes: v.Notes})
}

// decideHospitalAdmission records the admission, at the hospital of the
// referral unless the command names another.
func decideHospitalAdmission(c Case, v *HospitalAdmission, _ time.Time) ([]Event, error) {
	h := v.Hospital
	if h == "" {
		h = c.Medical.Hospital
	}
	return one(HospitalAdmitted{Hospital: h, Notes: v.Notes})
}

func decideHospitalDischarge(c Case, v *HospitalDischarge, _ time.Time) ([]Event, error) {
	return one(HospitalDischarged{Hospital: c.Medical.Hospital, Notes: v.Notes})
}

func decideMedicalReturn(_ Case, v *MedicalReturn, _ time.Time) ([]Event, error) {
	return one(MedicalReturned{Notes: v.Notes})
}

// decideExtension refuses a new limit that is not later than the current
// one or too far ahead (limitLater).
func decideExtension(c Case, v *Extension, at time.Time) ([]Event, error) {
	if err := firstErr(limitLater(v.Until, c.StayDeadline(), at), check(c, at, extensionLater...)); err != nil {
		return nil, err
	}
	return one(StayExtended{Until: v.Until, ApprovedBy: v.ApprovedBy, Reason: v.Reason, Notes: v.Notes})
}

func decideLongStay(_ Case, v *LongStayCmd, _ time.Time) ([]Event, error) {
	return one(LongStayStarted{Kind: v.Kind, Place: v.Place, Notes: v.Notes})
}

// decideSettlement records an application (settlementApply) or the
// settling itself, by which the person leaves (settlementDone).
func decideSettlement(c Case, v *SettlementCmd, at time.Time) ([]Event, error) {
	f := settlementDone
	if v.Stage == SettlementApplied {
		f = settlementApply
	}
	if err := check(c, at, f...); err != nil {
		return nil, err
	}
	return one(SettlementRecorded{Stage: v.Stage, Place: v.Place, Reference: v.Reference, Notes: v.Notes})
}

// decideGuardianship records civil affairs as the guardian unless the
// command names another.
func decideGuardianship(_ Case, v *GuardianshipCmd, _ time.Time) ([]Event, error) {
	g := v.Guardian
	if g == "" {
		g = "civil_affairs"
	}
	return one(GuardianshipTaken{Basis: v.Basis, Guardian: g, Notes: v.Notes})
}

func decidePoliceReport(_ Case, v *PoliceReportCmd, _ time.Time) ([]Event, error) {
	return one(PoliceReportFiled{Reason: v.Reason, ReportNo: v.ReportNo, Agency: v.Agency, Notes: v.Notes})
}

// decideTransferRequest refuses a transfer to the case's own station.
func decideTransferRequest(c Case, v *TransferRequest, at time.Time) ([]Event, error) {
	if v.ToStation == c.Station {
		return nil, Violation(RuleSameStation, "a transfer goes to another station")
	}
	if err := check(c, at, transferOut...); err != nil {
		return nil, err
	}
	return one(TransferRequested{From: c.Station, To: v.ToStation, Reason: v.Reason, Notes: v.Notes})
}

func decideTransferAccept(c Case, v *TransferAccept, _ time.Time) ([]Event, error) {
	return one(TransferAccepted{From: c.Transfer.From, To: c.Transfer.To, Notes: v.Notes})
}

func decideTransferDecline(c Case, v *TransferDecline, _ time.Time) ([]Event, error) {
	return one(TransferDeclined{From: c.Transfer.From, To: c.Transfer.To, Reason: v.Reason, Notes: v.Notes})
}

func decideEscortDeparture(c Case, v *EscortDeparture, _ time.Time) ([]Event, error) {
	return one(EscortDeparted{From: c.Transfer.From, To: c.Transfer.To, Escorts: v.Escorts, Transport: v.Transport,
		Notes: v.Notes})
}

func decideHandover(c Case, v *HandoverCmd, _ time.Time) ([]Event, error) {
	return one(HandedOver{From: c.Transfer.From, To: c.Transfer.To, ReceivedBy: v.ReceivedBy, Notes: v.Notes})
}

// decideVoluntaryLeave refuses cash over MaxCashYuan or without a receipt.
func decideVoluntaryLeave(_ Case, v *VoluntaryLeave, _ time.Time) ([]Event, error) {
	if v.CashYuan > MaxCashYuan {
		return nil, Violation(RuleCashOverLimit, "cash handed out is at most %d yuan", MaxCashYuan)
	}
	if v.CashYuan > 0 && v.ReceiptRef == "" {
		return nil, Violation(RuleCashNeedsReceipt, "cash is handed out against a signed receipt")
	}
	return one(LeftVoluntarily{DeclarationRef: v.DeclarationRef, CashYuan: v.CashYuan, ReceiptRef: v.ReceiptRef,
		Notes: v.Notes})
}

// decidePickup records the collector, with a resident ID card unless the
// command names another document.
func decidePickup(_ Case, v *Pickup, _ time.Time) ([]Event, error) {
	col := v.Collector
	if col.IDType == "" {
		col.IDType = IDResidentCard
	}
	return one(PickedUp{Collector: col, Notes: v.Notes})
}

func decideEscortedReturn(_ Case, v *EscortedReturnCmd, _ time.Time) ([]Event, error) {
	return one(EscortedReturn{Destination: v.Destination, Escorts: v.Escorts, Transport: v.Transport,
		ReceivedBy: v.ReceivedBy, Notes: v.Notes})
}

func decideAbsconding(_ Case, v *Absconding, _ time.Time) ([]Event, error) {
	return one(Absconded{LastSeen: v.LastSeen, Notes: v.Notes})
}

func decideTermination(_ Case, v *Termination, _ time.Time) ([]Event, error) {
	return one(Terminated{Reason: v.Reason, Notes: v.Notes})
}

// decideDeath records the death, which needs its place (deathFirst), or,
// on a case that records one, the checklist items done since
// (deathChecklist).
func decideDeath(c Case, v *DeathCmd, at time.Time) ([]Event, error) {
	if check(c, at, deathChecklist...) == nil {
		return one(DeathChecklistUpdated{DeathChecklist: v.DeathChecklist, Notes: v.Notes})
	}
	if err := firstErr(required("place", v.Place), check(c, at, deathFirst...)); err != nil {
		return nil, err
	}
	return one(Died{Place: v.Place, DeathChecklist: v.DeathChecklist, Notes: v.Notes})
}

func decideClosure(_ Case, v *Closure, _ time.Time) ([]Event, error) {
	return one(CaseClosed{Notes: v.Notes})
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
	return one(IntakeRegistered{CaseID: c.ID, Station: in.Station, Referral: in.Referral, Person: p,
		Inspection: in.Inspection, MotherCaseID: in.MotherCaseID, Notes: in.Notes})
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
