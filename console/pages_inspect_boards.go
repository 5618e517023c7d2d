package console

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"waystation/domain"
	"waystation/projections"
)

// inspectBoards is /inspect/boards: a station's or a region's occupancy,
// safety board and (where the API has it) worklist as of a moment.
type inspectBoards struct {
	Station, Region string
	Moment          moment
	Chosen          bool // a station or a region was asked for
	Stations        []projections.StationInfo
	Regions         []string
	Occupancy       []projections.Occupancy
	Safety          projections.SafetyBoard
	Worklist        []workItem
	HasWorklist     bool
	NowLocal        string
}

func (c *Console) inspectBoardsPage(q *req) error {
	v := q.r.URL.Query()
	m, _, err := parseMoment(v, "")
	if err != nil {
		return err
	}
	m.ByVersion, m.Version = false, 0
	p := inspectBoards{Station: strings.TrimSpace(v.Get("station")), Region: strings.TrimSpace(v.Get("region")),
		Moment: m, NowLocal: localInput(c.now())}
	if p.Station != "" && p.Region != "" {
		return domain.Invalid("region", "choose a station or a region, not both")
	}
	if p.Stations, p.Regions, err = c.stationsInScope(q); err != nil {
		return err
	}
	p.Chosen = p.Station != "" || p.Region != ""
	if p.Chosen {
		if err := c.loadBoards(q, &p); err != nil {
			return err
		}
	}
	c.render(q, http.StatusOK, "inspect_boards", "inspect.boards_title", p)
	return nil
}

// loadBoards reads the boards of p's station or region at p's moment.
func (c *Console) loadBoards(q *req, p *inspectBoards) error {
	at := url.Values{}
	if !p.Moment.At.IsZero() {
		at.Set("at", p.Moment.At.Format(time.RFC3339))
		if p.Moment.Known {
			at.Set("known", "true")
		}
	}
	scope := url.Values{}
	codes := []string{p.Station}
	if p.Station != "" {
		scope.Set("station", p.Station)
	} else {
		scope.Set("region", p.Region)
		codes = codes[:0]
		for _, s := range p.Stations {
			if s.Region == p.Region {
				codes = append(codes, s.Code)
			}
		}
	}
	for k, vs := range at {
		scope[k] = vs
	}
	if _, err := c.api.call(q.r, "GET", "/v1/safety", scope, nil, &p.Safety); err != nil {
		return err
	}
	for _, code := range codes {
		var o projections.Occupancy
		if _, err := c.api.call(q.r, "GET", "/v1/stations/"+url.PathEscape(code)+"/occupancy", at, nil, &o); err != nil {
			return err
		}
		p.Occupancy = append(p.Occupancy, o)
	}
	var wl struct {
		Items []workItem `json:"items"`
	}
	_, err := c.api.call(q.r, "GET", "/v1/worklist", scope, nil, &wl)
	if pr, ok := problemOf(err); ok && pr.Status == http.StatusNotFound {
		// The safety board knew the station or region: a 404 here is an
		// API without the worklist yet, and that part is left out.
		return nil
	}
	if err != nil {
		return err
	}
	p.HasWorklist, p.Worklist = true, wl.Items
	return nil
}
