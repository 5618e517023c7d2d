package domain

import (
	"context"
)

// RegisterStation registers a station (admins only).
func (s *Service) RegisterStation(ctx context.Context, actor Actor, cmd *RegisterStation,
	opts Options) (Result, error) {
	if err := cmd.Validate(); err != nil {
		return Result{}, err
	}
	return s.stationCommand(ctx, actor, cmd.Code, cmd, opts)
}

// ChangeZones replaces the zones of the station with code (admins only).
func (s *Service) ChangeZones(ctx context.Context, actor Actor, code string, cmd *ChangeZones,
	opts Options) (Result, error) {
	if err := cmd.Validate(); err != nil {
		return Result{}, err
	}
	return s.stationCommand(ctx, actor, code, cmd, opts)
}

func (s *Service) stationCommand(ctx context.Context, actor Actor, code string, cmd Command,
	opts Options) (Result, error) {
	if err := Authorize(actor, cmd.Step(), nil, nil); err != nil {
		return Result{}, err
	}
	hash := requestHash(cmd.Step(), code, cmd)
	return s.retry(ctx, opts.IfMatch != nil, func() (Result, error) {
		// 1. Load and fold, spotting a replay.
		rp := newReplay(actor, opts.IdempotencyKey)
		st, err := s.loadStation(ctx, code, rp)
		if err != nil {
			return Result{}, err
		}
		// 2. Answer a request already written again; check the precondition.
		if ok, err := rp.check(hash); ok || err != nil {
			return Result{ID: code, Version: rp.last.Revision + 1, Position: rp.last.Position, Replayed: true}, err
		}
		if !opts.IfMatch.Allows(st.Version) {
			return Result{}, &Error{Code: CodePreconditionFailed, Message: "the station has changed since the given version"}
		}
		// 3. Decide.
		now := s.now()
		events, err := DecideStation(&st, cmd, now)
		if err != nil {
			return Result{}, err
		}
		// 4. Append.
		ids := s.eventIDs(actor, opts.IdempotencyKey, len(events))
		meta := s.meta(actor, cmd, OccurredAt(cmd, now), now, opts, hash)
		res, err := s.append(ctx, StationStream(code), expectedFor(st.Version), ids, events, meta)
		if err != nil {
			return Result{}, err
		}
		return Result{ID: code, Version: res.NextExpectedRevision + 1, Position: res.Position}, nil
	})
}

// IssueToken records a token (admins only).
func (s *Service) IssueToken(ctx context.Context, actor Actor, cmd *IssueToken, opts Options) (Result, error) {
	return s.tokenCommand(ctx, actor, cmd.ID, cmd, opts)
}

// RevokeToken revokes a token (admins only).
func (s *Service) RevokeToken(ctx context.Context, actor Actor, cmd *RevokeToken, opts Options) (Result, error) {
	return s.tokenCommand(ctx, actor, cmd.ID, cmd, opts)
}

// tokenCommand validates and authorizes a token command, then runs it on
// the access stream's tokens; the Result's ID is the token's.
func (s *Service) tokenCommand(ctx context.Context, actor Actor, id string, cmd Command, opts Options) (Result, error) {
	if err := cmd.Validate(); err != nil {
		return Result{}, err
	}
	if err := Authorize(actor, cmd.Step(), nil, nil); err != nil {
		return Result{}, err
	}
	return accessCommand(ctx, s, actor, cmd, opts, id, DecideAccess)
}
