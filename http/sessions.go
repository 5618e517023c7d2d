package http

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// sessions registers the long-lived sessions of each principal (the live
// streams of the log), keyed by the principal: the actor ID of the
// credential that opened them (a token's ID; an account's ID once accounts
// come). It holds a principal to at most limit sessions at once, and ends
// every session of a principal, at once, when the principal stops
// authenticating: the token index calls end for each revocation it folds
// from the access stream (on every replica, since each follows that
// stream), and an account's disabling is to call it the same way.
//
// Ending a session cancels its context, which aborts a write or an
// access-log wait under way, and then waits for a delivery already under
// way to finish: once end returns, no delivery of the principal's sessions
// is under way on this replica and none starts.
type sessions struct {
	limit int
	// opened, when set, is told of every session opened (+1) and closed
	// (-1).
	opened func(delta int)

	mu          sync.Mutex
	byPrincipal map[string]map[*session]struct{} // guarded by mu
}

// errTooManySessions is start's answer when the principal already holds
// its limit of sessions.
var errTooManySessions = errors.New("http: the principal holds its limit of sessions")

// errRevoked is the cause of a session ended because its principal was
// revoked or disabled.
var errRevoked = errors.New("http: the credential was revoked")

// errEnded is a delivery's answer on a session that has ended or whose
// credential no longer authenticates.
var errEnded = errors.New("http: the session has ended")

func newSessions(limit int, opened func(int)) *sessions {
	return &sessions{limit: limit, opened: opened, byPrincipal: map[string]map[*session]struct{}{}}
}

// session is one live session of a principal. Its context ends when the
// session ends (its principal revoked, its parent context done, or
// close).
type session struct {
	principal string
	ctx       context.Context
	cancel    context.CancelCauseFunc
	owner     *sessions

	mu    sync.Mutex // held for the whole of a delivery
	ended bool       // guarded by mu
}

// start opens a session of principal under parent, or answers
// errTooManySessions. The caller closes it.
func (ss *sessions) start(parent context.Context, principal string) (*session, error) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	open := ss.byPrincipal[principal]
	if len(open) >= ss.limit {
		return nil, fmt.Errorf("%w (%d)", errTooManySessions, ss.limit)
	}
	if open == nil {
		open = map[*session]struct{}{}
		ss.byPrincipal[principal] = open
	}
	ctx, cancel := context.WithCancelCause(parent)
	se := &session{principal: principal, ctx: ctx, cancel: cancel, owner: ss}
	open[se] = struct{}{}
	if ss.opened != nil {
		ss.opened(1)
	}
	return se, nil
}

// end ends every session of principal with cause and returns once none of
// their deliveries is under way.
func (ss *sessions) end(principal string, cause error) {
	ss.mu.Lock()
	open := make([]*session, 0, len(ss.byPrincipal[principal]))
	for se := range ss.byPrincipal[principal] {
		open = append(open, se)
	}
	ss.mu.Unlock()
	for _, se := range open {
		se.cancel(cause)
	}
	for _, se := range open {
		se.mu.Lock()
		se.ended = true
		se.mu.Unlock()
	}
}

// close ends the session and releases its place in the principal's limit.
func (se *session) close() {
	se.cancel(context.Canceled)
	se.mu.Lock()
	se.ended = true
	se.mu.Unlock()
	ss := se.owner
	ss.mu.Lock()
	defer ss.mu.Unlock()
	open := ss.byPrincipal[se.principal]
	if _, ok := open[se]; !ok {
		return
	}
	delete(open, se)
	if len(open) == 0 {
		delete(ss.byPrincipal, se.principal)
	}
	if ss.opened != nil {
		ss.opened(-1)
	}
}

// deliver runs f, holding the session for its whole run, unless the
// session has ended or valid (the check that the session's credential
// still authenticates, made before every delivery and not only at
// connect) reports false: then it answers errEnded and runs nothing.
func (se *session) deliver(valid func() bool, f func() error) error {
	se.mu.Lock()
	defer se.mu.Unlock()
	if se.ended || se.ctx.Err() != nil {
		return errEnded
	}
	if !valid() {
		se.cancel(errRevoked)
		se.ended = true
		return errEnded
	}
	return f()
}
