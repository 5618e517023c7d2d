package projections

import (
	"context"
	"fmt"
	"time"

	"waystation/domain"
)

// runViews folds the log into the live views from the first event.
func (r *Runner) runViews(ctx context.Context) error {
	name := checkpointName(ViewsName, ViewsVersion)
	if prev, ok, err := r.cps.LoadCheckpoint(ctx, name); err != nil {
		return fmt.Errorf("projections: loading checkpoint %s: %w", name, err)
	} else if ok {
		r.log.Info("projections: folding the views again from the start", "previous_position", prev.String())
	}
	r.mu.RLock()
	from := r.live.pos
	r.mu.RUnlock()
	cp := &checkpointer{r: r, name: name, last: time.Now()}
	read := r.readCase(ctx, nil)
	err := r.follow(ctx, from, func(envs []domain.Envelope) error {
		r.mu.Lock()
		start := r.batchStart()
		m := r.live
		for _, env := range envs {
			if env.Position.Compare(m.pos) <= 0 {
				continue // already folded by a rebuild that was swapped in
			}
			if err := m.apply(env, read); err != nil {
				r.mu.Unlock()
				return err
			}
		}
		pos := m.pos
		r.mu.Unlock()
		r.batchDone(start, len(envs))
		r.setPosition(pos)
		return cp.advance(ctx, pos, len(envs))
	}, func() error {
		if !r.ready.Swap(true) {
			close(r.caught)
			r.log.Info("projections: views caught up", "position", r.Position().String())
		}
		return cp.save(ctx)
	})
	// The final checkpoint is saved even though ctx is done.
	if serr := cp.save(context.WithoutCancel(ctx)); err == nil {
		err = serr
	}
	return err
}
