// Package projections is Waystation's read side: it follows the global log
// and folds it into the views that station staff, coordinators and
// inspectors look at (occupancy, the safety board, the transfer board, case
// timelines, the person index, statistics and case search), and rebuilds
// any of them from the start or "as of" a past moment.
package projections

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"waystation/domain"
	"waystation/eventstore"
)

// ViewsName and ViewsVersion name the built-in views' checkpoint. Bump
// ViewsVersion when a change to the views' fold must not be mixed with
// state folded by an earlier version.
const (
	ViewsName    = "views"
	ViewsVersion = 1
)

// Projection is a named, versioned fold over the global log whose state
// lives outside the process (a file, a table): the Runner feeds it every
// event after its saved checkpoint, in order, and saves its checkpoint in
// batches. Each version has its own checkpoint: a Projection given in
// Options.Projections with a new Version starts again from the first event
// into whatever fresh state it keeps for that version, and answers reads
// from that state while it catches up. To keep the previous version
// answering reads until the new one has caught up, give both as an
// Upgrade instead.
type Projection interface {
	// Name is the projection's stable name.
	Name() string
	// Version is the fold's version.
	Version() int
	// Apply folds one event. An error stops the Runner.
	Apply(env domain.Envelope) error
	// Flush makes everything applied so far durable; the Runner calls it
	// before saving the projection's checkpoint, so that after a restart
	// nothing is applied twice or skipped.
	Flush() error
}

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

// AsOf selects the moment a read describes. The zero AsOf is now, from the
// live views. With At set, the views are rebuilt from the log keeping the
// events that had happened by At (occurred_at), with everything recorded
// since ("what was true then"); with Known also set, only the events that
// had also been recorded by At ("what staff could have known then").
// Station registrations are reference data and are kept whatever their
// dates, so a station registered after a back-dated record is known as of
// that record's moment; its zone changes count from when they happened.
// Position, when not zero, further keeps only events at or before it; with
// At zero such a read is evaluated at the present time.
type AsOf struct {
	At       time.Time
	Known    bool
	Position eventstore.Position
}

// IsLive reports whether a is the present moment of the live views.
func (a AsOf) IsLive() bool { return a.At.IsZero() && a.Position.IsZero() }

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

