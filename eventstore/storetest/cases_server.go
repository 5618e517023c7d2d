package storetest

import (
	"testing"

	"github.com/google/uuid"

	"waystation/eventstore"
)

// The cases in this file pin what the EventStoreDB stand-in (esdbtest) once
// answered differently from a real server, so that a backend (or a stand-in)
// that drifts from the contract shows it here.

// ownPositions: given one append of several events, then every event has a
// position of its own, the same in a stream read and in the global log, and
// the append answers the position of its last event.
func (s *suite) ownPositions(t *testing.T) {
	st := s.stream(t, "own-positions")
	evs := Events("test.a", 4)
	res := mustAppend(t, s.store, st, eventstore.NoStream, evs...)
	got := readStream(t, s.store, st, eventstore.ReadStreamOptions{})
	wantIDs(t, got, dataIDs(evs))
	for i := 1; i < len(got); i++ {
		if !got[i-1].Position.Before(got[i].Position) {
			t.Fatalf("events %d and %d of one append: position %s is not before %s", i-1, i, got[i-1].Position, got[i].Position)
		}
		if got[i-1].Position.Commit == got[i].Position.Commit {
			t.Fatalf("events %d and %d of one append share commit position %d", i-1, i, got[i].Position.Commit)
		}
	}
	if last := got[len(got)-1].Position; res.Position != last {
		t.Fatalf("append answered position %s, want its last event's %s", res.Position, last)
	}
	all := readAllOf(t, s.store, st, eventstore.ReadAllOptions{From: eventstore.Start})
	wantIDs(t, all, dataIDs(evs))
	for i := range all {
		if all[i].Position != got[i].Position {
			t.Fatalf("event %d: position %s in the global log, %s in its stream", i, all[i].Position, got[i].Position)
		}
	}
}

// readAllFromOwnPosition: given an append of five events, when the global
// log is read from the position of the middle one, then forwards yields the
// events after it and backwards the events before it, the event itself in
// neither, also within one append.
func (s *suite) readAllFromOwnPosition(t *testing.T) {
	prefix := s.stream(t, "all-own")
	before := Event("test.a", 0)
	mustAppend(t, s.store, prefix+"-a", eventstore.NoStream, before)
	evs := Events("test.b", 5)
	mustAppend(t, s.store, prefix+"-b", eventstore.NoStream, evs...)
	after := Event("test.c", 0)
	mustAppend(t, s.store, prefix+"-c", eventstore.NoStream, after)
	stored := readStream(t, s.store, prefix+"-b", eventstore.ReadStreamOptions{})
	mid := stored[2].Position

	got := readAllOf(t, s.store, prefix, eventstore.ReadAllOptions{From: mid})
	wantIDs(t, got, []uuid.UUID{evs[3].ID, evs[4].ID, after.ID})
	got = readAllOf(t, s.store, prefix, eventstore.ReadAllOptions{From: mid, Limit: 1})
	wantIDs(t, got, []uuid.UUID{evs[3].ID})
	got = readAllOf(t, s.store, prefix, eventstore.ReadAllOptions{Direction: eventstore.Backwards, From: mid})
	wantIDs(t, got, []uuid.UUID{evs[1].ID, evs[0].ID, before.ID})
	got = readAllOf(t, s.store, prefix, eventstore.ReadAllOptions{Direction: eventstore.Backwards, From: mid, Limit: 1})
	wantIDs(t, got, []uuid.UUID{evs[1].ID})
	last := stored[4].Position
	got = readAllOf(t, s.store, prefix, eventstore.ReadAllOptions{From: last})
	wantIDs(t, got, []uuid.UUID{after.ID})
}

