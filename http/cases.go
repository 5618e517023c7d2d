package http

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"waystation/domain"
)

// stepAnswer is the answer to a recorded step.
type stepAnswer struct {
	ID      string        `json:"id" doc:"The case's ID."`
	Version uint64        `json:"version" doc:"The case's version after the step; send it in If-Match with the next step."`
	Status  domain.Status `json:"status" doc:"Where the case stands after the step."`
	// CaseNumber is an intake's case number.
	CaseNumber string `json:"case_number,omitempty" doc:"The case number an intake was given (S01-2026-000123); absent on other steps, and on an intake whose numbering is still pending."`
}

// caseState is a case as GET /v1/cases/{id} shows it: the folded state and
// its flags now.
type caseState struct {
	domain.Case
	Flags []string `json:"flags" doc:"What the case's person needs care for now, such as minor, under_16, elderly, police_report_due, unidentified."`
	// AllowedSteps are the steps the caller may record on the case now:
	// those its state allows (domain.AllowedSteps) that the caller's role
	// and scope permit (domain.Authorize), in the order of the API's steps.
	AllowedSteps []domain.Step `json:"allowed_steps" doc:"The steps the caller may record on the case now (POST /v1/cases/{id}/<step>): those the case's state allows that the caller's role and scope permit, in the order of the API's steps; always empty for inspectors (read-only)."`
	// PersonalDataErased is true once the person's personal data was
	// erased: the personal fields then read as absent.
	PersonalDataErased bool `json:"personal_data_erased,omitempty" doc:"True once the person's personal data was erased: the personal fields then read as absent."`
}

// createCase records an intake: POST /v1/cases.
func (s *Server) createCase(w http.ResponseWriter, r *http.Request) error {
	var cmd domain.Intake
	opts, err := s.readCommand(w, r, &cmd)
	if err != nil {
		return err
	}
	res, err := s.cfg.Service.Intake(r.Context(), actorOf(r), &cmd, opts)
	if err != nil {
		return err
	}
	s.waitForViews(r, res.Position)
	w.Header().Set("Location", "/v1/cases/"+res.ID)
	w.Header().Set("ETag", etag(res.Version))
	s.writeJSON(w, r, http.StatusCreated, stepAnswer{ID: res.ID, Version: res.Version, Status: res.Status,
		CaseNumber: res.CaseNumber})
	return nil
}

// readCommand reads what every write carries: the request's options
// (Idempotency-Key, If-Match), then the body decoded strictly into cmd.
func (s *Server) readCommand(w http.ResponseWriter, r *http.Request, cmd any) (Options, error) {
	opts, err := requestOptions(r)
	if err != nil {
		return opts, err
	}
	return opts, s.decode(w, r, cmd)
}

// decode reads the body and decodes it strictly into v.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	return DecodeStrict(body, v)
}

// caseID reads the {id} path variable.
func caseID(r *http.Request) (uuid.UUID, error) {
	id, err := uuid.Parse(mux.Vars(r)["id"])
	if err != nil {
		return uuid.UUID{}, domain.NotFound("no such case")
	}
	return id, nil
}

// caseStep returns the handler of POST /v1/cases/{id}/<step>.
func (s *Server) caseStep(step domain.Step) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := caseID(r)
		if err != nil {
			return err
		}
		cmd, ok := domain.NewCommand(step)
		if !ok {
			return domain.NotFound("no such step")
		}
		opts, err := s.readCommand(w, r, cmd)
		if err != nil {
			return err
		}
		res, err := s.cfg.Service.Execute(r.Context(), actorOf(r), id, cmd, opts)
		if err != nil {
			return err
		}
		s.waitForViews(r, res.Position)
		w.Header().Set("ETag", etag(res.Version))
		s.writeJSON(w, r, http.StatusOK, stepAnswer{ID: res.ID, Version: res.Version, Status: res.Status})
		return nil
	}
}

// readableCase loads case id and checks that the actor may read it.
func (s *Server) readableCase(r *http.Request, id uuid.UUID) (domain.Case, error) {
	c, err := s.cfg.Service.Case(r.Context(), id)
	if err != nil {
		return c, err
	}
	err = domain.Authorize(actorOf(r), domain.StepRead, &c, func(code string) (string, bool) {
		return s.regions.regionOf(r.Context(), code)
	})
	return c, err
}

