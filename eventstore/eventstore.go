// Package eventstore defines the backend-neutral event store that Waystation
// keeps every fact in: append-only streams, one global log in commit order,
// catch-up subscriptions and projection checkpoints. Backends live in the
// sub-packages bolt (embedded, the default) and esdb (EventStoreDB /
// KurrentDB); both pass the contract suite in storetest.
package eventstore

import (
	"context"
	"iter"
	"time"

	"github.com/google/uuid"
)

// EventData is an event to be appended. ID must be set by the caller and is
// what makes a retried append idempotent; Type is the stable stored name
// (never a Go type name); Data and Metadata are JSON documents.
type EventData struct {
	ID       uuid.UUID
	Type     string
	Data     []byte
	Metadata []byte
}

// RecordedEvent is an event as the store holds it.
type RecordedEvent struct {
	ID         uuid.UUID
	Stream     string
	Revision   uint64   // 0-based position of the event inside its stream
	Position   Position // position in the global log
	Type       string
	Data       []byte
	Metadata   []byte
	RecordedAt time.Time // when the store committed the event (UTC)
}

// AppendResult says where an append landed: the revision of the stream's
// last event (pass it as Exact for the next append) and the global position
// of the last appended event.
type AppendResult struct {
	NextExpectedRevision uint64
	Position             Position
}

// Direction of a read.
type Direction uint8

const (
	Forwards Direction = iota
	Backwards
)

// StreamEnd, as ReadStreamOptions.From, reads backwards from the last event.
const StreamEnd = ^uint64(0)

// ReadStreamOptions selects events of one stream. From is inclusive: reading
// forwards returns revisions >= From, backwards revisions <= From. A read
// with a Limit yields that many events unless the stream ends first; Limit
// 0 means no limit.
type ReadStreamOptions struct {
	Direction Direction
	From      uint64
	Limit     int
}

// ReadAllOptions selects events of the global log. From is exclusive:
// reading forwards returns positions after From (Start reads everything),
// backwards positions before From (End reads everything). A read with a
// Limit yields that many events unless the log ends first, so a shorter
// page is the last; Limit 0 means no limit. Paging is "From = last
// position seen".
type ReadAllOptions struct {
	Direction Direction
	From      Position
	Limit     int
}

// Message is one delivery of a subscription: an event, or the marker that
// the subscriber has seen all history and is now live.
type Message struct {
	Event    *RecordedEvent
	CaughtUp bool
}

// Store is an append-only event store. Every method takes a context and
// returns ctx.Err() (wrapped) when it is cancelled before the work is done;
// every method returns ErrClosed after Close.
//
// Stream states: a stream that was never written, or was soft-deleted, is
// missing: reads return ErrStreamNotFound and an append with NoStream or Any
// (re)creates it, its revisions continuing after the deleted ones. A
// tombstoned stream is gone for good: every read, append and delete returns
// ErrStreamDeleted. Deleted and tombstoned events stay in the global log.
type Store interface {
	// Append writes events to the end of stream atomically, after checking
	// expected against the stream's state; a mismatch returns a
	// *WrongExpectedVersionError (errors.Is ErrWrongExpectedVersion) and
	// writes nothing. The events are durable before Append returns.
	//
	// Appending events whose IDs are all already stored, in the same order
	// at the place the expected revision names (anywhere in the stream for
	// Any), writes nothing and returns the original result; when only some
	// of them are stored, or they are stored elsewhere, Append returns
	// ErrIdempotencyConflict. An empty append writes nothing and returns
	// the stream's current state, after checking expected.
	Append(ctx context.Context, stream string, expected ExpectedRevision, events ...EventData) (AppendResult, error)

	// ReadStream yields the events of one stream. A missing stream yields
	// ErrStreamNotFound, a tombstoned one ErrStreamDeleted, as the only
	// element. The iterator stops after yielding an error.
	ReadStream(ctx context.Context, stream string, opts ReadStreamOptions) iter.Seq2[RecordedEvent, error]

	// ReadAll yields events of the global log in position order (or
	// reverse), including those of deleted streams.
	ReadAll(ctx context.Context, opts ReadAllOptions) iter.Seq2[RecordedEvent, error]

	// SubscribeToAll yields every event after position after, history first,
	// then one Message with CaughtUp set, then live events as they commit,
	// with no gap and no duplicate, until ctx is cancelled (the iterator
	// then returns without an error) or the store closes (ErrClosed).
	SubscribeToAll(ctx context.Context, after Position) iter.Seq2[Message, error]

	// SubscribeToStream is SubscribeToAll for one stream, yielding its
	// events with revision >= from. A stream that does not exist yet is
	// waited for; a tombstoned one yields ErrStreamDeleted.
	SubscribeToStream(ctx context.Context, stream string, from uint64) iter.Seq2[Message, error]

	// Delete soft-deletes a stream after checking expected: reads then say
	// not found and an append can recreate it.
	Delete(ctx context.Context, stream string, expected ExpectedRevision) error

	// Tombstone deletes a stream permanently after checking expected.
	Tombstone(ctx context.Context, stream string, expected ExpectedRevision) error

	// Head returns the position of the last event in the global log (Start
	// when the log is empty).
	Head(ctx context.Context) (Position, error)

	// Close stops the store; blocked subscriptions end with ErrClosed.
	Close() error
}

// CheckpointStore keeps how far each projection has read.
type CheckpointStore interface {
	// LoadCheckpoint returns the saved position of the named projection, or
	// Start and false when none was saved.
	LoadCheckpoint(ctx context.Context, name string) (Position, bool, error)
	// SaveCheckpoint durably records the position of the named projection.
	SaveCheckpoint(ctx context.Context, name string, pos Position) error
	// DeleteCheckpoint forgets the named projection's position.
	DeleteCheckpoint(ctx context.Context, name string) error
}
