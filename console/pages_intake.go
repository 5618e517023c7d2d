package console

import (
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/projections"
)

func asDomain(err error, de **domain.Error) bool { return errors.As(err, de) }

// intakeType is the command of the intake form.
var intakeType = reflect.TypeFor[domain.Intake]()

// intakeForm is the intake page: the form, and the possible earlier cases
// of the same person found before it is saved.
type intakeForm struct {
	Station string
	Fields  []field
	Key     string
	Message string
	Rule    string
	Checked bool
	Matches matches
}

// intakeFields are the intake's inputs but the station, which is the
// user's own (or the one chosen by an admin).
func intakeFields() []field {
	return slices.DeleteFunc(fieldsOf(intakeType), func(f field) bool { return f.Path == "station" })
}

func (c *Console) intakePage(q *req) error {
	st := c.stationOf(q)
	if st == "" {
		return domain.Invalid("station", "choose a station")
	}
	c.render(q, http.StatusOK, "intake", "intake.title", intakeForm{Station: st, Fields: intakeFields(), Key: idempotencyKey()})
	return nil
}

// intake either looks for earlier cases of the person (action=check) or
// records the intake (POST /v1/cases) and opens the new case.
func (c *Console) intake(q *req) error {
	if err := q.r.ParseForm(); err != nil {
		return domain.Invalid("form", "unreadable form")
	}
	v := q.r.PostForm
	st := c.stationOf(q)
	if q.user.Role != domain.RoleStaff {
		st = v.Get("station")
	}
	f := intakeForm{Station: st, Fields: intakeFields(), Key: v.Get("idempotency_key")}
	if f.Key == "" {
		f.Key = idempotencyKey()
	}
	fill(f.Fields, v)
	matches, err := c.earlierCases(q, v)
	if err != nil {
		return err
	}
	f.Matches, f.Checked = matches, true
	if v.Get("action") == "check" {
		c.render(q, http.StatusOK, "intake", "intake.title", f)
		return nil
	}
	body, err := bodyOf(intakeType, f.Fields, v)
	if err == nil {
		body["station"] = st
		var ans struct {
			ID string `json:"id"`
		}
		hdr := http.Header{"Idempotency-Key": {f.Key}}
		if _, err = c.api.callWith(q.r.Context(), q.r, hdr, "POST", "/v1/cases", nil, body, &ans); err == nil {
			if _, perr := uuid.Parse(ans.ID); perr == nil {
				http.Redirect(q.w, q.r, "/cases/"+ans.ID, http.StatusSeeOther)
				return nil
			}
		}
	}
	status := c.refused(q, err, f.Fields, &f.Message, &f.Rule)
	if status == 0 {
		return err
	}
	c.render(q, status, "intake", "intake.title", f)
	return nil
}

// earlierCases looks the person up in the person index
// (POST /v1/people/matches) by what the form holds so far: the cases it
// links to them (the same ID number, or the same name, birth date and
// household registration place), to confirm it is the same person, never
// to merge; and how many more they have outside the user's scope. The
// terms go to the API in the body, inside the server: no URL carries them.
func (c *Console) earlierCases(q *req, v url.Values) (matches, error) {
	person := map[string]string{"sex": v.Get("person.sex")}
	for _, f := range []string{"name", "birth_date", "hukou_place", "id_type", "id_number"} {
		if s := strings.TrimSpace(v.Get("person." + f)); s != "" {
			person[f] = s
		}
	}
	var m matches
	if person["id_number"] == "" && (person["name"] == "" || person["birth_date"] == "") {
		return m, nil
	}
	_, err := c.api.call(q.r, "POST", "/v1/people/matches", nil, map[string]any{"person": person}, &m)
	if p, ok := problemOf(err); ok && p.Status < 500 {
		// What is typed so far does not hold together (a half-typed
		// ID number): the save will say what is wrong with it.
		return matches{}, nil
	}
	return m, err
}

// matches is the person index's answer about a person to be registered.
type matches struct {
	Cases        []projections.PersonCase `json:"cases"`
	OutsideScope int                      `json:"outside_scope"`
}

// searchPage is the case search: the terms are posted, never in the URL.
type searchPage struct {
	Q        string
	Status   string
	Statuses []string
	Items    []summary
	Next     string
	Searched bool
}

func (c *Console) searchPage(q *req) error {
	c.render(q, http.StatusOK, "search", "search.title", searchPage{Statuses: domain.Status("").Values()})
	return nil
}

// search runs a case search (GET /v1/cases inside the server) from the
// posted form.
func (c *Console) search(q *req) error {
	if err := q.r.ParseForm(); err != nil {
		return domain.Invalid("form", "unreadable form")
	}
	v := q.r.PostForm
	p := searchPage{Q: strings.TrimSpace(v.Get("q")), Status: v.Get("status"),
		Statuses: domain.Status("").Values(), Searched: true}
	query := url.Values{"limit": {"50"}}
	if p.Q != "" {
		query.Set("q", p.Q)
	}
	if p.Status != "" {
		query.Set("status", p.Status)
	}
	if cur := v.Get("cursor"); cur != "" {
		query.Set("cursor", cur)
	}
	if st := c.stationOf(q); st != "" {
		query.Set("station", st)
	}
	var page searchResult
	if _, err := c.api.call(q.r, "GET", "/v1/cases", query, nil, &page); err != nil {
		return err
	}
	p.Items, p.Next = page.Items, page.NextCursor
	c.render(q, http.StatusOK, "search", "search.title", p)
	return nil
}
