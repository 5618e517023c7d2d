package console

import (
	"net/http"
	"net/url"
	"slices"
	"time"

	"waystation/domain"
	"waystation/projections"
)

// regionRoutes serves the regional coordinator's pages: a region's beds
// and safety board, and its transfers as conversations between stations.
func (c *Console) regionRoutes() {
	c.mux.Handle("GET /regions/{region}", c.user(c.regionPage))
	c.mux.Handle("GET /regions/{region}/transfers", c.user(c.transfersPage))
}

// severities are the safety board's severities, most urgent first.
var severities = []string{projections.SeverityHigh, projections.SeverityMedium, projections.SeverityLow}

// alertFilter is what the safety board of a region is narrowed to: codes
// only, never a personal value.
type alertFilter struct {
	Rule, Severity, Station string
}

// regionPage is a region's beds by station and zone, and its safety board.
type regionPage struct {
	Region   string
	Now      time.Time
	Stations []stationRow
	Alerts   []projections.Alert
	// Shown counts the alerts the filter keeps; Pager places this page
	// of them.
	Shown      int
	Pager      pager
	All        int // alerts before the filter
	Filter     alertFilter
	Rules      []string
	Severities []string
}

// regionPage shows region's stations with their free beds by zone and
// the region's safety board, filtered by rule, severity and station. The
// API decides who may see the region (GET /v1/safety?region= refuses
// those outside it).
func (c *Console) regionPage(q *req) error {
	region := q.r.PathValue("region")
	qs := q.r.URL.Query()
	var board projections.SafetyBoard
	if _, err := c.api.call(q.r, "GET", "/v1/safety", url.Values{"region": {region}}, nil, &board); err != nil {
		return err
	}
	sts, err := c.regionStations(q, region)
	if err != nil {
		return err
	}
	p := regionPage{Region: region, Now: c.now(), Rules: projections.Rules, Severities: severities,
		All: len(board.Alerts)}
	if r := qs.Get("rule"); slices.Contains(projections.Rules, r) {
		p.Filter.Rule = r
	}
	if s := qs.Get("severity"); slices.Contains(severities, s) {
		p.Filter.Severity = s
	}
	for _, s := range sts {
		if s.Code == qs.Get("station") {
			p.Filter.Station = s.Code
		}
		row := stationRow{Station: s}
		var o projections.Occupancy
		if _, err := c.api.call(q.r, "GET", "/v1/stations/"+url.PathEscape(s.Code)+"/occupancy", nil, nil, &o); err == nil {
			row.Occupancy = &o
		}
		p.Stations = append(p.Stations, row)
	}
	for _, a := range board.Alerts {
		if (p.Filter.Rule == "" || a.Rule == p.Filter.Rule) && (p.Filter.Severity == "" || a.Severity == p.Filter.Severity) &&
			(p.Filter.Station == "" || a.Station == p.Filter.Station) {
			p.Alerts = append(p.Alerts, a)
		}
	}
	p.Shown = len(p.Alerts)
	p.Alerts, p.Pager = paged(p.Alerts, q.r.URL.Path, qs)
	c.render(q, http.StatusOK, "region", "region.title", p)
	return nil
}

// regionStations lists the stations of region, by code.
func (c *Console) regionStations(q *req, region string) ([]projections.StationInfo, error) {
	var list struct {
		Items []projections.StationInfo `json:"items"`
	}
	if _, err := c.api.call(q.r, "GET", "/v1/stations", nil, nil, &list); err != nil {
		return nil, err
	}
	return slices.DeleteFunc(list.Items, func(s projections.StationInfo) bool { return s.Region != region }), nil
}

// transferStates are the choices of the transfers page's state filter, as
// the API names them.
var transferStates = []string{"in_flight", "ended"}

// transfersPage is a region's transfers, each a conversation.
type transfersPage struct {
	Region    string
	Now       time.Time
	State     string
	States    []string
	Transfers []conversation
}

// conversation is one transfer as the two stations see it: what each
// said when, the person it is about (no name), whether the receiver has
// the zone the person needs free now, and the steps that move it on.
type conversation struct {
	projections.TransferEntry
	Turns []turn
	// Free is the receiver's free beds in the zone needed now; nil when
	// the API did not tell (the receiver is outside the user's scope).
	Free *int
	// FreeFitting is the receiver's free beds in any zone the person fits.
	FreeFitting *int
	// Waiting is the station whose turn it is; Next its steps.
	Waiting string
	Next    []domain.Step
}

// turn is one message of a conversation: who (a station), what, when.
type turn struct {
	Station string
	What    string // the catalogue key's last part: requested, accepted...
	At      time.Time
	Reason  string
}

