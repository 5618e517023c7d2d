package bolt

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"waystation/eventstore"
	"waystation/eventstore/audit"
)

// prepared is an event made ready for the writer by the caller's
// goroutine: its record encoded with revision and time left zero (the
// writer fills them in) and its payload digests computed.
type prepared struct {
	id                 uuid.UUID
	typ                string
	record             []byte
	dataHash, metaHash [sha256.Size]byte
}

// Append implements eventstore.Store.
func (s *Store) Append(
	ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData,
) (eventstore.AppendResult, error) {
	s.appending.Add(1)
	defer s.appending.Add(-1)
	if err := validateStream(stream); err != nil {
		return eventstore.AppendResult{}, err
	}
	size := 0
	batch := make([]prepared, len(events))
	for i, e := range events {
		switch {
		case e.ID == uuid.Nil:
			return eventstore.AppendResult{}, fmt.Errorf("%w: event %d has no ID", eventstore.ErrInvalid, i)
		case e.Type == "" || len(e.Type) > MaxTypeName:
			return eventstore.AppendResult{}, fmt.Errorf(
				"%w: event %d: type must have 1 to %d bytes", eventstore.ErrInvalid, i, MaxTypeName,
			)
		case len(e.Data)+len(e.Metadata) > MaxEventSize:
			return eventstore.AppendResult{}, fmt.Errorf(
				"%w: event %d is larger than %d bytes", eventstore.ErrInvalid, i, MaxEventSize,
			)
		}
		for j := range i {
			if events[j].ID == e.ID {
				return eventstore.AppendResult{}, fmt.Errorf("%w: event ID %s appears twice", eventstore.ErrInvalid, e.ID)
			}
		}
		batch[i] = prepared{
			id:  e.ID,
			typ: e.Type,
			record: encodeRecord(
				&eventstore.RecordedEvent{ID: e.ID, Stream: stream, Type: e.Type, Data: e.Data, Metadata: e.Metadata},
			),
			dataHash: sha256.Sum256(e.Data),
			metaHash: sha256.Sum256(e.Metadata),
		}
		size += len(batch[i].record)
	}
	r := appendRequests.Get().(*request)
	r.size = size
	r.apply = func(w *txn) (eventstore.AppendResult, error) { return w.append(stream, expected, batch) }
	res, err := s.submit(ctx, r)
	if r.answered {
		*r = request{done: r.done}
		appendRequests.Put(r)
	}
	return res, err
}

func validateStream(stream string) error {
	if stream == "" || len(stream) > MaxStreamName || strings.IndexByte(stream, 0) >= 0 {
		return fmt.Errorf("%w: stream name must have 1 to %d bytes and no NUL", eventstore.ErrInvalid, MaxStreamName)
	}
	return nil
}

func (w *txn) stream(name string) (streamState, error) {
	st, err := loadStream(w.tx, name)
	if err != nil {
		return st, &fatalError{err}
	}
	return st, nil
}

// checkExpected returns a *WrongExpectedVersionError when st does not meet
// expected.
func checkExpected(stream string, expected eventstore.ExpectedRevision, st streamState) error {
	exists := st.exists()
	var ok bool
	switch r, exact := expected.Revision(); {
	case expected.IsAny():
		ok = true
	case expected.IsNoStream():
		ok = !exists
	case expected.IsStreamExists():
		ok = exists
	case exact:
		ok = exists && st.next-1 == r
	}
	if ok {
		return nil
	}
	e := &eventstore.WrongExpectedVersionError{Stream: stream, Expected: expected, ActualExists: exists}
	if exists {
		e.Actual = st.next - 1
	}
	return e
}

