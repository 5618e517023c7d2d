package http

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
)

// streamEvents sends the global log as server-sent events, from the
// position after ?after= or the Last-Event-ID header, then live:
// GET /v1/events/stream (admins, inspectors of every region). Each event's
// id is its position, so a client that reconnects with Last-Event-ID
// continues with no gap and no duplicate.
//
// A stream is a session of its token (see sessions): a token holds at most
// Config.StreamsPerToken streams at once (one more is answered 429), and
// the token's revocation, on this replica or another, ends its streams at
// once. Every write (events, the caught-up marker, keep-alives) is a
// delivery that first checks that the token still authenticates, so no
// event is written after the revocation has reached this replica.
//
// A delivery is one write of at most streamBatch messages and about
// streamBatchBytes, flushed, with a deadline of Config.StreamWriteTimeout:
// a client that does not take it in time is dropped, so a socket that
// never reads holds the server to one delivery and one page of the store's
// subscription. The cases whose events a delivery carried are recorded as
// read in the access log (by the window rule of recordReads) once it has
// been handed to the connection: after it is flushed, or after its write
// failed part-way (some of it may have reached the client). What is only
// queued behind it, refused or never written is not recorded, so a socket
// that never reads is recorded as reading only what the server wrote to
// it. A stream whose reads cannot be recorded ends.
//
// Refusals (role, region, parameters, the token's limit of streams) are
// answered as problems before the stream begins. Once it has begun, the
// stream ends without a further answer: it returns nil when the client,
// the session or the subscription ends it, and the error when an event
// cannot be encoded, which serve then only logs.
func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request) error {
	if err := requireEveryRegion(r); err != nil {
		return err
	}
	after, err := positionParam(r, "after")
	if err != nil {
		return err
	}
	if last := strings.TrimSpace(r.Header.Get("Last-Event-ID")); last != "" {
		if after, err = eventstore.ParsePosition(last); err != nil {
			return errorf(domain.CodeInvalid, "Last-Event-ID", "Last-Event-ID must be a log position")
		}
	}
	principal := actorOf(r).ID
	session, err := s.sessions.start(r.Context(), principal)
	if errors.Is(err, errTooManySessions) {
		w.Header().Set("Retry-After", "5")
		return errorf(CodeTooManyRequests, "", fmt.Sprintf("this token already holds %d open streams of the log, "+
			"the most it may; close one and retry", s.sessions.limit))
	}
	if err != nil {
		return err
	}
	defer session.close()
	ctx := session.ctx
	defer context.AfterFunc(s.streams, func() { session.cancel(context.Canceled) })() // a shutdown ends the stream

	rc := http.NewResponseController(w)
	// Once the session ends, a write under way fails at once: its deadline
	// is moved to now. finished keeps that from touching the connection
	// after the handler has returned.
	var (
		deadlineMu sync.Mutex
		finished   bool
	)
	stopAbort := context.AfterFunc(ctx, func() {
		deadlineMu.Lock()
		defer deadlineMu.Unlock()
		if !finished {
			_ = rc.SetWriteDeadline(time.Now())
		}
	})
	defer func() {
		stopAbort()
		deadlineMu.Lock()
		finished = true
		deadlineMu.Unlock()
	}()

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	valid := func() bool { return s.tokens.active(principal) }
	if in := infoOf(r); in != nil && in.session != "" {
		digest := in.session
		valid = func() bool { return s.people.live(digest) }
	}
	var (
		buf      bytes.Buffer
		deadline time.Time // of the last delivery's write
	)
	// deliver writes buf and flushes it within the write timeout, then
	// records the cases it showed; it reports why the stream must end.
	deliver := func(cases []uuid.UUID) error {
		return session.deliver(valid, func() error {
			deadline = time.Now().Add(s.streamWrite)
			_ = rc.SetWriteDeadline(deadline)
			if ctx.Err() != nil { // the deadline above may have undone the abort
				return ctx.Err()
			}
			_, werr := w.Write(buf.Bytes())
			if werr == nil {
				werr = rc.Flush()
			}
			// Handed to the connection: flushed, or failed part-way, when
			// some of it may have reached the client all the same. Either
			// way the reads are recorded, even if the stream ends
			// meanwhile.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.wait)
			defer cancel()
			if err := s.recordReads(r.WithContext(rctx), cases); err != nil {
				s.logger.ErrorContext(r.Context(), "event stream ended: the access log refused reads already sent",
					append(logAttrs(r), "reader", principal, "cases", len(cases), "err", err)...)
				return err
			}
			return werr
		})
	}
	ended := func(err error) {
		switch {
		case errors.Is(context.Cause(ctx), errRevoked):
			s.metrics.streamsEnded.WithLabelValues("revoked").Inc()
		case errors.Is(err, os.ErrDeadlineExceeded) && !time.Now().Before(deadline):
			// The write's own deadline passed (an ended session moves it
			// to an earlier moment).
			s.metrics.streamsEnded.WithLabelValues("slow_client").Inc()
			s.logger.InfoContext(r.Context(), "event stream dropped: the client did not take a write in time", logAttrs(r)...)
		}
	}

	if !valid() {
		// Revoked after it was authenticated, before its session was
		// registered, where end could not reach it.
		return errorf(domain.CodeUnauthorized, "", "the token is unknown or revoked")
	}
	w.WriteHeader(http.StatusOK)
	buf.WriteString("retry: 2000\n\n")
	if err := deliver(nil); err != nil {
		ended(err)
		return nil
	}

	msgs := make(chan eventstore.Message)
	errc := make(chan error, 1)
	go func() {
		defer close(msgs)
		for m, err := range s.cfg.Store.SubscribeToAll(ctx, after) {
			if err != nil {
				errc <- err
				return
			}
			select {
			case msgs <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	keepAlive := time.NewTicker(15 * time.Second)
	defer keepAlive.Stop()
	var read caseReads
	for {
		buf.Reset()
		select {
		case <-ctx.Done():
			ended(nil)
			return nil
		case <-keepAlive.C:
			buf.WriteString(": keep-alive\n\n")
			if err := deliver(nil); err != nil {
				ended(err)
				return nil
			}
		case m, ok := <-msgs:
			if !ok {
				if ctx.Err() != nil { // the subscription ended with the session
					ended(nil)
					return nil
				}
				select {
				case err := <-errc:
					if !errors.Is(err, eventstore.ErrClosed) {
						s.logger.WarnContext(r.Context(), "event stream ended", append(logAttrs(r), "err", err)...)
					}
				default:
				}
				return nil
			}
			// Take what else has arrived, up to streamBatch messages or
			// streamBatchBytes, into one delivery.
			n := 0
			for {
				if m.Event != nil && m.Event.Stream == domain.AccessStream {
					// A token's issue or revocation: what follows it in the
					// log is delivered only once this replica's token index
					// has folded it (and ended the sessions it revokes), so
					// that no replica delivers to a token an event written
					// after its revocation.
					wctx, cancel := context.WithTimeout(ctx, s.wait)
					err := s.tokens.waitFor(wctx, m.Event.Revision+1)
					cancel()
					if err != nil {
						ended(err)
						return nil
					}
				}
				if err := appendMessage(&buf, m); err != nil {
					return fmt.Errorf("http: encoding an event of the stream: %w", err)
				}
				if m.Event != nil {
					read.add(m.Event.Stream)
				}
				n++
				if n == streamBatch || buf.Len() >= streamBatchBytes {
					break
				}
				select {
				case m, ok = <-msgs:
				default:
					ok = false
				}
				if !ok {
					break
				}
			}
			if err := deliver(read.take()); err != nil {
				ended(err)
				return nil
			}
		}
	}
}

// appendMessage appends the server-sent event of m to buf.
func appendMessage(buf *bytes.Buffer, m eventstore.Message) error {
	switch {
	case m.CaughtUp:
		buf.WriteString("event: caught_up\ndata: {}\n\n")
	case m.Event != nil:
		b, err := json.Marshal(logEventOf(*m.Event))
		if err != nil {
			return err
		}
		fmt.Fprintf(buf, "id: %s\nevent: %s\ndata: %s\n\n", m.Event.Position, m.Event.Type, b)
	}
	return nil
}

// streamBatch and streamBatchBytes bound one delivery of a live stream of
// the log: at most streamBatch messages, and none more once
// streamBatchBytes are taken, so a delivery holds at most streamBatchBytes
// and one event.
const (
	streamBatch      = 256
	streamBatchBytes = 64 << 10
)
