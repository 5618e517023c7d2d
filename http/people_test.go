package http_test

import (
	"net/http"
	"slices"
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
