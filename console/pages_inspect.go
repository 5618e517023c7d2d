package console

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore/audit"
	"waystation/projections"
)

// inspectRoutes are the inspectors' pages: a case as of any moment, the
// boards as of a moment, the export bundle and the log's checkpoint. The
// API decides who may read what; these pages show what it answers.
func (c *Console) inspectRoutes() {
	c.mux.Handle("GET /inspect", c.user(c.inspectPage))
	c.mux.Handle("POST /inspect", c.user(c.inspectFind))
	c.mux.Handle("GET /inspect/cases/{id}", c.user(c.inspectCasePage))
	c.mux.Handle("GET /inspect/cases/{id}/export", c.user(c.inspectExport))
	c.mux.Handle("GET /inspect/boards", c.user(c.inspectBoardsPage))
}

// checkpointView is the log's latest signed tree head
// (GET /v1/audit/checkpoint) and what checking its signature found.
type checkpointView struct {
	Size        int64  `json:"size"`
	Root        string `json:"root"`
	Note        string `json:"note"`
	VerifierKey string `json:"verifier_key"`
	Origin      string `json:"-"`
	// Verified is true when the note's signature checks with the key and
	// the note's size and root are the ones answered.
	Verified bool `json:"-"`
}

// verify checks the note with the verifier key answered beside it.
func (cp *checkpointView) verify() {
	h, err := audit.OpenTreeHead([]byte(cp.Note), cp.VerifierKey)
	if err != nil {
		return
	}
	cp.Origin = h.Origin
	cp.Verified = h.Size == cp.Size && base64.StdEncoding.EncodeToString(h.Root[:]) == cp.Root
}

// inspectStart is the start page: find a case, the boards as of a
// moment, the checkpoint.
type inspectStart struct {
	Query      string
	Message    string
	Checkpoint checkpointView
	Stations   []projections.StationInfo
	Regions    []string
	Now        string // the picker's default: now, Beijing time
}

func (c *Console) inspectPage(q *req) error {
	return c.renderInspectStart(q, http.StatusOK, "", "")
}

func (c *Console) renderInspectStart(q *req, status int, query, message string) error {
	p := inspectStart{Query: query, Message: message, Now: localInput(c.now())}
	if _, err := c.api.call(q.r, "GET", "/v1/audit/checkpoint", nil, nil, &p.Checkpoint); err != nil {
		return err
	}
	p.Checkpoint.verify()
	var err error
	if p.Stations, p.Regions, err = c.stationsInScope(q); err != nil {
		return err
	}
	c.render(q, status, "inspect", "inspect.title", p)
	return nil
}

// stationsInScope lists the stations (GET /v1/stations) of the user's
// region, or every station for a user of every region, and their regions.
func (c *Console) stationsInScope(q *req) ([]projections.StationInfo, []string, error) {
	var list struct {
		Items []projections.StationInfo `json:"items"`
	}
	if _, err := c.api.call(q.r, "GET", "/v1/stations", nil, nil, &list); err != nil {
		return nil, nil, err
	}
	sts := list.Items
	if q.user.Region != "" {
		sts = slices.DeleteFunc(sts, func(s projections.StationInfo) bool { return s.Region != q.user.Region })
	}
	var regions []string
	for _, s := range sts {
		if s.Region != "" && !slices.Contains(regions, s.Region) {
			regions = append(regions, s.Region)
		}
	}
	slices.Sort(regions)
	return sts, regions, nil
}

// inspectFind opens the case a case ID or case number names (sent in the
// body, never in a URL).
func (c *Console) inspectFind(q *req) error {
	if err := q.r.ParseForm(); err != nil {
		return domain.Invalid("form", "unreadable form")
	}
	in := strings.TrimSpace(q.r.PostForm.Get("case"))
	if in == "" {
		return c.renderInspectStart(q, http.StatusBadRequest, in, q.t.T("inspect.find_empty"))
	}
	if id, err := uuid.Parse(in); err == nil {
		http.Redirect(q.w, q.r, "/inspect/cases/"+id.String(), http.StatusSeeOther)
		return nil
	}
	var page struct {
		Items []struct {
			ID         uuid.UUID `json:"id"`
			CaseNumber string    `json:"case_number"`
		} `json:"items"`
	}
	// The exact number: a fragment search would answer (and log as read)
	// every case whose name or ID number holds the text.
	query := url.Values{"number": {in}, "limit": {"1"}}
	if _, err := c.api.call(q.r, "GET", "/v1/cases", query, nil, &page); err != nil {
		return err
	}
	for _, it := range page.Items {
		if strings.EqualFold(it.CaseNumber, in) {
			http.Redirect(q.w, q.r, "/inspect/cases/"+it.ID.String(), http.StatusSeeOther)
			return nil
		}
	}
	return c.renderInspectStart(q, http.StatusNotFound, in, q.t.T("inspect.find_none"))
}
