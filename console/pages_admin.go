package console

import (
	"net/http"
	"net/url"
	"slices"

	"waystation/domain"
	"waystation/projections"
)

// The admin pages: stations and zones, accounts, tokens, backups, the
// log's checkpoint, retention and erasure, the access log. Every read and
// step is the API's: a user who is not an admin sees the API's refusal.

func (c *Console) adminRoutes() {
	c.mux.Handle("GET /admin", c.user(c.adminIndex))
	c.mux.Handle("GET /admin/stations", c.user(c.adminStations))
	c.mux.Handle("POST /admin/stations", c.user(c.registerStation))
	c.mux.Handle("GET /admin/stations/{code}/zones", c.user(c.zonesPage))
	c.mux.Handle("POST /admin/stations/{code}/zones", c.user(c.changeZones))
	c.mux.Handle("GET /admin/accounts", c.user(c.adminAccounts))
	c.mux.Handle("POST /admin/accounts", c.user(c.createAccount))
	c.mux.Handle("POST /admin/accounts/{id}/reset", c.user(c.resetAccount))
	c.mux.Handle("POST /admin/accounts/{id}/disable", c.user(c.disableAccount))
	c.mux.Handle("GET /admin/tokens", c.user(c.adminTokens))
	c.mux.Handle("POST /admin/tokens", c.user(c.issueToken))
	c.mux.Handle("POST /admin/tokens/{id}/revoke", c.user(c.revokeToken))
	c.mux.Handle("POST /admin/backup", c.user(c.backup))
	c.mux.Handle("GET /admin/checkpoint", c.user(c.checkpointPage))
	c.mux.Handle("GET /admin/retention", c.user(c.retentionPage))
	c.mux.Handle("POST /admin/retention/erase", c.user(c.erase))
	c.mux.Handle("GET /admin/access-log", c.user(c.accessLogPage))
}

// adminIndex is the admin's overview: how many stations, accounts and
// tokens there are, and the way to each task.
type adminIndex struct {
	Stations, Accounts, Pending, Tokens int
}

func (c *Console) adminIndex(q *req) error {
	var accs accountList
	if _, err := c.api.call(q.r, "GET", "/v1/accounts", nil, nil, &accs); err != nil {
		return err
	}
	sts, err := c.stationList(q)
	if err != nil {
		return err
	}
	var toks tokenList
	if _, err := c.api.call(q.r, "GET", "/v1/tokens", nil, nil, &toks); err != nil {
		return err
	}
	out := adminIndex{Stations: len(sts), Accounts: len(accs.Items)}
	for _, a := range accs.Items {
		if a.State == domain.AccountStatePending {
			out.Pending++
		}
	}
	for _, t := range toks.Items {
		if !t.Revoked {
			out.Tokens++
		}
	}
	c.render(q, http.StatusOK, "admin", "admin.title", out)
	return nil
}

// stationList is every station, as GET /v1/stations answers.
func (c *Console) stationList(q *req) ([]projections.StationInfo, error) {
	var out struct {
		Items []projections.StationInfo `json:"items"`
	}
	_, err := c.api.call(q.r, "GET", "/v1/stations", nil, nil, &out)
	return out.Items, err
}

// codesOf returns the stations' codes and their regions, each once, in
// order: the choices of an account's or a token's scope.
func codesOf(sts []projections.StationInfo) (stations, regions []string) {
	for _, s := range sts {
		stations = append(stations, s.Code)
		if !slices.Contains(regions, s.Region) {
			regions = append(regions, s.Region)
		}
	}
	slices.Sort(regions)
	return stations, regions
}

// confirmPage asks once more before a step that cannot be undone: its
// form posts the same fields again with confirm=yes.
type confirmPage struct {
	Heading string
	Text    string
	Action  string
	Button  string
	Cancel  string
	Hidden  url.Values
}

// confirmed reports whether a posted form is the answer to a confirmPage.
func confirmed(q *req) bool { return q.r.PostForm.Get("confirm") == "yes" }

func (c *Console) confirm(q *req, p confirmPage) {
	c.render(q, http.StatusOK, "admin_confirm", "admin.confirm.title", p)
}

// actorNames resolves actor IDs to their names (GET /v1/actors/{id}),
// each once; an ID the API does not resolve keeps no name.
func (c *Console) actorNames(q *req, ids []string) map[string]actorInfo {
	out := map[string]actorInfo{}
	for _, id := range ids {
		if _, done := out[id]; done || id == "" {
			continue
		}
		var a actorInfo
		if _, err := c.api.call(q.r, "GET", "/v1/actors/"+url.PathEscape(id), nil, nil, &a); err != nil {
			a = actorInfo{ID: id}
		}
		out[id] = a
	}
	return out
}

// accountList is GET /v1/accounts's answer.
type accountList struct {
	Items []domain.Account `json:"items"`
}

// parseForm reads a posted form.
func parseForm(q *req) error {
	if err := q.r.ParseForm(); err != nil {
		return domain.Invalid("form", "unreadable form")
	}
	return nil
}
