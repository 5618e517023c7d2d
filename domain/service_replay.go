package domain

import (
	"context"

	"github.com/google/uuid"
)

// maxKeyedEvents bounds the events one keyed request writes (and so the
// IDs a replay looks for).
const maxKeyedEvents = 8

// replay spots the events a keyed request already wrote: those whose ID
// is derived from the actor and the key, in the version 8 form or in the
// legacy version 7 form of requests stored before it.
type replay struct {
	ids   map[uuid.UUID]bool
	found bool
	hash  string
	last  Envelope
	cs    Case
}

// newReplay returns the replay of actor's request with key, nil without a
// key.
func newReplay(actor Actor, key string) *replay {
	if key == "" {
		return nil
	}
	r := &replay{ids: make(map[uuid.UUID]bool, 2*maxKeyedEvents)}
	for i := range maxKeyedEvents {
		r.ids[KeyedEventID(actor.ID, key, i)] = true
		r.ids[legacyKeyedEventID(actor.ID, key, i)] = true
	}
	return r
}

// see records env when it belongs to the request and reports whether it did.
func (r *replay) see(env Envelope) bool {
	if r == nil || !r.ids[env.ID] {
		return false
	}
	r.found = true
	r.hash = env.Meta.RequestHash
	r.last = env
	return true
}

// check reports whether the request's events were seen, with an
// idempotency_key_reused Error when they came from another request (a
// request hash other than hash).
func (r *replay) check(hash string) (bool, error) {
	if r == nil || !r.found {
		return false, nil
	}
	if r.hash != hash {
		return true, Violation(RuleIdempotencyKeyReused, "the idempotency key was used for another request")
	}
	return true, nil
}

// replayIntake answers actor's keyed intake (request hash hash) again when
// it was already written: it looks for the case the key derives, in the
// version 8 form and then in the legacy version 7 form. done is false when
// neither case exists; a case that exists without the request's events is
// a reuse of the key.
func (s *Service) replayIntake(ctx context.Context, actor Actor, key, hash string) (r Result, done bool, err error) {
	for _, id := range []uuid.UUID{KeyedCaseID(actor.ID, key), legacyKeyedCaseID(actor.ID, key)} {
		rp := newReplay(actor, key)
		_, found, err := s.loadCase(ctx, id, rp)
		if err != nil {
			return Result{}, true, err
		}
		if !found {
			continue
		}
		ok, err := rp.check(hash)
		if !ok {
			return Result{}, true, Violation(RuleIdempotencyKeyReused, "the idempotency key was used for another request")
		}
		return Result{ID: id.String(), Version: rp.last.Revision + 1, Status: rp.cs.Status,
			Position: rp.last.Position, Replayed: true}, true, err
	}
	return Result{}, false, nil
}
