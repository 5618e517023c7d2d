package esdb

import (
	"context"
	"errors"
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

// remove sends the delete or tombstone at once, leaving the expected
// revision to the server's own check: reading the stream first would race
// with appends in between. Only a refusal is explained by a read, which
// names the actual revision. The server refuses a soft delete of a stream
// that never existed as a wrong expected version (actual -1; esdbclient's
// test_stream_delete_with_any_current_version reports it as NotFound),
// which is ErrStreamNotFound here for Any and NoStream, as on the
// embedded store; and it answers "stream deleted" to StreamExists on a
// soft-deleted stream (IndexWriter.CheckCommit), which is a wrong expected
// version here unless the stream was tombstoned.
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
	if s.isClosed() || ctx.Err() != nil {
		return s.fail(ctx, client, op, err)
	}
	if streamDeletedErr(err) {
		return s.deletedOrMissing(ctx, client, stream, expected)
	}
	if wrongExpected(err) {
		last, ok, lerr := s.last(ctx, client, stream)
		if lerr != nil {
			return lerr
		}
		if !ok && op == "delete" && (expected.IsAny() || expected.IsNoStream()) {
			return fmt.Errorf("%w: %s", eventstore.ErrStreamNotFound, stream)
		}
		return wrongVersion(stream, expected, last, ok)
	}
	return s.fail(ctx, client, op, err)
}

// deletedOrMissing explains the server's "stream deleted" answer: the
// stream was tombstoned (ErrStreamDeleted), or it was soft-deleted, which
// the server also reports so to StreamExists and the contract calls a
// missing stream (a wrong expected version).
func (s *Store) deletedOrMissing(
	ctx context.Context, client *esdb.Client, stream string, expected eventstore.ExpectedRevision,
) error {
	last, ok, err := s.last(ctx, client, stream)
	if err != nil {
		return err
	}
	return wrongVersion(stream, expected, last, ok)
}

// streamDeletedErr reports whether err is the server's "stream deleted".
func streamDeletedErr(err error) bool {
	var e *esdb.Error
	return errors.As(err, &e) && e.Code() == esdb.ErrorCodeStreamDeleted
}
