package esdb

import (
	"context"
	"errors"
	"fmt"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"waystation/eventstore"
)

// conn returns the current client and a release to call when done with
// it, or ErrClosed after Close.
func (s *Store) conn() (*esdb.Client, func(), error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == nil || s.isClosed() {
		return nil, nil, eventstore.ErrClosed
	}
	s.calls.Add(1)
	return s.client, s.calls.Done, nil
}

// renew replaces client when the library has closed it for good (its
// connection state machine stops after a failed discovery), so that the
// next call and every resubscription discover the cluster afresh.
func (s *Store) renew(client *esdb.Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client != client || s.isClosed() {
		return
	}
	fresh, err := esdb.NewClient(s.config)
	if err != nil {
		return
	}
	// The old client is not closed: its connection loop has already
	// ended, and closing it would panic calls still holding it.
	s.client = fresh
	s.logger.Warn("esdb: connection lost, rediscovering the cluster", "target", s.target)
}

// call derives a context for one operation that is cancelled when either
// ctx is or the store closes.
func (s *Store) call(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.closed, cancel)
	return ctx, func() { stop(); cancel() }
}

// fail turns an error of the client library into the eventstore contract:
// ErrClosed after Close, the caller's context error when it was
// cancelled, the shared sentinels for what the server reported, and a
// wrapped error otherwise. It never uses esdb.FromError, whose flag is
// true only for a nil error.
func (s *Store) fail(ctx context.Context, client *esdb.Client, op string, err error) error {
	if s.isClosed() {
		return eventstore.ErrClosed
	}
	if ctx.Err() != nil {
		return fmt.Errorf("esdb: %s: %w", op, ctx.Err())
	}
	var e *esdb.Error
	if errors.As(err, &e) {
		switch e.Code() {
		case esdb.ErrorCodeStreamDeleted:
			return eventstore.ErrStreamDeleted
		case esdb.ErrorCodeResourceNotFound:
			return eventstore.ErrStreamNotFound
		case esdb.ErrorCodeConnectionClosed:
			if client != nil {
				s.renew(client)
			}
		}
	}
	return fmt.Errorf("esdb: %s: %w", op, err)
}

// transient reports whether err may go away by retrying: the node is
// unavailable, not the leader, or the connection was lost.
func transient(err error) bool {
	var e *esdb.Error
	if errors.As(err, &e) {
		switch e.Code() {
		case esdb.ErrorUnavailable, esdb.ErrorCodeNotLeader, esdb.ErrorCodeConnectionClosed,
			esdb.ErrorCodeDeadlineExceeded, esdb.ErrorAborted:
			return true
		case esdb.ErrorCodeUnknown:
			c := status.Code(e.Err())
			return c == codes.Unavailable || c == codes.Canceled || c == codes.Internal || c == codes.Unknown
		}
		return false
	}
	c := status.Code(err)
	return c == codes.Unavailable || c == codes.Internal
}

// wrongExpected reports whether err is the server refusing a delete or a
// tombstone because of the expected revision: the client library passes
// that on only as a FailedPrecondition status.
func wrongExpected(err error) bool {
	var e *esdb.Error
	if errors.As(err, &e) && e.Code() == esdb.ErrorCodeWrongExpectedVersion {
		return true
	}
	return status.Code(err) == codes.FailedPrecondition
}
