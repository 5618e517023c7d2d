package esdb_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/eventstore"
	"waystation/eventstore/esdb"
	"waystation/eventstore/esdb/esdbtest"
)

// open starts an in-process node and opens the adapter on it.
func open(tb testing.TB) (*esdb.Store, *esdbtest.Server) {
	tb.Helper()
	srv := esdbtest.Start(tb)
	st, err := esdb.Open(context.Background(), srv.URL(), esdb.Options{RetryInterval: 10 * time.Millisecond})
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	return st, srv
}

func event(n int) eventstore.EventData {
	return eventstore.EventData{
		ID:       uuid.New(),
		Type:     "case.test_recorded",
		Data:     fmt.Appendf(nil, `{"n":%d}`, n),
		Metadata: []byte(`{"schema":1}`),
	}
}

func appendEvents(
	tb testing.TB, st eventstore.Store, stream string, expected eventstore.ExpectedRevision,
	events ...eventstore.EventData,
) eventstore.AppendResult {
	tb.Helper()
	res, err := st.Append(context.Background(), stream, expected, events...)
	if err != nil {
		tb.Fatalf("append to %s: %v", stream, err)
	}
	return res
}

// next waits for one message of a subscription running in a goroutine.
func next(tb testing.TB, msgs <-chan eventstore.Message, errs <-chan error) eventstore.Message {
	tb.Helper()
	select {
	case m := <-msgs:
		return m
	case err := <-errs:
		tb.Fatalf("subscription failed: %v", err)
	case <-time.After(30 * time.Second): // a liveness bound, not a speed requirement
		tb.Fatal("subscription delivered nothing")
	}
	return eventstore.Message{}
}

// followAll subscribes to $all from the start of st's log, which holds
// stored events made by event, and reads them and the caught-up marker.
// It returns a function that reads on until n events have been delivered
// in all and returns their numbers (event's n) in order of delivery; a
// second caught-up marker fails the test, since a subscription that
// resumes goes on where it was rather than starting again.
func followAll(tb testing.TB, st eventstore.Store, stored int) func(n int) []int {
	tb.Helper()
	msgs, errs := follow(tb, func(ctx context.Context) func(func(eventstore.Message, error) bool) {
		return st.SubscribeToAll(ctx, eventstore.Start)
	})
	var got []int
	read := func(n int, history bool) {
		for len(got) < n {
			m := next(tb, msgs, errs)
			if m.CaughtUp {
				tb.Fatalf("caught-up marker after %d of %d events, want it once, after the %d stored", len(got), n, stored)
			}
			var num int
			fmt.Sscanf(string(m.Event.Data), `{"n":%d}`, &num)
			got = append(got, num)
		}
		if history {
			if m := next(tb, msgs, errs); !m.CaughtUp {
				tb.Fatalf("got %+v, want the caught-up marker after the history", m)
			}
		}
	}
	read(stored, true)
	return func(n int) []int {
		tb.Helper()
		read(n, false)
		return got
	}
}

func follow(
	tb testing.TB, seq func(context.Context) func(func(eventstore.Message, error) bool),
) (<-chan eventstore.Message, <-chan error) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	msgs, errs, done := make(chan eventstore.Message), make(chan error, 1), make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range seq(ctx) {
			if err != nil {
				errs <- err
				return
			}
			select {
			case msgs <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	tb.Cleanup(func() { cancel(); <-done })
	return msgs, errs
}

func TestOpenFailsClearlyWhenTheClusterCannotBeReached(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now

	_, err = esdb.Open(
		context.Background(), "esdb://admin:secret-password@"+addr+"?tls=false&maxDiscoverAttempts=2",
		esdb.Options{ConnectTimeout: time.Second},
	)
	if err == nil {
		t.Fatal("open succeeded with no server")
	}
	if !strings.Contains(err.Error(), "cannot reach") || !strings.Contains(err.Error(), addr) {
		t.Errorf("error %q does not say which cluster could not be reached", err)
	}
	if strings.Contains(err.Error(), "secret-password") {
		t.Errorf("error %q shows the password", err)
	}
}

func TestOpenRefusesAMalformedConnectionString(t *testing.T) {
	_, err := esdb.Open(context.Background(), "http://admin:secret-password@localhost:2113", esdb.Options{})
	if err == nil || strings.Contains(err.Error(), "secret-password") {
		t.Fatalf("got %v, want an error that does not show the password", err)
	}
}

func TestOpenReadsAKurrentDBConnectionString(t *testing.T) {
	srv := esdbtest.Start(t)
	url := "kurrentdb://" + strings.TrimPrefix(srv.URL(), "esdb://")
	st, err := esdb.Open(context.Background(), url, esdb.Options{})
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	defer st.Close()
	appendEvents(t, st, "case-kurrentdb", eventstore.NoStream, event(0))
}

func TestPositionsComeFromTheServer(t *testing.T) {
	st, _ := open(t)
	a := appendEvents(t, st, "case-positions", eventstore.NoStream, event(0), event(1))
	b := appendEvents(t, st, "case-positions", eventstore.Exact(a.NextExpectedRevision), event(2))
	if !a.Position.Before(b.Position) {
		t.Fatalf("second append at %v is not after the first at %v", b.Position, a.Position)
	}
	var got []eventstore.Position
	for e, err := range st.ReadAll(context.Background(), eventstore.ReadAllOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e.Position)
	}
	if len(got) != 3 || got[1] != a.Position || got[2] != b.Position {
		t.Fatalf("read all positions %v, want three ending with %v and %v", got, a.Position, b.Position)
	}
	// The server's positions are sparse: nothing may assume 1, 2, 3.
	if got[0] == eventstore.At(1) || got[1] == eventstore.At(2) {
		t.Fatalf("positions %v look dense; the in-process server should not hand those out", got)
	}
}

