// Package storetest is the contract suite that every eventstore.Store
// backend passes. A backend's tests call Run (and RunCheckpoints) with a
// function that opens a store; the suite writes only to streams named with
// a prefix unique to the run, so it can share a store with other data.
//
// Besides cases that each pin one rule, the suite runs random histories
// against an in-memory model of the contract (model.go): appends with
// every kind of expected revision, retries, soft deletes, tombstones,
// reads from every revision in both directions, reads of the global log
// and subscriptions. The histories come from fixed seeds; a failure names
// its seed and the operations that led to it, and SeedVariable reruns it.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/eventstore"
)

// Open returns a store for the suite. It may return a fresh store or one
// shared with other data and other calls; it must arrange, with t.Cleanup,
// for the store to be closed, and Close must be safe to call twice (the
// closed-store cases close their own store first).
type Open func(t testing.TB) eventstore.Store

// guard bounds how long the suite waits for something that must happen,
// so that a broken backend fails instead of hanging. It is a liveness
// bound, never a speed requirement.
const guard = 30 * time.Second

// suite is the state of one run.
type suite struct {
	open   Open
	store  eventstore.Store
	prefix string
	limits Limits
}

// Limits declares documented ways in which a backend falls short of the
// Store contract. Each one skips the cases it covers, saying why in the
// test log, so that a shortfall is visible rather than silently tolerated.
// The zero Limits is the full contract.
type Limits struct {
	// EventIDsPerStream: the backend recognises stored event IDs only
	// within one stream, so an append that reuses IDs stored in another
	// stream is written instead of refused (EventStoreDB keeps no global
	// event-ID index).
	EventIDsPerStream bool
	// RetriesOnlyWhereTheyLand: the backend looks for stored event IDs
	// only where a retry of the same append can have landed (just after
	// the expected revision, or the first live revisions for NoStream;
	// near the stream's end for Any and StreamExists), not in the whole
	// stream, so that an append costs the same however long the stream
	// is. An append at the stream's current revision that reuses IDs
	// stored earlier in the stream is written instead of refused.
	RetriesOnlyWhereTheyLand bool
	// DeletedStreamsKeepTheirRevision: a soft-deleted stream that was not
	// recreated still counts its deleted events in the expected-revision
	// check of a write, so an append, delete or tombstone at the revision
	// of its last deleted event succeeds (the append recreates the
	// stream), and deleting it again with Any or NoStream succeeds and
	// changes nothing, where the contract answers a wrong expected version
	// (the stream is missing) or ErrStreamNotFound. EventStoreDB compares
	// the expected revision with the stream's last event number, deleted
	// or not (IndexWriter.CheckCommit; esdbclient's
	// test_stream_delete_with_current_version deletes twice at revision
	// 1, test_stream_delete_with_any_current_version appends at revision 1
	// after the delete), and the adapter cannot refuse these without
	// reading the stream first, which would race with other writers.
	DeletedStreamsKeepTheirRevision bool
	// MaxAppendSize, when set, is the most one append may carry, counted
	// as EventStoreDB counts its MaxAppendSize (each event's data and
	// metadata bytes plus twice its type name): a larger append is
	// refused with ErrInvalid and writes nothing. Zero: only the
	// contract's own limit of 16 MiB of data and metadata per event.
	MaxAppendSize int
}

// Run runs the full contract suite against the stores that open returns.
func Run(t *testing.T, open Open) { RunWith(t, open, Limits{}) }

// RunWith runs the contract suite, skipping the cases that limits excuse.
func RunWith(t *testing.T, open Open, limits Limits) {
	s := &suite{open: open, store: open(t), prefix: "storetest-" + uuid.NewString()[:8] + "-", limits: limits}
	for _, c := range s.cases() {
		t.Run(c.name, func(t *testing.T) { c.run(t) })
	}
}

type testCase struct {
	name string
	run  func(t *testing.T)
}

