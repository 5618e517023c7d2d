package http_test

import (
	"net/http"
	"slices"
	"testing"
)

// allowedSteps reads GET /v1/cases/{id} as token and returns its
// allowed_steps.
func (e *env) allowedSteps(token, id string) []string {
	e.t.Helper()
	rec := e.must(http.StatusOK, token, "GET", "/v1/cases/"+id, nil)
	got := decodeAs[struct {
		AllowedSteps *[]string `json:"allowed_steps"`
	}](e.t, rec)
	if got.AllowedSteps == nil {
		e.t.Fatalf("GET /v1/cases/%s has no allowed_steps list: %s", id, rec.Body.String())
	}
	return *got.AllowedSteps
}

func TestCaseViewListsTheStepsAllowedNow(t *testing.T) {
	w := newWorld(t)
	id := w.intake(w.staff1, "S01")

	t.Run("a fresh intake allows screening, not the steps that need earlier ones", func(t *testing.T) {
		got := w.allowedSteps(w.staff1, id)
		for _, want := range []string{"eligibility", "security-check", "medical-referral", "family-search-notice"} {
			if !slices.Contains(got, want) {
				t.Errorf("allowed_steps %v lack %s", got, want)
			}
		}
		for _, not := range []string{
			"bed", "closure", "handover", "escort-departure", "hospital-admission", "hospital-discharge",
			"medical-return", "dna-result", "bed-release", "transfer-accept",
		} {
			if slices.Contains(got, not) {
				t.Errorf("allowed_steps %v list %s, which needs an earlier step", got, not)
			}
		}
	})
	t.Run("the coordinator of the region sees the same steps", func(t *testing.T) {
		if got, want := w.allowedSteps(w.coord1, id), w.allowedSteps(w.staff1, id); !slices.Equal(got, want) {
			t.Errorf("coordinator's allowed_steps %v, staff's %v", got, want)
		}
	})
	t.Run("an inspector sees none", func(t *testing.T) {
		for _, tok := range []string{w.insp1, w.inspAll} {
			if got := w.allowedSteps(tok, id); len(got) != 0 {
				t.Errorf("inspector's allowed_steps %v, want none", got)
			}
		}
	})
	t.Run("screening and the security check open the bed, and a bed its release", func(t *testing.T) {
		w.must(http.StatusOK, w.staff1, "POST", "/v1/cases/"+id+"/eligibility", map[string]any{"eligible": true})
		got := w.allowedSteps(w.staff1, id)
		if slices.Contains(got, "bed") || slices.Contains(got, "eligibility") {
			t.Errorf("after screening, allowed_steps %v, want neither bed nor eligibility", got)
		}
		w.must(http.StatusOK, w.staff1, "POST", "/v1/cases/"+id+"/security-check",
			map[string]any{"checked_by": map[string]any{"staff_id": "s-7", "sex": "male"}})
		got = w.allowedSteps(w.staff1, id)
		if !slices.Contains(got, "bed") || slices.Contains(got, "security-check") {
			t.Errorf("after the security check, allowed_steps %v, want bed and no security-check", got)
		}
		w.must(http.StatusOK, w.staff1, "POST", "/v1/cases/"+id+"/bed", map[string]any{"zone": "adult_male"})
		got = w.allowedSteps(w.staff1, id)
		if !slices.Contains(got, "bed-release") || !slices.Contains(got, "bed") {
			t.Errorf("after a bed, allowed_steps %v, want bed-release and bed (a move)", got)
		}
	})
	t.Run("the receiving station's staff may only answer a transfer", func(t *testing.T) {
		w.must(http.StatusOK, w.staff1, "POST", "/v1/cases/"+id+"/transfer-request",
			map[string]any{"to_station": "S02", "reason": "closer to home"})
		got := w.allowedSteps(w.staff2, id)
		if want := []string{"transfer-accept", "transfer-decline"}; !slices.Equal(got, want) {
			t.Errorf("receiving staff's allowed_steps %v, want %v", got, want)
		}
		if got := w.allowedSteps(w.staff1, id); slices.Contains(got, "transfer-accept") {
			t.Errorf("sending staff's allowed_steps %v list transfer-accept", got)
		}
	})
	// The domain accepts a police report and a correction on a closed
	// case (late paperwork); nothing else.
	t.Run("a closed case allows only late paperwork", func(t *testing.T) {
		c := w.intake(w.staff1, "S01")
		w.must(http.StatusOK, w.staff1, "POST", "/v1/cases/"+c+"/voluntary-leave", map[string]any{"declaration_ref": "D-1"})
		if got := w.allowedSteps(w.staff1, c); slices.Contains(got, "voluntary-leave") || !slices.Contains(got, "closure") {
			t.Errorf("after the exit, allowed_steps %v, want closure and no exit", got)
		}
		w.must(http.StatusOK, w.staff1, "POST", "/v1/cases/"+c+"/closure", map[string]any{})
		want := []string{"police-report", "correction"}
		for _, tok := range []string{w.staff1, w.coord1, adminToken} {
			if got := w.allowedSteps(tok, c); !slices.Equal(got, want) {
				t.Errorf("closed case's allowed_steps %v, want %v", got, want)
			}
		}
		if got := w.allowedSteps(w.insp1, c); len(got) != 0 {
			t.Errorf("inspector's allowed_steps on a closed case %v, want none", got)
		}
	})
}
