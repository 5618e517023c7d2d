package http_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"waystation/domain"
)

// TestTimesAreBoundedToWhatTheDomainAllows sends the times a careless
// client really sends: an intake "in 1900" (which would raise alerts since
// 1900), the zero time as occurred_at (which must not read as "now"
// while one second later is refused), the zero time as a board's or a
// history's moment (which must not answer the present), and an extension
// to 9999 (which would switch the overdue alert off for good).
func TestTimesAreBoundedToWhatTheDomainAllows(t *testing.T) {
	w := newWorld(t)
	t.Run("an intake in 1900 is invalid, naming occurred_at", func(t *testing.T) {
		before := headCount(t, w.store)
		body := intakeBody("S01")
		body["occurred_at"] = "1900-01-01T00:00:00+08:00"
		expectProblem(t, w.call(w.staff1, "POST", "/v1/cases", body), http.StatusBadRequest, "invalid", "occurred_at")
		if after := headCount(t, w.store); after != before {
			t.Fatalf("a refused intake wrote %d events", after-before)
		}
	})
	for _, at := range []string{"0001-01-01T00:00:00Z", "0001-01-01T00:00:01Z", "2003-07-31T23:59:59+08:00"} {
		t.Run("occurred_at "+at+" is invalid", func(t *testing.T) {
			body := intakeBody("S01")
			body["occurred_at"] = at
			expectProblem(t, w.call(w.staff1, "POST", "/v1/cases", body), http.StatusBadRequest, "invalid", "occurred_at")
			id := w.intake(w.staff1, "S01")
			rec := w.call(w.staff1, "POST", "/v1/cases/"+id+"/relatives-contacted", map[string]any{"occurred_at": at})
			expectProblem(t, rec, http.StatusBadRequest, "invalid", "occurred_at")
		})
	}
	t.Run("the first day of the 2003 measures is a time a step can have happened", func(t *testing.T) {
		body := intakeBody("S01")
		body["occurred_at"] = "2003-08-01T00:00:00+08:00"
		w.must(http.StatusCreated, w.staff1, "POST", "/v1/cases", body)
	})
	id := w.intake(w.staff1, "S01")
	for _, tc := range []struct{ path, param string }{
		{"/v1/stations/S01/occupancy", "at"},
		{"/v1/safety?station=S01", "at"},
		{"/v1/cases/" + id + "/history", "as_of"},
	} {
		t.Run("the zero time as "+tc.param+" of "+tc.path+" is not the present", func(t *testing.T) {
			sep := "?"
			if strings.Contains(tc.path, "?") {
				sep = "&"
			}
			rec := w.call(adminToken, "GET", tc.path+sep+tc.param+"=0001-01-01T00:00:00Z", nil)
			expectProblem(t, rec, http.StatusBadRequest, "invalid", tc.param)
		})
	}
	t.Run("an extension to 9999 is refused", func(t *testing.T) {
		id := w.intake(w.staff1, "S01")
		rec := w.call(w.staff1, "POST", "/v1/cases/"+id+"/extension", map[string]any{
			"until": "9999-01-01T00:00:00Z", "approved_by": "站长", "reason": "等待家属",
		})
		expectProblem(t, rec, http.StatusUnprocessableEntity, "rule_violation", domain.RuleExtensionTooLong)
		until := time.Now().Add(domain.MaxExtension - time.Hour).Format(time.RFC3339)
		w.must(http.StatusOK, w.staff1, "POST", "/v1/cases/"+id+"/extension", map[string]any{
			"until": until, "approved_by": "站长", "reason": "等待家属",
		})
	})
}
