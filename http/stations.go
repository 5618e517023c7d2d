package http

import (
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"waystation/domain"
)

// createStation registers a station with its zones and beds:
// POST /v1/stations (admins).
func (s *Server) createStation(w http.ResponseWriter, r *http.Request) {
	if err := requireRole(r, domain.RoleAdmin); err != nil {
		s.Error(w, r, err)
		return
	}
	var cmd domain.RegisterStation
	opts, err := s.readCommand(w, r, &cmd)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	res, err := s.cfg.Service.RegisterStation(r.Context(), actorOf(r), &cmd, opts)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.waitForViews(r, res.Position)
	w.Header().Set("Location", "/v1/stations/"+cmd.Code)
	w.Header().Set("ETag", etag(res.Version))
	s.writeJSON(w, r, http.StatusCreated, map[string]any{"code": cmd.Code, "version": res.Version})
}

// listStations lists every station: GET /v1/stations.
func (s *Server) listStations(w http.ResponseWriter, r *http.Request) {
	out, err := s.cfg.Views.Stations(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// getStation shows one station: GET /v1/stations/{code}.
func (s *Server) getStation(w http.ResponseWriter, r *http.Request) {
	out, err := s.cfg.Views.Station(r.Context(), mux.Vars(r)["code"])
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// stationOccupancy shows beds and residents, now or at a time:
// GET /v1/stations/{code}/occupancy. Residents are case IDs, so it is in
// the station's scope only (its staff, its region's coordinators and
// inspectors, admins).
func (s *Server) stationOccupancy(w http.ResponseWriter, r *http.Request) {
	code := mux.Vars(r)["code"]
	asOf, err := asOfParams(r, "at")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if _, ok := s.regions.regionOf(r.Context(), code); !ok {
		s.Error(w, r, domain.NotFound("no such station"))
		return
	}
	if _, err := s.scope(r, Filter{Station: code}); err != nil {
		s.Error(w, r, err)
		return
	}
	out, err := s.cfg.Views.Occupancy(r.Context(), code, asOf)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

func uitoa(n uint64) string { return strconv.FormatUint(n, 10) }
