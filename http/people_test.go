package http_test

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// person is the world of TestPersonAndRepeatVisitors: one person (known by
// a resident ID number) with cases a (S01), b (S02), c (S03, region R2),
// e (S03, a transfer to S01 requested) and d (S01, the latest), and
// another person's case other at S01.
type person struct {
	*world
	a, b, c, e, d, other string
}

func newPerson(t *testing.T) *person {
	t.Helper()
	w := newWorld(t)
	open := func(token, station string) string {
		t.Helper()
		body := intakeBody(station)
		body["person"] = map[string]any{"name": "李四", "sex": "male", "birth_date": "1990-03-07", "id_number": "110101199003074514"}
		return decodeAs[struct{ ID string }](t, w.must(http.StatusCreated, token, "POST", "/v1/cases", body)).ID
	}
	p := &person{world: w}
	p.a = open(w.staff1, "S01")
	p.b = open(w.staff2, "S02")
	p.c = open(w.staff3, "S03")
	p.e = open(w.staff3, "S03")
	w.must(200, w.staff3, "POST", "/v1/cases/"+p.e+"/eligibility", map[string]any{"eligible": true})
	w.must(200, w.staff3, "POST", "/v1/cases/"+p.e+"/transfer-request", map[string]any{"to_station": "S01", "reason": "closer to home"})
	p.d = open(w.staff1, "S01")
	p.other = w.intake(w.staff1, "S01")
	return p
}

type personCase struct {
	CaseID string `json:"case_id"`
	Status string
}

func caseIDs(list []personCase) []string {
	out := make([]string, len(list))
	for i, pc := range list {
		out[i] = pc.CaseID
	}
	return out
}

// accessLogOf returns the case IDs of the access-log entries written by
// route, in order.
func accessLogOf(t testing.TB, w *world, route string) []string {
	t.Helper()
	all := decodeAs[struct {
		Items []struct {
			CaseID string `json:"case_id"`
			Route  string
		}
	}](t, w.must(200, adminToken, "GET", "/v1/access-log?limit=1000", nil))
	var out []string
	for _, it := range all.Items {
		if it.Route == route {
			out = append(out, it.CaseID)
		}
	}
	return out
}

func TestPersonOfCaseByRole(t *testing.T) {
	p := newPerson(t)
	cases := []struct {
		name       string
		token      string
		of         string
		want       []string
		hidden     int
		logged     bool
		forbidPath bool
	}{
		{name: "staff see their station's cases and transfers addressed to it", token: p.staff1, of: p.d, want: []string{p.a, p.e}, hidden: 2},
		{name: "staff of another station see none of the others", token: p.staff2, of: p.b, want: []string{}, hidden: 4},
		{name: "coordinators see their region's cases and transfers into it", token: p.coord1, of: p.d, want: []string{p.a, p.b, p.e}, hidden: 1, logged: true},
		{name: "bound inspectors see their region's cases", token: p.insp1, of: p.d, want: []string{p.a, p.b}, hidden: 2, logged: true},
		{name: "unbound inspectors see everything", token: p.inspAll, of: p.d, want: []string{p.a, p.b, p.c, p.e}, logged: true},
		{name: "admins see everything", token: adminToken, of: p.a, want: []string{p.b, p.c, p.e, p.d}, logged: true},
		{name: "a person with one case has no other", token: p.staff1, of: p.other, want: []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(accessLogOf(t, p.world, "/v1/cases/{id}/person"))
			got := decodeAs[struct {
				CaseID       string `json:"case_id"`
				Cases        []personCase
				OutsideScope int `json:"outside_scope"`
			}](t, p.must(200, tc.token, "GET", "/v1/cases/"+tc.of+"/person", nil))
			if ids := caseIDs(got.Cases); got.CaseID != tc.of || !slices.Equal(ids, tc.want) || got.OutsideScope != tc.hidden {
				t.Fatalf("got case %s, cases %v, outside scope %d; want %s, %v, %d", got.CaseID, ids, got.OutsideScope, tc.of, tc.want, tc.hidden)
			}
			logged := accessLogOf(t, p.world, "/v1/cases/{id}/person")[before:]
			want := []string{}
			if tc.logged {
				want = append([]string{tc.of}, tc.want...)
			}
			if !slices.Equal(append([]string{}, logged...), want) {
				t.Fatalf("access log entries %v, want %v", logged, want)
			}
		})
	}
	for _, tc := range []struct {
		name, token, of string
	}{
		{"staff of another station", p.staff2, p.d},
		{"a coordinator of another region", p.coord2, p.d},
		{"an inspector of another region", p.insp1, p.c},
	} {
		t.Run("refused to "+tc.name, func(t *testing.T) {
			before := len(accessLogOf(t, p.world, "/v1/cases/{id}/person"))
			expectProblem(t, p.call(tc.token, "GET", "/v1/cases/"+tc.of+"/person", nil), http.StatusForbidden, "forbidden", "")
			if n := len(accessLogOf(t, p.world, "/v1/cases/{id}/person")); n != before {
				t.Fatalf("a refused read wrote %d access-log entries", n-before)
			}
		})
	}
	expectProblem(t, p.call(p.staff1, "GET", "/v1/cases/0190a0b0-0000-7000-8000-000000000000/person", nil), http.StatusNotFound, "not_found", "")
	expectProblem(t, p.call("", "GET", "/v1/cases/"+p.d+"/person", nil), http.StatusUnauthorized, "unauthorized", "")
}