// deleteRecreateSequence walks the delete and recreate sequence of
// esdbclient's test_stream_delete_with_current_version and
// test_stream_delete_expecting_stream_exists (tests/test_client.py), with
// the contract's answers: a stream that never existed is not found, a
// deleted one reads as not found and is missing for StreamExists and for
// a stale revision, recreation continues its revisions, a second delete
// needs the recreated revision, and a tombstone ends it all. Where
// DeletedStreamsKeepTheirRevision applies, deleting again at the deleted
// revision succeeds.
func (s *suite) deleteRecreateSequence(t *testing.T) {
	st := s.stream(t, "delete-sequence")
	wantErr(t, s.store.Delete(ctx, st, eventstore.Any), eventstore.ErrStreamNotFound)
	wantErr(t, s.store.Delete(ctx, st, eventstore.NoStream), eventstore.ErrStreamNotFound)
	mustAppend(t, s.store, st, eventstore.NoStream, Events("test.a", 2)...)
	wantWrongVersion(t, s.store.Delete(ctx, st, eventstore.Exact(0)), st, 1, true)
	if err := s.store.Delete(ctx, st, eventstore.Exact(1)); err != nil {
		t.Fatalf("delete at revision 1: %v", err)
	}
	wantErr(t, firstErr(s.store.ReadStream(ctx, st, eventstore.ReadStreamOptions{})), eventstore.ErrStreamNotFound)
	again := s.store.Delete(ctx, st, eventstore.Exact(1))
	if s.limits.DeletedStreamsKeepTheirRevision {
		if again != nil {
			t.Fatalf("delete repeated at revision 1: got %v, want success (DeletedStreamsKeepTheirRevision)", again)
		}
	} else {
		wantWrongVersion(t, again, st, 0, false)
	}
	wantWrongVersion(t, s.store.Delete(ctx, st, eventstore.Exact(0)), st, 0, false)
	wantWrongVersion(t, s.store.Delete(ctx, st, eventstore.StreamExists), st, 0, false)
	_, err := s.store.Append(ctx, st, eventstore.Exact(0), Event("test.b", 0))
	wantWrongVersion(t, err, st, 0, false)
	_, err = s.store.Append(ctx, st, eventstore.StreamExists, Event("test.b", 0))
	wantWrongVersion(t, err, st, 0, false)

	recreated := Events("test.c", 2)
	if res := mustAppend(t, s.store, st, eventstore.NoStream, recreated[0]); res.NextExpectedRevision != 2 {
		t.Fatalf("recreating append: next expected revision %d, want 2", res.NextExpectedRevision)
	}
	mustAppend(t, s.store, st, eventstore.Exact(2), recreated[1])
	got := readStream(t, s.store, st, eventstore.ReadStreamOptions{})
	wantIDs(t, got, dataIDs(recreated))
	if !equalU64(revisions(got), []uint64{2, 3}) {
		t.Fatalf("recreated stream: revisions %v, want [2 3]", revisions(got))
	}
	wantWrongVersion(t, s.store.Delete(ctx, st, eventstore.Exact(1)), st, 3, true)
	if err := s.store.Delete(ctx, st, eventstore.StreamExists); err != nil {
		t.Fatalf("delete of the recreated stream with StreamExists: %v", err)
	}
	wantWrongVersion(t, s.store.Delete(ctx, st, eventstore.StreamExists), st, 0, false)
	if res := mustAppend(t, s.store, st, eventstore.Any, Event("test.d", 0)); res.NextExpectedRevision != 4 {
		t.Fatalf("append with Any after the second delete: next expected revision %d, want 4", res.NextExpectedRevision)
	}
	if err := s.store.Tombstone(ctx, st, eventstore.Any); err != nil {
		t.Fatalf("tombstone: %v", err)
	}
	wantErr(t, s.store.Delete(ctx, st, eventstore.Any), eventstore.ErrStreamDeleted)
	wantErr(t, s.store.Delete(ctx, st, eventstore.StreamExists), eventstore.ErrStreamDeleted)
	_, err = s.store.Append(ctx, st, eventstore.NoStream, Event("test.e", 0))
	wantErr(t, err, eventstore.ErrStreamDeleted)
	wantErr(t, firstErr(s.store.ReadStream(ctx, st, eventstore.ReadStreamOptions{})), eventstore.ErrStreamDeleted)
}

// tombstoneNeverWritten: tombstoning a stream that was never written
// reserves its name (esdbclient's test_tombstone_stream_with_any_current_version).
func (s *suite) tombstoneNeverWritten(t *testing.T) {
	st := s.stream(t, "tombstone-never")
	if err := s.store.Tombstone(ctx, st, eventstore.Any); err != nil {
		t.Fatalf("tombstone of a stream never written: %v", err)
	}
	_, err := s.store.Append(ctx, st, eventstore.NoStream, Event("test.a", 0))
	wantErr(t, err, eventstore.ErrStreamDeleted)
	wantErr(t, s.store.Tombstone(ctx, st, eventstore.Any), eventstore.ErrStreamDeleted)
}

// maxEventSize is the contract's limit on one event's data plus metadata.
const maxEventSize = 16 << 20

// sizeLimit: given the backend's size limit (Limits.MaxAppendSize as
// EventStoreDB counts it, else 16 MiB of data and metadata per event),
// an event exactly at it is written and read back whole, and one byte more
// is refused with ErrInvalid, writing nothing.
func (s *suite) sizeLimit(t *testing.T) {
	const typ = "test.big"
	meta := []byte(`{}`)
	dataSize := maxEventSize - len(meta)
	if s.limits.MaxAppendSize > 0 {
		dataSize = min(dataSize, s.limits.MaxAppendSize-len(meta)-2*len(typ))
	}
	big := func(n int) eventstore.EventData {
		data := make([]byte, 0, n)
		data = append(data, `{"blob":"`...)
		for len(data) < n-2 {
			data = append(data, byte('a'+len(data)%26))
		}
		data = append(data, `"}`...)
		return eventstore.EventData{ID: uuid.New(), Type: typ, Data: data, Metadata: meta}
	}
	over := s.stream(t, "too-big")
	_, err := s.store.Append(ctx, over, eventstore.NoStream, big(dataSize+1))
	wantErr(t, err, eventstore.ErrInvalid)
	wantErr(t, firstErr(s.store.ReadStream(ctx, over, eventstore.ReadStreamOptions{})), eventstore.ErrStreamNotFound)

	st := s.stream(t, "big")
	ev := big(dataSize)
	mustAppend(t, s.store, st, eventstore.NoStream, ev)
	got := readStream(t, s.store, st, eventstore.ReadStreamOptions{})
	if len(got) != 1 {
		t.Fatalf("got %d events, want 1", len(got))
	}
	equalEvent(t, got[0], ev, st, 0)
	if s.limits.MaxAppendSize > 0 {
		// The limit is on the whole append: two events that fit alone do not fit together.
		half := big(dataSize / 2)
		_, err := s.store.Append(ctx, st, eventstore.Exact(0), half, big(dataSize/2+len(meta)+2*len(typ)+1))
		wantErr(t, err, eventstore.ErrInvalid)
		if n := len(readStream(t, s.store, st, eventstore.ReadStreamOptions{})); n != 1 {
			t.Fatalf("stream has %d events after a refused append, want 1", n)
		}
	}
}