// stream returns a stream name unique to this run and to name.
func (s *suite) stream(t testing.TB, name string) string {
	t.Helper()
	return s.prefix + name + "-" + uuid.NewString()[:8]
}

// Event returns an event with a fresh ID, the given type and a small JSON
// payload that carries n.
func Event(typ string, n int) eventstore.EventData {
	return eventstore.EventData{
		ID:       uuid.New(),
		Type:     typ,
		Data:     fmt.Appendf(nil, `{"n":%d}`, n),
		Metadata: fmt.Appendf(nil, `{"schema":1,"n":%d}`, n),
	}
}

// Events returns n events of type typ numbered from 0.
func Events(typ string, n int) []eventstore.EventData {
	out := make([]eventstore.EventData, n)
	for i := range out {
		out[i] = Event(typ, i)
	}
	return out
}

// Collect drains an iterator into a slice, stopping at the first error.
func Collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

func mustAppend(
	t testing.TB, st eventstore.Store, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData,
) eventstore.AppendResult {
	t.Helper()
	res, err := st.Append(context.Background(), stream, expected, events...)
	if err != nil {
		t.Fatalf("append to %s with %s: %v", stream, expected, err)
	}
	return res
}

func readStream(
	t testing.TB, st eventstore.Store, stream string, opts eventstore.ReadStreamOptions,
) []eventstore.RecordedEvent {
	t.Helper()
	got, err := Collect(st.ReadStream(context.Background(), stream, opts))
	if err != nil {
		t.Fatalf("read %s: %v", stream, err)
	}
	return got
}

// readAllOf reads the global log with opts and keeps the events of streams
// with the given prefix.
func readAllOf(
	t testing.TB, st eventstore.Store, prefix string, opts eventstore.ReadAllOptions,
) []eventstore.RecordedEvent {
	t.Helper()
	var out []eventstore.RecordedEvent
	for e, err := range st.ReadAll(context.Background(), opts) {
		if err != nil {
			t.Fatalf("read all: %v", err)
		}
		if strings.HasPrefix(e.Stream, prefix) {
			out = append(out, e)
		}
	}
	return out
}

