package domain

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"waystation/eventstore"
)

// Intake opens a case at cmd.Station for actor. Each try runs in
// numbered steps: (1) a keyed request already written is answered again;
// (2) the actor is authorized and the other streams the intake names (the
// station, the mother's case) are checked; (3) the intake is decided on a
// case that does not exist yet; (4) its events are appended to a new
// stream; (5) they are folded into the cached state.
func (s *Service) Intake(ctx context.Context, actor Actor, cmd *Intake, opts Options) (Result, error) {
	if err := cmd.Validate(); err != nil {
		return Result{}, err
	}
	caseID := KeyedCaseID(actor.ID, opts.IdempotencyKey)
	if opts.IdempotencyKey == "" {
		caseID = s.eventIDs(actor, "", 1)[0]
	}
	hash := requestHash(StepIntake, "", cmd)
	return s.retry(ctx, false, func() (Result, error) {
		// 1. Replay.
		if opts.IdempotencyKey != "" {
			if r, done, err := s.replayIntake(ctx, actor, opts.IdempotencyKey, hash); done {
				if err == nil {
					s.numberIntake(ctx, actor, &r) // complete an intake whose number was not written
				}
				return r, err
			}
		}
		// 2. Authorize and check the other streams.
		if err := s.authorize(ctx, actor, StepIntake, &Case{Station: cmd.Station}); err != nil {
			return Result{}, err
		}
		if err := s.checkIntakeTargets(ctx, cmd); err != nil {
			return Result{}, err
		}
		// 3. Decide.
		now := s.now()
		events, err := Decide(Case{ID: caseID}, cmd, now)
		if err != nil {
			return Result{}, err
		}
		// 4. Append.
		ids := s.eventIDs(actor, opts.IdempotencyKey, len(events))
		meta := s.meta(actor, cmd, OccurredAt(cmd, now), now, opts, hash)
		stream := CaseStream(caseID)
		res, err := s.append(ctx, stream, eventstore.NoStream, ids, events, meta)
		if err != nil {
			return Result{}, err
		}
		// 5. Fold the new events into the cache.
		c := Case{}
		for i, e := range events {
			c = Evolve(c, Envelope{Stream: stream, Revision: c.Version, ID: ids[i], Meta: meta, Event: e})
		}
		s.cases.put(caseID, c, s.CachedCases)
		r := Result{ID: caseID.String(), Version: res.NextExpectedRevision + 1, Status: StatusReceived,
			Position: res.Position}
		// 6. Number the case on its station's register.
		s.setNumber(ctx, &r, actor, caseID, cmd.Station, c.OpenedAt)
		return r, nil
	})
}

// setNumber numbers case id, opened at station at opened, and records the
// outcome in r: its number and the position of the number's event, or
// NumberPending when numbering failed.
func (s *Service) setNumber(ctx context.Context, r *Result, actor Actor, id uuid.UUID, station string, opened time.Time) {
	number, pos, _, err := s.numberCase(ctx, actor, id, station, opened)
	if err != nil {
		r.NumberPending = true
		return
	}
	r.CaseNumber, r.Position = number, pos
}

// numberIntake numbers the case of the replayed intake r when it has no
// number yet (idempotent: a number given before is only read).
func (s *Service) numberIntake(ctx context.Context, actor Actor, r *Result) {
	id, err := uuid.Parse(r.ID)
	if err != nil {
		return
	}
	c, found, err := s.loadCase(ctx, id, nil)
	if err != nil || !found {
		r.NumberPending = true
		return
	}
	s.setNumber(ctx, r, actor, id, IntakeStation(c), c.OpenedAt)
}

// checkIntakeTargets refuses an intake at a station that is not registered
// (rule unknown_station) or linked to a mother's case that is not an open
// case of a woman at the same station (rule mother_case_invalid).
func (s *Service) checkIntakeTargets(ctx context.Context, cmd *Intake) error {
	if _, ok, err := s.region(ctx, cmd.Station); err != nil || !ok {
		return firstErr(err, Violation(RuleUnknownStation, "no station with that code"))
	}
	if cmd.MotherCaseID == (uuid.UUID{}) {
		return nil
	}
	m, found, err := s.loadCase(ctx, cmd.MotherCaseID, nil)
	if err != nil {
		return err
	}
	if !found || m.Person.Sex != Female || m.Station != cmd.Station || !m.Active() {
		return Violation(RuleMotherCaseInvalid, "the mother's case must be an open case of a woman at the same station")
	}
	return nil
}

