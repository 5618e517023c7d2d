package projections

import (
	"context"
	"errors"
	"fmt"

	"waystation/domain"
	"waystation/eventstore"
)

// onUndecodable logs and counts an event that does not decode.
func (r *Runner) onUndecodable(rec eventstore.RecordedEvent, err error) {
	r.undec.Add(1)
	r.log.Warn(
		"projections: skipping an undecodable event", "type", rec.Type, "position", rec.Position.String(), "err", err,
	)
}

// follow subscribes after from and hands decoded events to apply in order:
// in batches while catching up, one at a time once live. caughtUp is called
// at the subscription's caught-up marker, after the history is applied.
func (r *Runner) follow(
	ctx context.Context, from eventstore.Position, apply func([]domain.Envelope) error, caughtUp func() error,
) error {
	d := newDecoder(r.onUndecodable, nil)
	applied := make(chan error, 1)
	marker := &batch{done: make(chan struct{}), marker: true}
	close(marker.done)
	go func() {
		var err error
		for b := range d.ordered {
			<-b.done
			if err != nil {
				continue
			}
			if b.marker {
				err = caughtUp()
				continue
			}
			err = apply(b.envs)
			d.release(b)
		}
		applied <- err
	}()
	var readErr error
	live := false
	recs := d.buffer()
	for msg, err := range r.store.SubscribeToAll(ctx, from) {
		if err != nil {
			readErr = err
			break
		}
		if msg.CaughtUp {
			if len(recs) > 0 {
				d.submit(recs)
				recs = d.buffer()
			}
			d.ordered <- marker
			live = true
			continue
		}
		recs = append(recs, *msg.Event)
		if live || len(recs) == batchSize {
			d.submit(recs)
			recs = d.buffer()
		}
	}
	if len(recs) > 0 {
		d.submit(recs)
	}
	d.close()
	err := <-applied
	d.wait()
	if readErr != nil && !errors.Is(readErr, context.Canceled) && ctx.Err() == nil {
		return fmt.Errorf("projections: following the log: %w", readErr)
	}
	return err
}
