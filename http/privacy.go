package http

import (
	"context"
	"net/http"
	"reflect"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/projections"
)

// Privacy is erasure of personal data and inspectors' exports; ops
// implements it over the sealed store. A nil Config.Privacy answers 404 on
// its routes.
type Privacy interface {
	// ErasePerson erases the personal data of the person whose case is id:
	// that case and every case the person index links to it. It refuses
	// (rule erasure_of_open_case) before writing anything when one of them
	// has not exited. It answers the erased cases.
	ErasePerson(ctx context.Context, actor domain.Actor, id uuid.UUID, req domain.Erasure) (Erasure, error)
	// DueForErasure lists the cases whose retention period after closure
	// has ended, and the retention in force.
	DueForErasure(ctx context.Context, now time.Time) (DueList, error)
	// Export returns the inspector's bundle of case id (a JSON document):
	// its events as stored, their inclusion proofs and a signed tree head.
	Export(ctx context.Context, id uuid.UUID) (any, error)
}

// ExportDescriber is what a Privacy also implements to describe its
// export bundle in /openapi.json: ExportType is the Go type of the value
// Export returns. Without it the bundle is described as an object only.
type ExportDescriber interface {
	ExportType() reflect.Type
}

// exportType is the type of the export bundle, or nil when the Privacy in
// use does not describe it.
func (s *Server) exportType() reflect.Type {
	if d, ok := s.cfg.Privacy.(ExportDescriber); ok {
		return d.ExportType()
	}
	return nil
}

// Erasure is the answer of POST /v1/people/{id}/erase.
type Erasure struct {
	Cases []ErasedCase `json:"cases" doc:"Every case of the person whose personal data was erased."`
}

// ErasedCase is one case whose personal data was erased: its version
// after the erasure event, and whether it had been erased already.
type ErasedCase struct {
	ID      string `json:"id" doc:"The case's ID."`
	Version uint64 `json:"version" doc:"The case's version after its erasure event."`
	Already bool   `json:"already_erased,omitempty" doc:"True when the case had been erased already."`
}

// DueList is the answer of GET /v1/people/due-for-erasure. Retention is
// empty when none is configured (nothing is ever due).
type DueList struct {
	Retention string                   `json:"retention,omitempty" doc:"How long personal data is kept after closure (e.g. 43800h0m0s); absent when no retention is set."`
	Erases    bool                     `json:"erases_automatically" doc:"Whether the daily retention job erases the cases due by itself."`
	Items     []projections.ErasureDue `json:"items" doc:"The closed cases whose retention period has ended, not erased yet, oldest closure first."`
}

// eraseBody is the body of POST /v1/people/{id}/erase.
type eraseBody struct {
	Reason string `json:"reason" doc:"The ground for erasing (PIPL art. 47), a code: subject_request, purpose_fulfilled, retention_ended, unlawful_processing or legal_order."`
}

// erasePerson erases a person's personal data:
// POST /v1/people/{id}/erase (admins), where {id} is the ID of one of the
// person's cases.
func (s *Server) erasePerson(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Privacy == nil {
		return domain.NotFound("this server keeps no personal-data keys")
	}
	id, err := caseID(r)
	if err != nil {
		return err
	}
	var body eraseBody
	if err := s.decode(w, r, &body); err != nil {
		return err
	}
	req := domain.Erasure{Reason: body.Reason, Trigger: domain.ErasureOnRequest}
	out, err := s.cfg.Privacy.ErasePerson(r.Context(), actorOf(r), id, req)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, out)
	return nil
}

// dueForErasure lists the cases due for erasure:
// GET /v1/people/due-for-erasure (admins).
func (s *Server) dueForErasure(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Privacy == nil {
		return domain.NotFound("this server keeps no personal-data keys")
	}
	out, err := s.cfg.Privacy.DueForErasure(r.Context(), s.now())
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, out)
	return nil
}

// exportCase answers an inspector's bundle of a case, checkable offline
// with `waystation verify-export`: GET /v1/cases/{id}/export (inspectors,
// admins). The read is written to the access log once the bundle is built,
// before it is sent.
func (s *Server) exportCase(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Privacy == nil {
		return domain.NotFound("this server cannot export proofs")
	}
	id, err := s.readableCaseID(r)
	if err != nil {
		return err
	}
	out, err := s.cfg.Privacy.Export(r.Context(), id)
	if err != nil {
		return err
	}
	if err := s.recordRead(r, id); err != nil {
		return err
	}
	w.Header().Set("Content-Disposition", `attachment; filename="case-`+id.String()+`-export.json"`)
	s.writeJSON(w, r, http.StatusOK, out)
	return nil
}
