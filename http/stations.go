package http

import (
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"waystation/domain"
	"waystation/projections"
)

// createStation registers a station with its zones and beds:
// POST /v1/stations (admins).
func (s *Server) createStation(w http.ResponseWriter, r *http.Request) error {
	var cmd domain.RegisterStation
	opts, err := s.readCommand(w, r, &cmd)
	if err != nil {
		return err
	}
	res, err := s.cfg.Service.RegisterStation(r.Context(), actorOf(r), &cmd, opts)
	if err != nil {
		return err
	}
	s.waitForViews(r, res.Position)
	w.Header().Set("Location", "/v1/stations/"+cmd.Code)
	w.Header().Set("ETag", etag(res.Version))
	s.writeJSON(w, r, http.StatusCreated, stationWritten{Code: cmd.Code, Version: res.Version})
	return nil
}

// stationWritten is the answer to a station registration or a change of
// its zones: the station's code and its stream's version after the write.
type stationWritten struct {
	Code    string `json:"code" doc:"The station's code."`
	Version uint64 `json:"version" doc:"The station's version after the write; send it in If-Match with the next change."`
}

// changeZones replaces a station's zones and bed counts, seasonal and
// overflow beds included: POST /v1/stations/{code}/zones (admins). The
// body lists every zone the station keeps (a zone left out goes); it is
// refused with rule bed_occupied when an occupied bed would disappear.
// It takes Idempotency-Key, and If-Match with the station's version.
func (s *Server) changeZones(w http.ResponseWriter, r *http.Request) error {
	var cmd domain.ChangeZones
	opts, err := s.readCommand(w, r, &cmd)
	if err != nil {
		return err
	}
	if cmd.Zones == nil {
		// Left out, the zones would read as none: every bed would go.
		return errorf(domain.CodeInvalid, "zones", "zones is required: list every zone the station keeps")
	}
	code := mux.Vars(r)["code"]
	res, err := s.cfg.Service.ChangeZones(r.Context(), actorOf(r), code, &cmd, opts)
	if err != nil {
		return err
	}
	s.waitForViews(r, res.Position)
	w.Header().Set("ETag", etag(res.Version))
	s.writeJSON(w, r, http.StatusOK, stationWritten{Code: code, Version: res.Version})
	return nil
}

// stationList is the answer of GET /v1/stations: every station, by code.
type stationList struct {
	Items []projections.StationInfo `json:"items" doc:"Every station, by code."`
}

// listStations lists every station: GET /v1/stations.
func (s *Server) listStations(w http.ResponseWriter, r *http.Request) error {
	out, err := s.cfg.Views.Stations(r.Context())
	if err != nil {
		return err
	}
	if out == nil {
		out = []projections.StationInfo{}
	}
	s.writeJSON(w, r, http.StatusOK, stationList{Items: out})
	return nil
}

// getStation shows one station: GET /v1/stations/{code}.
func (s *Server) getStation(w http.ResponseWriter, r *http.Request) error {
	out, err := s.cfg.Views.Station(r.Context(), mux.Vars(r)["code"])
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, out)
	return nil
}

// stationOccupancy shows beds and residents, now or at a time:
// GET /v1/stations/{code}/occupancy. Residents are case IDs, so it is in
// the station's scope only (its staff, its region's coordinators and
// inspectors, admins).
func (s *Server) stationOccupancy(w http.ResponseWriter, r *http.Request) error {
	code := mux.Vars(r)["code"]
	asOf, err := asOfParams(r, "at")
	if err != nil {
		return err
	}
	if _, ok := s.regions.regionOf(r.Context(), code); !ok {
		return domain.NotFound("no such station")
	}
	if _, err := s.scope(r, Filter{Station: code}); err != nil {
		return err
	}
	out, err := s.cfg.Views.Occupancy(r.Context(), code, asOf)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, out)
	return nil
}

func uitoa(n uint64) string { return strconv.FormatUint(n, 10) }
