package console

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
	"waystation/projections"
)

// home is the first page after the login: staff see their station's
// board; everyone else chooses a station (coordinators among their
// region's).
func (c *Console) home(q *req) error {
	if q.user.Role == domain.RoleStaff || q.r.URL.Query().Get("station") != "" {
		b, err := c.board(q, c.stationOf(q))
		if err != nil {
			return err
		}
		c.render(q, http.StatusOK, "board", "board.title", b)
		return nil
	}
	var list struct {
		Items []projections.StationInfo `json:"items"`
	}
	if _, err := c.api.call(q.r, "GET", "/v1/stations", nil, nil, &list); err != nil {
		return err
	}
	sts := list.Items
	if q.user.Region != "" {
		sts = slices.DeleteFunc(sts, func(s projections.StationInfo) bool { return s.Region != q.user.Region })
	}
	rows := make([]stationRow, 0, len(sts))
	for _, s := range sts {
		row := stationRow{Station: s}
		var o projections.Occupancy
		if _, err := c.api.call(q.r, "GET", "/v1/stations/"+url.PathEscape(s.Code)+"/occupancy", nil, nil, &o); err == nil {
			row.Occupancy = &o
		}
		rows = append(rows, row)
	}
	c.render(q, http.StatusOK, "stations", "stations.title", rows)
	return nil
}

type stationRow struct {
	Station   projections.StationInfo
	Occupancy *projections.Occupancy
}

// Free counts the free beds of every zone.
func (s stationRow) Free() int {
	if s.Occupancy == nil {
		return 0
	}
	n := 0
	for _, z := range s.Occupancy.Zones {
		n += z.Free
	}
	return n
}

// stationOf is the station a page is about: staff's own, else the one
// asked for.
func (c *Console) stationOf(q *req) string {
	if q.user.Role == domain.RoleStaff {
		return q.user.Station
	}
	return q.r.URL.Query().Get("station")
}

// boardPage is a station's day: beds, arrivals, people away, what is due.
type boardPage struct {
	Station  projections.StationInfo
	Now      time.Time
	Zones    []zoneBoard
	Arrivals []summary
	Away     []summary
	Received []summary // arrived and not yet in a bed
	Worklist []workItem
	Alerts   []projections.Alert
	HasWork  bool
	// WorkTotal and AlertTotal count the whole lists; the board shows the
	// first boardItems of each.
	WorkTotal, AlertTotal int
	Position              uint64 // the log's position before the board was read
}

type zoneBoard struct {
	projections.ZoneOccupancy
	Cells []bedBoard
}

type bedBoard struct {
	Taken  bool
	Bed    string
	Case   *summary
	CaseID uuid.UUID
	Since  time.Time
}

// workItem is one entry of the worklist (GET /v1/worklist).
type workItem struct {
	Rule    string    `json:"rule"`
	CaseID  uuid.UUID `json:"case_id"`
	Station string    `json:"station"`
	Due     time.Time `json:"due"`
	Overdue bool      `json:"overdue"`
	Step    string    `json:"step"`
	Case    *summary
}

// board gathers the board of station code from the API.
func (c *Console) board(q *req, code string) (boardPage, error) {
	if code == "" {
		return boardPage{}, domain.Invalid("station", "choose a station")
	}
	b := boardPage{Now: c.now()}
	if c.cfg.Live != nil {
		b.Position = c.cfg.Live.Position().Commit
	}
	path := "/v1/stations/" + url.PathEscape(code)
	if _, err := c.api.call(q.r, "GET", path, nil, nil, &b.Station); err != nil {
		return b, err
	}
	var o projections.Occupancy
	if _, err := c.api.call(q.r, "GET", path+"/occupancy", nil, nil, &o); err != nil {
		return b, err
	}
	cases, err := c.openCases(q, url.Values{"station": {code}})
	if err != nil {
		return b, err
	}
	byID := map[uuid.UUID]*summary{}
	today := civilDay(b.Now)
	for i := range cases {
		cs := &cases[i]
		byID[cs.ID] = cs
		if civilDay(cs.OpenedAt) == today {
			b.Arrivals = append(b.Arrivals, *cs)
		}
		switch cs.Status {
		case domain.StatusInHospital, domain.StatusInTransit:
			b.Away = append(b.Away, *cs)
		}
	}
	inBed := map[uuid.UUID]bool{}
	for _, z := range o.Zones {
		zb := zoneBoard{ZoneOccupancy: z}
		for _, r := range o.Residents {
			if r.Zone == z.Zone {
				inBed[r.CaseID] = true
				zb.Cells = append(zb.Cells, bedBoard{Taken: true, Bed: r.Bed, Case: byID[r.CaseID], CaseID: r.CaseID, Since: r.Since})
			}
		}
		for range z.Free {
			zb.Cells = append(zb.Cells, bedBoard{})
		}
		b.Zones = append(b.Zones, zb)
	}
	for _, cs := range cases {
		if cs.Status == domain.StatusReceived && !inBed[cs.ID] {
			b.Received = append(b.Received, cs)
		}
	}
	var wl struct {
		Items []workItem `json:"items"`
	}
	switch _, err := c.api.call(q.r, "GET", "/v1/worklist", url.Values{"station": {code}}, nil, &wl); {
	case err == nil:
		b.HasWork = true
		for i := range wl.Items {
			wl.Items[i].Case = byID[wl.Items[i].CaseID]
		}
		b.Worklist, b.WorkTotal = wl.Items, len(wl.Items)
		if len(b.Worklist) > boardItems {
			b.Worklist = b.Worklist[:boardItems]
		}
	case isNotFound(err):
	default:
		return b, err
	}
	var sb projections.SafetyBoard
	if _, err := c.api.call(q.r, "GET", "/v1/safety", url.Values{"station": {code}}, nil, &sb); err != nil {
		return b, err
	}
	b.Alerts, b.AlertTotal = sortAlerts(sb.Alerts), len(sb.Alerts)
	if len(b.Alerts) > boardItems {
		b.Alerts = b.Alerts[:boardItems]
	}
	return b, nil
}

