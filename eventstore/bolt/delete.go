package bolt

import (
	"context"
	"fmt"

	"waystation/eventstore"
)

// Delete implements eventstore.Store. Deleting a missing stream returns
// ErrStreamNotFound (after checking expected).
func (s *Store) Delete(ctx context.Context, stream string, expected eventstore.ExpectedRevision) error {
	if err := validateStream(stream); err != nil {
		return err
	}
	_, err := s.submit(ctx, &request{apply: func(w *txn) (eventstore.AppendResult, error) {
		return eventstore.AppendResult{}, w.delete(stream, expected, false)
	}})
	return err
}

// Tombstone implements eventstore.Store. A stream that was never written
// can be tombstoned, which reserves its name for good.
func (s *Store) Tombstone(ctx context.Context, stream string, expected eventstore.ExpectedRevision) error {
	if err := validateStream(stream); err != nil {
		return err
	}
	_, err := s.submit(ctx, &request{apply: func(w *txn) (eventstore.AppendResult, error) {
		return eventstore.AppendResult{}, w.delete(stream, expected, true)
	}})
	return err
}

func (w *txn) delete(stream string, expected eventstore.ExpectedRevision, tombstone bool) error {
	st, err := w.stream(stream)
	if err != nil {
		return err
	}
	if st.tombstoned {
		return fmt.Errorf("%w: %s", eventstore.ErrStreamDeleted, stream)
	}
	if err := checkExpected(stream, expected, st); err != nil {
		return err
	}
	if tombstone {
		st.tombstoned = true
	} else {
		if !st.exists() {
			return fmt.Errorf("%w: %s", eventstore.ErrStreamNotFound, stream)
		}
		st.liveFrom = st.next
	}
	if err := saveStream(w.tx, stream, st, w.tails); err != nil {
		return &fatalError{err}
	}
	return nil
}
