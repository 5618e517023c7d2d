package esdb

import (
	"context"
	"fmt"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"waystation/eventstore"
)

// conflict explains a wrong-expected-version answer to an append of
// events. With Exact(r) or NoStream it reads the n revisions where a
// retry would be (r+1..r+n, or the first n live ones): the same IDs in the
// same order there are a retry and give the original result, some of them
// an idempotency conflict, none a wrong expected version with the
// stream's actual revision. With StreamExists (Any is never refused) it
// reports the stream's actual state.
func (s *Store) conflict(
	ctx context.Context, client *esdb.Client, stream string, expected eventstore.ExpectedRevision,
	events []eventstore.EventData,
) (eventstore.AppendResult, error) {
	r, exact := expected.Revision()
	if exact || expected.IsNoStream() {
		from := uint64(0)
		if exact {
			from = r + 1
		}
		stored, err := s.readRange(ctx, client, stream, from, len(events))
		if err != nil {
			return eventstore.AppendResult{}, err
		}
		switch {
		case sameEvents(stored, events):
			return resultOf(stored), nil
		case overlaps(stored, events):
			return eventstore.AppendResult{}, fmt.Errorf("%w: stream %s", eventstore.ErrIdempotencyConflict, stream)
		case len(stored) > 0 && len(stored) < len(events):
			// The read ran out before n events: the last one is the end.
			return eventstore.AppendResult{}, wrongVersion(stream, expected, stored[len(stored)-1], true)
		}
	}
	last, ok, err := s.last(ctx, client, stream)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	return eventstore.AppendResult{}, wrongVersion(stream, expected, last, ok)
}

// recent looks for events among the last RetryWindow+n-1 events of
// stream. found is true with the original result when all of them are
// stored there consecutively in order; err is ErrIdempotencyConflict when
// some of them are stored otherwise; neither when none is in the window.
// Reads are bounded by the window and n, never by the stream's length.
func (s *Store) recent(
	ctx context.Context, client *esdb.Client, stream string, events []eventstore.EventData,
) (_ eventstore.AppendResult, found bool, _ error) {
	window, err := s.readBack(ctx, client, stream, RetryWindow+len(events)-1)
	if err != nil || len(window) == 0 {
		return eventstore.AppendResult{}, false, err
	}
	// window is newest first; find the batch's first event in it that is
	// stored, which fixes where the batch would begin.
	at := make(map[uuid.UUID]uint64, len(window))
	for _, e := range window {
		at[e.ID] = e.Revision
	}
	start, hit := uint64(0), false
	for i, ev := range events {
		if rev, ok := at[ev.ID]; ok {
			if rev < uint64(i) {
				return eventstore.AppendResult{}, false, fmt.Errorf("%w: stream %s", eventstore.ErrIdempotencyConflict, stream)
			}
			start, hit = rev-uint64(i), true
			break
		}
	}
	if !hit {
		return eventstore.AppendResult{}, false, nil
	}
	var stored []eventstore.RecordedEvent
	if oldest := window[len(window)-1].Revision; start >= oldest {
		for i := len(window) - 1; i >= 0 && len(stored) < len(events); i-- {
			if window[i].Revision >= start {
				stored = append(stored, window[i])
			}
		}
	} else if stored, err = s.readRange(ctx, client, stream, start, len(events)); err != nil {
		// The batch would begin before the window: read just its place.
		return eventstore.AppendResult{}, false, err
	}
	if !sameEvents(stored, events) {
		return eventstore.AppendResult{}, false, fmt.Errorf("%w: stream %s", eventstore.ErrIdempotencyConflict, stream)
	}
	return resultOf(stored), true, nil
}

// sameEvents reports whether stored holds exactly events' IDs, in order.
func sameEvents(stored []eventstore.RecordedEvent, events []eventstore.EventData) bool {
	if len(stored) != len(events) {
		return false
	}
	for i := range events {
		if stored[i].ID != events[i].ID {
			return false
		}
	}
	return true
}

// overlaps reports whether any of events' IDs is in stored.
func overlaps(stored []eventstore.RecordedEvent, events []eventstore.EventData) bool {
	ids := make(map[uuid.UUID]bool, len(events))
	for _, ev := range events {
		ids[ev.ID] = true
	}
	for _, e := range stored {
		if ids[e.ID] {
			return true
		}
	}
	return false
}

// resultOf is the result of the append that wrote stored (not empty).
func resultOf(stored []eventstore.RecordedEvent) eventstore.AppendResult {
	last := stored[len(stored)-1]
	return eventstore.AppendResult{NextExpectedRevision: last.Revision, Position: last.Position}
}

func wrongVersion(
	stream string, expected eventstore.ExpectedRevision, last eventstore.RecordedEvent, exists bool,
) error {
	e := &eventstore.WrongExpectedVersionError{Stream: stream, Expected: expected, ActualExists: exists}
	if exists {
		e.Actual = last.Revision
	}
	return e
}

// satisfies reports whether a stream whose last live event is last
// (exists false: missing) meets expected.
func satisfies(expected eventstore.ExpectedRevision, last eventstore.RecordedEvent, exists bool) bool {
	switch {
	case expected.IsAny():
		return true
	case expected.IsNoStream():
		return !exists
	case expected.IsStreamExists():
		return exists
	}
	r, _ := expected.Revision()
	return exists && last.Revision == r
}

// appendNothing answers an empty append from the stream's current state.
func (s *Store) appendNothing(
	ctx context.Context, client *esdb.Client, stream string, expected eventstore.ExpectedRevision,
) (eventstore.AppendResult, error) {
	last, ok, err := s.last(ctx, client, stream)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	if !satisfies(expected, last, ok) {
		return eventstore.AppendResult{}, wrongVersion(stream, expected, last, ok)
	}
	if !ok {
		return eventstore.AppendResult{}, nil
	}
	return eventstore.AppendResult{NextExpectedRevision: last.Revision, Position: last.Position}, nil
}
