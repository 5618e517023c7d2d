package projections

import (
	"context"
	"fmt"

	"waystation/eventstore"
)

// LagLimit is the most events Lag counts: further behind, it reports
// LagLimit with BehindAtLeast set.
const LagLimit = 100_000

// Lag is how far the live views are behind the log.
type Lag struct {
	// Position is the last event folded into the live views.
	Position eventstore.Position `json:"position"`
	// Head is the last event of the log.
	Head eventstore.Position `json:"head"`
	// Behind is the number of events of the log after Position up to
	// Head, counted by reading them (on every backend; positions are
	// never subtracted), up to LagLimit.
	Behind uint64 `json:"behind"`
	// BehindAtLeast reports that counting stopped at LagLimit: the views
	// are Behind events behind or more.
	BehindAtLeast bool `json:"behind_at_least,omitempty"`
	// Applied counts the events folded since the Runner started.
	Applied uint64 `json:"applied"`
	// Undecodable counts events skipped because they could not be decoded.
	Undecodable uint64 `json:"undecodable"`
	// Ready reports whether the views have caught up with the log once.
	Ready bool `json:"ready"`
}

// Lag reports how far the live views are behind the log. It reads the
// log's head and, when the views are behind it, the events in between,
// at most LagLimit of them: nothing more when the views are caught up, and
// nothing again while neither the views nor the head have moved since the
// previous call. Concurrent calls count one at a time.
func (r *Runner) Lag(ctx context.Context) (Lag, error) {
	pos := r.Position()
	head, err := r.store.Head(ctx)
	if err != nil {
		return Lag{}, fmt.Errorf("projections: reading the log head: %w", err)
	}
	r.mu.RLock()
	applied := r.live.applied
	r.mu.RUnlock()
	l := Lag{Position: pos, Head: head, Applied: applied, Undecodable: r.undec.Load(), Ready: r.Ready()}
	if l.Behind, l.BehindAtLeast, err = r.countBehind(ctx, pos, head); err != nil {
		return Lag{}, err
	}
	return l, nil
}

// lagCount is the result of one count of the events between a position
// and the head.
type lagCount struct {
	pos, head eventstore.Position
	n         uint64
	atLeast   bool
}

// countBehind counts the events after pos up to head, at most LagLimit,
// and reports whether it stopped at the limit.
func (r *Runner) countBehind(ctx context.Context, pos, head eventstore.Position) (uint64, bool, error) {
	if !pos.Before(head) {
		return 0, false, nil
	}
	r.lagMu.Lock()
	defer r.lagMu.Unlock()
	if c := r.lagLast; c.pos == pos && c.head == head {
		return c.n, c.atLeast, nil
	}
	var n uint64
	last := pos
	// No Limit: a store may leave events out of the global log after
	// reading them (the sealed store's key streams), so the count stops
	// itself.
	for rec, err := range r.store.ReadAll(ctx, eventstore.ReadAllOptions{From: pos}) {
		if err != nil {
			return 0, false, fmt.Errorf("projections: counting the events the views are behind: %w", err)
		}
		if head.Before(rec.Position) {
			break
		}
		n++
		last = rec.Position
		if n == LagLimit {
			break
		}
	}
	c := lagCount{pos: pos, head: head, n: n, atLeast: n == LagLimit && last.Before(head)}
	r.lagLast = c
	return c.n, c.atLeast, nil
}
