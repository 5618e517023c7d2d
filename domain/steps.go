package domain

import "time"

// A form is one shape of a step's command (an eligibility accepted or
// refused, a settlement applied for or done) with the guards it adds to
// the step's own. The step's decider runs the guards of its command's
// form, at the place the rules order them among the command's own checks.
type form []guard

// A caseStep declares one step on an existing case: when, the guards that
// every command of the step must pass, which Decide runs, in order, before
// the decider; forms, the shapes of the command when they differ in the
// state they need; and decide, the decider, given a command that passed
// Validate and when, at its occurred_at at, on a case that exists.
type caseStep struct {
	when   []guard
	forms  []form
	decide func(c Case, cmd Command, at, now time.Time) ([]Event, error)
}

// allows returns nil when some command of the step passes the state's
// guards at at: the step's own and those of one of its forms. Otherwise it
// returns the refusal of the step's own guards, or of its first form.
func (s caseStep) allows(c Case, at time.Time) error {
	if err := check(c, at, s.when...); err != nil {
		return err
	}
	var first error
	for _, f := range s.forms {
		err := check(c, at, f...)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// decider adapts the decider of a command type C to caseStep.decide.
func decider[C Command](f func(c Case, cmd C, at time.Time) ([]Event, error)) func(Case, Command, time.Time,
	time.Time) ([]Event, error) {
	return func(c Case, cmd Command, at, _ time.Time) ([]Event, error) { return f(c, cmd.(C), at) }
}

// The forms of the steps that have several.
var (
	eligibilityAccepted = form{}
	eligibilityRefused  = form{refusable, leaving, reportFirst}
	checkPassed         = form{}
	checkRefused        = form{leavingAsFact}
	belongingsIn        = form{open}
	belongingsOut       = form{returnable}
	settlementApply     = form{settlementDue}
	settlementDone      = form{settlementApplied, present, leaving, reportFirst}
	deathFirst          = form{leavingAsFact}
	deathChecklist      = form{deathRecorded}
	extensionLater      = form{extensionRoom}
	transferOut         = form{present, reportFirst}
)

// caseStepRules declares every step on an existing case, keyed by its Step:
// the state each allows it in (AllowedSteps) and its decider (Decide;
// DecideBed for the bed steps, which have no decider here).
var caseStepRules = map[Step]caseStep{
	StepEligibility: {
		when:   []guard{open, undecided},
		forms:  []form{eligibilityAccepted, eligibilityRefused},
		decide: decider(decideEligibility),
	},
	StepSecurityCheck: {
		when:   []guard{open, unchecked},
		forms:  []form{checkPassed, checkRefused},
		decide: decider(decideSecurityCheck),
	},
	StepBelongings: {
		forms:  []form{belongingsIn, belongingsOut},
		decide: decider(decideBelongings),
	},
	StepBed: {
		when: []guard{placeable},
	},
	StepBedRelease: {
		when: []guard{inBed},
	},
	StepIdentityQuery: {
		when:   []guard{open},
		decide: decider(decideIdentityQuery),
	},
	StepIdentityVerified: {
		when:   []guard{open, notIdentified},
		decide: decider(decideIdentityVerified),
	},
	StepFamilySearchNotice: {
		when:   []guard{open, notIdentified},
		decide: decider(decideFamilySearchNotice),
	},
	StepDNARequest: {
		when:   []guard{open, notIdentified},
		decide: decider(decideDNARequest),
	},
	StepDNAResult: {
		when:   []guard{open, dnaAwaited, afterDNARequest},
		decide: decider(decideDNAResult),
	},
	StepRelativesContacted: {
		when:   []guard{open},
		decide: decider(decideRelativesContacted),
	},
	StepMedicalReferral: {
		when:   []guard{open, present},
		decide: decider(decideMedicalReferral),
	},
	StepHospitalAdmission: {
		when:   []guard{open, referred, present, afterReferral},
		decide: decider(decideHospitalAdmission),
	},
	StepHospitalDischarge: {
		when:   []guard{open, inHospital, afterAdmission},
		decide: decider(decideHospitalDischarge),
	},
	StepMedicalReturn: {
		when:   []guard{open, discharged, afterDischarge},
		decide: decider(decideMedicalReturn),
	},
	StepExtension: {
		when:   []guard{open, extendable},
		forms:  []form{extensionLater},
		decide: decider(decideExtension),
	},
	StepLongStay: {
		when:   []guard{open, unidentified("long stay is for people not identified"), notInTransit, longStayDue},
		decide: decider(decideLongStay),
	},
	StepSettlement: {
		when:   []guard{open, unidentified("settlement is for people not identified")},
		forms:  []form{settlementApply, settlementDone},
		decide: decider(decideSettlement),
	},
	StepGuardianship: {
		when:   []guard{open, guardianshipFits, unguarded},
		decide: decider(decideGuardianship),
	},
	StepPoliceReport: {
		when:   []guard{unerased(erasedMessage)},
		decide: decider(decidePoliceReport),
	},
	StepTransferRequest: {
		when:   []guard{open, noTransfer},
		forms:  []form{transferOut},
		decide: decider(decideTransferRequest),
	},
	StepTransferAccept: {
		when:   transferAnswer,
		decide: decider(decideTransferAccept),
	},
	StepTransferDecline: {
		when:   transferAnswer,
		decide: decider(decideTransferDecline),
	},
	StepEscortDeparture: {
		when:   []guard{open, transferAccepted, present, afterAcceptance},
		decide: decider(decideEscortDeparture),
	},
	StepHandover: {
		when:   []guard{open, inTransit, afterDeparture},
		decide: decider(decideHandover),
	},
	StepVoluntaryLeave: {
		when:   []guard{open, notInTransit, leaveAlone, leaving, reportFirst, belongingsBack},
		decide: decider(decideVoluntaryLeave),
	},
	StepPickup: {
		when:   []guard{open, notInTransit, leaving, reportFirst, belongingsBack},
		decide: decider(decidePickup),
	},
	StepEscortedReturn: {
		when:   []guard{open, present, leaving, reportFirst, belongingsBack},
		decide: decider(decideEscortedReturn),
	},
	StepAbsconding: {
		when:   []guard{open, leavingAsFact},
		decide: decider(decideAbsconding),
	},
	StepTermination: {
		when:   []guard{open, leaveAlone, leaving, reportFirst, belongingsBack},
		decide: decider(decideTermination),
	},
	StepDeath: {
		when:   []guard{openUnlessDied},
		forms:  []form{deathFirst, deathChecklist},
		decide: decider(decideDeath),
	},
	StepClosure: {
		when:   []guard{notClosed, exited, afterExit},
		decide: decider(decideClosure),
	},
	StepCorrection: {
		when: []guard{unerased(correctionErasedMessage)},
		decide: func(c Case, cmd Command, _, now time.Time) ([]Event, error) {
			return decideCorrection(c, cmd.(*Correct), now)
		},
	},
}

// transferAnswer is the state in which the receiving station answers a
// transfer, accepting or declining it: requested and not yet accepted, and
// not before the request.
var transferAnswer = []guard{open, transferRequested,
	afterRequest}

// correctionErasedMessage is the refusal of a correction on a case whose
// personal data was erased.
const correctionErasedMessage = "the person's personal data was erased; a correction would record personal data " +
	"again (its reason, and the values of most fields)"

// AllowedSteps returns the steps of CaseSteps, in its order, that case c
// allows at now: those a command of the step taking effect at now (its
// occurred_at left out) could be accepted for, as far as the case's state
// and the time decide: its status, what was recorded before, the person's
// age and how long ago the case began. What a command's own fields must be
// (a reason given, a female checker for a woman, a zone that fits, an item
// that was deposited) is the command's; who may take the step is
// Authorize's; whether other streams agree (the receiving station exists,
// the station has a free bed in the zone) is the Service's. A step it
// omits is refused by Decide (DecideBed for the bed steps) whatever the
// command, with the rule of its first refusing guard; for a step it lists,
// some valid command is accepted. The bed release reads the bed from
// c.Bed, as Service.Case fills it in. A case that does not exist, or that
// began after now, allows no step.
func AllowedSteps(c Case, now time.Time) []Step {
	if !c.Exists() || checkTime(c, now, now) != nil {
		return nil
	}
	var out []Step
	for _, step := range caseSteps {
		if caseStepRules[step].allows(c, now) == nil {
			out = append(out, step)
		}
	}
	return out
}