// checkpointName is the name a projection's checkpoint is saved under.
func checkpointName(name string, version int) string {
	return "projections." + name + ".v" + strconv.Itoa(version)
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

// onUndecodable logs and counts an event that does not decode.
func (r *Runner) onUndecodable(rec eventstore.RecordedEvent, err error) {
	r.undec.Add(1)
	r.log.Warn("projections: skipping an undecodable event", "type", rec.Type, "position", rec.Position.String(), "err", err)
}

// follow subscribes after from and hands decoded events to apply in order:
// in batches while catching up, one at a time once live. caughtUp is called
// at the subscription's caught-up marker, after the history is applied.
func (r *Runner) follow(ctx context.Context, from eventstore.Position, apply func([]domain.Envelope) error, caughtUp func() error) error {
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
	err := r.follow(ctx, from, func(envs []domain.Envelope) error {
		r.mu.Lock()
		start := r.batchStart()
		m := r.live
		for _, env := range envs {
			if env.Position.Compare(m.pos) <= 0 {
				continue // already folded by a rebuild that was swapped in
			}
			m.apply(env)
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
		r.log.Info("projections: projection upgraded", "projection", u.Next.Name(), "version", u.Next.Version(), "replaced", u.Current.Version())
		return nil
	})
	if cerr := stopCurrent(); err == nil {
		err = cerr
	}
	return err
}

func (r *Runner) setPosition(p eventstore.Position) {
	r.posMu.Lock()
	if r.pos.Before(p) {
		r.pos = p
		// Wake only the waiters this position satisfies: a request
		// waiting for a later write sleeps on.
		for len(r.waiters) > 0 && !p.Before(r.waiters[0].pos) {
			close(heap.Pop(&r.waiters).(*waiter).reached)
		}
	}
	r.posMu.Unlock()
}

// waiter is one WaitFor call: reached is closed once the live views stand
// at pos or later.
type waiter struct {
	pos     eventstore.Position
	reached chan struct{}
	index   int // in the heap, for removal when the wait is abandoned
}

// waiterHeap orders waiters by position, earliest first (container/heap).
type waiterHeap []*waiter

func (h waiterHeap) Len() int           { return len(h) }
func (h waiterHeap) Less(i, j int) bool { return h[i].pos.Before(h[j].pos) }
func (h waiterHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *waiterHeap) Push(x any) {
	w := x.(*waiter)
	w.index = len(*h)
	*h = append(*h, w)
}
func (h *waiterHeap) Pop() any {
	old := *h
	w := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	w.index = -1
	return w
}

// await returns nil when the live views already stand at pos, else a
// waiter whose channel closes when they do; the caller must call abandon
// if it stops waiting first.
func (r *Runner) await(pos eventstore.Position) *waiter {
	r.posMu.Lock()
	defer r.posMu.Unlock()
	if !r.pos.Before(pos) {
		return nil
	}
	w := &waiter{pos: pos, reached: make(chan struct{})}
	heap.Push(&r.waiters, w)
	return w
}

// abandon forgets a waiter whose caller stopped waiting.
func (r *Runner) abandon(w *waiter) {
	r.posMu.Lock()
	if w.index >= 0 {
		heap.Remove(&r.waiters, w.index)
	}
	r.posMu.Unlock()
}

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
	r.log.Info("projections: views rebuilt", "position", pos.String(), "events", fresh.applied, "took", time.Since(start).String())
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
		err := readAll(ctx, r.store, fresh.pos, r.onUndecodable, nil,
			func(p eventstore.Position) bool { return target.Before(p) },
			func(envs []domain.Envelope) error {
				start := r.batchStart()
				for _, env := range envs {
					fresh.apply(env)
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

// foldInto folds the log into m, keeping the events that asOf selects.
func (r *Runner) foldInto(ctx context.Context, m *model, asOf AsOf) error {
	var stop func(eventstore.Position) bool
	if !asOf.Position.IsZero() {
		stop = func(p eventstore.Position) bool { return asOf.Position.Before(p) }
	}
	var keep func(domain.Envelope) bool
	if !asOf.At.IsZero() {
		// Events that the moment filters out are not worth their payload.
		keep = asOf.happened
	}
	err := readAll(ctx, r.store, m.pos, r.onUndecodable, keep, stop, func(envs []domain.Envelope) error {
		start := r.batchStart()
		for _, env := range envs {
			if !asOf.At.IsZero() && !asOf.keeps(env) {
				m.pos = env.Position
				continue
			}
			m.apply(env)
		}
		r.batchDone(start, len(envs))
		return nil
	})
	if err != nil {
		return fmt.Errorf("projections: folding the log: %w", err)
	}
	return nil
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

// keeps reports whether env belongs to the world as of a.At: it had
// happened by then (see happened), or it is reference data.
func (a AsOf) keeps(env domain.Envelope) bool {
	if env.Event == nil {
		return false
	}
	return referenceType(env.Event.EventType()) || a.happened(env)
}

// referenceType reports whether events of the stored type typ are
// reference data, which an "as of" replay applies whatever their date: a
// station's registration. A station may be registered in Waystation after
// the first records of its cases (back-dated paperwork of a station that
// existed before), and a board as of such a record's moment must still know
// the station and its region. Zone changes stay bound to their date: a
// seasonal zone opened later was not there before it opened.
func referenceType(typ string) bool { return typ == domain.TypeStationRegistered }

// happened reports whether the event of env had happened by a.At (and,
// for a Known read, had been recorded by then), from its metadata alone.
func (a AsOf) happened(env domain.Envelope) bool {
	if env.Meta.OccurredAt.After(a.At) {
		return false
	}
	if a.Known {
		rec := env.Meta.RecordedAt
		if rec.IsZero() {
			rec = env.RecordedAt
		}
		return !rec.After(a.At)
	}
	return true
}

// view runs read against the model asOf selects: the live one under the
// read lock, or one folded afresh. It returns the evaluation time.
func (r *Runner) view(ctx context.Context, asOf AsOf, read func(m *model, at time.Time) error) error {
	if asOf.IsLive() {
		r.mu.RLock()
		defer r.mu.RUnlock()
		return read(r.live, r.opts.Now())
	}
	m := newModel()
	if err := r.foldInto(ctx, m, asOf); err != nil {
		return domain.Internal(err, "building the view as of a past moment failed")
	}
	at := asOf.At
	if at.IsZero() {
		at = r.opts.Now()
	}
	return read(m, at)
}
