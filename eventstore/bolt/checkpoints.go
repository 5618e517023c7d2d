package bolt

import (
	"context"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"waystation/eventstore"
)

// SaveCheckpoint implements eventstore.CheckpointStore; the position is
// durable when it returns.
func (s *Store) SaveCheckpoint(ctx context.Context, name string, pos eventstore.Position) error {
	if name == "" || len(name) > MaxStreamName {
		return fmt.Errorf("%w: checkpoint name must have 1 to %d bytes", eventstore.ErrInvalid, MaxStreamName)
	}
	_, err := s.submit(ctx, &request{apply: func(w *txn) (eventstore.AppendResult, error) {
		if err := w.tx.Bucket(bucketCheckpoints).Put([]byte(name), encodePosition(pos)); err != nil {
			return eventstore.AppendResult{}, &fatalError{err}
		}
		return eventstore.AppendResult{}, nil
	}})
	return err
}

// DeleteCheckpoint implements eventstore.CheckpointStore.
func (s *Store) DeleteCheckpoint(ctx context.Context, name string) error {
	_, err := s.submit(ctx, &request{apply: func(w *txn) (eventstore.AppendResult, error) {
		if err := w.tx.Bucket(bucketCheckpoints).Delete([]byte(name)); err != nil {
			return eventstore.AppendResult{}, &fatalError{err}
		}
		return eventstore.AppendResult{}, nil
	}})
	return err
}

// LoadCheckpoint implements eventstore.CheckpointStore.
func (s *Store) LoadCheckpoint(ctx context.Context, name string) (eventstore.Position, bool, error) {
	if err := s.check(ctx); err != nil {
		return eventstore.Position{}, false, err
	}
	var pos eventstore.Position
	var found bool
	err := s.view(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketCheckpoints).Get([]byte(name))
		if v == nil {
			return nil
		}
		p, err := decodePosition(v)
		pos, found = p, err == nil
		return err
	})
	return pos, found, err
}