func ids(events []eventstore.RecordedEvent) []uuid.UUID {
	out := make([]uuid.UUID, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}

func dataIDs(events []eventstore.EventData) []uuid.UUID {
	out := make([]uuid.UUID, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}

func revisions(events []eventstore.RecordedEvent) []uint64 {
	out := make([]uint64, len(events))
	for i, e := range events {
		out[i] = e.Revision
	}
	return out
}

func wantIDs(t testing.TB, got []eventstore.RecordedEvent, want []uuid.UUID) {
	t.Helper()
	if !slices.Equal(ids(got), want) {
		t.Fatalf("event IDs:\n got %v\nwant %v", ids(got), want)
	}
}

func wantWrongVersion(t testing.TB, err error, stream string, actual uint64, exists bool) {
	t.Helper()
	var wev *eventstore.WrongExpectedVersionError
	if !errors.Is(err, eventstore.ErrWrongExpectedVersion) || !errors.As(err, &wev) {
		t.Fatalf("got error %v, want a *WrongExpectedVersionError", err)
	}
	if wev.Stream != stream || wev.ActualExists != exists || (exists && wev.Actual != actual) {
		t.Fatalf("got %+v, want stream %s, actual %d, exists %v", *wev, stream, actual, exists)
	}
}

func wantErr(t testing.TB, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
}

// firstErr returns the first error an iterator yields.
func firstErr[T any](seq iter.Seq2[T, error]) error {
	for _, err := range seq {
		if err != nil {
			return err
		}
	}
	return nil
}

func head(t testing.TB, st eventstore.Store) eventstore.Position {
	t.Helper()
	p, err := st.Head(context.Background())
	if err != nil {
		t.Fatalf("head: %v", err)
	}
	return p
}

// subscription runs a subscription in a goroutine and hands its messages
// over a channel.
type subscription struct {
	msgs   chan eventstore.Message
	errs   chan error
	ended  chan struct{}
	cancel context.CancelFunc
}

func subscribe(t testing.TB, seq func(ctx context.Context) iter.Seq2[eventstore.Message, error]) *subscription {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sub := &subscription{
		msgs: make(chan eventstore.Message), errs: make(chan error, 1), ended: make(chan struct{}), cancel: cancel,
	}
	go func() {
		defer close(sub.ended)
		for m, err := range seq(ctx) {
			if err != nil {
				sub.errs <- err
				return
			}
			select {
			case sub.msgs <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-sub.ended
	})
	return sub
}

// next returns the next message, failing the test if the subscription
// ends or errs instead.
func (sub *subscription) next(t testing.TB) eventstore.Message {
	t.Helper()
	select {
	case m := <-sub.msgs:
		return m
	case err := <-sub.errs:
		t.Fatalf("subscription failed: %v", err)
	case <-sub.ended:
		t.Fatal("subscription ended early")
	case <-time.After(guard):
		t.Fatal("subscription delivered nothing")
	}
	return eventstore.Message{}
}

// events returns the next n events of streams with prefix, skipping other
// streams' events and noting whether CaughtUp was seen on the way.
func (sub *subscription) events(t testing.TB, prefix string, n int) (got []eventstore.RecordedEvent, caughtUp int) {
	t.Helper()
	for len(got) < n {
		m := sub.next(t)
		switch {
		case m.CaughtUp:
			caughtUp++
		case m.Event != nil && strings.HasPrefix(m.Event.Stream, prefix):
			got = append(got, *m.Event)
		}
	}
	return got, caughtUp
}

// untilCaughtUp returns the events of streams with prefix delivered before
// the CaughtUp marker.
func (sub *subscription) untilCaughtUp(t testing.TB, prefix string) []eventstore.RecordedEvent {
	t.Helper()
	var got []eventstore.RecordedEvent
	for {
		m := sub.next(t)
		if m.CaughtUp {
			return got
		}
		if m.Event != nil && strings.HasPrefix(m.Event.Stream, prefix) {
			got = append(got, *m.Event)
		}
	}
}

// waitEnd fails unless the subscription ends without error.
func (sub *subscription) waitEnd(t testing.TB) {
	t.Helper()
	for {
		select {
		case <-sub.ended:
			select {
			case err := <-sub.errs:
				t.Fatalf("subscription ended with %v, want no error", err)
			default:
			}
			return
		case <-sub.msgs:
		case <-time.After(guard):
			t.Fatal("subscription did not end")
		}
	}
}

// waitErr returns the error the subscription ends with.
func (sub *subscription) waitErr(t testing.TB) error {
	t.Helper()
	for {
		select {
		case err := <-sub.errs:
			return err
		case <-sub.ended:
			select {
			case err := <-sub.errs:
				return err
			default:
				return nil
			}
		case <-sub.msgs:
		case <-time.After(guard):
			t.Fatal("subscription did not end")
		}
	}
}

func equalEvent(t testing.TB, got eventstore.RecordedEvent, want eventstore.EventData, stream string, rev uint64) {
	t.Helper()
	if got.ID != want.ID || got.Type != want.Type || got.Stream != stream || got.Revision != rev ||
		!bytes.Equal(got.Data, want.Data) || !bytes.Equal(got.Metadata, want.Metadata) {
		t.Fatalf("got event %s %s %s@%d (%d data bytes), want %s %s %s@%d (%d data bytes)",
			got.ID, got.Type, got.Stream, got.Revision, len(got.Data),
			want.ID, want.Type, stream, rev, len(want.Data))
	}
	if got.RecordedAt.IsZero() || got.Position.IsZero() {
		t.Fatalf("event %s has no recorded time or position: %v %v", got.ID, got.RecordedAt, got.Position)
	}
}
