package projections_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"waystation/domain"
	"waystation/projections"
)

// batches records what Options.ObserveBatch is told.
type batches struct {
	mu    sync.Mutex
	sizes []int
}

func (b *batches) observe(events int, took time.Duration) {
	if took < 0 {
		panic("negative duration")
	}
	b.mu.Lock()
	b.sizes = append(b.sizes, events)
	b.mu.Unlock()
}

// take returns the sizes recorded so far and forgets them.
func (b *batches) take() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.sizes
	b.sizes = nil
	return out
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

// TestObserveBatchSeesEveryFoldedEvent: the batch hook of the rebuild
// benchmark is told of batches whose sizes sum to the events each fold
// read: a rebuild, an "as of" replay, and following the log live.
func TestObserveBatchSeesEveryFoldedEvent(t *testing.T) {
	w := newWorld(t)
	w.station("S01", "R1", stdZones...)
	for i := range 2100 { // more than two batches of the pipeline
		w.intake("S01", t0.Add(time.Duration(i)*time.Minute), man, domain.Inspection{})
	}
	head, err := w.store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	total := int(head.Commit)
	var seen batches
	r := projections.NewRunner(
		w.store, w.store, projections.Options{Logger: slog.New(slog.DiscardHandler), ObserveBatch: seen.observe},
	)

	if err := r.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	sizes := seen.take()
	if len(sizes) < 3 || sum(sizes) != total {
		t.Errorf("rebuild: %d batches of %d events in all, want 3 or more summing to %d", len(sizes), sum(sizes), total)
	}
	if _, err := r.Safety(projections.Filter{}, projections.AsOf{At: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if sizes := seen.take(); sum(sizes) != total {
		t.Errorf("as-of replay: batches sum to %d events, want %d", sum(sizes), total)
	}

	// Following the log from the start, with events arriving meanwhile.
	var live batches
	follower := projections.NewRunner(
		w.store, w.store, projections.Options{Logger: slog.New(slog.DiscardHandler), ObserveBatch: live.observe},
	)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- follower.Run(ctx) }()
	for i := range 5 {
		w.intake("S01", t0.Add(time.Duration(i)*time.Hour), woman, domain.Inspection{})
	}
	w.sync(follower)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if sizes := live.take(); sum(sizes) != total+5 {
		t.Errorf("following: batches sum to %d events, want %d", sum(sizes), total+5)
	}
}
