package projections_test

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"waystation/domain"
	"waystation/eventstore"
	"waystation/projections"
)

// tally is a tiny durable projection: it counts the intakes it has folded,
// in state of its own per version (as a table per version would be).
type tally struct {
	version int
	gate    chan struct{} // when not nil, each Apply waits for it: a slow fold

	mu      sync.Mutex
	seen    []eventstore.Position
	intakes int
}

func (p *tally) Name() string { return "tally" }
func (p *tally) Version() int { return p.version }
func (p *tally) Apply(env domain.Envelope) error {
	if p.gate != nil {
		<-p.gate
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen = append(p.seen, env.Position)
	if _, ok := env.Event.(domain.IntakeRegistered); ok {
		p.intakes++
	}
	return nil
}
func (p *tally) Flush() error { return nil }

// Intakes is the read the projection answers.
func (p *tally) Intakes() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.intakes
}

func (p *tally) positions() []eventstore.Position {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]eventstore.Position(nil), p.seen...)
}

// eventually waits until cond holds, for at most 30 s.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("waited 30 s for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// start runs a Runner with opts until the test ends or stop is called.
func start(tb testing.TB, w *world, opts projections.Options) (stop func()) {
	tb.Helper()
	opts.Logger = slog.New(slog.DiscardHandler)
	r := projections.NewRunner(w.store, w.store, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				tb.Errorf("Run: %v", err)
			}
		})
	}
	tb.Cleanup(stop)
	return stop
}

// inOrderOnce reports whether got is every position from 1 to n, once each.
func inOrderOnce(got []eventstore.Position, n uint64) bool {
	if uint64(len(got)) != n {
		return false
	}
	for i, p := range got {
		if p != eventstore.At(uint64(i+1)) {
			return false
		}
	}
	return true
}

// TestUpgradeFoldsTheNewVersionApartAndSwapsWhenCaughtUp: bumping a
// durable projection's version folds the new version from the first event
// into a fresh instance while the old one keeps following the log and
// answering reads; once the new one has caught up it is swapped in, the
// old one stops and its checkpoint is dropped.
func TestUpgradeFoldsTheNewVersionApartAndSwapsWhenCaughtUp(t *testing.T) {
	w := newWorld(t)
	w.station("S01", "R1", stdZones...)
	intakes := func(n int) {
		for i := range n {
			w.intake("S01", t0.Add(time.Duration(i)*time.Minute), man, domain.Inspection{})
		}
	}
	head := func() uint64 {
		h, err := w.store.Head(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return h.Commit
	}
	hasCheckpoint := func(version int) bool {
		_, ok, err := w.store.LoadCheckpoint(context.Background(), "projections.tally.v"+strconv.Itoa(version))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	intakes(30)

	// Version 1 in service, with its checkpoint.
	v1 := &tally{version: 1}
	stop := start(t, w, projections.Options{Projections: []projections.Projection{v1}, CheckpointEvery: 5})
	eventually(t, "version 1 to fold the log", func() bool { return len(v1.positions()) == int(head()) })
	stop()
	if !hasCheckpoint(1) {
		t.Fatal("version 1 saved no checkpoint")
	}

	// Version 2 folds slowly at first; its owner reads version 1 until
	// the swap.
	gate := make(chan struct{})
	v2 := &tally{version: 2, gate: gate}
	var serving atomic.Pointer[tally]
	serving.Store(v1)
	var swaps atomic.Int32
	upgrade := projections.Upgrade{Current: v1, Next: v2, Swap: func() error {
		serving.Store(v2)
		swaps.Add(1)
		return nil
	}}
	stop = start(t, w, projections.Options{Upgrades: []projections.Upgrade{upgrade}, CheckpointEvery: 5})
	intakes(5)
	eventually(t, "version 1 to keep following the log", func() bool { return serving.Load().Intakes() == 35 })
	if swaps.Load() != 0 || serving.Load() != v1 {
		t.Fatalf("swapped in before version 2 caught up (%d swaps)", swaps.Load())
	}
	if !inOrderOnce(v1.positions(), head()) {
		t.Errorf("version 1 while version 2 catches up: positions %v, want 1 to %d once each", v1.positions(), head())
	}

	close(gate)
	eventually(t, "the swap", func() bool { return swaps.Load() == 1 })
	if serving.Load() != v2 || serving.Load().Intakes() != 35 {
		t.Errorf(
			"after the swap: version %d answers %d intakes, want version 2 with 35", serving.Load().version,
			serving.Load().Intakes(),
		)
	}
	if !inOrderOnce(v2.positions(), head()) {
		t.Errorf("version 2: positions %v, want 1 to %d once each", v2.positions(), head())
	}
	if hasCheckpoint(1) || !hasCheckpoint(2) {
		t.Errorf(
			"checkpoints after the swap: version 1 %v (want dropped), version 2 %v (want saved)",
			hasCheckpoint(1), hasCheckpoint(2),
		)
	}
	before := len(v1.positions())
	intakes(3)
	eventually(t, "version 2 to follow the log", func() bool { return v2.Intakes() == 38 })
	if n := len(v1.positions()); n != before {
		t.Errorf("version 1 folded %d events after the swap, want none", n-before)
	}
	stop()

	// A restart with the same upgrade: version 1 is out of service, so
	// version 2 is swapped in at once and resumes after its checkpoint.
	stop = start(t, w, projections.Options{Upgrades: []projections.Upgrade{upgrade}})
	intakes(2)
	eventually(t, "version 2 to resume", func() bool { return v2.Intakes() == 40 })
	stop()
	if swaps.Load() != 2 || !inOrderOnce(v2.positions(), head()) {
		t.Errorf(
			"after a restart: %d swaps (want 2), version 2 positions %v (want 1 to %d once each)",
			swaps.Load(), v2.positions(), head(),
		)
	}
	if n := len(v1.positions()); n != before {
		t.Errorf("version 1 folded %d events after a restart, want none", n-before)
	}
}
