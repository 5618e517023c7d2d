package domain

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// TypePersonalDataErased is the stored name of PersonalDataErased. Never
// rename or reuse it.
const TypePersonalDataErased = "case.personal_data_erased"

// Erasure triggers (PersonalDataErased.Trigger). Stored: never rename or
// reuse them.
const (
	// ErasureOnRequest is an erasure an admin asked for (a data subject's
	// request, a court order...).
	ErasureOnRequest = "request"
	// ErasureRetention is an erasure by the retention job, at the end of
	// the retention period after closure.
	ErasureRetention = "retention"
)

// Erasure reasons (Erasure.Reason, PersonalDataErased.Reason): the ground
// for erasing, after PIPL art. 47. A code, never free text: the erasure
// event cannot be erased itself, so it must not be able to hold a name.
// Stored: never rename or reuse them.
const (
	// ErasureSubjectRequest: the person, or their guardian, asked for it.
	ErasureSubjectRequest = "subject_request"
	// ErasurePurposeFulfilled: assistance is over and the data is no
	// longer needed for it.
	ErasurePurposeFulfilled = "purpose_fulfilled"
	// ErasureRetentionEnded: the retention period after closure ended.
	ErasureRetentionEnded = "retention_ended"
	// ErasureUnlawfulProcessing: the data should not have been recorded
	// (the wrong person, no legal basis).
	ErasureUnlawfulProcessing = "unlawful_processing"
	// ErasureLegalOrder: a court or a competent authority ordered it.
	ErasureLegalOrder = "legal_order"
)

// ErasureReasons lists the erasure reasons, in a fixed order.
var ErasureReasons = []string{
	ErasureSubjectRequest, ErasurePurposeFulfilled, ErasureRetentionEnded, ErasureUnlawfulProcessing, ErasureLegalOrder,
}

// RetentionActor is the actor ID of erasures made by the retention job.
const RetentionActor = "system:retention"

// PersonalDataErased records that the data key of a case was destroyed, so
// that every personal value sealed in its events reads back as erased. It
// is written before the key is destroyed and holds no personal data: the
// reason (one of ErasureReasons; erasures recorded before the codes hold
// free text), what triggered it, the person's age at intake in whole
// years, kept so that the statistics still count the person in the same
// age band, and the death checklist items (their JSON names) that were done
// with a sealed value, so that a completed checklist stays complete once
// its values are erased. Who and when are in the metadata.
type PersonalDataErased struct {
	Reason             string   `json:"reason"`
	Trigger            string   `json:"trigger"`
	AgeAtIntake        *int     `json:"age_at_intake,omitempty"`
	DeathChecklistDone []string `json:"death_checklist_done,omitempty"`
}

// EventType returns TypePersonalDataErased.
func (PersonalDataErased) EventType() string { return TypePersonalDataErased }

func init() {
	if err := Register[PersonalDataErased](Events, 1); err != nil {
		panic(err)
	}
}

// PersonalDataErased reports whether the case's personal data was erased.
func (c Case) PersonalDataErased() bool {
	return c.hasEventOfType(TypePersonalDataErased)
}

// withPersonalDataErased returns c with every personal value cleared, as
// the sealed store shows it once the key is gone, so that a fold that saw
// the values before the erasure and one that folds the erased events agree:
// the person keeps only sex, ID type, whether they could state their
// identity, and the age at intake as an estimate made on the intake's
// date; the inspection's flags read as not raised, the DNA result as not
// matched, the hospital as unknown; the death keeps its time, its clear
// notifications and, as done, the checklist items the event names.
func (c Case) withPersonalDataErased(e PersonalDataErased) Case {
	p := Person{Sex: c.Person.Sex, IDType: c.Person.IDType, CanStateIdentity: c.Person.CanStateIdentity}
	if e.AgeAtIntake != nil {
		age := *e.AgeAtIntake
		p.EstimatedAge = &age
		p.AgeEstimatedOn = CivilDate(c.OpenedAt)
	} else if c.Person.EstimatedAge != nil {
		p.EstimatedAge, p.AgeEstimatedOn = c.Person.EstimatedAge, c.Person.AgeEstimatedOn
	}
	c.Person = p
	c.Referral = Referral{Source: c.Referral.Source}
	c.Inspection = Inspection{}
	c.Identity.DNAMatched = false
	c.Medical.Hospital = ""
	if c.Transfer != nil {
		t := *c.Transfer
		t.Reason = ""
		c.Transfer = &t
	}
	if c.Guardianship != nil {
		g := *c.Guardianship
		g.Guardian = ""
		c.Guardianship = &g
	}
	if len(c.PoliceReports) > 0 {
		r := slices.Clone(c.PoliceReports)
		for i := range r {
			r[i].Reason, r[i].ReportNo = "", ""
		}
		c.PoliceReports = r
	}
	if c.Death != nil {
		d := *c.Death
		d.Place, d.CertifiedBy, d.PublicNotice, d.BodyDisposition = "", "", "", ""
		d.ErasedItemsDone = slices.Clone(e.DeathChecklistDone)
		c.Death = &d
	}
	if len(c.Corrections) > 0 {
		r := slices.Clone(c.Corrections)
		for i := range r {
			typ, _ := c.EventType(r[i].EventID)
			if !correctionInClear(typ, r[i].Field) {
				r[i].Old, r[i].New = json.RawMessage("null"), json.RawMessage("null")
			}
			r[i].Reason = ""
		}
		c.Corrections = r
	}
	return c
}