// Execute takes a step on an existing case: any case command, including
// the bed steps, which are decided and written on the station stream. A
// step that ends the case's claim to a bed (exit, hospital admission,
// handover) appends the case event and then frees the bed on the station
// stream with an event ID derived from the case event's ID. An unkeyed
// step first tries the cached state of the case; every other try (1)
// loads and folds the case's stream, (2) answers a keyed request already
// written again, or (3) decides and appends (step).
func (s *Service) Execute(ctx context.Context, actor Actor, caseID uuid.UUID, cmd Command,
	opts Options) (Result, error) {
	switch v := cmd.(type) {
	case *Intake:
		return s.Intake(ctx, actor, v, opts)
	case *AssignBed, *ReleaseBed:
		return s.executeBed(ctx, actor, caseID, cmd, opts)
	case *RegisterStation, *ChangeZones, *IssueToken, *RevokeToken:
		return Result{}, Invalid("step", "not a case step")
	}
	if err := cmd.Validate(); err != nil {
		return Result{}, err
	}
	hash := requestHash(cmd.Step(), caseID.String(), cmd)
	tries := 0
	return s.retry(ctx, opts.IfMatch != nil, func() (Result, error) {
		tries++
		if tries == 1 && opts.IdempotencyKey == "" {
			// The cached state is used as it is: the append expects its
			// version, so a state that another writer has moved on fails
			// with a conflict, and the next try reads the stream. A refusal
			// is only given once the stored state agrees.
			if c, ok := s.cases.get(caseID); ok {
				r, err := s.step(ctx, actor, caseID, c, cmd, opts, hash)
				var de *Error
				if !errors.As(err, &de) || de.Code == CodeInternal {
					return r, err
				}
			}
		}
		// 1. Load and fold the case's stream, spotting a replay.
		rp := newReplay(actor, opts.IdempotencyKey)
		c, found, err := s.loadCase(ctx, caseID, rp)
		if err != nil {
			return Result{}, err
		}
		if !found {
			return Result{}, NotFound("no such case")
		}
		// 2. Answer a keyed request already written again, completing
		// the bed release it may have left undone.
		if ok, err := rp.check(hash); ok || err != nil {
			if err != nil {
				return Result{}, err
			}
			r := Result{ID: caseID.String(), Version: rp.last.Revision + 1, Status: rp.cs.Status,
				Position: rp.last.Position, Replayed: true}
			if rel := c.ReleaseDue; rel != nil {
				s.settleInto(ctx, &r, actor, c, rel.Station)
			}
			return r, nil
		}
		// 3. Decide and append.
		return s.step(ctx, actor, caseID, c, cmd, opts, hash)
	})
}

// step decides cmd on case state c and appends the outcome with c's
// version as the expected revision, then frees the case's bed when the
// step requires it, in numbered steps: (1) authorize and check the
// precondition and the other streams the command names; (2) decide; (3)
// append; (4) fold the new events into the cached state; (5) free the bed.
func (s *Service) step(ctx context.Context, actor Actor, caseID uuid.UUID, c Case, cmd Command,
	opts Options, hash string) (Result, error) {
	// 1. Authorize and check.
	if err := s.authorize(ctx, actor, cmd.Step(), &c); err != nil {
		return Result{}, err
	}
	if !opts.IfMatch.Allows(c.Version) {
		return Result{}, &Error{Code: CodePreconditionFailed, Message: "the case has changed since the given version"}
	}
	if tr, ok := cmd.(*TransferRequest); ok {
		if _, known, err := s.region(ctx, tr.ToStation); err != nil || !known {
			return Result{}, firstErr(err, Violation(RuleUnknownStation, "no station with that code"))
		}
	}
	if v, ok := cmd.(*Correct); ok && v.Target == nil {
		target, err := s.correctedEvent(ctx, c, v.EventID)
		if err != nil {
			return Result{}, err
		}
		with := *v
		with.Target = target
		cmd = &with
	}
	// 2. Decide.
	now := s.now()
	events, err := Decide(c, cmd, now)
	if err != nil {
		return Result{}, err
	}
	// 3. Append.
	ids := s.eventIDs(actor, opts.IdempotencyKey, len(events))
	meta := s.meta(actor, cmd, OccurredAt(cmd, now), now, opts, hash)
	id := caseID.String()
	stream := CaseStreamPrefix + id // CaseStream(caseID), with id kept for the result
	res, err := s.append(ctx, stream, expectedFor(c.Version), ids, events, meta)
	if err != nil {
		return Result{}, err
	}
	// 4. Fold the new events into the cache.
	for i, e := range events {
		c = Evolve(c, Envelope{Stream: stream, Revision: c.Version, ID: ids[i], Meta: meta, Event: e})
	}
	s.cases.put(caseID, c, s.CachedCases)
	// 5. Free the bed the step ends the claim to.
	r := Result{ID: id, Version: c.Version, Status: c.Status, Position: res.Position}
	if rel := c.ReleaseDue; rel != nil && containsID(ids, rel.Cause) {
		s.settleInto(ctx, &r, actor, c, rel.Station)
	}
	return r, nil
}

func containsID(ids []uuid.UUID, id uuid.UUID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
