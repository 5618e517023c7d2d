package eventstore

import (
	"errors"
	"fmt"
)

// Errors every backend returns; test them with errors.Is.
var (
	// ErrWrongExpectedVersion: the stream is not at the expected revision.
	// The concrete error is a *WrongExpectedVersionError.
	ErrWrongExpectedVersion = errors.New("eventstore: wrong expected version")
	// ErrStreamNotFound: the stream was never written or was soft-deleted.
	ErrStreamNotFound = errors.New("eventstore: stream not found")
	// ErrStreamDeleted: the stream was tombstoned.
	ErrStreamDeleted = errors.New("eventstore: stream deleted")
	// ErrIdempotencyConflict: some, not all, of the appended event IDs are
	// already stored, or they are stored at another place.
	ErrIdempotencyConflict = errors.New("eventstore: event IDs already stored elsewhere")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("eventstore: store closed")
	// ErrInvalid: the request itself is malformed (empty stream name, nil
	// event ID, empty type, oversized event).
	ErrInvalid = errors.New("eventstore: invalid request")
	// ErrLocked: another process holds the store.
	ErrLocked = errors.New("eventstore: data folder is in use by another process")
)

// WrongExpectedVersionError reports an optimistic-concurrency failure.
// Actual is the revision of the stream's last live event; ActualExists is
// false when the stream is missing (never written or soft-deleted).
type WrongExpectedVersionError struct {
	Stream       string
	Expected     ExpectedRevision
	Actual       uint64
	ActualExists bool
}

func (e *WrongExpectedVersionError) Error() string {
	actual := "no stream"
	if e.ActualExists {
		actual = fmt.Sprintf("revision %d", e.Actual)
	}
	return fmt.Sprintf("eventstore: stream %s: expected %s, found %s", e.Stream, e.Expected, actual)
}

// Is makes errors.Is(err, ErrWrongExpectedVersion) true.
func (e *WrongExpectedVersionError) Is(target error) bool { return target == ErrWrongExpectedVersion }
