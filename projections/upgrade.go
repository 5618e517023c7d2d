package projections

import (
	"context"
	"fmt"
	"sync"
)

// Upgrade bumps a durable projection's version without a gap in its
// reads. The projection's owner keeps both instances, each with state of
// its own, and routes its reads to Current until Swap is called.
//
// When Current has a saved checkpoint (it is in service), the Runner
// resumes Current after it, so that it keeps answering reads with fresh
// data, and folds Next from the first event (or from Next's own
// checkpoint, after a restart mid-way) beside it. Once Next has caught up
// with the log and its checkpoint is saved, the Runner stops folding
// Current (saving Current's checkpoint), calls Swap, deletes Current's
// checkpoint, and from then on follows the log with Next alone. When
// Current has no checkpoint (a first start, or the swap happened before a
// restart), there is nothing to keep in service: Swap is called at once
// and Next is run as a plain Projection.
//
// A crash between Swap and the deletion of Current's checkpoint repeats
// the upgrade on the next start, Swap included, so Swap must tolerate
// being called again for the same Next; it should not drop Current's
// state, which the owner may discard once Swap has returned and the
// Runner has gone on (Next's reads are then served).
type Upgrade struct {
	// Current is the version in service; Next is the new one. Both have
	// the same Name and different Versions.
	Current, Next Projection
	// Swap makes Next answer the reads that Current answered. An error
	// stops the Runner, and Current stays in service.
	Swap func() error
}

// runUpgrade runs an Upgrade: Current and Next side by side until Next has
// caught up, then Next alone.
func (r *Runner) runUpgrade(ctx context.Context, u Upgrade) error {
	old := checkpointName(u.Current.Name(), u.Current.Version())
	if u.Current.Name() != u.Next.Name() || u.Current.Version() == u.Next.Version() {
		return fmt.Errorf("projections: upgrading %s: the next version must be another version of the same projection", old)
	}
	_, inService, err := r.cps.LoadCheckpoint(ctx, old)
	if err != nil {
		return fmt.Errorf("projections: loading checkpoint %s: %w", old, err)
	}
	if !inService {
		if err := u.Swap(); err != nil {
			return fmt.Errorf("projections: swapping in %s: %w", checkpointName(u.Next.Name(), u.Next.Version()), err)
		}
		return r.runDurable(ctx, u.Next, nil)
	}
	// A failure of Current stops Next too; Current stops alone at the swap.
	upCtx, stopUpgrade := context.WithCancel(ctx)
	defer stopUpgrade()
	currentCtx, cancelCurrent := context.WithCancel(upCtx)
	currentDone := make(chan error, 1)
	go func() {
		err := r.runDurable(currentCtx, u.Current, nil)
		if err != nil {
			stopUpgrade()
		}
		currentDone <- err
	}()
	stopCurrent := sync.OnceValue(func() error {
		cancelCurrent()
		return <-currentDone
	})
	swapped := false
	err = r.runDurable(upCtx, u.Next, func() error {
		if swapped {
			return nil
		}
		// Next has caught up: Current stops at a checkpoint, and Next
		// takes over its reads.
		if err := stopCurrent(); err != nil {
			return err
		}
		swapped = true
		if err := u.Swap(); err != nil {
			return fmt.Errorf("projections: swapping in %s: %w", checkpointName(u.Next.Name(), u.Next.Version()), err)
		}
		if err := r.cps.DeleteCheckpoint(context.WithoutCancel(ctx), old); err != nil {
			return fmt.Errorf("projections: deleting checkpoint %s: %w", old, err)
		}
		r.log.Info(
			"projections: projection upgraded", "projection", u.Next.Name(), "version", u.Next.Version(),
			"replaced", u.Current.Version(),
		)
		return nil
	})
	if cerr := stopCurrent(); err == nil {
		err = cerr
	}
	return err
}
