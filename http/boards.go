package http

import (
	"net/http"

	"github.com/gorilla/mux"

	"waystation/domain"
)

// safetyBoard lists the safety alerts of a station or region, now or at a
// time: GET /v1/safety.
func (s *Server) safetyBoard(w http.ResponseWriter, r *http.Request) {
	asOf, err := asOfParams(r, "at")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	f, err := s.scopeParams(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	out, err := s.cfg.Views.Safety(r.Context(), f, asOf)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// scopeParams returns the filter that the query's station= or region=
// (not both) asks for, narrowed to the token's scope as scope decides.
func (s *Server) scopeParams(r *http.Request) (Filter, error) {
	q := r.URL.Query()
	if q.Get("station") != "" && q.Get("region") != "" {
		return Filter{}, errorf(domain.CodeInvalid, "station", "give station or region, not both")
	}
	return s.scope(r, Filter{Station: q.Get("station"), Region: q.Get("region")})
}

// regionTransfers lists the transfers in flight in a region:
// GET /v1/regions/{region}/transfers (admins, the region's coordinators and
// inspectors).
func (s *Server) regionTransfers(w http.ResponseWriter, r *http.Request) {
	region := mux.Vars(r)["region"]
	if err := requireRole(r, domain.RoleAdmin, domain.RoleCoordinator, domain.RoleInspector); err != nil {
		s.Error(w, r, err)
		return
	}
	if _, err := s.scope(r, Filter{Region: region}); err != nil {
		s.Error(w, r, err)
		return
	}
	asOf, err := asOfParams(r, "at")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	out, err := s.cfg.Views.Transfers(r.Context(), region, asOf)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// statistics answers census, bed nights, length of stay and exits:
// GET /v1/stats.
func (s *Server) statistics(w http.ResponseWriter, r *http.Request) {
	from, err := timeParam(r, "from")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	to, err := timeParam(r, "to")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if to.IsZero() {
		to = s.now()
	}
	if from.IsZero() {
		from = to.AddDate(0, 0, -30)
	}
	if !from.Before(to) {
		s.Error(w, r, errorf(domain.CodeInvalid, "from", "from must be before to"))
		return
	}
	q := r.URL.Query()
	f, err := s.scope(r, Filter{Station: q.Get("station"), Region: q.Get("region")})
	if err != nil {
		s.Error(w, r, err)
		return
	}
	out, err := s.cfg.Views.Stats(r.Context(), f, from, to)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, out)
}
