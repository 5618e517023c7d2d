package projections_test

import (
	"context"
	"iter"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"waystation/domain"
	"waystation/eventstore"
	"waystation/eventstore/bolt"
	"waystation/eventstore/sealed"
	"waystation/projections"
	"waystation/projections/loggen"
)

// cutLog is a store whose global log ends at a position while cut is set,
// so that a Runner's views can be rebuilt to stand behind the real head.
type cutLog struct {
	eventstore.Store
	mu  sync.Mutex
	cut eventstore.Position // guarded by mu; zero: no cut
}

func (c *cutLog) end() eventstore.Position {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cut
}

func (c *cutLog) Head(ctx context.Context) (eventstore.Position, error) {
	if cut := c.end(); !cut.IsZero() {
		return cut, nil
	}
	return c.Store.Head(ctx)
}

func (c *cutLog) ReadAll(
	ctx context.Context, opts eventstore.ReadAllOptions,
) iter.Seq2[eventstore.RecordedEvent, error] {
	cut := c.end()
	return func(yield func(eventstore.RecordedEvent, error) bool) {
		for rec, err := range c.Store.ReadAll(ctx, opts) {
			if err == nil && !cut.IsZero() && cut.Before(rec.Position) {
				return
			}
			if !yield(rec, err) {
				return
			}
		}
	}
}

// BenchmarkLag measures one Lag, the work of a Prometheus scrape of
// waystation_projections_lag, on a generated log (LAG_EVENTS events,
// 100 000 by default, kept in LAG_DIR when set) read through the sealed
// store, as served, with the views behind the head by 0, 1 000 and 100 000
// events. Each timed Lag sees one more event at the head than the last
// (appended untimed), as a growing log makes a scrape count again.
func BenchmarkLag(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("LAG_EVENTS")); err == nil {
		n = v
	}
	dir := os.Getenv("LAG_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	inner, err := bolt.Open(dir, bolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	master := make([]byte, 32)
	ks, err := sealed.OpenKeyStore(dir, master)
	if err != nil {
		inner.Close()
		b.Fatal(err)
	}
	s := sealed.New(inner, ks, domain.PersonalPaths, domain.DataSubject)
	defer s.Close()
	ctx := context.Background()
	head, err := s.Head(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if head.IsZero() {
		if _, err := loggen.Generate(
			ctx, s, loggen.Options{Events: n, Start: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Seed: 1},
		); err != nil {
			b.Fatal(err)
		}
	}
	// The positions of the last LagLimit+1 events, newest first.
	var tail []eventstore.Position
	for rec, err := range s.ReadAll(
		ctx,
		eventstore.ReadAllOptions{Direction: eventstore.Backwards, From: eventstore.End, Limit: projections.LagLimit + 1},
	) {
		if err != nil {
			b.Fatal(err)
		}
		tail = append(tail, rec.Position)
	}
	for _, behind := range []int{0, 1000, projections.LagLimit} {
		if behind >= len(tail) {
			continue
		}
		b.Run("behind="+strconv.Itoa(behind), func(b *testing.B) {
			log := &cutLog{Store: s, cut: tail[behind]}
			r := projections.NewRunner(log, inner, projections.Options{Logger: slog.New(slog.DiscardHandler)})
			if err := r.Rebuild(ctx); err != nil {
				b.Fatal(err)
			}
			log.mu.Lock()
			log.cut = eventstore.Position{}
			log.mu.Unlock()
			var last projections.Lag
			for b.Loop() {
				if behind > 0 {
					b.StopTimer()
					appendEvents(b, s, "other-lag", 1)
					b.StartTimer()
				}
				if last, err = r.Lag(ctx); err != nil {
					b.Fatal(err)
				}
			}
			if behind == 0 && last.Behind != 0 || behind > 0 && last.Behind < uint64(behind) {
				b.Fatalf("behind %d (at least %v), want %d", last.Behind, last.BehindAtLeast, behind)
			}
			b.ReportMetric(float64(last.Behind), "events_behind")
		})
	}
}
