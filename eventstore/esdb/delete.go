package esdb

import (
	"context"
	"fmt"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"waystation/eventstore"
)

// Delete implements eventstore.Store with the server's soft delete: reads
// then say not found, and an append continues the revisions.
func (s *Store) Delete(ctx context.Context, stream string, expected eventstore.ExpectedRevision) error {
	return s.remove(ctx, "delete", stream, expected)
}

// Tombstone implements eventstore.Store with the server's hard delete: the
// stream name can never be used again.
func (s *Store) Tombstone(ctx context.Context, stream string, expected eventstore.ExpectedRevision) error {
	return s.remove(ctx, "tombstone", stream, expected)
}

func (s *Store) remove(ctx context.Context, op, stream string, expected eventstore.ExpectedRevision) error {
	if err := validStream(stream); err != nil {
		return err
	}
	client, release, err := s.conn()
	if err != nil {
		return err
	}
	defer release()
	ctx, cancel := s.call(ctx)
	defer cancel()
	if op == "delete" {
		// The server accepts deleting a stream that does not exist.
		if _, ok, err := s.last(ctx, client, stream); err != nil {
			return err
		} else if !ok {
			if _, exact := expected.Revision(); exact || expected.IsStreamExists() {
				return wrongVersion(stream, expected, eventstore.RecordedEvent{}, false)
			}
			return fmt.Errorf("%w: %s", eventstore.ErrStreamNotFound, stream)
		}
		_, err = client.DeleteStream(
			ctx, stream, esdb.DeleteStreamOptions{ExpectedRevision: toExpected(expected), RequiresLeader: true},
		)
	} else {
		_, err = client.TombstoneStream(
			ctx, stream, esdb.TombstoneStreamOptions{ExpectedRevision: toExpected(expected), RequiresLeader: true},
		)
	}
	if err == nil {
		return nil
	}
	if wrongExpected(err) && !s.isClosed() && ctx.Err() == nil {
		last, ok, lerr := s.last(ctx, client, stream)
		if lerr != nil {
			return lerr
		}
		return wrongVersion(stream, expected, last, ok)
	}
	return s.fail(ctx, client, op, err)
}
