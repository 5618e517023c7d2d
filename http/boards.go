package http

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"waystation/domain"
	"waystation/projections"
)

// safetyBoard lists the safety alerts of a station or region, now or at a
// time: GET /v1/safety.
func (s *Server) safetyBoard(w http.ResponseWriter, r *http.Request) error {
	return scopedBoard(s, w, r, s.cfg.Views.Safety)
}

// worklist lists what is due soon and overdue at a station or region, now
// or at a time, most urgent first: GET /v1/worklist. Its scope is the
// safety board's.
func (s *Server) worklist(w http.ResponseWriter, r *http.Request) error {
	return scopedBoard(s, w, r, s.cfg.Views.Worklist)
}

// scopedBoard answers a board of the stations the request's scope
// parameters select (station=, region=), as of its at= (and known=):
// the safety board and the worklist.
func scopedBoard[B any](s *Server, w http.ResponseWriter, r *http.Request,
	board func(context.Context, Filter, AsOf) (B, error)) error {
	asOf, err := asOfParams(r, "at")
	if err != nil {
		return err
	}
	f, err := s.scopeParams(r)
	if err != nil {
		return err
	}
	out, err := board(r.Context(), f, asOf)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, out)
	return nil
}

// transferStates are the values of a transfer board's state= filter:
// one state of projections.TransferStates, or in_flight or ended for all
// the states of a transfer in flight or of an ended one.
var transferStates = append(slices.Clone(projections.TransferStates), "in_flight", "ended")

// regionTransfers lists the transfers from or to a region's stations, in
// flight and ended in the last 30 days (since=): GET
// /v1/regions/{region}/transfers. Admins and inspectors of every region
// see each of them, coordinators and inspectors of the region too (a
// transfer between two regions is on both regions' boards); staff see
// the ones from or to their own station, whichever region they ask
// (the board of their station). station= narrows the board to one
// station's transfers, state= to one state (or in_flight, ended).
func (s *Server) regionTransfers(w http.ResponseWriter, r *http.Request) error {
	region := mux.Vars(r)["region"]
	q := r.URL.Query()
	station := q.Get("station")
	switch a := actorOf(r); {
	case a.Role == domain.RoleAdmin, a.Role == domain.RoleInspector && a.Region == "":
	case a.Role == domain.RoleStaff:
		if a.Station == "" || station != "" && station != a.Station {
			return domain.Forbidden("staff see the transfers of their own station only")
		}
		station = a.Station
	case a.Role == domain.RoleCoordinator, a.Role == domain.RoleInspector:
		if region != a.Region {
			return domain.Forbidden("the region is outside the token's scope")
		}
	default:
		return domain.Forbidden("unknown role")
	}
	asOf, err := asOfParams(r, "at")
	if err != nil {
		return err
	}
	tq := projections.TransferQuery{Region: region, Station: station}
	switch state := q.Get("state"); state {
	case "":
	case "in_flight":
		tq.States = slices.Clone(projections.TransferStates[:3])
	case "ended":
		tq.States = slices.Clone(projections.TransferStates[3:])
	default:
		if !slices.Contains(transferStates, state) {
			return errorf(domain.CodeInvalid, "state", "state must be one of "+strings.Join(transferStates, ", "))
		}
		tq.States = []string{state}
	}
	since, kind, err := civilParam(r, "since")
	if err != nil {
		return err
	}
	if kind != noValue {
		tq.Since = &since
	}
	out, err := s.cfg.Views.Transfers(r.Context(), tq, asOf)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, out)
	return nil
}

// statsDays is the length of the default statistics window: the civil
// dates of the last 30 days, today included.
const statsDays = 30

// statistics answers census, bed nights, length of stay and exits over a
// period: GET /v1/stats. from= and to= each take a civil date in Beijing
// time (2026-11-01; to is inclusive: the whole date counts) or an RFC
// 3339 time with a zone (to counts up to that instant, inclusive). With
// no to, the period ends with today; with no from, it begins 29 days
// before its last date, so that it is 30 dates long (or on
// projections.Earliest).
func (s *Server) statistics(w http.ResponseWriter, r *http.Request) error {
	from, fromKind, err := civilParam(r, "from")
	if err != nil {
		return err
	}
	to, toKind, err := civilParam(r, "to")
	if err != nil {
		return err
	}
	var p projections.Period
	switch toKind {
	case noValue:
		p.To = domain.CivilDate(s.now()).Time().AddDate(0, 0, 1)
	case dateValue:
		p.To = to.AddDate(0, 0, 1)
	default:
		p.To, p.ToInclusive = to, true
	}
	switch fromKind {
	case noValue:
		last := p.To
		if !p.ToInclusive {
			last = last.Add(-time.Nanosecond)
		}
		p.From = domain.CivilDate(last).Time().AddDate(0, 0, 1-statsDays)
		if p.From.Before(projections.Earliest) {
			p.From = projections.Earliest
		}
	default:
		p.From = from
	}
	q := r.URL.Query()
	f, err := s.scope(r, Filter{Station: q.Get("station"), Region: q.Get("region")})
	if err != nil {
		return err
	}
	out, err := s.cfg.Views.Stats(r.Context(), f, p)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, out)
	return nil
}
