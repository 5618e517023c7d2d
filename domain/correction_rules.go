package domain

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// stepRules returns the first rule that event i of c breaks, at the time c
// says it happened, among the rules the deciders check against how long
// after the intake a step happened or against the person's age at a step,
// with the deciders' own functions and so their rule codes:
//   - long-stay care starts 10 days or more after the intake (longStayDue,
//     rule long_stay_too_early);
//   - a settlement application is made 90 days or more after the intake
//     (settlementDue, rule settlement_too_early); a settlement record that
//     is not the exit is the application (the settling is the exit);
//   - an extension is filed when a stay limit applies to the person
//     (extendable, rule no_stay_limit) and, when until is not zero (the
//     extension's new limit, given for the corrected event only, whose
//     limit does not move with its time), its limit is after its own time
//     (rule extension_not_later);
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
func (c Case) stepRules(i int, until time.Time) error {
	_, codes := eventTypes()
	e := c.events[i]
	at := e.at()
	switch e.typ {
	case 0:
		return nil
	case codes[TypeLongStayStarted]:
		return longStayDue(c, at)
	case codes[TypeSettlementRecorded]:
		if !e.exit {
			return settlementDue(c, at)
		}
	case codes[TypeStayExtended]:
		if err := extendable(c, at); err != nil {
			return err
		}
		if !until.IsZero() && !until.After(at) {
			return Violation(RuleExtensionNotLater, "the new limit must be later than the extension")
		}
	case codes[TypeGuardianshipTaken]:
		return guardianshipFits(c, at)
	case codes[TypeLeftVoluntarily], codes[TypeTerminated]:
		return leaveAlone(c, at)
	case codes[TypeEligibilityDecided]:
		if e.exit {
			return refusable(c, at)
		}
	}
	return nil
}

// checkTimedRules refuses a correction that moves when the case's event
// id, of type typ, happened from old to new (JSON times) where the
// corrected case would have a step that breaks one of the rules stepRules
// checks and that the step keeps in c: every event of the case is checked
// again against the corrected times, so moving the intake later re-checks
// the long stays and settlement applications after it, and moving a step
// re-checks the person's age at it. A step that breaks a rule before the
// correction already (what the case knows of the person changed since it
// was recorded) does not stop a correction of a time. until is the
// corrected event's new limit for an extension (zero otherwise).
func (c Case) checkTimedRules(typ string, id uuid.UUID, old, new json.RawMessage, until time.Time) error {
	d := c
	d.retime(typ, id, old, new)
	for i := range d.events {
		u := time.Time{}
		if d.events[i].id == id {
			u = until
		}
		if err := d.stepRules(i, u); err != nil && c.stepRules(i, u) == nil {
			return err
		}
	}
	return nil
}