func TestRepeatVisitorsByRole(t *testing.T) {
	p := newPerson(t)
	all := []string{p.a, p.b, p.c, p.e, p.d}
	type visitor struct {
		LatestCase   string `json:"latest_case"`
		Cases        []personCase
		OutsideScope int `json:"outside_scope"`
	}
	cases := []struct {
		name   string
		token  string
		query  string
		want   []string // the cases of the one visitor listed; nil: none listed
		hidden int
		logged bool
	}{
		{name: "staff see the visitor at their station", token: p.staff1, want: []string{p.a, p.e, p.d}, hidden: 2},
		{name: "staff of a station the visitor last came to elsewhere see none", token: p.staff2},
		{name: "coordinators see their region's cases", token: p.coord1, want: []string{p.a, p.b, p.e, p.d}, hidden: 1, logged: true},
		{name: "a coordinator of a region the visitor did not last come to sees none", token: p.coord2},
		{name: "bound inspectors see their region's cases", token: p.insp1, query: "?station=S01", want: []string{p.a, p.b, p.d}, hidden: 2, logged: true},
		{name: "unbound inspectors see everything", token: p.inspAll, want: all, logged: true},
		{name: "a region with no latest case lists none", token: p.inspAll, query: "?region=R2", logged: true},
		{name: "admins see everything", token: adminToken, query: "?region=R1", want: all, logged: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(accessLogOf(t, p.world, "/v1/repeat-visitors"))
			got := decodeAs[struct{ Items []visitor }](t, p.must(200, tc.token, "GET", "/v1/repeat-visitors"+tc.query, nil))
			if tc.want == nil {
				if len(got.Items) != 0 {
					t.Fatalf("listed %+v, want nobody", got.Items)
				}
			} else if len(got.Items) != 1 || got.Items[0].LatestCase != p.d || !slices.Equal(caseIDs(got.Items[0].Cases), tc.want) || got.Items[0].OutsideScope != tc.hidden {
				t.Fatalf("listed %+v, want the visitor of %s with %v and %d outside scope", got.Items, p.d, tc.want, tc.hidden)
			}
			logged := accessLogOf(t, p.world, "/v1/repeat-visitors")[before:]
			want := []string{}
			if tc.logged && tc.want != nil {
				want = tc.want
			}
			if !slices.Equal(append([]string{}, logged...), want) {
				t.Fatalf("access log entries %v, want %v", logged, want)
			}
		})
	}
	for _, tc := range []struct {
		name, token, query string
	}{
		{"staff asking for another station", p.staff1, "?station=S02"},
		{"staff asking for a region", p.staff1, "?region=R1"},
		{"a coordinator asking for another region", p.coord2, "?region=R1"},
		{"an inspector asking for a station of another region", p.insp1, "?station=S03"},
	} {
		t.Run("refused to "+tc.name, func(t *testing.T) {
			expectProblem(t, p.call(tc.token, "GET", "/v1/repeat-visitors"+tc.query, nil), http.StatusForbidden, "forbidden", "")
		})
	}
	expectProblem(t, p.call(adminToken, "GET", "/v1/repeat-visitors?station=S01&region=R1", nil), http.StatusBadRequest, "invalid", "station")
	expectProblem(t, p.call(adminToken, "GET", "/v1/repeat-visitors?station=S99", nil), http.StatusNotFound, "not_found", "")
}

