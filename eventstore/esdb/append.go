package esdb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

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
func (s *Store) Append(
	ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData,
) (eventstore.AppendResult, error) {
	res, _, err := s.append(ctx, stream, expected, events)
	return res, err
}

// append is Append that also says whether it wrote the events: false for
// an empty append and for a retry the adapter recognised. A retry the
// server recognises on its own and answers like a write (with a position)
// counts as written.
func (s *Store) append(
	ctx context.Context, stream string, expected eventstore.ExpectedRevision, events []eventstore.EventData,
) (_ eventstore.AppendResult, wrote bool, err error) {
	if err := validStream(stream); err != nil {
		return eventstore.AppendResult{}, false, err
	}
	proposed, err := propose(stream, events, s.maxSize)
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
func (s *Store) appendOnce(
	ctx context.Context, stream string, expected eventstore.ExpectedRevision,
	events []eventstore.EventData, proposed []esdb.EventData,
) (_ eventstore.AppendResult, wrote bool, err error) {
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
		if streamDeletedErr(err) && !s.isClosed() && ctx.Err() == nil {
			// A real server answers StreamExists on a soft-deleted stream
			// with "stream deleted" (IndexWriter.CheckCommit).
			return eventstore.AppendResult{}, false, s.deletedOrMissing(ctx, client, stream, expected)
		}
		if appendTooLarge(err) {
			// The cluster's limit is lower than Options.MaxAppendSize.
			return eventstore.AppendResult{}, false, fmt.Errorf(
				"%w: append to %s: the cluster refused it as larger than its MaxAppendSize (%v); "+
					"set the connection string's maxAppendSize to the server's --max-append-size",
				eventstore.ErrInvalid, stream, err,
			)
		}
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
			return eventstore.AppendResult{}, false, fmt.Errorf(
				"esdb: append to %s: the server acknowledged events it does not return", stream,
			)
		}
		stored, err := s.readRange(ctx, client, stream, res.NextExpectedVersion+1-n, len(events))
		if err != nil {
			return eventstore.AppendResult{}, false, err
		}
		if sameEvents(stored, events) {
			return resultOf(stored), false, nil
		}
		return eventstore.AppendResult{}, false, fmt.Errorf(
			"esdb: append to %s: the server acknowledged events it does not return", stream,
		)
	}
	if s.observer != nil {
		s.observer.ObserveBatch(len(events), 1, 0, time.Since(began))
	}
	return out, true, nil
}

// propose checks events and converts them for the client library, keeping
// every event's ID (the client would otherwise invent one). It refuses,
// before anything is sent, an event too large for one server log record
// and an append larger than maxAppend, both counted as the server counts
// them (sizeOnDisk), so that a refusal names the limit instead of
// surfacing as the server's bare "Maximum Append Size Exceeded".
func propose(stream string, events []eventstore.EventData, maxAppend int) ([]esdb.EventData, error) {
	proposed := make([]esdb.EventData, len(events))
	seen := make(map[uuid.UUID]bool, len(events))
	total := 0
	for i, ev := range events {
		size := sizeOnDisk(ev)
		total += size
		switch {
		case seen[ev.ID]:
			return nil, fmt.Errorf("%w: event %d repeats an event ID", eventstore.ErrInvalid, i)
		case ev.ID == uuid.Nil:
			return nil, fmt.Errorf("%w: event %d has no ID", eventstore.ErrInvalid, i)
		case ev.Type == "":
			return nil, fmt.Errorf("%w: event %d has no type", eventstore.ErrInvalid, i)
		case strings.HasPrefix(ev.Type, "$"):
			return nil, fmt.Errorf("%w: event types starting with $ belong to the server", eventstore.ErrInvalid)
		case len(ev.Data)+len(ev.Metadata) > MaxEventSize || size > maxRecordSize:
			return nil, fmt.Errorf(
				"%w: event %d is larger than one event may be (%d bytes of data and metadata, "+
					"%d counting twice the type name)", eventstore.ErrInvalid, i, MaxEventSize, maxRecordSize,
			)
		case total > maxAppend:
			return nil, fmt.Errorf(
				"%w: append to %s is larger than the cluster's MaxAppendSize of %d bytes "+
					"(data, metadata and twice the type name of each event); "+
					"raise the server's --max-append-size and the connection string's maxAppendSize together",
				eventstore.ErrInvalid, stream, maxAppend,
			)
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

// sizeOnDisk counts an event as a real server counts it against its limits
// (KurrentDB's Event.SizeOnDisk): data and metadata bytes plus twice the
// type name's length in UTF-16 code units.
func sizeOnDisk(ev eventstore.EventData) int {
	return len(ev.Data) + len(ev.Metadata) + 2*len(utf16.Encode([]rune(ev.Type)))
}

// appendTooLarge reports whether err is the server refusing an append
// over its MaxAppendSize (RpcExceptions.MaxAppendSizeExceeded: status
// InvalidArgument, "Maximum Append Size of N Exceeded."), which the client
// library passes on as an unknown error.
func appendTooLarge(err error) bool {
	var e *esdb.Error
	if errors.As(err, &e) {
		err = e.Err()
	}
	st, ok := status.FromError(err)
	return ok && st.Code() == codes.InvalidArgument && strings.Contains(st.Message(), "Maximum Append Size")
}
