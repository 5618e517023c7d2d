package http

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
)

// recordRead writes a read of case id by an inspector, coordinator or
// admin to the access log (the access-log stream). Handlers call it once
// the read has succeeded and before the case is shown: a refused or failed
// read is not logged, and a read that cannot be logged is not shown. Staff
// reads of their own station's cases are not logged.
func (s *Server) recordRead(r *http.Request, id uuid.UUID) error {
	return s.recordReads(r, []uuid.UUID{id})
}

// accessLogBatch is the most access-log entries recordReads writes in one
// append. An entry is about 370 bytes, so 256 of them are about 95 KiB:
// well under EventStoreDB's default maximum append of 1 MiB, which one
// append of a whole page would pass at about 2,600 entries (a page of
// repeat visitors can show more cases than that), failing every such read.
const accessLogBatch = 256

// recordReads is recordRead for every case of ids: one access-log entry
// per case, in order, written in appends of at most accessLogBatch entries
// (the server's batch, which tests may lower), all before it returns. When
// an append fails, the entries of the earlier appends stay written: a read
// may be logged that was then not shown, never the other way round.
func (s *Server) recordReads(r *http.Request, ids []uuid.UUID) error {
	a := actorOf(r)
	if len(ids) == 0 || !loggedReader(a.Role) {
		return nil
	}
	now := s.now().UTC()
	meta := domain.Metadata{
		OccurredAt: now, RecordedAt: now, Actor: a.ID, Role: a.Role, Region: a.Region,
		CorrelationID: requestIDOf(r.Context()), LegalBasis: domain.BasisStatutoryDuty,
	}
	route := routeOf(r)
	events := make([]eventstore.EventData, 0, len(ids))
	for _, id := range ids {
		evID, err := uuid.NewV7()
		if err != nil {
			return domain.Internal(err, "no event ID")
		}
		data, err := domain.Encode(evID, domain.CaseRead{CaseID: id.String(), Reader: a.ID, Role: a.Role, Route: route}, meta)
		if err != nil {
			return domain.Internal(err, "encoding the access log entry")
		}
		events = append(events, data)
	}
	for batch := range slices.Chunk(events, s.accessLogBatch) {
		if _, err := s.cfg.Store.Append(r.Context(), domain.CaseReadsStream, eventstore.Any, batch...); err != nil {
			return domain.Internal(err, "recording the read in the access log")
		}
	}
	return nil
}

// loggedReader reports whether reads by role go to the access log: those
// of inspectors, coordinators and admins.
func loggedReader(role domain.Role) bool {
	return role == domain.RoleInspector || role == domain.RoleCoordinator || role == domain.RoleAdmin
}

// accessEntry is one line of the access log as admins list it.
type accessEntry struct {
	Seq    uint64      `json:"seq" doc:"The entry's number in the access log; pass it as after to read on."`
	At     time.Time   `json:"at" doc:"When the case was read."`
	CaseID string      `json:"case_id" doc:"The case read."`
	Reader string      `json:"reader" doc:"ID of the token that read it."`
	Role   domain.Role `json:"role" doc:"Role of that token."`
	Route  string      `json:"route" doc:"The route that read it (e.g. getCase)."`
}

// accessLog is the answer of GET /v1/access-log.
type accessLog struct {
	Items []accessEntry `json:"items" doc:"The entries of this page, oldest first."`
	Next  string        `json:"next_after,omitempty" doc:"Pass it as after for the next page; absent on the last page."`
}

// listAccessLog lists recorded case reads, oldest first, filtered by case
// and reader: GET /v1/access-log (admins).
func (s *Server) listAccessLog(w http.ResponseWriter, r *http.Request) {
	if err := requireRole(r, domain.RoleAdmin); err != nil {
		s.Error(w, r, err)
		return
	}
	after, err := uintParam(r, "after", 0, 1<<62)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	limit, err := limitParam(r, 100, 1000)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	caseFilter, reader := r.URL.Query().Get("case"), r.URL.Query().Get("reader")
	out := accessLog{Items: []accessEntry{}}
	for rec, err := range s.cfg.Store.ReadStream(r.Context(), domain.CaseReadsStream, eventstore.ReadStreamOptions{From: after}) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			break
		}
		if err != nil {
			s.Error(w, r, err)
			return
		}
		env, err := domain.Decode(rec)
		if err != nil {
			s.Error(w, r, domain.Internal(err, "an access log entry could not be read"))
			return
		}
		cr, ok := env.Event.(domain.CaseRead)
		if !ok || (caseFilter != "" && cr.CaseID != caseFilter) || (reader != "" && cr.Reader != reader) {
			continue
		}
		if uint64(len(out.Items)) == limit {
			out.Next = uitoa(out.Items[len(out.Items)-1].Seq)
			break
		}
		out.Items = append(out.Items, accessEntry{Seq: rec.Revision + 1, At: env.Meta.OccurredAt, CaseID: cr.CaseID, Reader: cr.Reader, Role: cr.Role, Route: cr.Route})
	}
	s.writeJSON(w, r, http.StatusOK, out)
}
