package domain

import (
	"context"
	"time"
)

// accessState is a state folded from the access stream: its tokens
// (Access) or its accounts (Accounts).
type accessState[S any] interface {
	*S
	Evolve(Envelope)
}

// accessCommand runs cmd, validated and authorized by the caller, on the
// access stream: it folds the stream into a fresh state, answers a
// request already written again, checks the station a staff credential is
// bound to, decides with decide and appends at the version folded,
// retrying on a conflict. id is the ID the Result names (a token's), or
// "" for the account the events name (a replay then names none); it is
// part of the request's hash.
func accessCommand[S any, P accessState[S]](ctx context.Context, s *Service, actor Actor, cmd Command, opts Options,
	id string, decide func(state P, cmd Command, stationKnown bool, now time.Time) ([]Event, error),
) (Result, error) {
	hash := requestHash(cmd.Step(), id, cmd)
	return s.retry(ctx, false, func() (Result, error) {
		// 1. Load and fold the access stream, spotting a replay.
		rp := newReplay(actor, opts.IdempotencyKey)
		state := P(new(S))
		var version uint64
		fold := func(env Envelope) { state.Evolve(env); rp.see(env); version = env.Revision + 1 }
		if _, err := s.readStream(ctx, AccessStream, fold); err != nil {
			return Result{}, err
		}
		// 2. Answer a request already written again.
		if ok, err := rp.check(hash); ok || err != nil {
			return Result{ID: id, Version: rp.last.Revision + 1, Position: rp.last.Position, Replayed: true}, err
		}
		// 3. Check the station a staff token or account is bound to.
		known := false
		if station := staffStation(cmd); station != "" {
			var err error
			if _, known, err = s.region(ctx, station); err != nil {
				return Result{}, err
			}
		}
		// 4. Decide.
		now := s.now()
		events, err := decide(state, cmd, known, now)
		if err != nil {
			return Result{}, err
		}
		// 5. Append at the version folded.
		ids := s.eventIDs(actor, opts.IdempotencyKey, len(events))
		meta := s.meta(actor, cmd, OccurredAt(cmd, now), now, opts, hash)
		res, err := s.append(ctx, AccessStream, expectedFor(version), ids, events, meta)
		if err != nil {
			return Result{}, err
		}
		rid := id
		if rid == "" {
			rid = accountOf(events[0])
		}
		return Result{ID: rid, Version: res.NextExpectedRevision + 1, Position: res.Position}, nil
	})
}

// staffStation returns the station a command binds a staff token or
// account to, or "" for any other command.
func staffStation(cmd Command) string {
	switch v := cmd.(type) {
	case *IssueToken:
		if v.Role == RoleStaff {
			return v.Station
		}
	case *CreateAccount:
		if v.Role == RoleStaff {
			return v.Station
		}
	}
	return ""
}
