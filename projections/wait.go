package projections

import (
	"context"
	"fmt"
	"time"

	"waystation/eventstore"
)

// Position returns the position of the last event folded into the live
// views.
func (r *Runner) Position() eventstore.Position {
	r.posMu.Lock()
	defer r.posMu.Unlock()
	return r.pos
}

// Ready reports whether the live views have caught up with the log at
// least once since Run started.
func (r *Runner) Ready() bool { return r.ready.Load() }

// WaitReady blocks until the live views have caught up with the log once
// since Run started (Ready), at most d (no bound when d is 0 or less), or
// until ctx is done; it returns an error wrapping
// context.DeadlineExceeded when d passes first.
func (r *Runner) WaitReady(ctx context.Context, d time.Duration) error {
	if r.Ready() {
		return nil
	}
	var expired <-chan time.Time // nil, never ready, without a bound
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		expired = t.C
	}
	select {
	case <-r.caught:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("projections: waiting to catch up: %w", ctx.Err())
	case <-expired:
		return fmt.Errorf("projections: waiting to catch up: %w", context.DeadlineExceeded)
	}
}

// WaitFor blocks until the live views have folded the event at pos (so a
// request can read its own write), or ctx is done.
func (r *Runner) WaitFor(ctx context.Context, pos eventstore.Position) error {
	w := r.await(pos)
	if w == nil {
		return nil
	}
	return r.waitOn(ctx, w, pos, nil)
}

// WaitWithin is WaitFor bounded by d as well as by ctx: it returns nil once
// the live views have folded the event at pos, and an error wrapping
// context.DeadlineExceeded when d passes first. It arms one timer, and only
// when it has to wait, instead of a context of its own.
func (r *Runner) WaitWithin(ctx context.Context, pos eventstore.Position, d time.Duration) error {
	w := r.await(pos)
	if w == nil {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	return r.waitOn(ctx, w, pos, t.C)
}

// waitOn blocks until w, the waiter for pos, is reached, ctx is done or
// expired fires (a nil expired never does); in the last two cases it
// abandons w and returns an error wrapping ctx's error or
// context.DeadlineExceeded.
func (r *Runner) waitOn(ctx context.Context, w *waiter, pos eventstore.Position, expired <-chan time.Time) error {
	select {
	case <-w.reached:
		return nil
	case <-ctx.Done():
		r.abandon(w)
		return fmt.Errorf("projections: waiting for position %s: %w", pos, ctx.Err())
	case <-expired:
		r.abandon(w)
		return fmt.Errorf("projections: waiting for position %s: %w", pos, context.DeadlineExceeded)
	}
}
