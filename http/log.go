package http

import (
	"bytes"
	"context"
	"encoding/base64"
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

// logEvent is one event of the global log as clients see it.
type logEvent struct {
	Position   string          `json:"position" doc:"The event's position in the global log; pass it as after to read on from it."`
	Stream     string          `json:"stream" doc:"The stream the event belongs to (case-ID, station-CODE, access)."`
	Revision   uint64          `json:"revision" doc:"The event's revision in its stream, from 0."`
	ID         string          `json:"id" doc:"The event's ID."`
	Type       string          `json:"type" doc:"The event's stored type (e.g. case.intake_registered)."`
	RecordedAt time.Time       `json:"recorded_at" doc:"When the event was recorded."`
	Data       json.RawMessage `json:"data" doc:"The event's data as it reads now (erased personal values read as absent); null when it cannot be read."`
	Metadata   json.RawMessage `json:"metadata" doc:"Who recorded it, in which role and station, when the step happened and on what legal basis."`
}

func logEventOf(e eventstore.RecordedEvent) logEvent {
	raw := func(b []byte) json.RawMessage {
		if len(b) == 0 || !json.Valid(b) {
			return json.RawMessage("null")
		}
		return b
	}
	return logEvent{Position: e.Position.String(), Stream: e.Stream, Revision: e.Revision, ID: e.ID.String(),
		Type: e.Type, RecordedAt: e.RecordedAt, Data: raw(e.Data), Metadata: raw(e.Metadata)}
}

// requireEveryRegion refuses an inspector bound to one region: the global
// log spans all regions and carries personal data, so only inspectors of
// every region (and admins, as the route's roles say) may read it whole.
func requireEveryRegion(r *http.Request) error {
	if a := actorOf(r); a.Role == domain.RoleInspector && a.Region != "" {
		return domain.Forbidden("the global log spans every region; it is for inspectors of all regions")
	}
	return nil
}

// eventPage is the answer of GET /v1/events.
type eventPage struct {
	Items []logEvent `json:"items" doc:"The events of this page, in log order."`
	Next  string     `json:"next_after,omitempty" doc:"Pass it as after for the next page; absent on the last page."`
}

// listEvents pages through the global log: GET /v1/events (admins,
// inspectors of every region). The page is a read of every case whose
// events it shows, logged in the access log before it is sent.
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) error {
	if err := requireEveryRegion(r); err != nil {
		return err
	}
	after, err := positionParam(r, "after")
	if err != nil {
		return err
	}
	limit, err := limitParam(r, 100, 1000)
	if err != nil {
		return err
	}
	out := eventPage{Items: []logEvent{}}
	var read caseReads
	for e, err := range s.cfg.Store.ReadAll(r.Context(), eventstore.ReadAllOptions{From: after, Limit: int(limit)}) {
		if err != nil {
			return err
		}
		read.add(e.Stream)
		out.Items = append(out.Items, logEventOf(e))
	}
	if uint64(len(out.Items)) == limit {
		out.Next = out.Items[len(out.Items)-1].Position
	}
	// The page shows the cases' events, personal values opened: it is a
	// read of each of those cases.
	if err := s.recordReads(r, read.take()); err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, out)
	return nil
}

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
		return errorf(CodeTooManyRequests, "", fmt.Sprintf("this token already holds %d open streams of the log, the most it may; close one and retry", s.sessions.limit))
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
				s.logger.ErrorContext(r.Context(), "event stream ended: the access log refused reads already sent", append(logAttrs(r), "reader", principal, "cases", len(cases), "err", err)...)
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

// caseReads collects the cases whose events a read of the log shows, each
// once, in order of first appearance.
type caseReads struct {
	ids  []uuid.UUID
	seen map[uuid.UUID]bool
}

// add notes the case of stream, if stream is a case's.
func (c *caseReads) add(stream string) {
	id, ok := domain.CaseIDOf(stream)
	if !ok || c.seen[id] {
		return
	}
	if c.seen == nil {
		c.seen = map[uuid.UUID]bool{}
	}
	c.seen[id] = true
	c.ids = append(c.ids, id)
}

// take returns the cases noted since the last take and forgets them.
func (c *caseReads) take() []uuid.UUID {
	ids := c.ids
	c.ids, c.seen = nil, nil
	return ids
}

// checkpoint is the answer of GET /v1/audit/checkpoint.
type checkpoint struct {
	Size        int64  `json:"size" doc:"Number of events the signed tree covers."`
	Root        string `json:"root" doc:"The tree's root hash, base64."`
	Note        string `json:"note" doc:"The signed checkpoint note, to verify with the verifier key."`
	VerifierKey string `json:"verifier_key" doc:"The public key that verifies the note."`
}

