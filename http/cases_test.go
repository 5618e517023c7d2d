package http_test

import (
	"net/http"
	"testing"

	"waystation/domain"
)

func TestIntakeThenStepThenRead(t *testing.T) {
	w := newWorld(t)
	rec := w.must(http.StatusCreated, w.staff1, "POST", "/v1/cases", intakeBody("S01"))
	got := decodeAs[struct {
		ID      string
		Version uint64
		Status  string
	}](t, rec)
	if got.Version != 1 || got.Status != "received" {
		t.Fatalf("intake answered %+v, want version 1 received", got)
	}
	if loc := rec.Header().Get("Location"); loc != "/v1/cases/"+got.ID {
		t.Fatalf("Location %q", loc)
	}
	if et := rec.Header().Get("ETag"); et != `"1"` {
		t.Fatalf("ETag %q, want \"1\"", et)
	}
	rec = w.must(http.StatusOK, w.staff1, "POST", "/v1/cases/"+got.ID+"/eligibility", map[string]any{"eligible": true})
	if et := rec.Header().Get("ETag"); et != `"2"` {
		t.Fatalf("ETag after a step %q, want \"2\"", et)
	}
	rec = w.must(http.StatusOK, w.staff1, "GET", "/v1/cases/"+got.ID, nil)
	state := decodeAs[struct {
		ID      string
		Version uint64
		Station string
		Status  string
		Flags   []string
		Bed     *struct{ Zone, Bed string }
	}](t, rec)
	if state.Version != 2 || state.Station != "S01" || state.Bed != nil || state.Flags == nil {
		t.Fatalf("state %+v", state)
	}
	if rec.Header().Get("ETag") != `"2"` {
		t.Fatalf("ETag of the state %q", rec.Header().Get("ETag"))
	}
	// Read your own writes: the search view already holds the case.
	rec = w.must(http.StatusOK, w.staff1, "GET", "/v1/cases?station=S01", nil)
	page := decodeAs[struct{ Items []struct{ ID string } }](t, rec)
	if len(page.Items) != 1 || page.Items[0].ID != got.ID {
		t.Fatalf("search right after the intake found %+v", page.Items)
	}
}

func TestBedAndOccupancyReadYourWrites(t *testing.T) {
	w := newWorld(t)
	id := w.intake(w.staff1, "S01")
	w.must(http.StatusOK, w.staff1, "POST", "/v1/cases/"+id+"/eligibility", map[string]any{"eligible": true})
	w.must(http.StatusOK, w.staff1, "POST", "/v1/cases/"+id+"/security-check", map[string]any{"checked_by": map[string]any{"staff_id": "s-7", "sex": "male"}})
	w.must(http.StatusOK, w.staff1, "POST", "/v1/cases/"+id+"/bed", map[string]any{"zone": "adult_male"})
	rec := w.must(http.StatusOK, w.staff1, "GET", "/v1/stations/S01/occupancy", nil)
	occ := decodeAs[struct {
		Residents []struct {
			CaseID string `json:"case_id"`
			Bed    string
		}
	}](t, rec)
	if len(occ.Residents) != 1 || occ.Residents[0].CaseID != id || occ.Residents[0].Bed != "adult_male-1" {
		t.Fatalf("occupancy right after the bed step: %+v", occ.Residents)
	}
	rec = w.must(http.StatusOK, w.staff1, "GET", "/v1/cases/"+id, nil)
	if bed := decodeAs[struct{ Bed *struct{ Zone, Bed string } }](t, rec).Bed; bed == nil || bed.Bed != "adult_male-1" {
		t.Fatalf("case bed %+v, want adult_male-1", bed)
	}
}

func TestRuleViolationIs422WithRule(t *testing.T) {
	w := newWorld(t)
	id := w.intake(w.staff1, "S01")
	w.must(http.StatusOK, w.staff1, "POST", "/v1/cases/"+id+"/eligibility", map[string]any{"eligible": true})
	rec := w.call(w.staff1, "POST", "/v1/cases/"+id+"/eligibility", map[string]any{"eligible": true})
	expectProblem(t, rec, http.StatusUnprocessableEntity, "rule_violation", domain.RuleEligibilityAlreadyDecided)
}

func TestIfMatch(t *testing.T) {
	w := newWorld(t)
	id := w.intake(w.staff1, "S01")
	before := headCount(t, w.store)
	rec := w.call(w.staff1, "POST", "/v1/cases/"+id+"/eligibility", map[string]any{"eligible": true}, "If-Match", `"5"`)
	expectProblem(t, rec, http.StatusPreconditionFailed, "precondition_failed", "")
	if after := headCount(t, w.store); after != before {
		t.Fatalf("a refused If-Match wrote %d events", after-before)
	}
	w.must(http.StatusOK, w.staff1, "POST", "/v1/cases/"+id+"/eligibility", map[string]any{"eligible": true}, "If-Match", `"1"`)
	rec = w.call(w.staff1, "POST", "/v1/cases/"+id+"/identity-query", map[string]any{"channel": "police"}, "If-Match", `"1"`)
	expectProblem(t, rec, http.StatusPreconditionFailed, "precondition_failed", "")
	rec = w.call(w.staff1, "POST", "/v1/cases/"+id+"/identity-query", map[string]any{"channel": "police"}, "If-Match", `soon`)
	expectProblem(t, rec, http.StatusBadRequest, "invalid", "If-Match")
}

