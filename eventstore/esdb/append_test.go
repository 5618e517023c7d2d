package esdb_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/eventstore"
	"waystation/eventstore/esdb"
	"waystation/eventstore/esdb/esdbtest"
	"waystation/eventstore/storetest"
)

// events returns n fresh events numbered from first.
func events(first, n int) []eventstore.EventData {
	out := make([]eventstore.EventData, n)
	for i := range out {
		out[i] = event(first + i)
	}
	return out
}

// streamLength is how many live events stream holds (0 when missing).
func streamLength(tb testing.TB, st eventstore.Store, stream string) int {
	tb.Helper()
	got, err := storetest.Collect(st.ReadStream(context.Background(), stream, eventstore.ReadStreamOptions{}))
	if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
		tb.Fatalf("read %s: %v", stream, err)
	}
	return len(got)
}

// TestAppendReadsOnlyWhatItNeeds: given a stream of 1,000 events, an
// append reads nothing of it with Exact, at most the retry window with
// Any, and only the revisions a retry would occupy (plus the last event)
// when the server refuses it.
func TestAppendReadsOnlyWhatItNeeds(t *testing.T) {
	st, srv := open(t)
	const stream = "station-long"
	res := fill(t, st, stream, 1000)
	ctx := context.Background()

	cases := []struct {
		name     string
		expected func() eventstore.ExpectedRevision
		events   int
		wantErr  error
		maxRead  int64
	}{
		{"exact", func() eventstore.ExpectedRevision { return eventstore.Exact(res.NextExpectedRevision) }, 1, nil, 0},
		{
			"exact, three events",
			func() eventstore.ExpectedRevision { return eventstore.Exact(res.NextExpectedRevision) },
			3,
			nil,
			0,
		},
		{"any", func() eventstore.ExpectedRevision { return eventstore.Any }, 1, nil, esdb.RetryWindow},
		{
			"stream exists, two events",
			func() eventstore.ExpectedRevision { return eventstore.StreamExists },
			2,
			nil,
			esdb.RetryWindow + 1,
		},
		{
			"stale exact",
			func() eventstore.ExpectedRevision { return eventstore.Exact(10) },
			2,
			eventstore.ErrWrongExpectedVersion,
			2 + 1,
		},
		{
			"no stream on an existing stream",
			func() eventstore.ExpectedRevision { return eventstore.NoStream },
			1,
			eventstore.ErrWrongExpectedVersion,
			1 + 1,
		},
	}
	for _, c := range cases {
		before := srv.EventsRead()
		r, err := st.Append(ctx, stream, c.expected(), events(0, c.events)...)
		read := srv.EventsRead() - before
		if !errors.Is(err, c.wantErr) || (c.wantErr == nil && err != nil) {
			t.Fatalf("%s: got error %v, want %v", c.name, err, c.wantErr)
		}
		if err == nil {
			res = r
		}
		if read > c.maxRead {
			t.Errorf(
				"%s: the append read %d events of a stream of %d, want at most %d", c.name, read,
				res.NextExpectedRevision+1, c.maxRead,
			)
		}
	}
}

