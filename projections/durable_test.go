package projections_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"waystation/domain"
	"waystation/eventstore"
	"waystation/projections"
)

// positions is a durable projection for the test: it keeps, across
// runners, every position it was given and what it had flushed.
type positions struct {
	mu      sync.Mutex
	version int
	seen    []eventstore.Position
	flushed int
}

func (p *positions) Name() string { return "positions" }

func (p *positions) Version() int { return p.version }

func (p *positions) Apply(env domain.Envelope) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen = append(p.seen, env.Position)
	return nil
}

func (p *positions) Flush() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.flushed = len(p.seen)
	return nil
}

func TestRestartMidStreamLosesAndRepeatsNothing(t *testing.T) {
	w := newWorld(t)
	w.station("S01", "R1", stdZones...)
	p := &positions{version: 1}
	opts := projections.Options{
		Logger: slog.New(slog.DiscardHandler), CheckpointEvery: 7, Projections: []projections.Projection{p},
	}
	write := func(n int) {
		for i := range n {
			w.intake("S01", t0.Add(time.Duration(i)*time.Minute), man, domain.Inspection{})
		}
	}
	write(50)
	for round := range 3 {
		r := projections.NewRunner(w.store, w.store, opts)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		// Events keep arriving while the runner starts and stops.
		write(40)
		w.sync(r)
		write(round * 5)
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	// A last runner catches up with what arrived after the previous stop.
	r := projections.NewRunner(w.store, w.store, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	w.sync(r)
	head, _ := w.store.Head(context.Background())
	deadline := time.Now().Add(30 * time.Second)
	for {
		p.mu.Lock()
		n := len(p.seen)
		p.mu.Unlock()
		if n >= int(head.Commit) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.seen) != int(head.Commit) {
		t.Fatalf("the durable projection saw %d events, the log holds %d", len(p.seen), head.Commit)
	}
	for i, pos := range p.seen {
		if pos != eventstore.At(uint64(i+1)) {
			t.Fatalf("event %d: got position %s, want %d (lost or repeated)", i, pos, i+1)
		}
	}
	// The live views, folded again on every start, hold every case once.
	page, err := r.SearchCases(projections.CaseQuery{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	if want := int(head.Commit) - 1; len(page.Items) != want {
		t.Errorf("the views hold %d cases, want %d", len(page.Items), want)
	}
	// A new version of the projection starts again from the first event.
	p.version = 2
	p.seen = nil
	p.mu.Unlock()
	r2 := projections.NewRunner(w.store, w.store, opts)
	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() { done <- r2.Run(ctx2) }()
	w.sync(r2)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		n := len(p.seen)
		p.mu.Unlock()
		if n >= int(head.Commit) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel2()
	<-done
	p.mu.Lock()
	if len(p.seen) != int(head.Commit) || p.seen[0] != eventstore.At(1) {
		t.Errorf("version 2: saw %d events from %v, want all %d from 1", len(p.seen), p.seen[:1], head.Commit)
	}
}