// auditCheckpoint answers the signed tree head of the log:
// GET /v1/audit/checkpoint (admins, inspectors).
func (s *Server) auditCheckpoint(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Audit == nil {
		return domain.NotFound("this store keeps no Merkle tree")
	}
	h, err := s.cfg.Audit.TreeHead(r.Context())
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, checkpoint{Size: h.Size, Root: base64.StdEncoding.EncodeToString(h.Root[:]), Note: string(h.Note), VerifierKey: s.cfg.Audit.VerifierKey()})
	return nil
}

// inclusion is the answer of GET /v1/audit/proof.
type inclusion struct {
	Position string `json:"position" doc:"The event's position in the log."`
	// Leaf is the event's leaf index in the tree, which an inspector passes
	// to the proof check with the event: position minus one on the
	// embedded store, looked up on a cluster, whose positions are sparse.
	Leaf  int64    `json:"leaf" doc:"The event's leaf index in the tree, to pass to the proof check."`
	Size  int64    `json:"size" doc:"The size of the tree the proof is against."`
	Proof []string `json:"proof" doc:"The inclusion proof's hashes, base64, from the leaf up."`
}

// leafIndexer is an Audit source whose leaf indexes are not the positions
// minus one (the cluster's index: its positions are sparse). LeafIndex
// returns an error wrapping eventstore.ErrInvalid for a position it does
// not hold.
type leafIndexer interface {
	LeafIndex(ctx context.Context, pos eventstore.Position) (int64, error)
}

// leafIndex returns the leaf index of the event at pos in the Audit source.
func (s *Server) leafIndex(ctx context.Context, pos eventstore.Position) (int64, error) {
	if x, ok := s.cfg.Audit.(leafIndexer); ok {
		return x.LeafIndex(ctx, pos)
	}
	return int64(pos.Commit) - 1, nil
}

// auditProof answers the inclusion proof of the event at position in the
// tree of the first size events: GET /v1/audit/proof (admins, inspectors).
func (s *Server) auditProof(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Audit == nil {
		return domain.NotFound("this store keeps no Merkle tree")
	}
	pos, err := positionParam(r, "position")
	if err != nil || pos.IsZero() {
		return errorf(domain.CodeInvalid, "position", "position must be a log position from 1")
	}
	size, err := uintParam(r, "size", 0, 1<<62)
	if err != nil || size == 0 {
		return errorf(domain.CodeInvalid, "size", "size must be a tree size from 1")
	}
	leaf, err := s.leafIndex(r.Context(), pos)
	if errors.Is(err, eventstore.ErrInvalid) {
		return errorf(domain.CodeInvalid, "position", "no event at this position has been indexed")
	}
	if err != nil {
		return err
	}
	if uint64(leaf) >= size {
		return errorf(domain.CodeInvalid, "position", "position must not be beyond size")
	}
	proof, err := s.cfg.Audit.InclusionProof(r.Context(), pos, int64(size))
	if errors.Is(err, eventstore.ErrInvalid) {
		return errorf(domain.CodeInvalid, "size", "the log is not that long yet")
	}
	if err != nil {
		return err
	}
	out := inclusion{Position: pos.String(), Leaf: leaf, Size: int64(size), Proof: make([]string, len(proof))}
	for i, h := range proof {
		out.Proof[i] = base64.StdEncoding.EncodeToString(h[:])
	}
	s.writeJSON(w, r, http.StatusOK, out)
	return nil
}

// backup streams a consistent backup as Config.Backup writes it (the
// service writes a tar archive of the events store, the key store and the
// signing key): POST /v1/admin/backup (admins).
func (s *Server) backup(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Backup == nil {
		return domain.NotFound("this store is backed up elsewhere")
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="waystation-backup.tar"`)
	if n, err := s.cfg.Backup(r.Context(), w); err != nil {
		if n == 0 {
			w.Header().Del("Content-Disposition")
			return err
		}
		s.logger.ErrorContext(r.Context(), "backup failed", append(logAttrs(r), "err", err)...)
		// The 200 is out: break the connection so that the client sees a
		// broken stream, not a whole backup.
		panic(http.ErrAbortHandler)
	}
	return nil
}

// health is the answer of GET /healthz ("ok") and GET /readyz ("ready").
type health struct {
	Status string `json:"status" doc:"ok when the process is alive; ready when it can answer."`
}

// healthz answers 200 while the process is alive: GET /healthz.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	s.writeJSON(w, r, http.StatusOK, health{Status: "ok"})
	return nil
}

// readyz answers 200 when the store is open and the projections have
// caught up, else 503: GET /readyz.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Ready != nil {
		if err := s.cfg.Ready(); err != nil {
			return &domain.Error{Code: CodeUnavailable, Message: "not ready", Err: err}
		}
	}
	if _, err := s.cfg.Store.Head(r.Context()); err != nil {
		return &domain.Error{Code: CodeUnavailable, Message: "the store is not open", Err: err}
	}
	s.writeJSON(w, r, http.StatusOK, health{Status: "ready"})
	return nil
}
