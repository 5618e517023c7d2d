package domain

import (
	"strings"
	"time"
)

// A guard is a state rule of a step: it refuses, with the rule's *Error,
// a case state in which the step may not be taken at the given time, and
// returns nil otherwise. Guards read the case and the time only, never a
// command; what a command's own fields must be is the decider's.
type guard func(c Case, at time.Time) error

// check returns the refusal of the first of guards that refuses c at at.
func check(c Case, at time.Time, guards ...guard) error {
	for _, g := range guards {
		if err := g(c, at); err != nil {
			return err
		}
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

// notBefore refuses at before prev (when prev is set), naming what
// happened at prev (rule occurred_before_previous_step).
func notBefore(at, prev time.Time, what string) error {
	if !prev.IsZero() && at.Before(prev) {
		return Violation(RuleOccurredBeforePreviousStep, "the step cannot have happened before the %s", what)
	}
	return nil
}

// after returns the guard that refuses a step before the moment when(c)
// of the step it follows, named what (notBefore).
func after(when func(Case) time.Time, what string) guard {
	return func(c Case, at time.Time) error { return notBefore(at, when(c), what) }
}

// The guards of the steps that follow another: none is taken before the
// step it follows (notBefore). Each runs after the guard that makes sure
// the earlier step happened.
var (
	afterDNARequest = after(func(c Case) time.Time { return c.Identity.DNARequestedAt }, "DNA request")
	afterReferral   = after(func(c Case) time.Time { return c.Medical.ReferredAt }, "medical referral")
	afterAdmission  = after(func(c Case) time.Time { return c.Medical.AdmittedAt }, "hospital admission")
	afterDischarge  = after(func(c Case) time.Time { return c.Medical.DischargedAt }, "hospital discharge")
	afterRequest    = after(func(c Case) time.Time { return c.Transfer.RequestedAt }, "transfer request")
	afterAcceptance = after(func(c Case) time.Time { return c.Transfer.AcceptedAt }, "transfer acceptance")
	afterDeparture  = after(func(c Case) time.Time { return c.Transfer.DepartedAt }, "escort departure")
	afterExit       = after(func(c Case) time.Time { return c.ExitedAt }, "exit")
)

// open refuses a step on a case that has ended: a closed case (rule
// case_closed) or an exited one (rule case_exited). Steps that are late
// paperwork (corrections, police reports, belongings returned, death
// checklist items, closure) do not have it.
func open(c Case, _ time.Time) error {
	if c.Status == StatusClosed {
		return Violation(RuleCaseClosed, "the case is closed")
	}
	if c.Status.Ended() {
		return Violation(RuleCaseExited, "the case has exited; only closing, corrections and late paperwork are accepted")
	}
	return nil
}

// openUnlessDied is open for a case that records no death; a case that
// records one takes the death step's checklist items after its end.
func openUnlessDied(c Case, at time.Time) error {
	if c.Death != nil {
		return nil
	}
	return open(c, at)
}

// notClosed refuses a step on a closed case (rule case_closed).
func notClosed(c Case, _ time.Time) error {
	if c.Status == StatusClosed {
		return Violation(RuleCaseClosed, "the case is closed")
	}
	return nil
}

// erasedMessage is the refusal of a step that would record personal data
// on a case whose personal data was erased.
const erasedMessage = "the person's personal data was erased; " +
	"the step would record personal data again (leave the notes out)"

// unerased returns the guard of a step every command of which records a
// personal value: it refuses the step, with message, on a case whose
// personal data was erased (rule personal_data_erased). Other steps are
// refused there only when their command carries personal data (Decide).
func unerased(message string) guard {
	return func(c Case, _ time.Time) error {
		if c.PersonalDataErased() {
			return Violation(RulePersonalDataErased, "%s", message)
		}
		return nil
	}
}

// present refuses a step that needs the person at the station while they
// are in hospital or in transit (rule away_from_station).
func present(c Case, _ time.Time) error {
	switch c.Status {
	case StatusInHospital, StatusInTransit:
		return Violation(RuleAwayFromStation, "the person is not at the station")
	}
	return nil
}

// notInTransit refuses a step while the person is in transit to another
// station (rule away_from_station).
func notInTransit(c Case, _ time.Time) error {
	if c.Status == StatusInTransit {
		return Violation(RuleAwayFromStation, "the person is in transit")
	}
	return nil
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
		return Violation(RuleMinorCannotLeaveAlone,
			"a person under 16 leaves only by pickup, escorted return, transfer or placement")
	}
	if c.Disabled() {
		return Violation(RuleSpecialGroupCannotLeaveAlone, "a person with a mental or intellectual disability flag "+
			"leaves only by pickup, escorted return, transfer or placement")
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

// extensionRoom refuses an extension on at when no new limit can be both
// later than the current one and at most MaxExtension after at: the
// furthest limit allowed is refused as every other would be (limitLater).
func extensionRoom(c Case, at time.Time) error {
	return limitLater(at.Add(MaxExtension), c.StayDeadline(), at)
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
func reportFirst(c Case, _ time.Time) error {
	if due := c.PoliceReportsDue(); len(due) > 0 {
		return Violation(RulePoliceReportRequired,
			"report the case to the police (reason %s) before the person leaves", strings.Join(strs(due), ", "))
	}
	return nil
}

// belongingsBack refuses a step by which the person leaves in person
// (voluntary leave, pickup, escorted return, termination) while any of
// their deposited belongings (an ID card, cash, a phone) is still held:
// staff record them returned first, at the moment it matters, not after
// the case is closed. Exits the person does not attend (absconding,
// death) are not refused; the safety board shows their belongings.
func belongingsBack(c Case, _ time.Time) error {
	if n := c.BelongingsDeposited(); n > 0 {
		return Violation(RuleBelongingsStillDeposited, "%d deposited item(s) are not returned: "+
			"record them returned (the belongings step) before the person leaves", n)
	}
	return nil
}

// returnable refuses returning belongings when none is deposited and not
// yet returned (rule belongings_not_deposited); which items a command
// returns is checked by the decider against the same list.
func returnable(c Case, _ time.Time) error {
	if c.BelongingsDeposited() == 0 {
		return Violation(RuleBelongingsNotDeposited, "an item to return is not deposited")
	}
	return nil
}

// leavingAsFact checks an exit the station does not decide (absconding,
// death, a refused security check): it cannot have happened before the
// latest step of the case (late paperwork aside). Such an exit ends a
// transfer in flight; the fold clears the transfer.
func leavingAsFact(c Case, at time.Time) error {
	return notBefore(at, c.lastStepAt, "latest step of the case")
}

// leaving checks a step by which the station lets the person leave: as
// leavingAsFact, and it is refused while a transfer is requested, accepted
// or under way (rule transfer_in_flight): the receiving station declines
// the transfer first, or the handover completes it and the receiving
// station records the exit.
func leaving(c Case, at time.Time) error {
	if err := leavingAsFact(c, at); err != nil {
		return err
	}
	if c.Transfer != nil {
		return Violation(RuleTransferInFlight,
			"a transfer is in flight; the receiving station declines it before the person leaves another way")
	}
	return nil
}

// undecided refuses screening a case whose eligibility was decided.
func undecided(c Case, _ time.Time) error {
	if c.Eligibility.Decided {
		return Violation(RuleEligibilityAlreadyDecided, "eligibility was already decided")
	}
	return nil
}

// unchecked refuses a second security check.
func unchecked(c Case, _ time.Time) error {
	if c.SecurityCheck.Done {
		return Violation(RuleSecurityCheckAlreadyDone, "the security check was already done")
	}
	return nil
}

// unidentified returns the guard that refuses, with message, a step for
// people not identified once the identity is verified (rule
// already_identified).
func unidentified(message string) guard {
	return func(c Case, _ time.Time) error {
		if c.Identity.Verified {
			return Violation(RuleAlreadyIdentified, "%s", message)
		}
		return nil
	}
}

// notIdentified refuses a step of the identity search once the identity
// is verified.
var notIdentified = unidentified("the identity is already verified")

// dnaAwaited refuses a DNA result unless a DNA request awaits one.
func dnaAwaited(c Case, _ time.Time) error {
	if c.Identity.DNARequestedAt.IsZero() || !c.Identity.DNAResultAt.IsZero() {
		return Violation(RuleDNANotRequested, "no DNA request is awaiting a result")
	}
	return nil
}

// referred refuses a hospital admission without a medical referral.
func referred(c Case, _ time.Time) error {
	if c.Medical.State != MedicalStateReferred {
		return Violation(RuleNoMedicalReferral, "admission follows a medical referral")
	}
	return nil
}

// inHospital refuses a discharge of a person not admitted to hospital.
func inHospital(c Case, _ time.Time) error {
	if c.Status != StatusInHospital || c.Medical.State != MedicalStateAdmitted {
		return Violation(RuleNotInHospital, "the person is not in hospital")
	}
	return nil
}

// discharged refuses a return from hospital of a person not discharged.
func discharged(c Case, _ time.Time) error {
	if c.Medical.State != MedicalStateDischarged {
		return Violation(RuleNotDischarged, "the person was not discharged from hospital")
	}
	return nil
}

// settlementApplied refuses the settling of a person whose settlement was
// not applied for.
func settlementApplied(c Case, _ time.Time) error {
	if c.Settlement == nil || c.Settlement.Stage != SettlementApplied {
		return Violation(RuleSettlementNotApplied, "settlement needs an application first")
	}
	return nil
}

// unguarded refuses temporary guardianship taken a second time.
func unguarded(c Case, _ time.Time) error {
	if c.Guardianship != nil {
		return Violation(RuleGuardianshipAlreadyTaken, "guardianship was already taken")
	}
	return nil
}

// noTransfer refuses a transfer request while another is in flight.
func noTransfer(c Case, _ time.Time) error {
	if c.Transfer != nil {
		return Violation(RuleTransferPending, "a transfer is already in flight")
	}
	return nil
}

// transferRequested refuses answering (accepting or declining) a transfer
// unless one is requested and not yet accepted.
func transferRequested(c Case, _ time.Time) error {
	if c.Transfer == nil {
		return Violation(RuleNoTransferPending, "no transfer is pending")
	}
	if c.Transfer.State != TransferStateRequested {
		return Violation(RuleTransferAlreadyAccepted, "the transfer was already accepted")
	}
	return nil
}

// transferAccepted refuses an escort's departure unless the receiving
// station accepted the transfer and no escort departed yet.
func transferAccepted(c Case, _ time.Time) error {
	switch {
	case c.Transfer == nil:
		return Violation(RuleNoTransferPending, "no transfer is pending")
	case c.Transfer.State == TransferStateRequested:
		return Violation(RuleTransferNotAccepted, "the receiving station has not accepted the transfer")
	case c.Transfer.State == TransferStateDeparted:
		return Violation(RuleEscortAlreadyDeparted, "the escort already departed")
	}
	return nil
}

// inTransit refuses a handover unless the person is in transit after an
// accepted transfer and a departed escort.
func inTransit(c Case, _ time.Time) error {
	if c.Status != StatusInTransit || c.Transfer == nil || c.Transfer.State != TransferStateDeparted {
		return Violation(RuleNotInTransit, "a handover follows an accepted transfer and a departed escort")
	}
	return nil
}

// deathRecorded refuses a death checklist update on a case that records
// no death: the death step then records the death itself.
func deathRecorded(c Case, _ time.Time) error {
	if c.Death == nil {
		return &Error{Code: CodeRuleViolation, Message: "no death is recorded"}
	}
	return nil
}

// exited refuses closing a case that has not exited (or been refused).
func exited(c Case, _ time.Time) error {
	if c.Status != StatusExited && c.Status != StatusRefused {
		return Violation(RuleCaseNotExited, "only an exited case is closed")
	}
	return nil
}

// placeable refuses placing the person in a bed before they are screened
// and security-checked, after their case ended, or while they are away.
func placeable(c Case, at time.Time) error {
	switch {
	case c.Status == StatusClosed:
		return Violation(RuleCaseClosed, "the case is closed")
	case c.Status.Ended():
		return Violation(RuleCaseExited, "the case has exited")
	case c.Status == StatusReceived:
		return Violation(RuleEligibilityPending, "screen eligibility before placing the person")
	case !c.SecurityCheck.Done:
		return Violation(RuleSecurityCheckPending, "do the security check before placing the person")
	}
	return present(c, at)
}

// inBed refuses freeing a bed of a case that holds none (Case.Bed, which
// DecideBed takes from the station's allocation).
func inBed(c Case, _ time.Time) error {
	if c.Bed == nil {
		return Violation(RuleNotInBed, "the case holds no bed")
	}
	return nil
}
