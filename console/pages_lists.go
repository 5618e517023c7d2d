package console

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/projections"
)

// listScope is the station or region a list page is about: staff's own
// station, else the one asked for (?station= or ?region=), else all the
// user may see.
func (c *Console) listScope(q *req) url.Values {
	v := url.Values{}
	if q.user.Role == domain.RoleStaff {
		v.Set("station", q.user.Station)
		return v
	}
	qs := q.r.URL.Query()
	switch {
	case qs.Get("station") != "":
		v.Set("station", qs.Get("station"))
	case qs.Get("region") != "":
		v.Set("region", qs.Get("region"))
	case q.user.Region != "":
		v.Set("region", q.user.Region)
	}
	return v
}

// worklistPage is the whole worklist of a scope, filtered by rule.
type worklistPage struct {
	Scope url.Values
	Rule  string
	Rules []string
	Items []workItem
	Pager pager
}

// worklist shows everything due soon and overdue (GET /v1/worklist),
// filterable by rule: a code, never personal data, is all the URL holds.
func (c *Console) worklist(q *req) error {
	scope := c.listScope(q)
	var wl struct {
		Items []workItem `json:"items"`
	}
	if _, err := c.api.call(q.r, "GET", "/v1/worklist", scope, nil, &wl); err != nil {
		return err
	}
	p := worklistPage{Scope: scope, Rule: q.r.URL.Query().Get("rule"), Rules: projections.WorklistRules}
	cases, err := c.summaries(q, scope)
	if err != nil {
		return err
	}
	for _, it := range wl.Items {
		if p.Rule != "" && it.Rule != p.Rule {
			continue
		}
		it.Case = cases[it.CaseID]
		p.Items = append(p.Items, it)
	}
	p.Items, p.Pager = paged(p.Items, q.r.URL.Path, q.r.URL.Query())
	c.render(q, http.StatusOK, "worklist", "worklist.title", p)
	return nil
}

// safetyPage is the safety board of a scope, filtered by rule and
// severity.
type safetyPage struct {
	Scope      url.Values
	Rule       string
	Severity   string
	Rules      []string
	Severities []string
	Alerts     []alertRow
	Pager      pager
}

type alertRow struct {
	projections.Alert
	Case *summary
}

// safety shows the safety board (GET /v1/safety): what is already overdue.
func (c *Console) safety(q *req) error {
	scope := c.listScope(q)
	var sb projections.SafetyBoard
	if _, err := c.api.call(q.r, "GET", "/v1/safety", scope, nil, &sb); err != nil {
		return err
	}
	qs := q.r.URL.Query()
	p := safetyPage{Scope: scope, Rule: qs.Get("rule"), Severity: qs.Get("severity"), Rules: projections.Rules,
		Severities: []string{projections.SeverityHigh, projections.SeverityMedium, projections.SeverityLow}}
	cases, err := c.summaries(q, scope)
	if err != nil {
		return err
	}
	for _, a := range sortAlerts(sb.Alerts) {
		if (p.Rule != "" && a.Rule != p.Rule) || (p.Severity != "" && a.Severity != p.Severity) {
			continue
		}
		p.Alerts = append(p.Alerts, alertRow{Alert: a, Case: cases[a.CaseID]})
	}
	p.Alerts, p.Pager = paged(p.Alerts, q.r.URL.Path, qs)
	c.render(q, http.StatusOK, "safety", "safety.title", p)
	return nil
}

// openStatuses are the statuses of a case whose person is still in the
// station's care (in a bed, waiting for one, in hospital, in transit).
var openStatuses = []domain.Status{domain.StatusReceived, domain.StatusInStation, domain.StatusInHospital,
	domain.StatusLongStay, domain.StatusInTransit}

// maxOpenPages bounds the pages of 500 cases read of each open status.
const maxOpenPages = 20

// openCases reads the open cases of scope (GET /v1/cases by each open
// status, every page): those a board shows, and no other (a read by a
// coordinator or inspector is on the access log, case by case).
func (c *Console) openCases(q *req, scope url.Values) ([]summary, error) {
	var out []summary
	for _, st := range openStatuses {
		query := url.Values{"limit": {"500"}, "status": {string(st)}}
		for k, v := range scope {
			query[k] = slices.Clone(v)
		}
		for range maxOpenPages {
			var page searchResult
			if _, err := c.api.call(q.r, "GET", "/v1/cases", query, nil, &page); err != nil {
				return nil, err
			}
			out = append(out, page.Items...)
			if page.NextCursor == "" {
				break
			}
			query.Set("cursor", page.NextCursor)
		}
	}
	return out, nil
}

// summaries reads the open cases of scope by ID, to show their case
// numbers beside list entries.
func (c *Console) summaries(q *req, scope url.Values) (map[uuid.UUID]*summary, error) {
	cases, err := c.openCases(q, scope)
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]*summary, len(cases))
	for i := range cases {
		out[cases[i].ID] = &cases[i]
	}
	return out, nil
}