// Erasure is an erasure request: why (one of ErasureReasons), and what
// triggered it (ErasureOnRequest or ErasureRetention).
type Erasure struct {
	Reason  string `json:"reason"`
	Trigger string `json:"-"`
}

// Validate checks the request; errors name the field and never repeat its
// value. The reason is one of ErasureReasons (free text is refused: the
// erasure event is kept in clear for good); the retention job's is
// ErasureRetentionEnded.
func (e Erasure) Validate() error {
	if e.Reason == "" {
		return Invalid("reason", "a reason is required, one of %s", strings.Join(ErasureReasons, ", "))
	}
	if !slices.Contains(ErasureReasons, e.Reason) {
		return Invalid("reason", "a reason code is required, one of %s (no free text: the erasure record is never erased)",
			strings.Join(ErasureReasons, ", "))
	}
	switch e.Trigger {
	case ErasureOnRequest:
	case ErasureRetention:
		if e.Reason != ErasureRetentionEnded {
			return Invalid("reason", "the retention job erases with reason %s", ErasureRetentionEnded)
		}
	default:
		return Invalid("trigger", "unknown erasure trigger")
	}
	return nil
}

// stillAssisted reports whether case c is open: it has not exited and is
// not closed. Its personal data is not erased then (rule
// erasure_of_open_case).
func stillAssisted(c Case) bool {
	return c.ExitedAt.IsZero() && c.Status != StatusClosed
}

// CheckPersonErasure says whether actor may erase, for req, the personal
// data of the person whose cases are caseIDs: the actor is authorized for
// StepErasure (admins only; a forbidden Error), the request is valid (an
// invalid Error), and every case exists (not_found) and has exited or
// closed (rule erasure_of_open_case), checked in the order of caseIDs.
func (s *Service) CheckPersonErasure(ctx context.Context, actor Actor, caseIDs []uuid.UUID, req Erasure) error {
	if err := Authorize(actor, StepErasure, nil, nil); err != nil {
		return err
	}
	if err := req.Validate(); err != nil {
		return err
	}
	for _, id := range caseIDs {
		c, err := s.Case(ctx, id)
		if err != nil {
			return err
		}
		if stillAssisted(c) {
			return Violation(RuleErasureOfOpenCase, "one of the person's cases is still open; erase after it has exited")
		}
	}
	return nil
}

// ErasePersonalData erases the personal data of case id: it appends
// PersonalDataErased to the case's stream (the event log is not
// rewritten), then calls destroy with the case's data subject (its stream
// name) so that the key store destroys the case's data key. The actor is
// authorized for StepErasure (admins only; the retention job, RetentionActor,
// acts as an admin); the case must have exited (rule erasure_of_open_case).
// Erasing an erased case writes nothing and calls destroy again, so an
// interrupted erasure is completed by repeating it. Result.Replayed is true
// when nothing was written.
func (s *Service) ErasePersonalData(ctx context.Context, actor Actor, id uuid.UUID, req Erasure,
	destroy func(ctx context.Context, subject string) error) (Result, error) {
	if err := Authorize(actor, StepErasure, nil, nil); err != nil {
		return Result{}, err
	}
	if err := req.Validate(); err != nil {
		return Result{}, err
	}
	stream := CaseStream(id)
	res, err := s.retry(ctx, false, func() (Result, error) {
		c, found, err := s.loadCase(ctx, id, nil)
		if err != nil {
			return Result{}, err
		}
		if !found {
			return Result{}, NotFound("no such case")
		}
		if c.PersonalDataErased() {
			return Result{ID: id.String(), Version: c.Version, Status: c.Status, Replayed: true}, nil
		}
		if stillAssisted(c) {
			return Result{}, Violation(RuleErasureOfOpenCase,
				"the person is still being assisted; erase after the case has exited")
		}
		ev := PersonalDataErased{Reason: req.Reason, Trigger: req.Trigger}
		if c.Death != nil {
			ev.DeathChecklistDone = c.Death.sealedItemsDone()
		}
		if age, ok := c.AgeOn(c.OpenedAt); ok {
			ev.AgeAtIntake = &age
		}
		now := s.now().UTC()
		evID, err := uuid.NewV7()
		if err != nil {
			return Result{}, Internal(err, "no event ID")
		}
		data, err := Encode(evID, ev, Metadata{
			OccurredAt: now, RecordedAt: now, Actor: actor.ID, Role: actor.Role, Region: actor.Region,
			LegalBasis: BasisStatutoryDuty,
		})
		if err != nil {
			return Result{}, Internal(err, "the erasure cannot be encoded")
		}
		ar, err := s.store.Append(ctx, stream, expectedFor(c.Version), data)
		if err != nil {
			return Result{}, err
		}
		return Result{ID: id.String(), Version: ar.NextExpectedRevision + 1, Status: c.Status, Position: ar.Position}, nil
	})
	if err != nil {
		return Result{}, err
	}
	if err := destroy(ctx, stream); err != nil {
		return res, Internal(err, "the case's data key could not be destroyed")
	}
	return res, nil
}

// DueForErasure reports whether case c is due for erasure at now under a
// retention period after closure: it is closed, closed at least retention
// ago, and not erased yet. A retention of zero or less is off.
func DueForErasure(c Case, retention time.Duration, now time.Time) bool {
	return retention > 0 && c.Status == StatusClosed && !c.ClosedAt.IsZero() &&
		!c.ClosedAt.Add(retention).After(now) && !c.PersonalDataErased()
}
