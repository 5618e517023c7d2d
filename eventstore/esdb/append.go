package esdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"waystation/eventstore"
)

// RetryWindow is how far back an append with eventstore.Any or
// eventstore.StreamExists looks for its own event IDs before it is sent:
// such an append is recognised as a retry (original result, nothing
// written) while the original's last event is among the stream's last
// RetryWindow events. Before sending it, Append reads the stream's last
// RetryWindow+n-1 events (n events appended), whatever the stream's
// length. A retry that arrives after the stream has grown further is
// still recognised while the server has its IDs in its own recent-commit
// cache; after that it is written a second time.
const RetryWindow = 32

// Append implements eventstore.Store. Every event keeps the ID the caller
// gave it, and the cost of an append does not grow with the stream:
//
//   - With Exact(r) or NoStream the append is sent at once: the only place
//     a retry of it can have landed is revisions r+1..r+n (the first n
//     live revisions for NoStream), which the server checks itself. On a
//     wrong-expected-version answer Append reads just those n revisions
//     to tell a retry (the same IDs in the same order: the original
//     result, nothing written), a partial overlap (ErrIdempotencyConflict)
//     and a real conflict (*eventstore.WrongExpectedVersionError with the
//     stream's actual revision) apart. The concurrency rules, the bed race
//     included, rest on the server's check of the expected revision.
//   - With Any or StreamExists, Append first reads the last
//     RetryWindow+n-1 events of the stream, answers a retry found there
//     with the original result and refuses a partial overlap, and
//     otherwise sends the append.
//
// What this backend does not promise (storetest.Limits
// EventIDsPerStream and RetriesOnlyWhereTheyLand): event IDs stored in
// another stream, IDs stored earlier in the same stream by an append at
// another revision, and an Any or StreamExists retry older than
// RetryWindow events are not recognised; such an append is written (or,
// with a stale expected revision, refused as a wrong expected version).
// Appends go to the leader.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	res, _, err := s.append(ctx, stream, expected, events)
	return res, err
}

// append is Append that also says whether it wrote the events: false for
// an empty append and for a retry the adapter recognised. A retry the
// server recognises on its own and answers like a write (with a position)
// counts as written.
func (s *Store) append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events []eventstore.EventData) (_ eventstore.AppendResult, wrote bool, err error) {
	if err := validStream(stream); err != nil {
		return eventstore.AppendResult{}, false, err
	}
	proposed, err := propose(events)
	if err != nil {
		return eventstore.AppendResult{}, false, err
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	pause := s.retry
	for attempt := 1; ; attempt++ {
		res, wrote, err := s.appendOnce(ctx, stream, expected, events, proposed)
		if err == nil || attempt == appendAttempts || !transient(err) || ctx.Err() != nil || s.isClosed() {
			return res, wrote, err
		}
		// The connection failed (a node restart, a leader election): the
		// events may or may not have been written. Sending them again is
		// safe, since a retry is recognised by its event IDs.
		s.logger.Warn("esdb: append failed on the connection, retrying", "stream", stream, "attempt", attempt, "error", err)
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return res, wrote, err
		case <-t.C:
		}
		pause = min(2*pause, maxRetryInterval)
	}
}

// appendAttempts bounds how many times append sends one request when the
// connection fails under it.
const appendAttempts = 3

// appendOnce is one attempt of append on the current connection.
func (s *Store) appendOnce(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events []eventstore.EventData, proposed []esdb.EventData) (_ eventstore.AppendResult, wrote bool, err error) {
	client, release, err := s.conn()
	if err != nil {
		return eventstore.AppendResult{}, false, err
	}
	defer release()
	if len(events) == 0 {
		res, err := s.appendNothing(ctx, client, stream, expected)
		return res, false, err
	}
	began := time.Now()
	if expected.IsAny() || expected.IsStreamExists() {
		// The server recognises these retries only while the IDs are in
		// its recent cache: look for them at the end of the stream.
		res, found, err := s.recent(ctx, client, stream, events)
		if found || err != nil {
			return res, false, err
		}
	}
	res, err := client.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{
		ExpectedRevision: toExpected(expected),
		RequiresLeader:   true,
	}, proposed...)
	if err != nil {
		var e *esdb.Error
		if !errors.As(err, &e) || e.Code() != esdb.ErrorCodeWrongExpectedVersion {
			return eventstore.AppendResult{}, false, s.fail(ctx, client, "append", err)
		}
		res, err := s.conflict(ctx, client, stream, expected, events)
		return res, false, err
	}
	out := eventstore.AppendResult{
		NextExpectedRevision: res.NextExpectedVersion,
		Position:             eventstore.Position{Commit: res.CommitPosition, Prepare: res.PreparePosition},
	}
	if out.Position.IsZero() {
		// The server recognised a retry and answered without a position:
		// the original events end at the revision it names.
		n := uint64(len(events))
		if res.NextExpectedVersion+1 < n {
			return eventstore.AppendResult{}, false, fmt.Errorf("esdb: append to %s: the server acknowledged events it does not return", stream)
		}
		stored, err := s.readRange(ctx, client, stream, res.NextExpectedVersion+1-n, len(events))
		if err != nil {
			return eventstore.AppendResult{}, false, err
		}
		if sameEvents(stored, events) {
			return resultOf(stored), false, nil
		}
		return eventstore.AppendResult{}, false, fmt.Errorf("esdb: append to %s: the server acknowledged events it does not return", stream)
	}
	if s.observer != nil {
		s.observer.ObserveBatch(len(events), 1, 0, time.Since(began))
	}
	return out, true, nil
}

