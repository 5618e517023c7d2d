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
			rules[0] = Invalid("new", "the intake cannot have happened before the person was born or when they were over %d", MaxAge)
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
