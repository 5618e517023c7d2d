package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
)

// The access log (GET /v1/access-log): who read which case, when and
// through which route, oldest first, a page at a time, filtered by case
// and by reader as the API allows; readers by name (GET /v1/actors/{id}).
// The filters are IDs, never personal values, so they are in the URL.

type accessEntry struct {
	Seq    uint64      `json:"seq"`
	At     time.Time   `json:"at"`
	CaseID string      `json:"case_id"`
	Reader string      `json:"reader"`
	Role   domain.Role `json:"role"`
	Route  string      `json:"route"`
}

// accessPage is one page of the access log with its filters.
type accessPage struct {
	Items   []accessEntry
	Actors  map[string]actorInfo
	Readers []readerChoice
	Case    string
	Reader  string
	Limit   string
	After   string
	Next    string // the link to the next page, "" on the last
	Message string
	Rule    string
}

// readerChoice is one account or token the reader filter offers.
type readerChoice struct {
	ID, Name string
	Role     domain.Role
}

// accessLimits are the page sizes offered.
var accessLimits = []string{"50", "100", "500"}

func (c *Console) accessLogPage(q *req) error {
	qs := q.r.URL.Query()
	p := accessPage{Case: strings.TrimSpace(qs.Get("case")), Reader: strings.TrimSpace(qs.Get("reader")),
		Limit: qs.Get("limit"), After: qs.Get("after")}
	if p.Limit == "" {
		p.Limit = accessLimits[0]
	}
	readers, err := c.readerChoices(q)
	if err != nil {
		return err
	}
	p.Readers = readers
	status := http.StatusOK
	if p.Case != "" {
		if _, err := uuid.Parse(p.Case); err != nil {
			p.Message = q.t.T("admin.access.bad_case")
			c.render(q, http.StatusBadRequest, "admin_access", "admin.access.title", p)
			return nil
		}
	}
	api := url.Values{"limit": {p.Limit}}
	for k, v := range map[string]string{"case": p.Case, "reader": p.Reader, "after": p.After} {
		if v != "" {
			api.Set(k, v)
		}
	}
	var out struct {
		Items []accessEntry `json:"items"`
		Next  string        `json:"next_after"`
	}
	if _, err := c.api.call(q.r, "GET", "/v1/access-log", api, nil, &out); err != nil {
		pr, ok := problemOf(err)
		if !ok || pr.Status != http.StatusBadRequest {
			return err
		}
		status, p.Message, p.Rule = pr.Status, explainField(q.t, pr), pr.Rule
	}
	p.Items = out.Items
	ids := make([]string, 0, len(out.Items))
	for _, it := range out.Items {
		ids = append(ids, it.Reader)
	}
	p.Actors = c.actorNames(q, ids)
	if out.Next != "" {
		next := url.Values{"after": {out.Next}, "limit": {p.Limit}}
		if p.Case != "" {
			next.Set("case", p.Case)
		}
		if p.Reader != "" {
			next.Set("reader", p.Reader)
		}
		p.Next = "/admin/access-log?" + next.Encode()
	}
	c.render(q, status, "admin_access", "admin.access.title", p)
	return nil
}

// readerChoices are the accounts and the tokens, by name: who may have
// read a case.
func (c *Console) readerChoices(q *req) ([]readerChoice, error) {
	var accs accountList
	if _, err := c.api.call(q.r, "GET", "/v1/accounts", nil, nil, &accs); err != nil {
		return nil, err
	}
	var toks tokenList
	if _, err := c.api.call(q.r, "GET", "/v1/tokens", nil, nil, &toks); err != nil {
		return nil, err
	}
	out := make([]readerChoice, 0, len(accs.Items)+len(toks.Items))
	for _, a := range accs.Items {
		out = append(out, readerChoice{ID: a.ID, Name: a.Name + " (" + a.Username + ")", Role: a.Role})
	}
	for _, t := range toks.Items {
		name := t.Name
		if name == "" {
			name = t.ID
		}
		out = append(out, readerChoice{ID: t.ID, Name: name, Role: t.Role})
	}
	return out, nil
}

// Limits are the page sizes offered.
func (accessPage) Limits() []string { return accessLimits }

// SeqText is the entry's number as text.
func (e accessEntry) SeqText() string { return strconv.FormatUint(e.Seq, 10) }