// TestRetriesAreRecognisedWhereTheyLand: given a stored append, when the
// same events are appended again where a retry lands, then the original
// result comes back and nothing is written; an append that overlaps them
// only in part is an idempotency conflict; a real conflict names the
// stream's actual revision.
func TestRetriesAreRecognisedWhereTheyLand(t *testing.T) {
	st, _ := open(t)
	ctx := context.Background()
	type check struct {
		expected eventstore.ExpectedRevision
		events   []eventstore.EventData
		want     *eventstore.AppendResult // nil: an error
		wantErr  error
		actual   uint64 // with ErrWrongExpectedVersion
		exists   bool   // with ErrWrongExpectedVersion
	}
	cases := []struct {
		name  string
		given func(stream string) check
	}{
		{"exact retry after the stream moved on", func(stream string) check {
			evs := events(0, 2)
			first := appendEvents(t, st, stream, eventstore.NoStream, event(9))
			orig := appendEvents(t, st, stream, eventstore.Exact(first.NextExpectedRevision), evs...)
			appendEvents(t, st, stream, eventstore.Any, event(10))
			return check{expected: eventstore.Exact(first.NextExpectedRevision), events: evs, want: &orig}
		}},
		{"exact, first event stored at its place and the second new", func(stream string) check {
			evs := events(0, 2)
			appendEvents(t, st, stream, eventstore.NoStream, event(9))
			appendEvents(t, st, stream, eventstore.Exact(0), evs[0])
			return check{
				expected: eventstore.Exact(0),
				events:   []eventstore.EventData{evs[0], event(11)},
				wantErr:  eventstore.ErrIdempotencyConflict,
			}
		}},
		{"exact, stale with new events", func(stream string) check {
			appendEvents(t, st, stream, eventstore.NoStream, events(0, 4)...)
			return check{
				expected: eventstore.Exact(1),
				events:   events(4, 3),
				wantErr:  eventstore.ErrWrongExpectedVersion,
				actual:   3,
				exists:   true,
			}
		}},
		{"exact, stale, the stream ending inside the retry's place", func(stream string) check {
			appendEvents(t, st, stream, eventstore.NoStream, events(0, 4)...)
			return check{
				expected: eventstore.Exact(2),
				events:   events(4, 3),
				wantErr:  eventstore.ErrWrongExpectedVersion,
				actual:   3,
				exists:   true,
			}
		}},
		{"no stream retry after the stream moved on", func(stream string) check {
			evs := events(0, 3)
			orig := appendEvents(t, st, stream, eventstore.NoStream, evs...)
			appendEvents(t, st, stream, eventstore.Exact(2), event(3))
			return check{expected: eventstore.NoStream, events: evs, want: &orig}
		}},
		{"no stream, the first event stored and the second new", func(stream string) check {
			evs := events(0, 2)
			appendEvents(t, st, stream, eventstore.NoStream, evs...)
			return check{
				expected: eventstore.NoStream,
				events:   []eventstore.EventData{evs[0], event(5)},
				wantErr:  eventstore.ErrIdempotencyConflict,
			}
		}},
		{"any retry whose first events have left the window", func(stream string) check {
			evs := events(0, 3)
			orig := appendEvents(t, st, stream, eventstore.Any, evs...)
			appendEvents(t, st, stream, eventstore.Any, events(3, esdb.RetryWindow)...)
			return check{expected: eventstore.Any, events: evs, want: &orig}
		}},
		{"stream exists retry", func(stream string) check {
			appendEvents(t, st, stream, eventstore.NoStream, event(0))
			evs := events(1, 2)
			orig := appendEvents(t, st, stream, eventstore.StreamExists, evs...)
			appendEvents(t, st, stream, eventstore.Any, events(3, 5)...)
			return check{expected: eventstore.StreamExists, events: evs, want: &orig}
		}},
		{"any, stored events in another order", func(stream string) check {
			evs := events(0, 3)
			appendEvents(t, st, stream, eventstore.Any, evs...)
			return check{
				expected: eventstore.Any,
				events:   []eventstore.EventData{evs[1], evs[0]},
				wantErr:  eventstore.ErrIdempotencyConflict,
			}
		}},
		{"stream exists on a missing stream", func(stream string) check {
			return check{expected: eventstore.StreamExists, events: events(0, 1), wantErr: eventstore.ErrWrongExpectedVersion}
		}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stream := fmt.Sprintf("case-retry-%d", i)
			chk := c.given(stream)
			before := streamLength(t, st, stream)
			got, err := st.Append(ctx, stream, chk.expected, chk.events...)
			switch {
			case chk.want != nil:
				if err != nil || got != *chk.want {
					t.Fatalf("got %+v, %v; want the original %+v", got, err, *chk.want)
				}
			case !errors.Is(err, chk.wantErr):
				t.Fatalf("got %+v, %v; want %v", got, err, chk.wantErr)
			case errors.Is(err, eventstore.ErrWrongExpectedVersion):
				var wev *eventstore.WrongExpectedVersionError
				errors.As(err, &wev)
				if wev.Stream != stream || wev.ActualExists != chk.exists || wev.Actual != chk.actual {
					t.Fatalf("got %+v, want actual revision %d (exists %v)", *wev, chk.actual, chk.exists)
				}
			}
			if after := streamLength(t, st, stream); after != before {
				t.Fatalf("the stream grew from %d to %d events", before, after)
			}
		})
	}
}

// batches records what an Observer hears.
type batches struct {
	mu    sync.Mutex
	calls [][3]int64 // events, requests, fsync
	total []time.Duration
}

func (b *batches) ObserveBatch(events, requests int, fsync, total time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, [3]int64{int64(events), int64(requests), int64(fsync)})
	b.total = append(b.total, total)
}