func (w *txn) append(
	stream string, expected eventstore.ExpectedRevision, events []prepared,
) (eventstore.AppendResult, error) {
	st, err := w.stream(stream)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	if st.tombstoned {
		return eventstore.AppendResult{}, fmt.Errorf("%w: %s", eventstore.ErrStreamDeleted, stream)
	}
	idB := w.tx.Bucket(bucketEventIDs)
	if len(events) > 0 {
		var stored []uint64
		for _, e := range events {
			if v := idB.Get(e.id[:]); v != nil {
				stored = append(stored, beUint64(v))
			}
		}
		switch {
		case len(stored) == len(events):
			return w.replay(stream, expected, st, stored)
		case len(stored) > 0:
			return eventstore.AppendResult{}, fmt.Errorf(
				"%w: %d of %d events already stored", eventstore.ErrIdempotencyConflict, len(stored), len(events),
			)
		}
	}
	if err := checkExpected(stream, expected, st); err != nil {
		return eventstore.AppendResult{}, err
	}
	if len(events) == 0 {
		if !st.exists() {
			return eventstore.AppendResult{}, nil
		}
		return eventstore.AppendResult{NextExpectedRevision: st.next - 1, Position: eventstore.At(st.last)}, nil
	}
	logB := w.tx.Bucket(bucketLog)
	now := uint64(w.now.UnixNano())
	for i := range events {
		e := &events[i]
		w.head++
		rev := st.next + uint64(i)
		binary.BigEndian.PutUint64(e.record[offRevision:], rev)
		binary.BigEndian.PutUint64(e.record[offRecordedAt:], now)
		binary.BigEndian.PutUint64(e.record[offPrevious:], st.last)
		st.last = w.head
		pos := u64(w.head)
		if err := logB.Put(pos, e.record); err != nil {
			return eventstore.AppendResult{}, &fatalError{err}
		}
		if err := idB.Put(e.id[:], pos); err != nil {
			return eventstore.AppendResult{}, &fatalError{err}
		}
		leaf := audit.Leaf{
			Position: eventstore.At(w.head), Stream: stream, Revision: rev, EventID: e.id, Type: e.typ,
			RecordedAt: w.now, DataHash: e.dataHash, MetadataHash: e.metaHash,
		}
		if err := w.tree.add(int64(w.head-1), leaf.Hash()); err != nil {
			return eventstore.AppendResult{}, &fatalError{err}
		}
		w.events++
	}
	w.tails.appended(stream, st, w.head-uint64(len(events))+1, len(events))
	st.next += uint64(len(events))
	if err := saveStream(w.tx, stream, st, w.tails); err != nil {
		return eventstore.AppendResult{}, &fatalError{err}
	}
	return eventstore.AppendResult{NextExpectedRevision: st.next - 1, Position: eventstore.At(w.head)}, nil
}

// replay answers a retried append whose events are all stored at the given
// positions: the original result when they sit, in order, at the place the
// request names, ErrIdempotencyConflict otherwise.
func (w *txn) replay(
	stream string, expected eventstore.ExpectedRevision, st streamState, positions []uint64,
) (eventstore.AppendResult, error) {
	logB := w.tx.Bucket(bucketLog)
	var first, last eventstore.RecordedEvent
	for i, p := range positions {
		e, err := decodeRecord(p, logB.Get(u64(p)))
		if err != nil {
			return eventstore.AppendResult{}, &fatalError{err}
		}
		if e.Stream != stream || (i > 0 && e.Revision != last.Revision+1) {
			return eventstore.AppendResult{}, fmt.Errorf("%w: events stored at another place", eventstore.ErrIdempotencyConflict)
		}
		if i == 0 {
			first = e
		}
		last = e
	}
	r, exact := expected.Revision()
	switch {
	case exact && first.Revision != r+1,
		expected.IsNoStream() && first.Revision != 0 && first.Revision != st.liveFrom:
		return eventstore.AppendResult{}, fmt.Errorf(
			"%w: events stored at another revision", eventstore.ErrIdempotencyConflict,
		)
	}
	return eventstore.AppendResult{NextExpectedRevision: last.Revision, Position: last.Position}, nil
}
