package projections

import (
	"log/slog"
	"time"
)

// Options tune a Runner. The zero Options is usable.
type Options struct {
	// Now is the clock of the live boards; time.Now when nil.
	Now func() time.Time
	// Logger receives operational messages (never personal data);
	// slog.Default() when nil.
	Logger *slog.Logger
	// CheckpointEvery saves a checkpoint after this many events (10 000
	// when zero).
	CheckpointEvery int
	// CheckpointInterval saves a checkpoint at least this often while
	// events arrive (1 s when zero).
	CheckpointInterval time.Duration
	// Projections are extra durable projections to run beside the views.
	Projections []Projection
	// Upgrades are durable projections moving to a new version, run beside
	// the views (see Upgrade).
	Upgrades []Upgrade
	// ObserveBatch, when not nil, is told of every batch of events folded
	// into the views (while following the log, in Rebuild and in "as of"
	// replays): how many events it held, undecodable and filtered-out ones
	// included, and how long applying them took (decoding and reading,
	// done on other goroutines ahead of the fold, excluded). The events
	// of all calls of one fold sum to the events it read. It is called on
	// the folding goroutine, by several folds at once when they run at
	// once, so it must be safe for concurrent use and quick. Nil costs
	// nothing: the clock is not read.
	ObserveBatch func(events int, took time.Duration)
}

// batchStart returns the time a batch's fold starts, when
// Options.ObserveBatch wants it, else the zero time.
func (r *Runner) batchStart() time.Time {
	if r.opts.ObserveBatch == nil {
		return time.Time{}
	}
	return time.Now()
}

// batchDone tells Options.ObserveBatch, if any, of a batch of n events
// whose fold began at start.
func (r *Runner) batchDone(start time.Time, n int) {
	if r.opts.ObserveBatch != nil {
		r.opts.ObserveBatch(n, time.Since(start))
	}
}
