package bolt

import (
	"context"
	"errors"
	"iter"

	"waystation/eventstore"
)

// SubscribeToAll implements eventstore.Store.
func (s *Store) SubscribeToAll(ctx context.Context, after eventstore.Position) iter.Seq2[eventstore.Message, error] {
	return func(yield func(eventstore.Message, error) bool) {
		pos := after.Commit
		s.follow(ctx, yield, func() ([]eventstore.RecordedEvent, bool, error) {
			page, err := s.allPage(nil, pos, eventstore.Forwards, pageSize)
			if len(page) > 0 {
				pos = page[len(page)-1].Position.Commit
			}
			return page, len(page) == pageSize, err
		})
	}
}

// SubscribeToStream implements eventstore.Store.
func (s *Store) SubscribeToStream(
	ctx context.Context, stream string, from uint64,
) iter.Seq2[eventstore.Message, error] {
	return func(yield func(eventstore.Message, error) bool) {
		if err := validateStream(stream); err != nil {
			yield(eventstore.Message{}, err)
			return
		}
		next := from
		s.follow(ctx, yield, func() ([]eventstore.RecordedEvent, bool, error) {
			page, more, err := s.streamPage(stream, next, eventstore.Forwards, pageSize, false)
			if errors.Is(err, errEndOfStream) {
				return nil, false, nil
			}
			if len(page) > 0 {
				next = page[len(page)-1].Revision + 1
			}
			return page, more, err
		})
	}
}

// follow runs a catch-up subscription over next, which returns the next
// page of events and whether more are known to follow.
func (s *Store) follow(
	ctx context.Context, yield func(eventstore.Message, error) bool, next func() ([]eventstore.RecordedEvent, bool, error),
) {
	caughtUp := false
	for {
		if ctx.Err() != nil {
			return
		}
		if s.isClosed() {
			yield(eventstore.Message{}, eventstore.ErrClosed)
			return
		}
		changed := s.changed()
		page, more, err := next()
		if err != nil {
			if ctx.Err() == nil {
				yield(eventstore.Message{}, err)
			}
			return
		}
		for i := range page {
			if !yield(eventstore.Message{Event: &page[i]}, nil) {
				return
			}
		}
		if more {
			continue
		}
		if !caughtUp {
			caughtUp = true
			if !yield(eventstore.Message{CaughtUp: true}, nil) {
				return
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return
		case <-s.closing:
		}
	}
}
