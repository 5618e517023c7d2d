package projections

import (
	"context"
	"fmt"
	"time"

	"waystation/domain"
	"waystation/eventstore"
)

// Rebuild folds the whole log again into fresh views and swaps them in once
// they have caught up with the live ones; until then the old views keep
// answering reads. It works whether or not Run is running.
func (r *Runner) Rebuild(ctx context.Context) error {
	r.rebuMu.Lock()
	defer r.rebuMu.Unlock()
	start := time.Now()
	fresh := newModel()
	if err := r.foldInto(ctx, fresh, AsOf{}); err != nil {
		return err
	}
	// Catch up with the live views under the write lock, so that both
	// stand at the same position when the fresh one is swapped in.
	pos, err := r.swapIn(ctx, fresh)
	if err != nil {
		return err
	}
	r.log.Info(
		"projections: views rebuilt", "position", pos.String(), "events", fresh.applied, "took", time.Since(start).String(),
	)
	r.setPosition(pos)
	return nil
}

// swapIn catches fresh up with the live views under the write lock, so that
// both stand at the same position, and makes it the live views.
func (r *Runner) swapIn(ctx context.Context, fresh *model) (eventstore.Position, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	target := r.live.pos
	if fresh.pos.Before(target) {
		read := r.readCase(ctx, nil)
		err := readAll(ctx, r.store, fresh.pos, r.onUndecodable, nil,
			func(p eventstore.Position) bool { return target.Before(p) },
			func(envs []domain.Envelope) error {
				start := r.batchStart()
				for _, env := range envs {
					if err := fresh.apply(env, read); err != nil {
						return err
					}
				}
				r.batchDone(start, len(envs))
				return nil
			})
		if err != nil {
			return eventstore.Position{}, fmt.Errorf("projections: rebuilding: %w", err)
		}
	}
	r.live = fresh
	return fresh.pos, nil
}
