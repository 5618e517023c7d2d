package domain

import (
	"errors"
	"fmt"
)

// Code classifies an Error the way docs/api.md's problem documents do. The HTTP
// layer maps each code to a status in one table. The values are stored and
// shown to clients: never rename or reuse them.
type Code string

// The error codes of docs/api.md.
const (
	CodeInvalid            Code = "invalid"
	CodeUnauthorized       Code = "unauthorized"
	CodeForbidden          Code = "forbidden"
	CodeNotFound           Code = "not_found"
	CodeConflict           Code = "conflict"
	CodeRuleViolation      Code = "rule_violation"
	CodePreconditionFailed Code = "precondition_failed"
	CodeInternal           Code = "internal"
)

// Rule codes name the rule a refused command broke. Clients match on them:
// never rename or reuse them.
const (
	RuleFemaleCheckedByFemaleStaff   = "female_checked_by_female_staff"
	RuleZoneDoesNotFit               = "zone_does_not_fit"
	RuleZoneNotAtStation             = "zone_not_at_station"
	RuleUnknownBed                   = "unknown_bed"
	RuleBedTaken                     = "bed_taken"
	RuleZoneFull                     = "zone_full"
	RuleNotInBed                     = "not_in_bed"
	RuleBedOccupied                  = "bed_occupied"
	RuleMinorCannotLeaveAlone        = "minor_cannot_leave_alone"
	RuleSpecialGroupCannotLeaveAlone = "special_group_cannot_leave_alone"
	RuleCashOverLimit                = "cash_over_limit"
	RuleCashNeedsReceipt             = "cash_needs_receipt"
	RuleCaseExited                   = "case_exited"
	RuleCaseClosed                   = "case_closed"
	RuleCaseNotExited                = "case_not_exited"
	RuleNotInTransit                 = "not_in_transit"
	RuleNoTransferPending            = "no_transfer_pending"
	RuleTransferPending              = "transfer_pending"
	RuleTransferNotAccepted          = "transfer_not_accepted"
	RuleTransferAlreadyAccepted      = "transfer_already_accepted"
	RuleEscortAlreadyDeparted        = "escort_already_departed"
	// RuleTransferInFlight: while a transfer is requested, accepted or
	// under way, the person leaves no other way than by absconding or death
	// (which end the transfer); the receiving station declines it first.
	RuleTransferInFlight           = "transfer_in_flight"
	RuleUnknownStation             = "unknown_station"
	RuleSameStation                = "same_station"
	RuleStationExists              = "station_exists"
	RuleOccurredInFuture           = "occurred_in_future"
	RuleOccurredBeforeCaseBegan    = "occurred_before_case_began"
	RuleOccurredBeforePreviousStep = "occurred_before_previous_step"
	// RuleOccurredAfterNextStep: a correction of when a step happened
	// cannot move it after a later step that the deciders order after it:
	// the intake after any other step of the case, a step after the exit
	// that follows it (late paperwork aside), or a step after one that
	// follows it (a DNA request after its result, a transfer request after
	// its acceptance or decline, an exit after the closure...).
	RuleOccurredAfterNextStep     = "occurred_after_next_step"
	RuleEligibilityAlreadyDecided = "eligibility_already_decided"
	RuleEligibilityPending        = "eligibility_pending"
	RuleAssistFirst               = "assist_first_required"
	RuleSecurityCheckPending      = "security_check_pending"
	RuleSecurityCheckAlreadyDone  = "security_check_already_done"
	RuleBelongingsNotDeposited    = "belongings_not_deposited"
	// RuleBelongingsStillDeposited: a person leaves in person (voluntary
	// leave, pickup, escorted return, termination) only once their
	// deposited belongings are returned.
	RuleBelongingsStillDeposited = "belongings_still_deposited"
	RuleNotInHospital            = "not_in_hospital"
	RuleNoMedicalReferral        = "no_medical_referral"
	RuleNotDischarged            = "not_discharged"
	RuleAwayFromStation          = "away_from_station"
	RuleExtensionNotLater        = "extension_not_later"
	// RuleExtensionTooLong: an extension's new limit is at most
	// MaxExtension (90 days) after the extension.
	RuleExtensionTooLong           = "extension_too_long"
	RuleNoStayLimit                = "no_stay_limit"
	RuleLongStayTooEarly           = "long_stay_too_early"
	RuleSettlementTooEarly         = "settlement_too_early"
	RuleSettlementNotApplied       = "settlement_not_applied"
	RuleAlreadyIdentified          = "already_identified"
	RuleDNANotRequested            = "dna_not_requested"
	RuleGuardianshipOnlyForMinors  = "guardianship_only_for_minors"
	RuleGuardianshipAlreadyTaken   = "guardianship_already_taken"
	RulePoliceReportRequired       = "police_report_required"
	RuleGuardianConsentCircular    = "guardian_consent_circular"
	RuleCorrectionUnknownEvent     = "correction_unknown_event"
	RuleCorrectionFieldNotInEvent  = "correction_field_not_in_event"
	RuleCorrectionOldValueMismatch = "correction_old_value_mismatch"
	RuleMotherCaseInvalid          = "mother_case_invalid"
	RuleIdempotencyKeyReused       = "idempotency_key_reused"
	RuleTokenExists                = "token_exists"
	RuleTokenRevoked               = "token_revoked"
	// RuleErasureOfOpenCase: a person's data is erased only once every
	// case of theirs has exited.
	RuleErasureOfOpenCase = "erasure_of_open_case"
	// RulePersonalDataErased: on an erased case, a step that would record
	// personal data again (a value the event store seals, such as notes or
	// a correction's reason) is refused; the case's data key is destroyed.
	RulePersonalDataErased = "personal_data_erased"
)

