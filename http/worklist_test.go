package http_test

import (
	"net/http"
	"testing"
	"time"
)

// workItem is a worklist item as a client reads it.
type workItem struct {
	Rule    string    `json:"rule"`
	CaseID  string    `json:"case_id"`
	Station string    `json:"station"`
	Due     time.Time `json:"due"`
	Overdue bool      `json:"overdue"`
	Step    string    `json:"step"`
}

// workItemOn returns case id's item of rule on the worklist at path, or nil.
func (e *env) workItemOn(token, path, rule, id string) *workItem {
	e.t.Helper()
	wl := decodeAs[struct {
		At    time.Time  `json:"at"`
		Items []workItem `json:"items"`
	}](e.t, e.must(http.StatusOK, token, "GET", path, nil))
	for _, it := range wl.Items {
		if it.Rule == rule && it.CaseID == id {
			return &it
		}
	}
	return nil
}

// TestWorklistThroughTheAPI: a minor's guardianship is due soon from the
// intake, overdue after 24 hours, still overdue as of then after the step,
// and gone once guardianship is taken; a minor placed in an adult zone is
// overdue at once and moving them clears it; each role sees the worklist
// of its scope only.
func TestWorklistThroughTheAPI(t *testing.T) {
	start := time.Date(2026, 12, 2, 10, 0, 0, 0, beijing)
	clk := newClock(start)
	w := newWorldAt(t, clk.now)
	boy := intakeBody("S01")
	boy["person"] = map[string]any{"name": "王小明", "sex": "male", "birth_date": "2014-02-03"}
	id := decodeAs[struct{ ID string }](t, w.must(http.StatusCreated, w.staff1, "POST", "/v1/cases", boy)).ID

	const guardianship = "unaccompanied_minor"
	it := w.workItemOn(w.staff1, "/v1/worklist", guardianship, id)
	if it == nil || it.Overdue || it.Step != "guardianship" || it.Station != "S01" || !it.Due.Equal(start.Add(24*time.Hour)) {
		t.Fatalf("right after the intake: item %+v, want guardianship due in 24 hours", it)
	}
	for _, tok := range []string{w.coord1, w.insp1, w.inspAll, adminToken} {
		if w.workItemOn(tok, "/v1/worklist?station=S01", guardianship, id) == nil {
			t.Errorf("a reader in scope does not see the item")
		}
	}
	if w.workItemOn(w.coord1, "/v1/worklist?region=R1", guardianship, id) == nil {
		t.Errorf("the region's worklist lacks the item")
	}
	if w.workItemOn(adminToken, "/v1/worklist?station=S02", guardianship, id) != nil {
		t.Errorf("S02's worklist lists S01's case")
	}
	for _, tt := range []struct{ token, path string }{
		{w.staff1, "/v1/worklist?station=S02"},
		{w.staff2, "/v1/worklist?region=R1"},
		{w.coord2, "/v1/worklist?region=R1"},
		{w.insp1, "/v1/worklist?station=S03"},
	} {
		expectProblem(t, w.call(tt.token, "GET", tt.path, nil), http.StatusForbidden, "forbidden", "")
	}
	expectProblem(t, w.call(adminToken, "GET", "/v1/worklist?station=S09", nil), http.StatusNotFound, "not_found", "")
	expectProblem(t, w.call(adminToken, "GET", "/v1/worklist?station=S01&region=R1", nil), http.StatusBadRequest, "invalid", "station")

	clk.add(25 * time.Hour)
	overdueAt := clk.now().UTC().Format(time.RFC3339)
	if it := w.workItemOn(w.staff1, "/v1/worklist", guardianship, id); it == nil || !it.Overdue {
		t.Fatalf("25 hours after the intake: item %+v, want it overdue", it)
	}
	clk.add(time.Hour)
	w.must(http.StatusOK, w.staff1, "POST", "/v1/cases/"+id+"/guardianship", map[string]any{"basis": "art. 92"})
	if it := w.workItemOn(w.staff1, "/v1/worklist", guardianship, id); it != nil {
		t.Errorf("after guardianship: still listed %+v", it)
	}
	for _, q := range []string{"", "&known=true"} {
		if it := w.workItemOn(w.insp1, "/v1/worklist?station=S01&at="+overdueAt+q, guardianship, id); it == nil || !it.Overdue {
			t.Errorf("as of 25 hours after the intake%s: item %+v, want it overdue", q, it)
		}
	}

	// A minor in an adult zone (a man placed there, then found to be 15 by
	// a correction of his birth date): overdue at once, cleared by a move.
	man := w.intake(w.staff1, "S01")
	w.must(http.StatusOK, w.staff1, "POST", "/v1/cases/"+man+"/eligibility", map[string]any{"eligible": true})
	w.must(http.StatusOK, w.staff1, "POST", "/v1/cases/"+man+"/security-check",
		map[string]any{"checked_by": map[string]any{"staff_id": "s-7", "sex": "male"}})
	w.must(http.StatusOK, w.staff1, "POST", "/v1/cases/"+man+"/bed", map[string]any{"zone": "adult_male"})
	h := decodeAs[struct {
		Events []struct {
			EventID string `json:"event_id"`
		} `json:"events"`
	}](t, w.must(http.StatusOK, w.staff1, "GET", "/v1/cases/"+man+"/history", nil))
	w.must(http.StatusOK, w.staff1, "POST", "/v1/cases/"+man+"/correction", map[string]any{
		"event_id": h.Events[0].EventID, "field": "person.birth_date", "old": "1980-05-06", "new": "2011-05-06",
		"reason": "papers found",
	})
	id = man
	if it := w.workItemOn(w.staff1, "/v1/worklist", "minor_in_adult_zone", id); it == nil || !it.Overdue || it.Step != "bed" {
		t.Fatalf("a minor in an adult zone: item %+v, want it overdue, cleared by a bed", it)
	}
	w.must(http.StatusOK, w.staff1, "POST", "/v1/cases/"+id+"/bed", map[string]any{"zone": "minors"})
	if it := w.workItemOn(w.staff1, "/v1/worklist", "minor_in_adult_zone", id); it != nil {
		t.Errorf("after the move: still listed %+v", it)
	}
}
