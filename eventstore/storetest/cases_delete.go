package storetest

import (
	"context"
	"errors"
	"iter"
	"testing"

	"waystation/eventstore"
)

func (s *suite) softDelete(t *testing.T) {
	st := s.stream(t, "delete")
	mustAppend(t, s.store, st, eventstore.NoStream, Events("test.a", 2)...)
	if err := s.store.Delete(ctx, st, eventstore.Exact(1)); err != nil {
		t.Fatalf("delete: %v", err)
	}
	wantErr(t, firstErr(s.store.ReadStream(ctx, st, eventstore.ReadStreamOptions{})), eventstore.ErrStreamNotFound)
	_, err := s.store.Append(ctx, st, eventstore.StreamExists, Event("test.b", 0))
	wantWrongVersion(t, err, st, 0, false)
}

func (s *suite) softDeleteRecreate(t *testing.T) {
	st := s.stream(t, "recreate")
	mustAppend(t, s.store, st, eventstore.NoStream, Events("test.a", 2)...)
	if err := s.store.Delete(ctx, st, eventstore.Any); err != nil {
		t.Fatalf("delete: %v", err)
	}
	evs := Events("test.b", 2)
	res := mustAppend(t, s.store, st, eventstore.NoStream, evs...)
	if res.NextExpectedRevision != 3 {
		t.Fatalf("next expected revision after recreation: got %d, want 3", res.NextExpectedRevision)
	}
	got := readStream(t, s.store, st, eventstore.ReadStreamOptions{})
	wantIDs(t, got, dataIDs(evs))
	if got[0].Revision != 2 {
		t.Fatalf("first revision after recreation: got %d, want 2", got[0].Revision)
	}
	back := readStream(
		t, s.store, st, eventstore.ReadStreamOptions{Direction: eventstore.Backwards, From: eventstore.StreamEnd},
	)
	if len(back) != 2 {
		t.Fatalf("backwards read after recreation: got %d events, want 2", len(back))
	}
}

// softDeleteRecreateLong: given a stream deleted at a revision that is not
// a multiple of 64 and a subscriber caught up with it, when more than 64
// events recreate it, then a forward read from the start, a read from each
// revision and the subscriber all see every recreated event, from the
// first.
func (s *suite) softDeleteRecreateLong(t *testing.T) {
	st := s.stream(t, "recreate-long")
	mustAppend(t, s.store, st, eventstore.NoStream, Events("test.a", 10)...)
	sub := subscribe(t, func(c context.Context) iter.Seq2[eventstore.Message, error] {
		return s.store.SubscribeToStream(c, st, 0)
	})
	if got := sub.untilCaughtUp(t, st); len(got) != 10 {
		t.Fatalf("subscriber caught up after %d events, want 10", len(got))
	}
	if err := s.store.Delete(ctx, st, eventstore.Exact(9)); err != nil {
		t.Fatalf("delete: %v", err)
	}
	evs := Events("test.b", 150)
	mustAppend(t, s.store, st, eventstore.NoStream, evs...)

	got := readStream(t, s.store, st, eventstore.ReadStreamOptions{})
	if len(got) != 150 || got[0].Revision != 10 {
		t.Fatalf(
			"forward read after recreation: got %d events from revision %v, want 150 from 10", len(got),
			revisions(got[:min(1, len(got))]),
		)
	}
	wantIDs(t, got, dataIDs(evs))
	for from := range uint64(165) {
		skip := min(max(from, 10)-10, 150)
		got := readStream(t, s.store, st, eventstore.ReadStreamOptions{From: from})
		wantIDs(t, got, dataIDs(evs[skip:]))
		got = readStream(t, s.store, st, eventstore.ReadStreamOptions{From: from, Limit: 3})
		wantIDs(t, got, dataIDs(evs[skip:min(skip+3, 150)]))
	}
	live, _ := sub.events(t, st, 150)
	wantIDs(t, live, dataIDs(evs))
	late := subscribe(t, func(c context.Context) iter.Seq2[eventstore.Message, error] {
		return s.store.SubscribeToStream(c, st, 0)
	})
	wantIDs(t, late.untilCaughtUp(t, st), dataIDs(evs))
}

func (s *suite) softDeleteKeepsAll(t *testing.T) {
	st := s.stream(t, "delete-all")
	before := head(t, s.store)
	evs := Events("test.a", 3)
	mustAppend(t, s.store, st, eventstore.NoStream, evs...)
	if err := s.store.Delete(ctx, st, eventstore.Any); err != nil {
		t.Fatalf("delete: %v", err)
	}
	wantIDs(t, readAllOf(t, s.store, st, eventstore.ReadAllOptions{From: before}), dataIDs(evs))
}

func (s *suite) deleteExpected(t *testing.T) {
	st := s.stream(t, "delete-expected")
	mustAppend(t, s.store, st, eventstore.NoStream, Events("test.a", 3)...)
	err := s.store.Delete(ctx, st, eventstore.Exact(1))
	wantWrongVersion(t, err, st, 2, true)
	if n := len(readStream(t, s.store, st, eventstore.ReadStreamOptions{})); n != 3 {
		t.Fatalf("stream has %d events after a refused delete, want 3", n)
	}
}

