package projections

import (
	"context"
	"fmt"
	"time"

	"waystation/eventstore"
)

// checkpointer saves a checkpoint every so many events or so often.
type checkpointer struct {
	r     *Runner
	name  string
	flush func() error
	n     int
	last  time.Time
	pos   eventstore.Position
	saved eventstore.Position
}

func (c *checkpointer) advance(ctx context.Context, pos eventstore.Position, n int) error {
	c.pos = pos
	c.n += n
	if c.n >= c.r.opts.CheckpointEvery || time.Since(c.last) >= c.r.opts.CheckpointInterval {
		return c.save(ctx)
	}
	return nil
}

func (c *checkpointer) save(ctx context.Context) error {
	c.n = 0
	c.last = time.Now()
	if c.pos == c.saved {
		return nil
	}
	if c.flush != nil {
		if err := c.flush(); err != nil {
			return fmt.Errorf("projections: flushing %s: %w", c.name, err)
		}
	}
	// A checkpoint is saved even while the Runner is being stopped.
	if err := c.r.cps.SaveCheckpoint(context.WithoutCancel(ctx), c.name, c.pos); err != nil {
		return fmt.Errorf("projections: saving checkpoint %s: %w", c.name, err)
	}
	c.saved = c.pos
	return nil
}
