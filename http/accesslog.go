package http

import (
	"errors"
	"net/http"
	"time"

	"waystation/domain"
	"waystation/eventstore"
)

// accessEntry is one line of the access log as admins list it.
type accessEntry struct {
	Seq        uint64      `json:"seq" doc:"The entry's number in the access log; pass it as after to read on."`
	At         time.Time   `json:"at" doc:"When the case was read."`
	CaseID     string      `json:"case_id" doc:"The case read."`
	Reader     string      `json:"reader" doc:"ID of the account or token that read it."`
	ReaderName string      `json:"reader_name,omitempty" doc:"The display name of the account that read it, as the accounts hold it now; absent for a token."`
	Role       domain.Role `json:"role" doc:"Role of that reader."`
	Route      string      `json:"route" doc:"The route that read it (e.g. getCase)."`
}

// accessLog is the answer of GET /v1/access-log.
type accessLog struct {
	Items []accessEntry `json:"items" doc:"The entries of this page, oldest first."`
	Next  string        `json:"next_after,omitempty" doc:"Pass it as after for the next page; absent on the last page."`
}

// listAccessLog lists recorded case reads, oldest first, filtered by case
// and reader: GET /v1/access-log (admins).
func (s *Server) listAccessLog(w http.ResponseWriter, r *http.Request) error {
	after, err := uintParam(r, "after", 0, 1<<62)
	if err != nil {
		return err
	}
	limit, err := limitParam(r, 100, 1000)
	if err != nil {
		return err
	}
	caseFilter, reader := r.URL.Query().Get("case"), r.URL.Query().Get("reader")
	out := accessLog{Items: []accessEntry{}}
	entries := s.cfg.Store.ReadStream(r.Context(), domain.CaseReadsStream, eventstore.ReadStreamOptions{From: after})
	for rec, err := range entries {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			break
		}
		if err != nil {
			return err
		}
		env, err := domain.Decode(rec)
		if err != nil {
			return domain.Internal(err, "an access log entry could not be read")
		}
		cr, ok := env.Event.(domain.CaseRead)
		if !ok || (caseFilter != "" && cr.CaseID != caseFilter) || (reader != "" && cr.Reader != reader) {
			continue
		}
		if uint64(len(out.Items)) == limit {
			out.Next = uitoa(out.Items[len(out.Items)-1].Seq)
			break
		}
		out.Items = append(out.Items, accessEntry{
			Seq: rec.Revision + 1, At: env.Meta.OccurredAt,
			CaseID: cr.CaseID, Reader: cr.Reader, Role: cr.Role, Route: cr.Route,
		})
	}
	readers := make([]string, len(out.Items))
	for i, e := range out.Items {
		readers[i] = e.Reader
	}
	names := s.people.names(readers)
	for i := range out.Items {
		out.Items[i].ReaderName = names[out.Items[i].Reader]
	}
	s.writeJSON(w, r, http.StatusOK, out)
	return nil
}
