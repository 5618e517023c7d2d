package domain

import (
	"context"

	"github.com/google/uuid"

	"waystation/eventstore"
)

// settleBed frees case c's bed at the station with code when ReleaseNeeded
// says so. The release's event ID is derived from the placement and the
// causing event, so repeating it (here, on a replayed request, or in
// Reconcile) writes nothing new.
func (s *Service) settleBed(ctx context.Context, actor Actor, c Case, code string) (eventstore.Position, error) {
	r, err := s.retry(ctx, false, func() (Result, error) {
		now := s.now()
		rel, need := ReleaseNeeded(c, code, s.HospitalBedHold, now)
		if !need {
			return Result{}, nil
		}
		st, err := s.loadStation(ctx, code, nil)
		if err != nil {
			return Result{}, err
		}
		events := DecideRelease(&st, c.ID, rel)
		if len(events) == 0 {
			return Result{}, nil
		}
		p, _ := st.BedOf(c.ID)
		id := DerivedEventID(p.AssignID, "bed-release:"+rel.Cause.String())
		at := rel.At
		if at.IsZero() || at.Before(p.Since) {
			at = now
		}
		meta := Metadata{OccurredAt: at.UTC(), RecordedAt: now.UTC(), Actor: actor.ID, Role: actor.Role,
			Station: actor.Station, Region: actor.Region, LegalBasis: BasisStatutoryDuty}
		if rel.Cause != (uuid.UUID{}) {
			meta.CausationID = rel.Cause.String()
		}
		res, err := s.append(ctx, StationStream(code), expectedFor(st.Version), []uuid.UUID{id}, events, meta)
		return Result{Position: res.Position}, err
	})
	return r.Position, err
}

// settleInto frees the bed as settleBed does and records the outcome in r:
// a later log position when a release was written, or BedReleasePending.
func (s *Service) settleInto(ctx context.Context, r *Result, actor Actor, c Case, code string) {
	pos, err := s.settleBed(ctx, actor, c, code)
	if err != nil {
		r.BedReleasePending = true
		return
	}
	if r.Position.Before(pos) {
		r.Position = pos
	}
}

// executeBed runs AssignBed and ReleaseBed on the case's station stream.
func (s *Service) executeBed(ctx context.Context, actor Actor, caseID uuid.UUID, cmd Command,
	opts Options) (Result, error) {
	if err := cmd.Validate(); err != nil {
		return Result{}, err
	}
	hash := requestHash(cmd.Step(), caseID.String(), cmd)
	reconciled := false
	return s.retry(ctx, false, func() (Result, error) {
		// 1. Load the case; authorize and check the precondition.
		c, found, err := s.loadCase(ctx, caseID, nil)
		if err != nil {
			return Result{}, err
		}
		if !found {
			return Result{}, NotFound("no such case")
		}
		if err := s.authorize(ctx, actor, cmd.Step(), &c); err != nil {
			return Result{}, err
		}
		if !opts.IfMatch.Allows(c.Version) {
			return Result{}, &Error{Code: CodePreconditionFailed, Message: "the case has changed since the given version"}
		}
		// 2. Load and fold the station, answering a replay.
		rp := newReplay(actor, opts.IdempotencyKey)
		st, err := s.loadStation(ctx, c.Station, rp)
		if err != nil {
			return Result{}, err
		}
		if ok, err := rp.check(hash); ok || err != nil {
			return Result{ID: caseID.String(), Version: c.Version, Status: c.Status, Position: rp.last.Position,
				Replayed: true}, err
		}
		// 3. Decide; a full zone is reconciled once and decided again.
		now := s.now()
		events, err := DecideBed(&st, c, cmd, now)
		if rule := RuleOf(err); (rule == RuleZoneFull || rule == RuleBedTaken) && !reconciled {
			reconciled = true
			if n, rerr := s.reconcile(ctx, actor, &st, cmd.(*AssignBed).Zone); rerr == nil && n > 0 {
				return Result{}, errRetry
			}
		}
		if err != nil {
			return Result{}, err
		}
		if len(events) == 0 {
			return Result{ID: caseID.String(), Version: c.Version, Status: c.Status}, nil
		}
		// 4. Append, then free a bed the case may no longer hold.
		ids := s.eventIDs(actor, opts.IdempotencyKey, len(events))
		meta := s.meta(actor, cmd, OccurredAt(cmd, now), now, opts, hash)
		res, err := s.append(ctx, StationStream(st.Code), expectedFor(st.Version), ids, events, meta)
		if err != nil {
			return Result{}, err
		}
		r := Result{ID: caseID.String(), Version: c.Version, Status: c.Status, Position: res.Position}
		if _, assign := cmd.(*AssignBed); assign {
			// The case may have exited while the bed was being assigned:
			// look again, and free the bed if it may no longer be held.
			again, _, err := s.loadCase(ctx, caseID, nil)
			if err == nil {
				if _, need := ReleaseNeeded(again, st.Code, s.HospitalBedHold, s.now()); need {
					s.settleInto(ctx, &r, actor, again, st.Code)
				}
				r.Version, r.Status = again.Version, again.Status
			}
		}
		return r, nil
	})
}

// Reconcile completes half-done bed pairs at the station with code: every
// bed held by a case that may no longer hold it (exited, moved away by a
// handover, in hospital past the hold) is freed, with the same event IDs
// the interrupted step would have used. Then it numbers the station's
// cases that have no case number (NumberCases). Ops calls it at start; the
// Service also calls its bed half for a zone it finds full. It returns how
// many beds it freed.
func (s *Service) Reconcile(ctx context.Context, code string) (int, error) {
	st, err := s.loadStation(ctx, code, nil)
	if err != nil {
		return 0, err
	}
	if !st.Registered() {
		return 0, NotFound("no such station")
	}
	freed, err := s.reconcile(ctx, Actor{ID: ServiceActorID, Role: RoleAdmin}, &st, "")
	if err != nil {
		return freed, err
	}
	_, err = s.NumberCases(ctx, code)
	return freed, err
}

func (s *Service) reconcile(ctx context.Context, actor Actor, st *Station, zone Zone) (int, error) {
	freed := 0
	for _, p := range st.Placements() {
		if zone != "" && p.Zone != zone {
			continue
		}
		c, found, err := s.loadCase(ctx, p.CaseID, nil)
		if err != nil {
			return freed, err
		}
		if !found {
			continue
		}
		if _, need := ReleaseNeeded(c, st.Code, s.HospitalBedHold, s.now()); !need {
			continue
		}
		if _, err := s.settleBed(ctx, actor, c, st.Code); err != nil {
			return freed, err
		}
		freed++
	}
	return freed, nil
}
