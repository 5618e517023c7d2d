package projections_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"waystation/domain"
	"waystation/eventstore"
)

// TestWaitWithin checks the bounded wait the HTTP layer uses to let a
// client read its own write: it returns once the views have folded the
// position, gives up with a deadline error when they do not within the
// bound, and stops when its context ends.
func TestWaitWithin(t *testing.T) {
	w := newWorld(t)
	w.station("S01", "R1", domain.ZoneBeds{Zone: domain.ZoneAdultMale, Beds: 2})
	r := w.runner(time.Now)
	head, err := w.store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	never := eventstore.At(1 << 40)

	t.Run("folded already: returns at once, even with no time left", func(t *testing.T) {
		if err := r.WaitWithin(context.Background(), head, 0); err != nil {
			t.Fatalf("got %v, want nil", err)
		}
	})
	t.Run("written while waiting: returns once folded", func(t *testing.T) {
		got := make(chan error, 1)
		next := eventstore.At(head.Commit + 1)
		go func() { got <- r.WaitWithin(context.Background(), next, time.Minute) }()
		w.station("S02", "R1", domain.ZoneBeds{Zone: domain.ZoneAdultMale, Beds: 1})
		if err := <-got; err != nil {
			t.Fatalf("got %v, want nil", err)
		}
	})
	t.Run("never written: gives up with a deadline error", func(t *testing.T) {
		err := r.WaitWithin(context.Background(), never, time.Millisecond)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want an error wrapping context.DeadlineExceeded", err)
		}
	})
	t.Run("context ended: stops with the context's error", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := r.WaitWithin(ctx, never, time.Minute)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want an error wrapping context.Canceled", err)
		}
	})
	t.Run("waits for different writes: each returns when its own is folded, not before", func(t *testing.T) {
		now, err := w.store.Head(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		first, second := eventstore.At(now.Commit+1), eventstore.At(now.Commit+2)
		gotFirst, gotSecond := make(chan error, 1), make(chan error, 1)
		go func() { gotFirst <- r.WaitFor(context.Background(), first) }()
		go func() { gotSecond <- r.WaitWithin(context.Background(), second, time.Minute) }()
		// An abandoned wait in between must not hold up the others.
		_ = r.WaitWithin(context.Background(), second, time.Millisecond)

		w.station("S03", "R1", domain.ZoneBeds{Zone: domain.ZoneAdultMale, Beds: 1})
		if err := <-gotFirst; err != nil {
			t.Fatalf("wait for the first write: got %v, want nil", err)
		}
		select {
		case err := <-gotSecond:
			t.Fatalf("the wait for the second write returned (%v) before it was written", err)
		default:
		}
		w.station("S04", "R1", domain.ZoneBeds{Zone: domain.ZoneAdultMale, Beds: 1})
		if err := <-gotSecond; err != nil {
			t.Fatalf("wait for the second write: got %v, want nil", err)
		}
	})
}