func TestReadAllLeavesOutTheServersBookkeeping(t *testing.T) {
	st, _ := open(t)
	res := appendEvents(t, st, "case-deleted", eventstore.NoStream, event(0))
	if err := st.Delete(context.Background(), "case-deleted", eventstore.Exact(res.NextExpectedRevision)); err != nil {
		t.Fatal(err)
	}
	res = appendEvents(t, st, "case-tombstoned", eventstore.NoStream, event(0))
	if err := st.Tombstone(
		context.Background(), "case-tombstoned", eventstore.Exact(res.NextExpectedRevision),
	); err != nil {
		t.Fatal(err)
	}
	var streams []string
	for e, err := range st.ReadAll(context.Background(), eventstore.ReadAllOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		streams = append(streams, e.Stream+" "+e.Type)
	}
	want := []string{"case-deleted case.test_recorded", "case-tombstoned case.test_recorded"}
	if strings.Join(streams, ",") != strings.Join(want, ",") {
		t.Fatalf("read all gave %q, want %q (the $metadata and $streamDeleted events left out)", streams, want)
	}
	h, err := st.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if h != res.Position {
		t.Fatalf("head %v, want the last Waystation event at %v", h, res.Position)
	}
}

func TestSubscriptionToAllResumesAfterADropWithoutGapOrDuplicate(t *testing.T) {
	st, srv := open(t)
	before := appendEvents(t, st, "case-drop", eventstore.NoStream, event(0), event(1))
	delivered := followAll(t, st, 2)
	for srv.Subscriptions() == 0 {
		time.Sleep(time.Millisecond)
	}
	if n := srv.DropSubscriptions(); n != 1 {
		t.Fatalf("server dropped %d subscriptions, want 1", n)
	}
	appendEvents(t, st, "case-drop", eventstore.Exact(before.NextExpectedRevision), event(2), event(3))
	if got := delivered(4); fmt.Sprint(got) != "[0 1 2 3]" {
		t.Fatalf("delivered %v, want [0 1 2 3]", got)
	}
}

func TestSubscriptionToStreamResumesAfterADrop(t *testing.T) {
	st, srv := open(t)
	appendEvents(t, st, "case-stream-drop", eventstore.NoStream, event(0), event(1), event(2))
	msgs, errs := follow(t, func(ctx context.Context) func(func(eventstore.Message, error) bool) {
		return st.SubscribeToStream(ctx, "case-stream-drop", 1)
	})
	var revs []uint64
	for len(revs) < 2 {
		if m := next(t, msgs, errs); m.Event != nil {
			revs = append(revs, m.Event.Revision)
		}
	}
	for srv.Subscriptions() == 0 {
		time.Sleep(time.Millisecond)
	}
	srv.DropSubscriptions()
	appendEvents(t, st, "case-stream-drop", eventstore.Exact(2), event(3))
	for len(revs) < 3 {
		if m := next(t, msgs, errs); m.Event != nil {
			revs = append(revs, m.Event.Revision)
		}
	}
	if fmt.Sprint(revs) != "[1 2 3]" {
		t.Fatalf("delivered revisions %v, want [1 2 3]", revs)
	}
}

func TestSubscriptionEndsWithErrClosedWhenTheStoreCloses(t *testing.T) {
	st, _ := open(t)
	msgs, errs := follow(t, func(ctx context.Context) func(func(eventstore.Message, error) bool) {
		return st.SubscribeToAll(ctx, eventstore.Start)
	})
	if m := next(t, msgs, errs); !m.CaughtUp {
		t.Fatalf("got %+v, want caught up on an empty log", m)
	}
	st.Close()
	select {
	case err := <-errs:
		if !errors.Is(err, eventstore.ErrClosed) {
			t.Fatalf("got %v, want ErrClosed", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("subscription did not end on Close")
	}
}

func TestCheckpointsSurviveReopening(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	c, err := esdb.OpenCheckpoints(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := c.LoadCheckpoint(ctx, "occupancy"); ok || err != nil {
		t.Fatalf("fresh checkpoint: ok %v, err %v; want none", ok, err)
	}
	want := eventstore.Position{Commit: 4096, Prepare: 4000}
	if err := c.SaveCheckpoint(ctx, "occupancy", want); err != nil {
		t.Fatal(err)
	}
	again, err := esdb.OpenCheckpoints(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, ok, err := again.LoadCheckpoint(ctx, "occupancy")
	if err != nil || !ok || got != want {
		t.Fatalf("after reopening: %v %v %v, want %v", got, ok, err, want)
	}
	if err := again.DeleteCheckpoint(ctx, "occupancy"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := again.LoadCheckpoint(ctx, "occupancy"); ok {
		t.Fatal("checkpoint still there after delete")
	}
	if err := again.SaveCheckpoint(ctx, "../escape", want); !errors.Is(err, eventstore.ErrInvalid) {
		t.Fatalf("saving under a name with a path in it: %v, want ErrInvalid", err)
	}
}
