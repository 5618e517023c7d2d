package domain

import (
	"slices"
	"time"

	"github.com/google/uuid"
)

// stepRules returns, in a fixed order, whether event i of c keeps (nil) or
// breaks (the decider's *Error) each rule, at the time c says the event
// happened, that the deciders check against how long after the intake a
// step happened or against the person's age at a step, with the deciders'
// own functions and so their rule codes:
//   - the intake is on or after the person's birth date and before they
//     are over MaxAge (Person.Validate, which the intake's decider runs;
//     invalid "new", since no rule code names it);
//   - long-stay care starts 10 days or more after the intake (longStayDue,
//     rule long_stay_too_early);
//   - a settlement application is made 90 days or more after the intake
//     (settlementDue, rule settlement_too_early); a settlement record that
//     is not the exit is the application (the settling is the exit);
//   - an extension is filed when a stay limit applies to the person
//     (extendable, rule no_stay_limit), the first one with a new limit
//     later than 10 days after the intake and than its own time
//     (limitLater, rule extension_not_later), and, when until is not zero
//     (the new limit of the corrected extension; the others' limits do not
//     move with a time), with a new limit later than its own time (rule
//     extension_not_later);
//   - guardianship is taken of a minor (guardianshipFits, rule
//     guardianship_only_for_minors);
//   - a voluntary leave or a termination is of a person aged 16 or over
//     with no disability flag (leaveAlone, rules minor_cannot_leave_alone
//     and special_group_cannot_leave_alone);
//   - eligibility is refused (not assisted first; such a refusal is the
//     exit) only to a person who is not helped first (refusable, rule
//     assist_first_required).
//
// The person's age is taken from what the case knows of the person now
// (a verified birth date replaces the intake's estimate).
func (c Case) stepRules(i int, until time.Time) (rules [3]error) {
	_, codes := eventTypes()
	e := c.events[i]
	at := e.at()
	switch e.typ {
	case 0:
	case codes[TypeIntakeRegistered]:
		if c.Person.Validate("person", at) != nil && c.Person.Validate("person", time.Time{}) == nil {
			rules[0] = Invalid("new",
				"the intake cannot have happened before the person was born or when they were over %d", MaxAge)
		}
	case codes[TypeLongStayStarted]:
		rules[0] = longStayDue(c, at)
	case codes[TypeSettlementRecorded]:
		if !e.exit {
			rules[0] = settlementDue(c, at)
		}
	case codes[TypeStayExtended]:
		rules[0] = extendable(c, at)
		if first := !slices.ContainsFunc(c.events[:i], func(x caseEvent) bool { return x.typ == e.typ }); first {
			rules[1] = limitLater(c.firstLimit, c.unextendedDeadline(), at)
		}
		if !until.IsZero() && !until.After(at) {
			rules[2] = Violation(RuleExtensionNotLater, "the new limit must be later than the extension")
		} else if !until.IsZero() {
			rules[2] = limitWithin(until, at)
		}
	case codes[TypeGuardianshipTaken]:
		rules[0] = guardianshipFits(c, at)
	case codes[TypeLeftVoluntarily], codes[TypeTerminated]:
		rules[0] = leaveAlone(c, at)
	case codes[TypeEligibilityDecided]:
		if e.exit {
			rules[0] = refusable(c, at)
		}
	}
	return rules
}

// keepsRules refuses a correction of the case's event id that turns case c
// into d where d has a step that breaks one of the rules stepRules checks
// and that the step keeps in c, rule by rule, with that rule's error:
// every event of the case is checked again in the corrected state, so
// moving the intake later re-checks the long stays, settlement
// applications and first extension after it, moving a step re-checks the
// person's age at it, and a new limit of an extension is checked against
// the extension's time. A rule a step breaks before the correction already
// (say, what the case knows of the person changed since the step was
// recorded) does not stop the correction. oldUntil and newUntil are the
// corrected event's limit before and after the correction when it is an
// extension (zero otherwise).
func keepsRules(c, d Case, id uuid.UUID, oldUntil, newUntil time.Time) error {
	for i := range d.events {
		var before, after time.Time
		if d.events[i].id == id {
			before, after = oldUntil, newUntil
		}
		broken := d.stepRules(i, after)
		if broken == ([3]error{}) {
			continue
		}
		kept := c.stepRules(i, before)
		for k, err := range broken {
			if err != nil && kept[k] == nil {
				return err
			}
		}
	}
	return nil
}

