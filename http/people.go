package http

import (
	"net/http"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/projections"
)

// personAnswer is the answer of GET /v1/cases/{id}/person: the other cases
// of the case's person that the token may read, oldest first, and how many
// more there are outside its scope.
type personAnswer struct {
	CaseID       uuid.UUID                `json:"case_id" doc:"The case asked about."`
	Cases        []projections.PersonCase `json:"cases" doc:"The person's other cases the token may read, oldest first."`
	OutsideScope int                      `json:"outside_scope" doc:"How many more cases the person has outside the token's scope."`
}

// repeatVisitor is one person of GET /v1/repeat-visitors: their latest
// case, the cases of theirs the token may read (the latest included),
// oldest first, and how many more there are outside its scope.
type repeatVisitor struct {
	LatestCase   uuid.UUID                `json:"latest_case" doc:"The person's most recent case."`
	Cases        []projections.PersonCase `json:"cases" doc:"The person's cases the token may read, oldest first, the latest included."`
	OutsideScope int                      `json:"outside_scope" doc:"How many more cases the person has outside the token's scope."`
}

// repeatVisitorList is the answer of GET /v1/repeat-visitors: a page of
// repeat visitors and the cursor of the next page (empty on the last).
type repeatVisitorList struct {
	Items      []repeatVisitor `json:"items" doc:"The people of this page, most recent intake first."`
	NextCursor string          `json:"next_cursor" doc:"Pass it as cursor for the next page; empty on the last page."`
}

// personOfCase lists the other cases of a case's person, so that staff who
// see a repeat_visitor alert can open the earlier cases:
// GET /v1/cases/{id}/person. The token must be allowed to read case {id};
// the cases listed are those it may read as GET /v1/cases/{id} would (staff:
// their station's cases and transfers addressed to it; coordinators and
// bound inspectors: their region's), the others only counted. Reads by
// inspectors, coordinators and admins are logged, one entry per case
// shown and one for {id}.
func (s *Server) personOfCase(w http.ResponseWriter, r *http.Request) error {
	id, err := s.readableCaseID(r)
	if err != nil {
		return err
	}
	list, err := s.cfg.Views.Person(r.Context(), id)
	if err != nil {
		return err
	}
	others := make([]projections.PersonCase, 0, len(list))
	for _, pc := range list {
		if pc.CaseID != id {
			others = append(others, pc)
		}
	}
	shown, hidden := s.readableOf(r, others)
	read := []uuid.UUID{id}
	for _, pc := range shown {
		read = append(read, pc.CaseID)
	}
	if err := s.recordReads(r, read); err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, personAnswer{CaseID: id, Cases: shown, OutsideScope: hidden})
	return nil
}

// matchBody is the body of POST /v1/people/matches: what is known of a
// person about to be registered.
type matchBody struct {
	Person domain.Person `json:"person" doc:"The person as the intake form has them so far: the ID number, or the name, the date of birth and the household registration place, are what the index links by."`
}

// matchAnswer is the answer of POST /v1/people/matches.
type matchAnswer struct {
	Cases        []projections.PersonCase `json:"cases" doc:"The person's cases the token may read, oldest first."`
	OutsideScope int                      `json:"outside_scope" doc:"How many more cases the person has outside the token's scope."`
}

// personMatches looks a person up in the person index before their intake
// is recorded: POST /v1/people/matches (the terms are personal: they go in
// the body, never in the URL). The cases the token may read are listed,
// the others counted, as on GET /v1/cases/{id}/person; reads by
// inspectors, coordinators and admins are logged, one entry per case
// shown.
func (s *Server) personMatches(w http.ResponseWriter, r *http.Request) error {
	var body matchBody
	if err := s.decode(w, r, &body); err != nil {
		return err
	}
	list, err := s.cfg.Views.Matches(r.Context(), body.Person)
	if err != nil {
		return err
	}
	shown, hidden := s.readableOf(r, list)
	read := make([]uuid.UUID, 0, len(shown))
	for _, pc := range shown {
		read = append(read, pc.CaseID)
	}
	if err := s.recordReads(r, read); err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, matchAnswer{Cases: shown, OutsideScope: hidden})
	return nil
}

// readableCaseID returns the case {id} of the route once the token is
// allowed to read that case, as GET /v1/cases/{id} decides; it returns a
// not-found error when {id} is not a case ID.
func (s *Server) readableCaseID(r *http.Request) (uuid.UUID, error) {
	id, err := caseID(r)
	if err != nil {
		return uuid.Nil, err
	}
	if _, err := s.readableCase(r, id); err != nil {
		return uuid.Nil, err
	}
	return id, nil
}

// repeatVisitors lists the people with more than one case whose latest
// case is at a station in the token's scope, most recent intake first, a
// page at a time as case search pages:
// GET /v1/repeat-visitors?station=|region=&limit=&cursor=. A page holds at
// most limit people (50 by default, at most 500); next_cursor, passed as
// cursor, gives the next page. Each person's cases are narrowed as on
// GET /v1/cases/{id}/person, and a person none of whose cases the token
// may read is left out of the page. Reads by inspectors, coordinators and
// admins are logged, one entry per case shown.
func (s *Server) repeatVisitors(w http.ResponseWriter, r *http.Request) error {
	f, err := s.scopeParams(r)
	if err != nil {
		return err
	}
	limit, err := limitParam(r, defaultPageSize, maxPageSize)
	if err != nil {
		return err
	}
	q := RepeatVisitorQuery{Filter: f, Limit: int(limit), Cursor: r.URL.Query().Get("cursor")}
	page, err := s.cfg.Views.RepeatVisitors(r.Context(), q)
	if err != nil {
		return err
	}
	out := repeatVisitorList{Items: make([]repeatVisitor, 0, len(page.Items)), NextCursor: page.NextCursor}
	var read []uuid.UUID
	for _, rv := range page.Items {
		shown, hidden := s.readableOf(r, rv.Cases)
		if len(shown) == 0 {
			continue
		}
		for _, pc := range shown {
			read = append(read, pc.CaseID)
		}
		out.Items = append(out.Items, repeatVisitor{LatestCase: rv.LatestCase, Cases: shown, OutsideScope: hidden})
	}
	if err := s.recordReads(r, read); err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, out)
	return nil
}

// readableOf splits list into the cases the actor may read, as
// GET /v1/cases/{id} decides, and a count of the others. It decides from
// the views alone: a read depends only on the case's station and the
// station a transfer in flight is addressed to, both of which the person
// index holds, so no case is loaded from the store.
func (s *Server) readableOf(r *http.Request, list []projections.PersonCase) ([]projections.PersonCase, int) {
	a := actorOf(r)
	regionOf := func(code string) (string, bool) { return s.regions.regionOf(r.Context(), code) }
	shown := make([]projections.PersonCase, 0, len(list))
	hidden := 0
	for _, pc := range list {
		c := domain.Case{Station: pc.Station}
		if pc.TransferTo != "" {
			c.Transfer = &domain.Transfer{To: pc.TransferTo}
		}
		if domain.Authorize(a, domain.StepRead, &c, regionOf) != nil {
			hidden++
			continue
		}
		shown = append(shown, pc)
	}
	return shown, hidden
}