func (s *suite) deleteMissing(t *testing.T) {
	err := s.store.Delete(ctx, s.stream(t, "delete-missing"), eventstore.Any)
	if !errors.Is(err, eventstore.ErrStreamNotFound) && !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		t.Fatalf("got error %v, want ErrStreamNotFound or ErrWrongExpectedVersion", err)
	}
}

func (s *suite) tombstone(t *testing.T) {
	st := s.stream(t, "tombstone")
	mustAppend(t, s.store, st, eventstore.NoStream, Events("test.a", 2)...)
	if err := s.store.Tombstone(ctx, st, eventstore.Exact(1)); err != nil {
		t.Fatalf("tombstone: %v", err)
	}
	wantErr(t, firstErr(s.store.ReadStream(ctx, st, eventstore.ReadStreamOptions{})), eventstore.ErrStreamDeleted)
	for _, expected := range []eventstore.ExpectedRevision{eventstore.Any, eventstore.NoStream, eventstore.Exact(1)} {
		_, err := s.store.Append(ctx, st, expected, Event("test.b", 0))
		wantErr(t, err, eventstore.ErrStreamDeleted)
	}
	wantErr(t, s.store.Delete(ctx, st, eventstore.Any), eventstore.ErrStreamDeleted)
	wantErr(t, s.store.Tombstone(ctx, st, eventstore.Any), eventstore.ErrStreamDeleted)
}

func (s *suite) tombstoneExpected(t *testing.T) {
	st := s.stream(t, "tombstone-expected")
	mustAppend(t, s.store, st, eventstore.NoStream, Events("test.a", 2)...)
	wantWrongVersion(t, s.store.Tombstone(ctx, st, eventstore.Exact(0)), st, 1, true)
	if n := len(readStream(t, s.store, st, eventstore.ReadStreamOptions{})); n != 2 {
		t.Fatalf("stream has %d events after a refused tombstone, want 2", n)
	}
}

func (s *suite) cancelledContext(t *testing.T) {
	st := s.stream(t, "cancelled")
	c, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.store.Append(c, st, eventstore.NoStream, Event("test.a", 0))
	wantErr(t, err, context.Canceled)
	wantErr(t, firstErr(s.store.ReadStream(ctx, st, eventstore.ReadStreamOptions{})), eventstore.ErrStreamNotFound)
	mustAppend(t, s.store, st, eventstore.NoStream, Event("test.a", 1))
	wantErr(t, firstErr(s.store.ReadStream(c, st, eventstore.ReadStreamOptions{})), context.Canceled)
	wantErr(t, firstErr(s.store.ReadAll(c, eventstore.ReadAllOptions{})), context.Canceled)
	_, err = s.store.Head(c)
	wantErr(t, err, context.Canceled)
	wantErr(t, s.store.Delete(c, st, eventstore.Any), context.Canceled)
	if n := len(readStream(t, s.store, st, eventstore.ReadStreamOptions{})); n != 1 {
		t.Fatalf("stream has %d events after a cancelled delete, want 1", n)
	}
}

func (s *suite) closedStore(t *testing.T) {
	store := s.open(t)
	st := s.stream(t, "closed")
	mustAppend(t, store, st, eventstore.NoStream, Event("test.a", 0))
	if err := store.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	_, err := store.Append(ctx, st, eventstore.Any, Event("test.b", 1))
	wantErr(t, err, eventstore.ErrClosed)
	wantErr(t, firstErr(store.ReadStream(ctx, st, eventstore.ReadStreamOptions{})), eventstore.ErrClosed)
	wantErr(t, firstErr(store.ReadAll(ctx, eventstore.ReadAllOptions{})), eventstore.ErrClosed)
	wantErr(t, firstErr(store.SubscribeToAll(ctx, eventstore.Start)), eventstore.ErrClosed)
	wantErr(t, firstErr(store.SubscribeToStream(ctx, st, 0)), eventstore.ErrClosed)
	wantErr(t, store.Delete(ctx, st, eventstore.Any), eventstore.ErrClosed)
	wantErr(t, store.Tombstone(ctx, st, eventstore.Any), eventstore.ErrClosed)
	_, err = store.Head(ctx)
	wantErr(t, err, eventstore.ErrClosed)
	_ = store.Close() // a second Close must not panic or hang
}

func (s *suite) closeEndsSubscriptions(t *testing.T) {
	store := s.open(t)
	st := s.stream(t, "close-sub")
	mustAppend(t, store, st, eventstore.NoStream, Event("test.a", 0))
	all := subscribe(t, func(c context.Context) iter.Seq2[eventstore.Message, error] {
		return store.SubscribeToAll(c, eventstore.Start)
	})
	one := subscribe(t, func(c context.Context) iter.Seq2[eventstore.Message, error] {
		return store.SubscribeToStream(c, st, 0)
	})
	all.untilCaughtUp(t, st)
	one.untilCaughtUp(t, st)
	if err := store.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	wantErr(t, all.waitErr(t), eventstore.ErrClosed)
	wantErr(t, one.waitErr(t), eventstore.ErrClosed)
}