func TestRepeatVisitorsPageThroughEachPersonOnce(t *testing.T) {
	w := newWorld(t)
	// Three people (by name, birth date and household registration place)
	// came twice to S01; someone else came once.
	var latest []string
	for i := range 3 {
		body := intakeBody("S01")
		body["person"] = map[string]any{"name": "王" + strconv.Itoa(i), "sex": "male", "birth_date": "1990-03-07", "hukou_place": "湖南"}
		w.must(http.StatusCreated, w.staff1, "POST", "/v1/cases", body)
		latest = append(latest, decodeAs[struct{ ID string }](t, w.must(http.StatusCreated, w.staff1, "POST", "/v1/cases", body)).ID)
	}
	w.intake(w.staff1, "S01")
	slices.Reverse(latest) // most recent intake first
	type page struct {
		Items []struct {
			LatestCase string `json:"latest_case"`
		}
		NextCursor string `json:"next_cursor"`
	}
	for _, tc := range []struct {
		name  string
		limit string
		pages int
	}{
		{name: "pages of one", limit: "1", pages: 3},
		{name: "pages of two", limit: "2", pages: 2},
		{name: "the default page", limit: "", pages: 1},
		{name: "the largest page", limit: "500", pages: 1},
	} {
		t.Run(tc.name+" list each person once", func(t *testing.T) {
			var got []string
			pages := 0
			for cursor := ""; ; {
				rec := w.call(w.coord1, "GET", "/v1/repeat-visitors?limit="+tc.limit+"&cursor="+cursor, nil)
				if rec.Code != http.StatusOK {
					t.Fatalf("status %d, want 200; body %s", rec.Code, rec.Body.String())
				}
				p := decodeAs[page](t, rec)
				if n, _ := strconv.Atoi(tc.limit); n > 0 && len(p.Items) > n {
					t.Fatalf("a page of %d people, limit %d", len(p.Items), n)
				}
				pages++
				for _, it := range p.Items {
					got = append(got, it.LatestCase)
				}
				if cursor = p.NextCursor; cursor == "" || pages > 10 {
					break
				}
			}
			if !slices.Equal(got, latest) || pages != tc.pages {
				t.Fatalf("listed %v in %d pages, want %v in %d", got, pages, latest, tc.pages)
			}
		})
	}
	for _, tc := range []struct{ query, field string }{
		{"?limit=501", "limit"},
		{"?limit=-1", "limit"},
		{"?cursor=x", "cursor"},
		{"?cursor=100000", "cursor"},
	} {
		t.Run("refuses "+tc.query, func(t *testing.T) {
			expectProblem(t, w.call(w.coord1, "GET", "/v1/repeat-visitors"+tc.query, nil), http.StatusBadRequest, "invalid", tc.field)
		})
	}
	t.Run("the description lists limit and cursor, and next_cursor in the answer", func(t *testing.T) {
		doc := openAPIDoc(t, w.env)
		op := at(t, doc, "paths", "/v1/repeat-visitors", "get")
		params := map[string]string{}
		for _, p := range at(t, op, "parameters").([]any) {
			m := p.(map[string]any)
			typ, _ := at(t, m, "schema").(map[string]any)["type"].(string)
			params[m["name"].(string)] = typ
		}
		if params["limit"] != "integer" || params["cursor"] != "string" {
			t.Fatalf("parameters %v, want limit an integer and cursor a string", params)
		}
		if !strings.Contains(string(mustJSON(t, at(t, op, "responses"))), "next_cursor") {
			t.Fatal("the answer's schema does not name next_cursor")
		}
	})
}

func TestAPersonAboutToBeRegisteredIsLookedUpInTheIndex(t *testing.T) {
	// Given a person with cases at S01, S02, S03 (region R2) and a transfer
	// from S03 to S01
	p := newPerson(t)
	byID := map[string]any{"person": map[string]any{"sex": "male", "id_number": "110101199003074514"}}
	byName := map[string]any{"person": map[string]any{"name": " 李 四", "sex": "male", "birth_date": "1990-03-07",
		"hukou_place": "", "id_number": "110101199003074514"}}
	match := func(token string, body any) (ids []string, hidden int) {
		t.Helper()
		got := decodeAs[struct {
			Cases        []personCase
			OutsideScope int `json:"outside_scope"`
		}](t, p.must(200, token, "POST", "/v1/people/matches", body))
		return caseIDs(got.Cases), got.OutsideScope
	}

	// When staff at S01 look the person up by ID number before the intake
	// Then they see their station's earlier stays and the transfer addressed
	// to them, and learn how many more there are elsewhere
	if ids, hidden := match(p.staff1, byID); !slices.Equal(ids, []string{p.a, p.e, p.d}) || hidden != 2 {
		t.Fatalf("staff of S01: %v and %d hidden", ids, hidden)
	}
	if ids, _ := match(p.staff1, byName); len(ids) != 3 {
		t.Fatalf("by the same ID number with a name: %v", ids)
	}
	// And an admin sees every case, oldest first
	if ids, hidden := match(adminToken, byID); !slices.Equal(ids, []string{p.a, p.b, p.c, p.e, p.d}) || hidden != 0 {
		t.Fatalf("admin: %v and %d hidden", ids, hidden)
	}
	// And a coordinator's lookup is on the access log, one entry per case
	before := len(accessLogOf(t, p.world, "/v1/people/matches"))
	ids, _ := match(p.coord1, byID)
	if logged := accessLogOf(t, p.world, "/v1/people/matches")[before:]; !slices.Equal(logged, ids) {
		t.Fatalf("logged %v, want %v", logged, ids)
	}

	// A stranger, or too little to go on, matches nothing
	for _, body := range []any{
		map[string]any{"person": map[string]any{"sex": "male", "id_number": "110101199003070017"}},
		map[string]any{"person": map[string]any{"name": "李四", "sex": "male"}},
	} {
		if ids, hidden := match(p.staff1, body); len(ids) != 0 || hidden != 0 {
			t.Fatalf("%v matched %v and %d hidden", body, ids, hidden)
		}
	}
	// The terms go in the body: an unknown field is refused naming it
	expectProblem(t, p.call(p.staff1, "POST", "/v1/people/matches", map[string]any{"name": "李四"}),
		http.StatusBadRequest, "invalid", "name")
}