// TestObserverHearsEveryAppendThatWrote: written appends are reported
// with their event count, one request and no fsync time; a refused
// append, a recognised retry and an empty append are not.
func TestObserverHearsEveryAppendThatWrote(t *testing.T) {
	node := esdbtest.Start(t)
	obs := &batches{}
	st, err := esdb.Open(context.Background(), node.URL(), esdb.Options{Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ctx := context.Background()

	evs := events(0, 3)
	appendEvents(t, st, "access-log", eventstore.Any, evs...)
	appendEvents(t, st, "access-log", eventstore.Any, evs...) // a retry
	appendEvents(t, st, "access-log", eventstore.Exact(2))    // empty
	if _, err := st.Append(
		ctx, "access-log", eventstore.Exact(0), event(3),
	); !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		t.Fatalf("stale append: %v, want a wrong expected version", err)
	}
	appendEvents(t, st, "access-log", eventstore.Exact(2), event(4))

	obs.mu.Lock()
	defer obs.mu.Unlock()
	if want := "[[3 1 0] [1 1 0]]"; fmt.Sprint(obs.calls) != want {
		t.Fatalf("observed (events, requests, fsync) %v, want %s", obs.calls, want)
	}
	for _, d := range obs.total {
		if d <= 0 {
			t.Fatalf("observed a total time of %v, want the round trip", d)
		}
	}
}

// TestAppendsAndSubscriptionsCarryOnAfterTheServerRestarts: given a
// subscription to $all and a stream, when the node is stopped and started
// again on the same address, then appends succeed again and the
// subscription delivers the new events after the old ones, with no gap
// and no duplicate.
func TestAppendsAndSubscriptionsCarryOnAfterTheServerRestarts(t *testing.T) {
	st, srv := open(t)
	res := appendEvents(t, st, "case-restart", eventstore.NoStream, event(0), event(1))
	delivered := followAll(t, st, 2)

	srv.Close()
	if err := srv.Restart(); err != nil {
		t.Fatalf("restart the node on %s: %v", srv.Addr(), err)
	}

	// The first call after the restart meets the dead connection: the
	// adapter reconnects and sends the append again.
	res = appendEvents(t, st, "case-restart", eventstore.Exact(res.NextExpectedRevision), event(2))
	appendEvents(t, st, "case-restart", eventstore.Exact(res.NextExpectedRevision), event(3))
	if got := delivered(4); fmt.Sprint(got) != "[0 1 2 3]" {
		t.Fatalf("delivered %v, want [0 1 2 3]", got)
	}
}

// blob returns an event of about n bytes of data.
func blob(n int) eventstore.EventData {
	data := append([]byte(`{"b":"`), bytes.Repeat([]byte("x"), n)...)
	return eventstore.EventData{ID: uuid.New(), Type: "case.test_recorded", Data: append(data, `"}`...)}
}

// An append over the cluster's MaxAppendSize (1 MiB unless the
// connection string's maxAppendSize says otherwise) is refused by the
// adapter with a clear ErrInvalid before it reaches the server, even
// where the server itself would take it.
func TestAppendOverMaxAppendSizeIsRefusedBeforeItIsSent(t *testing.T) {
	srv := esdbtest.StartWith(t, esdbtest.Options{MaxAppendSize: 8 << 20})
	st, err := esdb.Open(context.Background(), srv.URL(), esdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if got := st.MaxAppendSize(); got != esdb.DefaultMaxAppendSize {
		t.Fatalf("MaxAppendSize: got %d, want the server default %d", got, esdb.DefaultMaxAppendSize)
	}
	_, err = st.Append(context.Background(), "case-big", eventstore.NoStream, blob(2<<20))
	if !errors.Is(err, eventstore.ErrInvalid) || !strings.Contains(err.Error(), "MaxAppendSize of 1048576") {
		t.Fatalf("got %v, want ErrInvalid naming the MaxAppendSize of 1048576", err)
	}

	raised, err := esdb.Open(context.Background(), srv.URL()+"&maxAppendSize=8388608", esdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = raised.Close() })
	if got := raised.MaxAppendSize(); got != 8<<20 {
		t.Fatalf("MaxAppendSize from the connection string: got %d, want %d", got, 8<<20)
	}
	appendEvents(t, raised, "case-big", eventstore.NoStream, blob(2<<20))
}

// A server whose MaxAppendSize is lower than the adapter was told refuses
// the append itself (status InvalidArgument, as KurrentDB's
// RpcExceptions.MaxAppendSizeExceeded); the adapter says so as ErrInvalid.
func TestAppendRefusedByTheServerAsTooLargeIsInvalid(t *testing.T) {
	srv := esdbtest.Start(t)
	st, err := esdb.Open(context.Background(), srv.URL()+"&maxAppendSize=4194304", esdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	_, err = st.Append(context.Background(), "case-big", eventstore.NoStream, blob(2<<20))
	if !errors.Is(err, eventstore.ErrInvalid) || !strings.Contains(err.Error(), "cluster refused it") {
		t.Fatalf("got %v, want ErrInvalid saying the cluster refused it", err)
	}
	if _, err := storetest.Collect(st.ReadStream(
		context.Background(), "case-big", eventstore.ReadStreamOptions{},
	)); !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("read after the refused append: got %v, want ErrStreamNotFound", err)
	}
}