// Error is the one error type of the domain. Code says what kind of failure
// it is; Rule names the broken rule when Code is CodeRuleViolation (and the
// conflict rule for some conflicts); Field is the dotted JSON path of the
// offending input when Code is CodeInvalid. Message is safe to show to a
// client and never contains personal data. Err, when set, is an internal
// cause for the logs; it is never shown to clients.
type Error struct {
	Code    Code
	Rule    string
	Field   string
	Message string
	Err     error
}

// Error returns the code, the rule or field, and the message.
func (e *Error) Error() string {
	s := string(e.Code)
	if e.Rule != "" {
		s += " (" + e.Rule + ")"
	}
	if e.Field != "" {
		s += " [" + e.Field + "]"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the internal cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same Code and, when
// target names a rule, the same Rule. It makes the sentinels below work with
// errors.Is.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return t.Code == e.Code && (t.Rule == "" || t.Rule == e.Rule)
}

// Sentinels to test an error's code with errors.Is.
var (
	ErrInvalid            = &Error{Code: CodeInvalid}
	ErrUnauthorized       = &Error{Code: CodeUnauthorized}
	ErrForbidden          = &Error{Code: CodeForbidden}
	ErrNotFound           = &Error{Code: CodeNotFound}
	ErrConflict           = &Error{Code: CodeConflict}
	ErrRuleViolation      = &Error{Code: CodeRuleViolation}
	ErrPreconditionFailed = &Error{Code: CodePreconditionFailed}
	ErrInternal           = &Error{Code: CodeInternal}
)

// Invalid returns an invalid-input error naming the field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Violation returns a rule violation with the rule's code.
func Violation(rule, format string, args ...any) *Error {
	return &Error{Code: CodeRuleViolation, Rule: rule, Message: fmt.Sprintf(format, args...)}
}

// Forbidden returns a forbidden error.
func Forbidden(format string, args ...any) *Error {
	return &Error{Code: CodeForbidden, Message: fmt.Sprintf(format, args...)}
}

// NotFound returns a not-found error.
func NotFound(format string, args ...any) *Error {
	return &Error{Code: CodeNotFound, Message: fmt.Sprintf(format, args...)}
}

// Internal wraps an unexpected failure; its cause is for the logs only.
func Internal(err error, format string, args ...any) *Error {
	return &Error{Code: CodeInternal, Message: fmt.Sprintf(format, args...), Err: err}
}

// ErrorCode returns the Code of err's *Error, CodeInternal for any other
// non-nil error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// RuleOf returns the rule code of err's *Error, or "".
func RuleOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Rule
	}
	return ""
}

func itoa(i int) string { return fmt.Sprint(i) }
