package console

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
)

// Retention and erasure: the cases whose retention period after closure
// has ended (GET /v1/people/due-for-erasure), and the erasure of a
// person's personal data (POST /v1/people/{id}/erase) with its reason
// code, after a confirmation; the API's refusal (erasure_of_open_case) is
// shown beside the button that asked.

type dueItem struct {
	CaseID   uuid.UUID `json:"case_id"`
	Station  string    `json:"station"`
	Region   string    `json:"region"`
	ClosedAt time.Time `json:"closed_at"`
	DueAt    time.Time `json:"due_at"`
}

type dueList struct {
	Retention string    `json:"retention"`
	Erases    bool      `json:"erases_automatically"`
	Items     []dueItem `json:"items"`
}

// retentionPage is the list due, the erasure forms and the outcome of
// the last erasure.
type retentionPage struct {
	Due     dueList
	Period  string // the retention period, in days and hours
	Reasons []string
	Refusal rowRefusal // ID is the case whose erasure was refused
	Other   string     // the case ID typed into the free form
	Erased  []string   // the cases just erased
}

// InList reports whether the refused case is one of the list's rows (else
// the refusal is shown beside the free form).
func (p retentionPage) InList() bool {
	for _, it := range p.Due.Items {
		if it.CaseID.String() == p.Refusal.ID {
			return true
		}
	}
	return false
}

func (c *Console) retentionPage(q *req) error {
	return c.showRetention(q, http.StatusOK, retentionPage{})
}

func (c *Console) showRetention(q *req, status int, p retentionPage) error {
	if _, err := c.api.call(q.r, "GET", "/v1/people/due-for-erasure", nil, nil, &p.Due); err != nil {
		return err
	}
	p.Reasons = domain.ErasureReasons
	if d, err := time.ParseDuration(p.Due.Retention); err == nil {
		p.Period = q.t.Duration(d)
	}
	c.render(q, status, "admin_retention", "admin.retention.title", p)
	return nil
}

// erase asks for a confirmation, then erases the person of the case
// (POST /v1/people/{id}/erase).
func (c *Console) erase(q *req) error {
	if err := parseForm(q); err != nil {
		return err
	}
	v := q.r.PostForm
	raw, reason := strings.TrimSpace(v.Get("case_id")), v.Get("reason")
	id, err := uuid.Parse(raw)
	if err != nil {
		return c.showRetention(q, http.StatusBadRequest, retentionPage{Other: raw,
			Refusal: rowRefusal{ID: raw, Message: q.t.T("admin.erase.bad_id")}})
	}
	if !confirmed(q) {
		text := q.t.T("admin.erase.text")
		if reason != "" {
			text = q.t.F("admin.erase.text_reason", q.t.T("admin.erase.reason."+reason)) + text
		}
		c.confirm(q, confirmPage{
			Heading: q.t.F("admin.erase.heading", id.String()), Text: text, Action: "/admin/retention/erase",
			Button: q.t.T("admin.erase.button"), Cancel: "/admin/retention",
			Hidden: url.Values{"case_id": {id.String()}, "reason": {reason}},
		})
		return nil
	}
	var out struct {
		Cases []struct {
			ID string `json:"id"`
		} `json:"cases"`
	}
	if _, err := c.api.call(q.r, "POST", "/v1/people/"+id.String()+"/erase", nil,
		map[string]string{"reason": reason}, &out); err != nil {
		p, ok := problemOf(err)
		if !ok || p.Status == http.StatusUnauthorized || p.Status == http.StatusForbidden || p.Status >= 500 {
			return err
		}
		return c.showRetention(q, p.Status, retentionPage{Other: id.String(),
			Refusal: rowRefusal{ID: id.String(), Message: explainField(q.t, p), Rule: p.Rule}})
	}
	p := retentionPage{}
	for _, cs := range out.Cases {
		p.Erased = append(p.Erased, cs.ID)
	}
	return c.showRetention(q, http.StatusOK, p)
}
