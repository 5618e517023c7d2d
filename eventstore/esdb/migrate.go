package esdb

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"waystation/eventstore"
)

// MigrateOptions change how Migrate writes into the cluster.
type MigrateOptions struct {
	// Seal, when set, is applied to every event before it is written.
	Seal func(stream string, ev eventstore.EventData) (eventstore.EventData, error)
}

// Migrate copies every event of from (the embedded store, usually) into
// the cluster in global order, keeping each event's ID, stream, revision,
// type, data and metadata, and returns how many events it wrote. It then
// repeats the source's deletions: a soft-deleted stream is deleted, a
// tombstoned one tombstoned, and a stream recreated after a soft delete is
// deleted just before its first live event, so that reads answer as they
// did on the source.
//
// It is safe to rerun, after a failure or to pick up events written to the source since: it first
// reads the IDs of every event already in the cluster's log (16 bytes of memory per event) and
// skips those (they do not count in copied), and deletions already made are left alone. The cluster
// is expected to hold nothing but an earlier copy of this source. The recorded times and global
// positions are the cluster's own; the source's recorded times stay in no field.
//
// opts.Seal, when set, turns each event into the form the cluster stores
// before it is written (a sealed.Store's Seal: personal values read opened
// from the source are sealed again under the cluster's keys); the event's
// ID stays the same, so a rerun still recognises what it copied.
func Migrate(ctx context.Context, from eventstore.Store, to *Store, opts MigrateOptions) (copied int, err error) {
	type source struct {
		firstLive  uint64 // first revision a read of the source returns
		missing    bool   // soft-deleted on the source, nothing live
		tombstoned bool
	}
	streams := map[string]*source{}
	var order []string
	describe := func(stream string) (*source, error) {
		if s, ok := streams[stream]; ok {
			return s, nil
		}
		s := &source{}
		for e, err := range from.ReadStream(ctx, stream, eventstore.ReadStreamOptions{Limit: 1}) {
			switch {
			case errors.Is(err, eventstore.ErrStreamNotFound):
				s.missing = true
			case errors.Is(err, eventstore.ErrStreamDeleted):
				s.tombstoned = true
			case err != nil:
				return nil, fmt.Errorf("migrate: reading %s from the source: %w", stream, err)
			default:
				s.firstLive = e.Revision
			}
		}
		streams[stream] = s
		order = append(order, stream)
		return s, nil
	}

	// Events already in the cluster (from an earlier run) are found by ID
	// in its whole log, deleted streams included.
	done := map[uuid.UUID]bool{}
	for e, err := range to.ReadAll(ctx, eventstore.ReadAllOptions{}) {
		if err != nil {
			return 0, fmt.Errorf("migrate: reading the cluster: %w", err)
		}
		done[e.ID] = true
	}

	// batch is a run of consecutive events of one stream in the source's
	// global order, appended at once.
	var batch []eventstore.RecordedEvent
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		defer func() { batch = batch[:0] }()
		stream := batch[0].Stream
		src, err := describe(stream)
		if err != nil {
			return err
		}
		var data []eventstore.EventData
		var first uint64
		for _, e := range batch {
			if done[e.ID] {
				continue
			}
			if len(data) == 0 {
				first = e.Revision
			}
			ev := eventstore.EventData{ID: e.ID, Type: e.Type, Data: e.Data, Metadata: e.Metadata}
			if opts.Seal != nil {
				sealed, err := opts.Seal(stream, ev)
				if err != nil {
					return fmt.Errorf("migrate: sealing %s revision %d: %w", stream, e.Revision, err)
				}
				ev = sealed
			}
			data = append(data, ev)
		}
		if len(data) == 0 {
			return nil
		}
		expected := eventstore.NoStream
		if first > 0 {
			expected = eventstore.Exact(first - 1)
		}
		if !src.missing && !src.tombstoned && first == src.firstLive && first > 0 {
			// The source soft-deleted everything before this event.
			if err := to.Delete(ctx, stream, eventstore.Exact(first-1)); err != nil &&
				!errors.Is(err, eventstore.ErrStreamNotFound) && !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
				return fmt.Errorf("migrate: deleting %s before revision %d: %w", stream, first, err)
			}
			expected = eventstore.Any
		}
		_, wrote, err := to.append(ctx, stream, expected, data)
		switch {
		case errors.Is(err, eventstore.ErrStreamDeleted) && src.tombstoned:
			return nil // tombstoned by an earlier run, after this was copied
		case err != nil:
			return fmt.Errorf("migrate: copying %s revision %d: %w", stream, first, err)
		}
		if wrote {
			copied += len(data)
		}
		return nil
	}

	for e, err := range from.ReadAll(ctx, eventstore.ReadAllOptions{}) {
		if err != nil {
			return copied, fmt.Errorf("migrate: reading the source: %w", err)
		}
		src, err := describe(e.Stream)
		if err != nil {
			return copied, err
		}
		deletedBefore := !src.missing && !src.tombstoned && e.Revision == src.firstLive && e.Revision > 0
		if len(
			batch,
		) > 0 && (batch[0].Stream != e.Stream || batch[len(
			batch,
		)-1].Revision+1 != e.Revision || len(batch) >= 256 || deletedBefore) {
			if err := flush(); err != nil {
				return copied, err
			}
		}
		batch = append(batch, e)
	}
	if err := flush(); err != nil {
		return copied, err
	}

	for _, stream := range order {
		src := streams[stream]
		switch {
		case src.tombstoned:
			if err := to.Tombstone(ctx, stream, eventstore.Any); err != nil && !errors.Is(err, eventstore.ErrStreamDeleted) {
				return copied, fmt.Errorf("migrate: tombstoning %s: %w", stream, err)
			}
		case src.missing:
			if err := to.Delete(ctx, stream, eventstore.Any); err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
				return copied, fmt.Errorf("migrate: deleting %s: %w", stream, err)
			}
		}
	}
	return copied, nil
}
