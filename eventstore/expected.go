package eventstore

import (
	"strconv"
)

// ExpectedRevision is the optimistic-concurrency condition of an append or a
// delete: any state, no stream, an existing stream, or an exact revision
// (the revision of the stream's last event).
type ExpectedRevision struct {
	kind     expectKind
	revision uint64
}

type expectKind uint8

const (
	expectAny expectKind = iota
	expectNoStream
	expectStreamExists
	expectExact
)

var (
	// Any appends whatever the stream's state (except a tombstone).
	Any = ExpectedRevision{kind: expectAny}
	// NoStream appends only when the stream does not exist (or was soft-deleted).
	NoStream = ExpectedRevision{kind: expectNoStream}
	// StreamExists appends only when the stream has at least one live event.
	StreamExists = ExpectedRevision{kind: expectStreamExists}
)

// Exact appends only when the stream's last event has revision r.
func Exact(r uint64) ExpectedRevision { return ExpectedRevision{kind: expectExact, revision: r} }

// IsAny, IsNoStream, IsStreamExists and Revision let backends inspect the
// condition.
func (e ExpectedRevision) IsAny() bool { return e.kind == expectAny }

func (e ExpectedRevision) IsNoStream() bool { return e.kind == expectNoStream }

func (e ExpectedRevision) IsStreamExists() bool { return e.kind == expectStreamExists }

// Revision returns the exact revision and true, or false for the other kinds.
func (e ExpectedRevision) Revision() (uint64, bool) { return e.revision, e.kind == expectExact }

func (e ExpectedRevision) String() string {
	switch e.kind {
	case expectNoStream:
		return "no stream"
	case expectStreamExists:
		return "stream exists"
	case expectExact:
		return "revision " + strconv.FormatUint(e.revision, 10)
	}
	return "any"
}