// Turn states of a transfer, as the board names them.
const (
	turnRequested = "requested"
	turnAccepted  = "accepted"
	turnDeclined  = "declined"
	turnDeparted  = "departed"
	turnHanded    = "handed_over"
	turnExited    = "case_exited"
)

// transfersPage shows every transfer from or to the region's stations
// that the API lets the user see (staff: their station's), in flight
// first, then those ended in the last 30 days, with the steps that move
// each on as links to the case's step forms.
func (c *Console) transfersPage(q *req) error {
	region := q.r.PathValue("region")
	p := transfersPage{Region: region, Now: c.now(), States: transferStates}
	query := url.Values{}
	if s := q.r.URL.Query().Get("state"); slices.Contains(transferStates, s) {
		p.State = s
		query.Set("state", s)
	}
	var board projections.TransferBoard
	if _, err := c.api.call(q.r, "GET", "/v1/regions/"+url.PathEscape(region)+"/transfers", query, nil, &board); err != nil {
		return err
	}
	occupancy := map[string]*projections.Occupancy{}
	for _, t := range board.Transfers {
		o, seen := occupancy[t.To]
		if !seen {
			var got projections.Occupancy
			if _, err := c.api.call(q.r, "GET", "/v1/stations/"+url.PathEscape(t.To)+"/occupancy", nil, nil, &got); err == nil {
				o = &got
			}
			occupancy[t.To] = o
		}
		p.Transfers = append(p.Transfers, c.conversationOf(q, t, o))
	}
	c.render(q, http.StatusOK, "region_transfers", "transfers.title", p)
	return nil
}

// conversationOf tells transfer t as a conversation, with the receiver's
// free beds from o (nil when unknown).
func (c *Console) conversationOf(q *req, t projections.TransferEntry, o *projections.Occupancy) conversation {
	cv := conversation{TransferEntry: t}
	cv.Turns = append(cv.Turns, turn{Station: t.From, What: turnRequested, At: t.RequestedAt, Reason: t.Reason})
	if !t.AcceptedAt.IsZero() {
		cv.Turns = append(cv.Turns, turn{Station: t.To, What: turnAccepted, At: t.AcceptedAt})
	}
	if !t.DepartedAt.IsZero() {
		cv.Turns = append(cv.Turns, turn{Station: t.From, What: turnDeparted, At: t.DepartedAt})
	}
	switch t.State {
	case projections.TransferDeclined:
		cv.Turns = append(cv.Turns, turn{Station: t.To, What: turnDeclined, At: t.EndedAt, Reason: t.DeclineReason})
	case projections.TransferHandedOver:
		cv.Turns = append(cv.Turns, turn{Station: t.To, What: turnHanded, At: t.EndedAt})
	case projections.TransferCaseExited:
		cv.Turns = append(cv.Turns, turn{What: turnExited, At: t.EndedAt})
	}
	if o != nil {
		free, fitting := 0, 0
		for _, z := range o.Zones {
			if z.Zone == t.ZoneNeeded {
				free += z.Free
			}
			if slices.Contains(t.ZonesFitting, z.Zone) {
				fitting += z.Free
			}
		}
		cv.Free, cv.FreeFitting = &free, &fitting
	}
	// Whose turn it is follows the conversation (DOMAIN.md: the receiver
	// answers and confirms the handover, the sender sends the escort);
	// the step forms go through the API, which alone decides.
	switch t.State {
	case domain.TransferStateRequested:
		cv.Waiting, cv.Next = t.To, []domain.Step{domain.StepTransferAccept, domain.StepTransferDecline}
	case domain.TransferStateAccepted:
		cv.Waiting, cv.Next = t.From, []domain.Step{domain.StepEscortDeparture}
	case domain.TransferStateDeparted:
		cv.Waiting, cv.Next = t.To, []domain.Step{domain.StepHandover}
	}
	if !c.mayAnswerFor(q, cv.Waiting, cv.regionOf(cv.Waiting)) {
		cv.Next = nil
	}
	return cv
}

// regionOf is the region of station code, one of the transfer's two.
func (cv conversation) regionOf(code string) string {
	if code == cv.From {
		return cv.FromRegion
	}
	return cv.ToRegion
}

// mayAnswerFor reports whether the user speaks for station (of region) in
// a conversation: its staff, its region's coordinators, admins. It only
// chooses which links to offer; the API decides on the step.
func (c *Console) mayAnswerFor(q *req, station, region string) bool {
	switch q.user.Role {
	case domain.RoleAdmin:
		return station != ""
	case domain.RoleStaff:
		return station != "" && station == q.user.Station
	case domain.RoleCoordinator:
		return region != "" && region == q.user.Region
	}
	return false
}
