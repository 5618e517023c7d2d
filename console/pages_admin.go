package console

import (
	"net/http"

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
	var toks struct {
		Items []domain.Token `json:"items"`
	}
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
