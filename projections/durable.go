package projections

import (
	"context"
	"fmt"
	"time"

	"waystation/domain"
)

// runDurable folds the log into p after its checkpoint. caughtUp, when
// not nil, is called each time p has caught up with the log, after its
// checkpoint was saved.
func (r *Runner) runDurable(ctx context.Context, p Projection, caughtUp func() error) error {
	name := checkpointName(p.Name(), p.Version())
	from, _, err := r.cps.LoadCheckpoint(ctx, name)
	if err != nil {
		return fmt.Errorf("projections: loading checkpoint %s: %w", name, err)
	}
	cp := &checkpointer{r: r, name: name, flush: p.Flush, last: time.Now(), pos: from, saved: from}
	err = r.follow(ctx, from, func(envs []domain.Envelope) error {
		for _, env := range envs {
			if env.Event != nil {
				if err := p.Apply(env); err != nil {
					return fmt.Errorf("projections: %s at %s: %w", p.Name(), env.Position, err)
				}
			}
			cp.pos = env.Position
		}
		return cp.advance(ctx, cp.pos, len(envs))
	}, func() error {
		if err := cp.save(ctx); err != nil || caughtUp == nil {
			return err
		}
		return caughtUp()
	})
	if serr := cp.save(context.WithoutCancel(ctx)); err == nil {
		err = serr
	}
	return err
}
