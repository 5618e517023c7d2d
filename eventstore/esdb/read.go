package esdb

import (
	"context"
	"errors"
	"io"
	"iter"
	"math"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"waystation/eventstore"
)

// pageSize is how many events one read of $all asks the server for.
const pageSize = 512

// ReadStream implements eventstore.Store. A missing or soft-deleted stream
// yields ErrStreamNotFound, a tombstoned one ErrStreamDeleted; the server
// reports either on the first receive, which is where they are mapped.
func (s *Store) ReadStream(
	ctx context.Context, stream string, opts eventstore.ReadStreamOptions,
) iter.Seq2[eventstore.RecordedEvent, error] {
	return func(yield func(eventstore.RecordedEvent, error) bool) {
		if err := validStream(stream); err != nil {
			yield(eventstore.RecordedEvent{}, err)
			return
		}
		client, release, err := s.conn()
		if err != nil {
			yield(eventstore.RecordedEvent{}, err)
			return
		}
		defer release()
		ctx, cancel := s.call(ctx)
		defer cancel()

		read := esdb.ReadStreamOptions{Direction: esdb.Forwards, From: esdb.Revision(opts.From)}
		if opts.Direction == eventstore.Backwards {
			read.Direction = esdb.Backwards
			if opts.From == eventstore.StreamEnd {
				read.From = esdb.End{}
			}
		}
		count := uint64(math.MaxInt64)
		if opts.Limit > 0 {
			count = uint64(opts.Limit)
		}
		rs, err := client.ReadStream(ctx, stream, read, count)
		if err != nil {
			yield(eventstore.RecordedEvent{}, s.fail(ctx, client, "read", err))
			return
		}
		defer rs.Close()
		for {
			ev, err := rs.Recv()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield(eventstore.RecordedEvent{}, s.fail(ctx, client, "read", err))
				return
			}
			e := ev.OriginalEvent()
			if e == nil {
				continue
			}
			if system(e) {
				if e.EventType == "$streamDeleted" {
					yield(eventstore.RecordedEvent{}, eventstore.ErrStreamDeleted)
					return
				}
				continue
			}
			if !yield(toRecorded(e), nil) {
				return
			}
		}
	}
}

// ReadAll implements eventstore.Store by paging through $all, leaving out
// the server's own bookkeeping events. From is exclusive in both
// directions: a real server's forward read from a position includes the
// event at it and its backward read leaves it out (EventStore-Client-Go's
// read_all_test.go, from 1788/1788 forwards and 3386/3386 backwards), so
// the event at From is skipped here whichever it sends. Every event has a
// commit position of its own, so positions are compared whole.
func (s *Store) ReadAll(
	ctx context.Context, opts eventstore.ReadAllOptions,
) iter.Seq2[eventstore.RecordedEvent, error] {
	return func(yield func(eventstore.RecordedEvent, error) bool) {
		client, release, err := s.conn()
		if err != nil {
			yield(eventstore.RecordedEvent{}, err)
			return
		}
		defer release()
		ctx, cancel := s.call(ctx)
		defer cancel()

		backwards := opts.Direction == eventstore.Backwards
		from := opts.From
		yielded := 0
		for {
			read := esdb.ReadAllOptions{
				Direction: esdb.Forwards, From: esdb.Position{Commit: from.Commit, Prepare: from.Prepare},
			}
			switch {
			case backwards && from == eventstore.End:
				read.Direction, read.From = esdb.Backwards, esdb.End{}
			case backwards:
				read.Direction = esdb.Backwards
			case from.IsZero():
				read.From = esdb.Start{}
			}
			rs, err := client.ReadAll(ctx, read, pageSize)
			if err != nil {
				yield(eventstore.RecordedEvent{}, s.fail(ctx, client, "read all", err))
				return
			}
			received, next, stop := 0, from, false
			for !stop {
				ev, err := rs.Recv()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					rs.Close()
					yield(eventstore.RecordedEvent{}, s.fail(ctx, client, "read all", err))
					return
				}
				received++
				e := ev.OriginalEvent()
				if e == nil {
					continue
				}
				pos := fromPosition(e.Position)
				if backwards && !pos.Before(from) || !backwards && !from.Before(pos) {
					continue // the server included the position it was handed
				}
				next = pos
				if system(e) {
					continue
				}
				if !yield(toRecorded(e), nil) {
					stop = true
					break
				}
				yielded++
				stop = opts.Limit > 0 && yielded >= opts.Limit
			}
			rs.Close()
			if stop || received < pageSize || next == from {
				return
			}
			from = next
		}
	}
}

// readRange reads at most n live events of stream forwards from revision
// from. A missing stream reads as no events; a tombstoned one is
// ErrStreamDeleted.
func (s *Store) readRange(
	ctx context.Context, client *esdb.Client, stream string, from uint64, n int,
) ([]eventstore.RecordedEvent, error) {
	return s.readSome(ctx, client, stream, esdb.ReadStreamOptions{Direction: esdb.Forwards, From: esdb.Revision(from)}, n)
}

// readBack reads at most n live events of stream backwards from its end,
// newest first.
func (s *Store) readBack(
	ctx context.Context, client *esdb.Client, stream string, n int,
) ([]eventstore.RecordedEvent, error) {
	return s.readSome(ctx, client, stream, esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, n)
}

// readSome reads at most n live events of stream as opts say.
func (s *Store) readSome(
	ctx context.Context, client *esdb.Client, stream string, opts esdb.ReadStreamOptions, n int,
) ([]eventstore.RecordedEvent, error) {
	rs, err := client.ReadStream(ctx, stream, opts, uint64(n))
	if err != nil {
		return nil, s.fail(ctx, client, "read", err)
	}
	defer rs.Close()
	var out []eventstore.RecordedEvent
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			err = s.fail(ctx, client, "read", err)
			if errors.Is(err, eventstore.ErrStreamNotFound) {
				return nil, nil
			}
			return nil, err
		}
		e := ev.OriginalEvent()
		if e != nil && e.EventType == "$streamDeleted" {
			return nil, eventstore.ErrStreamDeleted
		}
		if e != nil && !system(e) {
			out = append(out, toRecorded(e))
		}
	}
}

// last reads the last live event of a stream: false when it is missing,
// ErrStreamDeleted when it was tombstoned.
func (s *Store) last(ctx context.Context, client *esdb.Client, stream string) (eventstore.RecordedEvent, bool, error) {
	evs, err := s.readSome(ctx, client, stream, esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1)
	if err != nil || len(evs) == 0 {
		return eventstore.RecordedEvent{}, false, err
	}
	return evs[0], true, nil
}
