package projections

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"waystation/eventstore"
)

// Runner follows the global log and keeps the live views, answers their
// reads (safe for concurrent use), and builds them as of past moments.
type Runner struct {
	store eventstore.Store
	cps   eventstore.CheckpointStore
	opts  Options
	log   *slog.Logger

	mu   sync.RWMutex
	live *model // guarded by mu

	posMu   sync.Mutex
	pos     eventstore.Position // guarded by posMu; the live model's position
	waiters waiterHeap          // guarded by posMu; WaitFor calls not yet reached
	ready   atomic.Bool
	caught  chan struct{} // closed when ready first turns true
	undec   atomic.Uint64
	runs    atomic.Bool
	rebuMu  sync.Mutex // one Rebuild at a time

	lagMu   sync.Mutex // one count of the events behind at a time
	lagLast lagCount   // guarded by lagMu; the last count
}

// NewRunner returns a Runner over store that keeps checkpoints in cps.
// Nothing happens until Run.
func NewRunner(store eventstore.Store, cps eventstore.CheckpointStore, opts Options) *Runner {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.CheckpointEvery <= 0 {
		opts.CheckpointEvery = 10000
	}
	if opts.CheckpointInterval <= 0 {
		opts.CheckpointInterval = time.Second
	}
	return &Runner{
		store: store, cps: cps, opts: opts, log: opts.Logger,
		live:   newModel(),
		caught: make(chan struct{}),
	}
}

// Run folds the log into the live views and the durable projections: it
// loads the checkpoints, catches up, then follows new events until ctx is
// done, saving checkpoints in batches and once more on the way out. The
// live views are kept in memory, so they are folded again from the first
// event on every Run (the saved checkpoint tells how far the previous run
// got); durable projections resume after their checkpoint. Run returns nil
// when ctx is cancelled, or the first error of the store or a projection.
func (r *Runner) Run(ctx context.Context) error {
	if !r.runs.CompareAndSwap(false, true) {
		return errors.New("projections: Run called twice")
	}
	defer r.runs.Store(false)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, 1+len(r.opts.Projections)+len(r.opts.Upgrades))
	var wg sync.WaitGroup
	for _, p := range r.opts.Projections {
		wg.Go(func() {
			if err := r.runDurable(ctx, p, nil); err != nil {
				errs <- err
				cancel()
			}
		})
	}
	for _, u := range r.opts.Upgrades {
		wg.Go(func() {
			if err := r.runUpgrade(ctx, u); err != nil {
				errs <- err
				cancel()
			}
		})
	}
	wg.Go(func() {
		if err := r.runViews(ctx); err != nil {
			errs <- err
			cancel()
		}
	})
	wg.Wait()
	close(errs)
	return <-errs
}