// summary is one case of a search, as GET /v1/cases answers.
type summary = projections.CaseSummary

// searchResult is one page of a search.
type searchResult struct {
	Items      []summary `json:"items"`
	NextCursor string    `json:"next_cursor"`
}

// boardItems is how many entries of the worklist and of the safety board
// a board shows; the lists' own pages show them all.
const boardItems = 10

// sortAlerts orders alerts the most urgent first, then the oldest first.
func sortAlerts(as []projections.Alert) []projections.Alert {
	slices.SortFunc(as, func(a, b projections.Alert) int {
		return cmp.Or(cmp.Compare(severityRank(a.Severity), severityRank(b.Severity)), a.Since.Compare(b.Since))
	})
	return as
}

func isNotFound(err error) bool {
	p, ok := problemOf(err)
	return ok && p.Status == http.StatusNotFound
}

func severityRank(s string) int {
	switch s {
	case "critical":
		return 0
	case "high":
		return 1
	case "medium":
		return 2
	}
	return 3
}

// boardFragment is the board without the page around it, for a live
// board to swap in.
func (c *Console) boardFragment(q *req) error {
	b, err := c.board(q, c.stationOf(q))
	if err != nil {
		return err
	}
	c.renderFragment(q, "board", "board-body", b)
	return nil
}

// liveBeat is how often an idle live stream sends a comment, so that
// proxies and the browser keep it open.
const liveBeat = 25 * time.Second

// live streams an event named "changed" each time the log moves on (at
// most every liveGap), as server-sent events; the page then fetches its
// board again. The events carry nothing else. With after=N (the log's
// position when the page was drawn) a change made since is told at once.
func (c *Console) live(q *req) error {
	if c.cfg.Live == nil {
		return domain.NotFound("live updates are off")
	}
	pos := c.cfg.Live.Position()
	if after, err := strconv.ParseUint(q.r.URL.Query().Get("after"), 10, 64); err == nil && after < pos.Commit {
		pos = eventstore.Position{Commit: after, Prepare: after}
	}
	w, rc := q.w, http.NewResponseController(q.w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	write := func(s string) error {
		_ = rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := fmt.Fprint(w, s); err != nil {
			return err
		}
		return rc.Flush()
	}
	if err := write("retry: 2000\n\n"); err != nil {
		return nil
	}
	ctx, end := context.WithCancel(q.r.Context())
	defer end()
	defer context.AfterFunc(c.streams, end)()
	for {
		next := eventstore.Position{Commit: pos.Commit + 1}
		wait, cancel := context.WithTimeout(ctx, liveBeat)
		err := c.cfg.Live.WaitFor(wait, next)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		msg := ": beat\n\n"
		if err == nil {
			pos = c.cfg.Live.Position()
			msg = "event: changed\ndata: {}\n\n"
		}
		if write(msg) != nil {
			return nil
		}
		if err == nil {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(liveGap):
			}
		}
	}
}

// liveGap is the least time between two "changed" events of one stream:
// a burst of steps refreshes a board once.
const liveGap = 200 * time.Millisecond

// civilDay is the civil date of t in Beijing time.
func civilDay(t time.Time) string { return t.In(domain.CivilZone).Format(time.DateOnly) }
