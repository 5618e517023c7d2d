package http

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
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

// requireLogReader admits admins and inspectors of every region: the global
// log spans all regions and carries personal data, so an inspector bound to
// one region may not read it whole.
func requireLogReader(r *http.Request) error {
	if err := requireRole(r, domain.RoleAdmin, domain.RoleInspector); err != nil {
		return err
	}
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
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	if err := requireLogReader(r); err != nil {
		s.Error(w, r, err)
		return
	}
	after, err := positionParam(r, "after")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	limit, err := limitParam(r, 100, 1000)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	out := eventPage{Items: []logEvent{}}
	var read caseReads
	for e, err := range s.cfg.Store.ReadAll(r.Context(), eventstore.ReadAllOptions{From: after, Limit: int(limit)}) {
		if err != nil {
			s.Error(w, r, err)
			return
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
		s.Error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// streamEvents sends the global log as server-sent events, from the
// position after ?after= or the Last-Event-ID header, then live:
// GET /v1/events/stream (admins, inspectors of every region). Each event's id is its
// position, so a client that reconnects with Last-Event-ID continues with
// no gap and no duplicate. Each case whose events it sends is logged as
// read in the access log, once per connection, before its first event is
// sent; a stream whose reads cannot be logged ends.
func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request) {
	if err := requireLogReader(r); err != nil {
		s.Error(w, r, err)
		return
	}
	after, err := positionParam(r, "after")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if last := strings.TrimSpace(r.Header.Get("Last-Event-ID")); last != "" {
		if after, err = eventstore.ParsePosition(last); err != nil {
			s.Error(w, r, errorf(domain.CodeInvalid, "Last-Event-ID", "Last-Event-ID must be a log position"))
			return
		}
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	extend := func() { _ = rc.SetWriteDeadline(time.Now().Add(time.Minute)) }
	extend()
	if _, err := fmt.Fprint(w, "retry: 2000\n\n"); err != nil {
		return
	}
	_ = rc.Flush()

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(s.streams, cancel)() // a shutdown ends the stream
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
	var (
		pending []eventstore.Message
		read    caseReads
		shown   = shownCases{}
	)
	for {
		select {
		case <-ctx.Done():
			return
		case <-keepAlive.C:
			extend()
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			_ = rc.Flush()
		case m, ok := <-msgs:
			if !ok {
				select {
				case err := <-errc:
					if !errors.Is(err, eventstore.ErrClosed) {
						s.logger.WarnContext(r.Context(), "event stream ended", append(logAttrs(r), "err", err)...)
					}
				default:
				}
				return
			}
			// Take what else has arrived, up to streamBatch, so that the
			// reads of the cases shown are logged once per batch, before
			// the batch is sent.
			batch := append(pending[:0], m)
		more:
			for len(batch) < streamBatch {
				select {
				case m, ok := <-msgs:
					if !ok {
						break more
					}
					batch = append(batch, m)
				default:
					break more
				}
			}
			for _, m := range batch {
				if m.Event != nil && !shown.has(m.Event.Stream) {
					read.add(m.Event.Stream)
				}
			}
			ids := read.take()
			if err := s.recordReads(r, ids); err != nil {
				s.logger.ErrorContext(r.Context(), "event stream ended: the access log refused the reads", append(logAttrs(r), "err", err)...)
				return
			}
			shown.note(ids)
			extend()
			for _, m := range batch {
				if m.CaughtUp {
					if _, err := fmt.Fprint(w, "event: caught_up\ndata: {}\n\n"); err != nil {
						return
					}
				} else if m.Event != nil {
					b, err := json.Marshal(logEventOf(*m.Event))
					if err != nil {
						return
					}
					if _, err := fmt.Fprintf(w, "id: %s\nevent: %s\ndata: %s\n\n", m.Event.Position, m.Event.Type, b); err != nil {
						return
					}
				}
			}
			pending = batch
			_ = rc.Flush()
		}
	}
}

// streamBatch is how many messages a live stream of the log sends per
// access-log write at most.
const streamBatch = 256

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

// shownCases remembers, for one live stream, the cases whose reads are
// already logged, so that a client following the log is logged once per
// case rather than once per event; it forgets them all when it holds
// maxShown, and logs them again after.
type shownCases map[uuid.UUID]bool

const maxShown = 1 << 16

func (s shownCases) has(stream string) bool {
	id, ok := domain.CaseIDOf(stream)
	return ok && s[id]
}

func (s shownCases) note(ids []uuid.UUID) {
	if len(s)+len(ids) > maxShown {
		clear(s)
	}
	for _, id := range ids {
		s[id] = true
	}
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
func (s *Server) auditCheckpoint(w http.ResponseWriter, r *http.Request) {
	if err := requireRole(r, domain.RoleAdmin, domain.RoleInspector); err != nil {
		s.Error(w, r, err)
		return
	}
	if s.cfg.Audit == nil {
		s.Error(w, r, domain.NotFound("this store keeps no Merkle tree"))
		return
	}
	h, err := s.cfg.Audit.TreeHead(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, checkpoint{Size: h.Size, Root: base64.StdEncoding.EncodeToString(h.Root[:]), Note: string(h.Note), VerifierKey: s.cfg.Audit.VerifierKey()})
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
func (s *Server) auditProof(w http.ResponseWriter, r *http.Request) {
	if err := requireRole(r, domain.RoleAdmin, domain.RoleInspector); err != nil {
		s.Error(w, r, err)
		return
	}
	if s.cfg.Audit == nil {
		s.Error(w, r, domain.NotFound("this store keeps no Merkle tree"))
		return
	}
	pos, err := positionParam(r, "position")
	if err != nil || pos.IsZero() {
		s.Error(w, r, errorf(domain.CodeInvalid, "position", "position must be a log position from 1"))
		return
	}
	size, err := uintParam(r, "size", 0, 1<<62)
	if err != nil || size == 0 {
		s.Error(w, r, errorf(domain.CodeInvalid, "size", "size must be a tree size from 1"))
		return
	}
	leaf, err := s.leafIndex(r.Context(), pos)
	if errors.Is(err, eventstore.ErrInvalid) {
		s.Error(w, r, errorf(domain.CodeInvalid, "position", "no event at this position has been indexed"))
		return
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if uint64(leaf) >= size {
		s.Error(w, r, errorf(domain.CodeInvalid, "position", "position must not be beyond size"))
		return
	}
	proof, err := s.cfg.Audit.InclusionProof(r.Context(), pos, int64(size))
	if errors.Is(err, eventstore.ErrInvalid) {
		s.Error(w, r, errorf(domain.CodeInvalid, "size", "the log is not that long yet"))
		return
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	out := inclusion{Position: pos.String(), Leaf: leaf, Size: int64(size), Proof: make([]string, len(proof))}
	for i, h := range proof {
		out.Proof[i] = base64.StdEncoding.EncodeToString(h[:])
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// backup streams a consistent backup as Config.Backup writes it (the
// service writes a tar archive of the events store, the key store and the
// signing key): POST /v1/admin/backup (admins).
func (s *Server) backup(w http.ResponseWriter, r *http.Request) {
	if err := requireRole(r, domain.RoleAdmin); err != nil {
		s.Error(w, r, err)
		return
	}
	if s.cfg.Backup == nil {
		s.Error(w, r, domain.NotFound("this store is backed up elsewhere"))
		return
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="waystation-backup.tar"`)
	if n, err := s.cfg.Backup(r.Context(), w); err != nil {
		if n == 0 {
			w.Header().Del("Content-Disposition")
			s.Error(w, r, err)
			return
		}
		s.logger.ErrorContext(r.Context(), "backup failed", append(logAttrs(r), "err", err)...)
		// The 200 is out: break the connection so that the client sees a
		// broken stream, not a whole backup.
		panic(http.ErrAbortHandler)
	}
}

// health is the answer of GET /healthz ("ok") and GET /readyz ("ready").
type health struct {
	Status string `json:"status" doc:"ok when the process is alive; ready when it can answer."`
}

// healthz answers 200 while the process is alive: GET /healthz.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, r, http.StatusOK, health{Status: "ok"})
}

// readyz answers 200 when the store is open and the projections have
// caught up, else 503: GET /readyz.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Ready != nil {
		if err := s.cfg.Ready(); err != nil {
			s.Error(w, r, &domain.Error{Code: CodeUnavailable, Message: "not ready", Err: err})
			return
		}
	}
	if _, err := s.cfg.Store.Head(r.Context()); err != nil {
		s.Error(w, r, &domain.Error{Code: CodeUnavailable, Message: "the store is not open", Err: err})
		return
	}
	s.writeJSON(w, r, http.StatusOK, health{Status: "ready"})
}
