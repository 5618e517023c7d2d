package projections_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/eventstore"
	"waystation/eventstore/esdb"
	"waystation/eventstore/esdb/esdbtest"
	"waystation/projections"
)

// appendEvents appends n events of a type the views do not know (they
// skip them, and count them in the log all the same) to stream, in
// appends of at most 1000.
func appendEvents(tb testing.TB, s eventstore.Store, stream string, n int) {
	tb.Helper()
	for n > 0 {
		k := min(n, 1000)
		evs := make([]eventstore.EventData, k)
		for i := range evs {
			evs[i] = eventstore.EventData{ID: uuid.New(), Type: "test.recorded", Data: []byte(`{"n":1}`), Metadata: []byte(`{}`)}
		}
		if _, err := s.Append(context.Background(), stream, eventstore.Any, evs...); err != nil {
			tb.Fatal(err)
		}
		n -= k
	}
}

func lagOf(tb testing.TB, r *projections.Runner) projections.Lag {
	tb.Helper()
	l, err := r.Lag(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

// TestLagCountsEvents: the lag is a number of events on every backend,
// also on EventStoreDB, whose positions are offsets in the server's log.
func TestLagCountsEvents(t *testing.T) {
	backends := []struct {
		name string
		open func(tb testing.TB) eventstore.Store
	}{
		{"bolt", func(tb testing.TB) eventstore.Store { return openStore(tb) }},
		{"esdb", func(tb testing.TB) eventstore.Store {
			srv := esdbtest.Start(tb)
			st, err := esdb.Open(context.Background(), srv.URL(), esdb.Options{RetryInterval: 10 * time.Millisecond})
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { _ = st.Close() })
			return st
		}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			appendEvents(t, s, "other-1", 5)
			r := projections.NewRunner(s, openStore(t), projections.Options{Logger: slog.New(slog.DiscardHandler)})
			if l := lagOf(t, r); l.Behind != 5 || l.BehindAtLeast || !l.Position.IsZero() {
				t.Errorf(
					"given 5 events and views that read none: behind %d (at least %v) at %s, want 5 at the start",
					l.Behind, l.BehindAtLeast, l.Position,
				)
			}
			if err := r.Rebuild(context.Background()); err != nil {
				t.Fatal(err)
			}
			l := lagOf(t, r)
			if l.Behind != 0 || l.BehindAtLeast || l.Position != l.Head {
				t.Errorf(
					"after a rebuild: behind %d (at least %v), position %s, head %s; want 0 at the head", l.Behind,
					l.BehindAtLeast, l.Position, l.Head,
				)
			}
			appendEvents(t, s, "other-2", 3)
			if l := lagOf(t, r); l.Behind != 3 || l.BehindAtLeast {
				t.Errorf("3 events appended after the rebuild: behind %d (at least %v), want 3", l.Behind, l.BehindAtLeast)
			}
		})
	}
}

// TestLagStopsCountingAtTheLimit: views LagLimit events behind are
// exactly that; one more event and the lag says "at least LagLimit".
func TestLagStopsCountingAtTheLimit(t *testing.T) {
	s := openStore(t)
	appendEvents(t, s, "other-1", projections.LagLimit)
	r := projections.NewRunner(s, s, projections.Options{Logger: slog.New(slog.DiscardHandler)})
	if l := lagOf(t, r); l.Behind != projections.LagLimit || l.BehindAtLeast {
		t.Errorf("%d events behind: got behind %d, at least %v", projections.LagLimit, l.Behind, l.BehindAtLeast)
	}
	appendEvents(t, s, "other-1", 1)
	if l := lagOf(t, r); l.Behind != projections.LagLimit || !l.BehindAtLeast {
		t.Errorf(
			"%d events behind: got behind %d, at least %v; want %d, at least", projections.LagLimit+1,
			l.Behind, l.BehindAtLeast, projections.LagLimit,
		)
	}
}