// getCase answers a case's current state: GET /v1/cases/{id}.
func (s *Server) getCase(w http.ResponseWriter, r *http.Request) error {
	id, err := caseID(r)
	if err != nil {
		return err
	}
	c, err := s.readableCase(r, id)
	if err != nil {
		return err
	}
	if err := s.recordRead(r, id); err != nil {
		return err
	}
	now := s.now()
	w.Header().Set("ETag", etag(c.Version))
	s.writeJSON(w, r, http.StatusOK, caseState{
		Case: c, Flags: nonNil(c.Flags(now)), AllowedSteps: s.allowedSteps(r, c, now),
		PersonalDataErased: c.PersonalDataErased(),
	})
	return nil
}

// allowedSteps returns the steps that case c allows at now
// (domain.AllowedSteps) that the request's actor may take on it, as the
// domain service authorizes a step (domain.Authorize): never nil.
func (s *Server) allowedSteps(r *http.Request, c domain.Case, now time.Time) []domain.Step {
	actor := actorOf(r)
	regionOf := func(code string) (string, bool) { return s.regions.regionOf(r.Context(), code) }
	out := []domain.Step{}
	for _, step := range domain.AllowedSteps(c, now) {
		if domain.Authorize(actor, step, &c, regionOf) == nil {
			out = append(out, step)
		}
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// caseHistory answers a case's history, as of a time, a log position or a
// version: GET /v1/cases/{id}/history. The read is logged once the history
// is built: a refused or failed one is not.
func (s *Server) caseHistory(w http.ResponseWriter, r *http.Request) error {
	id, err := caseID(r)
	if err != nil {
		return err
	}
	asOf, err := asOfParams(r, "as_of")
	if err != nil {
		return err
	}
	version, err := uintParam(r, "version", 0, 1<<62)
	if err != nil {
		return err
	}
	if version > 0 && !asOf.At.IsZero() {
		return errorf(domain.CodeInvalid, "version", "give as_of or version, not both")
	}
	if version > 0 && !asOf.Position.IsZero() {
		return errorf(domain.CodeInvalid, "version", "give position or version, not both")
	}
	c, err := s.readableCase(r, id)
	if err != nil {
		return err
	}
	if version > c.Version {
		return errorf(domain.CodeInvalid, "version", "version must be at most the case's version, "+uitoa(c.Version))
	}
	h, err := s.cfg.Views.History(r.Context(), id, asOf, version)
	if err != nil {
		return err
	}
	if err := s.recordRead(r, id); err != nil {
		return err
	}
	h.Events = s.withActorNames(h.Events)
	w.Header().Set("ETag", etag(c.Version))
	s.writeJSON(w, r, http.StatusOK, h)
	return nil
}

// Page sizes of the listings of cases and people (GET /v1/cases,
// GET /v1/repeat-visitors): the size of a page when ?limit= is absent, and
// the largest a request may ask for.
const (
	defaultPageSize = 50
	maxPageSize     = 500
)

// searchCases lists cases in the actor's scope: GET /v1/cases. Every case
// of the page answered is a read: by an inspector, coordinator or admin it
// is written to the access log (one entry per case shown).
func (s *Server) searchCases(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, err := limitParam(r, defaultPageSize, maxPageSize)
	if err != nil {
		return err
	}
	cq := CaseQuery{
		Station: q.Get("station"), Region: q.Get("region"), Status: domain.Status(q.Get("status")),
		Q: q.Get("q"), Number: q.Get("number"), Limit: int(limit), Cursor: q.Get("cursor"),
	}
	if cq.Status != "" && !validStatus(cq.Status) {
		return errorf(domain.CodeInvalid, "status", "status must be one of "+strings.Join(statuses, ", "))
	}
	f, err := s.scope(r, Filter{Station: cq.Station, Region: cq.Region})
	if err != nil {
		return err
	}
	cq.Station, cq.Region = f.Station, f.Region
	out, err := s.cfg.Views.SearchCases(r.Context(), cq)
	if err != nil {
		return err
	}
	// A hit shows the person's name, sex and age: it is a read of the case.
	ids := make([]uuid.UUID, len(out.Items))
	for i, it := range out.Items {
		ids[i] = it.ID
	}
	if err := s.recordReads(r, ids); err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, out)
	return nil
}

func validStatus(st domain.Status) bool { return slices.Contains(statuses, string(st)) }