// lateTypes is the stored types of late paperwork (see lateEvent).
var lateTypes = map[string]bool{
	TypeCorrected: true, TypePoliceReportFiled: true, TypeBelongingsReturned: true,
	TypeDeathChecklistUpdated: true, TypeCaseClosed: true, TypePersonalDataErased: true,
}

// late reports whether e is late paperwork (see lateEvent).
func (e caseEvent) late() bool {
	names, _ := eventTypes()
	return e.typ != 0 && lateTypes[names[e.typ]]
}

// follows maps a stored type to the type of the step it follows: the
// deciders refuse it before the latest event of that type (a DNA result
// before its request, an admission before the referral, a discharge before
// the admission, a return before the discharge, an acceptance or a decline
// before the transfer request, the escort's departure before the
// acceptance, the handover before the departure).
var follows = map[string]string{
	TypeDNAResultReceived:  TypeDNARequested,
	TypeHospitalAdmitted:   TypeMedicalReferred,
	TypeHospitalDischarged: TypeHospitalAdmitted,
	TypeMedicalReturned:    TypeHospitalDischarged,
	TypeTransferAccepted:   TypeTransferRequested,
	TypeTransferDeclined:   TypeTransferRequested,
	TypeEscortDeparted:     TypeTransferAccepted,
	TypeHandedOver:         TypeEscortDeparted,
}

// stepFollowed returns the index in c.events of the step that event i
// follows, which the deciders refuse it before: for a closure the exit, for
// a type in follows the latest event of the followed type before it; -1
// when there is none.
func (c Case) stepFollowed(i int) int {
	names, codes := eventTypes()
	typ := names[c.events[i].typ]
	if typ == TypeCaseClosed {
		for j := i - 1; j >= 0; j-- {
			if c.events[j].exit {
				return j
			}
		}
		return -1
	}
	prev, ok := follows[typ]
	if !ok || c.events[i].typ == 0 {
		return -1
	}
	for j := i - 1; j >= 0; j-- {
		if c.events[j].typ == codes[prev] {
			return j
		}
	}
	return -1
}

// checkStepOrder refuses a correction that moves when the case's event id
// happened to t, where the step would then break the order that the
// deciders enforce when a step is recorded:
//   - no step before the intake (rule occurred_before_case_began), and so
//     the intake after no other event of the case, late paperwork included
//     (rule occurred_after_next_step);
//   - an exit (a leave, pickup, escorted return, absconding, termination,
//     death, settlement, refused eligibility or security check) before no
//     earlier step, and so no step after the exit that follows it, late
//     paperwork aside (it may be recorded after the person left);
//   - a step before none of the steps it follows (a DNA result its request,
//     an admission the referral, a discharge the admission, a return the
//     discharge, an acceptance or a decline the transfer request, the
//     escort's departure the acceptance, the handover the departure, a
//     closure the exit), and so after none of the steps that follow it.
//
// A step moved earlier than an earlier bound breaks rule
// occurred_before_previous_step, later than a later bound rule
// occurred_after_next_step. Other steps are not ordered among themselves:
// the deciders take them in any order of time, as staff catch up on
// paperwork.
func (c Case) checkStepOrder(id uuid.UUID, t time.Time) error {
	i := slices.IndexFunc(c.events, func(e caseEvent) bool { return e.id == id })
	if i < 0 {
		return Internal(nil, "the corrected event is not in the case")
	}
	names, codes := eventTypes()
	e := c.events[i]
	name := func(j int) string { return names[c.events[j].typ] }
	before := func(j int) error {
		return Violation(RuleOccurredBeforePreviousStep, "the step cannot have happened before the earlier step %s", name(j))
	}
	after := func(j int) error {
		return Violation(RuleOccurredAfterNextStep, "the step cannot have happened after the later step %s", name(j))
	}
	if e.typ == codes[TypeIntakeRegistered] {
		for j := range c.events {
			if j != i && t.After(c.events[j].at()) {
				return after(j)
			}
		}
		return nil
	}
	if t.Before(c.OpenedAt) {
		return Violation(RuleOccurredBeforeCaseBegan, "the step cannot have happened before the case began")
	}
	if e.exit {
		for j := range i {
			if !c.events[j].late() && t.Before(c.events[j].at()) {
				return before(j)
			}
		}
	}
	if j := c.stepFollowed(i); j >= 0 && t.Before(c.events[j].at()) {
		return before(j)
	}
	for j := i + 1; j < len(c.events); j++ {
		later := c.events[j]
		if ((later.exit && !e.late()) || c.stepFollowed(j) == i) && t.After(later.at()) {
			return after(j)
		}
	}
	return nil
}
