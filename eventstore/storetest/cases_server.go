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
