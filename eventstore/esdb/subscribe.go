package esdb

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"waystation/eventstore"
)

// maxRetryInterval caps the pause between two resubscription attempts.
const maxRetryInterval = 5 * time.Second

// SubscribeToAll implements eventstore.Store with a catch-up subscription
// to $all started explicitly after the given position (the client would
// otherwise start at the end). The caught-up marker is the server's, sent
// once. When the subscription drops for any reason other than ctx or
// Close, it is resubscribed after the last position received, so the
// caller sees neither a gap nor a duplicate.
func (s *Store) SubscribeToAll(ctx context.Context, after eventstore.Position) iter.Seq2[eventstore.Message, error] {
	return func(yield func(eventstore.Message, error) bool) {
		last := after
		open := func(ctx context.Context, client *esdb.Client) (*esdb.Subscription, error) {
			var from esdb.AllPosition = esdb.Position{Commit: last.Commit, Prepare: last.Prepare}
			if last.IsZero() {
				from = esdb.Start{}
			}
			return client.SubscribeToAll(ctx, esdb.SubscribeToAllOptions{From: from})
		}
		deliver := func(e *esdb.RecordedEvent) (bool, error) {
			pos := fromPosition(e.Position)
			if !last.IsZero() && !last.Before(pos) {
				return true, nil // already delivered before a resubscription
			}
			last = pos
			if system(e) {
				return true, nil
			}
			rec := toRecorded(e)
			return yield(eventstore.Message{Event: &rec}, nil), nil
		}
		s.follow(ctx, "$all", open, deliver, nil, yield)
	}
}

// SubscribeToStream implements eventstore.Store with a catch-up
// subscription to one stream from revision from (inclusive, although the
// server's start is exclusive). A stream that does not exist yet is
// waited for; a tombstoned one yields ErrStreamDeleted, also when it is
// tombstoned while followed.
func (s *Store) SubscribeToStream(
	ctx context.Context, stream string, from uint64,
) iter.Seq2[eventstore.Message, error] {
	return func(yield func(eventstore.Message, error) bool) {
		if err := validStream(stream); err != nil {
			yield(eventstore.Message{}, err)
			return
		}
		next := from
		open := func(ctx context.Context, client *esdb.Client) (*esdb.Subscription, error) {
			var start esdb.StreamPosition = esdb.Start{}
			if next > 0 {
				start = esdb.Revision(next - 1)
			}
			return client.SubscribeToStream(ctx, stream, esdb.SubscribeToStreamOptions{From: start})
		}
		deliver := func(e *esdb.RecordedEvent) (bool, error) {
			if e.EventType == "$streamDeleted" {
				return false, eventstore.ErrStreamDeleted
			}
			if e.EventNumber < next || system(e) {
				return true, nil
			}
			next = e.EventNumber + 1
			rec := toRecorded(e)
			return yield(eventstore.Message{Event: &rec}, nil), nil
		}
		// After a drop, a tombstone is the one reason not to resubscribe.
		probe := func(ctx context.Context, client *esdb.Client) error {
			_, _, err := s.last(ctx, client, stream)
			if errors.Is(err, eventstore.ErrStreamDeleted) {
				return err
			}
			return nil
		}
		s.follow(ctx, stream, open, deliver, probe, yield)
	}
}

// follow runs one subscription until ctx ends, Close, the consumer stops,
// or an error that retrying cannot fix, resubscribing after every drop.
// deliver handles one event and says whether to go on; probe, when set,
// looks for a permanent reason to stop after a drop.
func (s *Store) follow(
	ctx context.Context,
	what string,
	open func(context.Context, *esdb.Client) (*esdb.Subscription, error),
	deliver func(*esdb.RecordedEvent) (bool, error),
	probe func(context.Context, *esdb.Client) error,
	yield func(eventstore.Message, error) bool,
) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	caughtUp := false
	pause := s.retry
	wait := func() bool {
		t := time.NewTimer(pause)
		defer t.Stop()
		pause = min(2*pause, maxRetryInterval)
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}
	for {
		client, release, err := s.conn()
		if err != nil {
			yield(eventstore.Message{}, err)
			return
		}
		if !s.once(ctx, client, what, open, deliver, probe, &caughtUp, &pause, yield, release) {
			return
		}
		if !wait() {
			if s.isClosed() {
				yield(eventstore.Message{}, eventstore.ErrClosed)
			}
			return
		}
	}
}

// once runs one subscription attempt and reports whether to resubscribe
// (after a pause); it releases its hold on client when it returns.
func (s *Store) once(ctx context.Context, client *esdb.Client, what string,
	open func(context.Context, *esdb.Client) (*esdb.Subscription, error),
	deliver func(*esdb.RecordedEvent) (bool, error),
	probe func(context.Context, *esdb.Client) error,
	caughtUp *bool, pause *time.Duration,
	yield func(eventstore.Message, error) bool,
	release func(),
) bool {
	defer release()
	// stopped yields what ends the subscription: ErrClosed after Close,
	// nothing when the caller's context ended.
	stopped := func() bool {
		if s.isClosed() {
			yield(eventstore.Message{}, eventstore.ErrClosed)
		}
		return false
	}
	sub, err := open(ctx, client)
	if err != nil {
		if ctx.Err() != nil {
			return stopped()
		}
		mapped := s.fail(ctx, client, "subscribe to "+what, err)
		if !transient(err) && !errors.Is(mapped, eventstore.ErrStreamNotFound) {
			yield(eventstore.Message{}, mapped)
			return false
		}
		s.logger.Warn("esdb: subscription could not start, retrying", "subscription", what, "error", err)
		return true
	}
	dropped := s.receive(sub, deliver, caughtUp, pause, yield)
	_ = sub.Close()
	if dropped == nil {
		return false // the consumer stopped, or a permanent error was yielded
	}
	if ctx.Err() != nil {
		return stopped()
	}
	s.logger.Warn("esdb: subscription dropped, resubscribing", "subscription", what, "error", dropped)
	if probe != nil {
		if err := probe(ctx, client); err != nil {
			if ctx.Err() != nil {
				return stopped()
			}
			yield(eventstore.Message{}, err)
			return false
		}
	}
	var e *esdb.Error
	if errors.As(dropped, &e) && e.Code() == esdb.ErrorCodeConnectionClosed {
		s.renew(client)
	}
	return true
}

// receive passes one subscription's deliveries on until it drops (the
// drop's error is returned) or the consumer stops (nil).
func (s *Store) receive(
	sub *esdb.Subscription, deliver func(*esdb.RecordedEvent) (bool, error), caughtUp *bool,
	pause *time.Duration, yield func(eventstore.Message, error) bool,
) error {
	for {
		ev := sub.Recv()
		switch {
		case ev.SubscriptionDropped != nil:
			if ev.SubscriptionDropped.Error == nil {
				return fmt.Errorf("subscription dropped")
			}
			return ev.SubscriptionDropped.Error
		case ev.EventAppeared != nil:
			e := ev.EventAppeared.OriginalEvent()
			if e == nil {
				continue
			}
			*pause = s.retry // a delivery shows the connection is healthy again
			more, err := deliver(e)
			if err != nil {
				yield(eventstore.Message{}, err)
				return nil
			}
			if !more {
				return nil
			}
		case ev.CaughtUp != nil:
			if !*caughtUp {
				*caughtUp = true
				if !yield(eventstore.Message{CaughtUp: true}, nil) {
					return nil
				}
			}
		}
	}
}