// TestIfMatchReadsEntityTagsAsRFC9110 sends the If-Match values clients
// really send to a case at version 2: a well-formed tag that is not the
// current version is 412, never 400; weak tags never match; a list
// matches when one of its strong tags does; only a header that is not a
// list of entity tags is 400.
func TestIfMatchReadsEntityTagsAsRFC9110(t *testing.T) {
	w := newWorld(t)
	id := w.intake(w.staff1, "S01")
	w.must(http.StatusOK, w.staff1, "POST", "/v1/cases/"+id+"/eligibility", map[string]any{"eligible": true})
	for _, tc := range []struct {
		ifMatch string
		status  int
	}{
		{`"0"`, http.StatusPreconditionFailed},
		{`"1"`, http.StatusPreconditionFailed},
		{`"18446744073709551616"`, http.StatusPreconditionFailed},
		{`"abc"`, http.StatusPreconditionFailed},
		{`""`, http.StatusPreconditionFailed},
		{`W/"2"`, http.StatusPreconditionFailed},
		{`W/"2", "1"`, http.StatusPreconditionFailed},
		{`"1", "2"`, http.StatusOK},
		{`"2"`, http.StatusOK},
		{`*`, http.StatusOK},
		{`2`, http.StatusOK},
		{`soon`, http.StatusBadRequest},
		{`"2`, http.StatusBadRequest},
		{`W/2`, http.StatusBadRequest},
		{`"a b"`, http.StatusBadRequest},
	} {
		t.Run(tc.ifMatch, func(t *testing.T) {
			before := headCount(t, w.store)
			rec := w.call(w.staff1, "POST", "/v1/cases/"+id+"/relatives-contacted", map[string]any{}, "If-Match", tc.ifMatch)
			if rec.Code != tc.status {
				t.Fatalf("If-Match %s answered %d %s, want %d", tc.ifMatch, rec.Code, rec.Body.String(), tc.status)
			}
			switch tc.status {
			case http.StatusOK:
				// The next request must match the new version, so go back
				// to a case at version 2 for the next value.
				id = w.intake(w.staff1, "S01")
				w.must(http.StatusOK, w.staff1, "POST", "/v1/cases/"+id+"/eligibility", map[string]any{"eligible": true})
			case http.StatusBadRequest:
				expectProblem(t, rec, tc.status, "invalid", "If-Match")
			default:
				expectProblem(t, rec, tc.status, "precondition_failed", "")
				if after := headCount(t, w.store); after != before {
					t.Fatalf("a refused If-Match wrote %d events", after-before)
				}
			}
		})
	}
}

func TestIdempotencyKey(t *testing.T) {
	w := newWorld(t)
	first := w.must(http.StatusCreated, w.staff1, "POST", "/v1/cases", intakeBody("S01"), "Idempotency-Key", "k-1")
	before := headCount(t, w.store)
	again := w.must(http.StatusCreated, w.staff1, "POST", "/v1/cases", intakeBody("S01"), "Idempotency-Key", "k-1")
	if first.Body.String() != again.Body.String() {
		t.Fatalf("the same request answered %s, then %s", first.Body.String(), again.Body.String())
	}
	if after := headCount(t, w.store); after != before {
		t.Fatalf("the repeated request wrote %d events", after-before)
	}
	other := intakeBody("S01")
	other["person"] = map[string]any{"sex": "female", "estimated_age": 40}
	rec := w.call(w.staff1, "POST", "/v1/cases", other, "Idempotency-Key", "k-1")
	expectProblem(t, rec, http.StatusUnprocessableEntity, "rule_violation", domain.RuleIdempotencyKeyReused)

	// A step, then the same step after a restart: the key determines the
	// event IDs, so nothing is written and the first answer comes back.
	id := decodeAs[struct{ ID string }](t, first).ID
	step := w.must(http.StatusOK, w.staff1, "POST", "/v1/cases/"+id+"/eligibility", map[string]any{"eligible": true}, "Idempotency-Key", "k-2")
	w.reopen()
	before = headCount(t, w.store)
	again = w.must(http.StatusOK, w.staff1, "POST", "/v1/cases/"+id+"/eligibility", map[string]any{"eligible": true}, "Idempotency-Key", "k-2")
	if step.Body.String() != again.Body.String() || again.Header().Get("ETag") != step.Header().Get("ETag") {
		t.Fatalf("after a restart the same request answered %s, first %s", again.Body.String(), step.Body.String())
	}
	if after := headCount(t, w.store); after != before {
		t.Fatalf("the repeated request after a restart wrote %d events", after-before)
	}
	again = w.must(http.StatusCreated, w.staff1, "POST", "/v1/cases", intakeBody("S01"), "Idempotency-Key", "k-1")
	if first.Body.String() != again.Body.String() {
		t.Fatalf("after a restart the intake answered %s, first %s", again.Body.String(), first.Body.String())
	}
}

func TestIdempotencyKeyReusedOnAStep(t *testing.T) {
	w := newWorld(t)
	id := w.intake(w.staff1, "S01")
	w.must(http.StatusOK, w.staff1, "POST", "/v1/cases/"+id+"/eligibility", map[string]any{"eligible": true}, "Idempotency-Key", "s-1")
	before := headCount(t, w.store)
	rec := w.call(w.staff1, "POST", "/v1/cases/"+id+"/identity-query", map[string]any{"channel": "police"}, "Idempotency-Key", "s-1")
	expectProblem(t, rec, http.StatusUnprocessableEntity, "rule_violation", domain.RuleIdempotencyKeyReused)
	if after := headCount(t, w.store); after != before {
		t.Fatalf("a reused key wrote %d events", after-before)
	}
}