// propose checks events and converts them for the client library, keeping
// every event's ID (the client would otherwise invent one).
func propose(events []eventstore.EventData) ([]esdb.EventData, error) {
	proposed := make([]esdb.EventData, len(events))
	seen := make(map[uuid.UUID]bool, len(events))
	for i, ev := range events {
		switch {
		case seen[ev.ID]:
			return nil, fmt.Errorf("%w: event %d repeats an event ID", eventstore.ErrInvalid, i)
		case ev.ID == uuid.Nil:
			return nil, fmt.Errorf("%w: event %d has no ID", eventstore.ErrInvalid, i)
		case ev.Type == "":
			return nil, fmt.Errorf("%w: event %d has no type", eventstore.ErrInvalid, i)
		case strings.HasPrefix(ev.Type, "$"):
			return nil, fmt.Errorf("%w: event types starting with $ belong to the server", eventstore.ErrInvalid)
		case len(ev.Data)+len(ev.Metadata) > MaxEventSize:
			return nil, fmt.Errorf("%w: event %d is larger than %d bytes", eventstore.ErrInvalid, i, MaxEventSize)
		}
		seen[ev.ID] = true
		proposed[i] = esdb.EventData{
			EventID:     ev.ID,
			EventType:   ev.Type,
			ContentType: esdb.ContentTypeJson,
			Data:        ev.Data,
			Metadata:    ev.Metadata,
		}
	}
	return proposed, nil
}

// conflict explains a wrong-expected-version answer to an append of
// events. With Exact(r) or NoStream it reads the n revisions where a
// retry would be (r+1..r+n, or the first n live ones): the same IDs in the
// same order there are a retry and give the original result, some of them
// an idempotency conflict, none a wrong expected version with the
// stream's actual revision. With StreamExists (Any is never refused) it
// reports the stream's actual state.
func (s *Store) conflict(ctx context.Context, client *esdb.Client, stream string, expected eventstore.ExpectedRevision, events []eventstore.EventData) (eventstore.AppendResult, error) {
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
func (s *Store) recent(ctx context.Context, client *esdb.Client, stream string, events []eventstore.EventData) (_ eventstore.AppendResult, found bool, _ error) {
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

func wrongVersion(stream string, expected eventstore.ExpectedRevision, last eventstore.RecordedEvent, exists bool) error {
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
func (s *Store) appendNothing(ctx context.Context, client *esdb.Client, stream string, expected eventstore.ExpectedRevision) (eventstore.AppendResult, error) {
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

// readRange reads at most n live events of stream forwards from revision
// from. A missing stream reads as no events; a tombstoned one is
// ErrStreamDeleted.
func (s *Store) readRange(ctx context.Context, client *esdb.Client, stream string, from uint64, n int) ([]eventstore.RecordedEvent, error) {
	return s.readSome(ctx, client, stream, esdb.ReadStreamOptions{Direction: esdb.Forwards, From: esdb.Revision(from)}, n)
}

// readBack reads at most n live events of stream backwards from its end,
// newest first.
func (s *Store) readBack(ctx context.Context, client *esdb.Client, stream string, n int) ([]eventstore.RecordedEvent, error) {
	return s.readSome(ctx, client, stream, esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, n)
}

// readSome reads at most n live events of stream as opts say.
func (s *Store) readSome(ctx context.Context, client *esdb.Client, stream string, opts esdb.ReadStreamOptions, n int) ([]eventstore.RecordedEvent, error) {
	rs, err := client.ReadStream(ctx, stream, opts, uint64(n))
	if err != nil {
		return nil, s.fail(ctx, client, "read", err)
	}
	defer rs.Close()
	var out []eventstore.RecordedEvent
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			err = s.fail(ctx, client, "read", err)
			if errors.Is(err, eventstore.ErrStreamNotFound) {
				return nil, nil
			}
			return nil, err
		}
		e := ev.OriginalEvent()
		if e != nil && e.EventType == "$streamDeleted" {
			return nil, eventstore.ErrStreamDeleted
		}
		if e != nil && !system(e) {
			out = append(out, toRecorded(e))
		}
	}
}

// last reads the last live event of a stream: false when it is missing,
// ErrStreamDeleted when it was tombstoned.
func (s *Store) last(ctx context.Context, client *esdb.Client, stream string) (eventstore.RecordedEvent, bool, error) {
	evs, err := s.readSome(ctx, client, stream, esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1)
	if err != nil || len(evs) == 0 {
		return eventstore.RecordedEvent{}, false, err
	}
	return evs[0], true, nil
}
