package http_test

import (
	"net/http"
	"testing"
)

// TestCodesHaveOneSpelling sends the look-alike codes a careless client
// really sends: a region with a zero-width space, a full-width letter, a
// leading space or in lowercase would silently move the station off its
// region's boards, and s01 beside S01 would be a second station. Each is
// refused, naming the field, and nothing is written.
func TestCodesHaveOneSpelling(t *testing.T) {
	w := newWorld(t)
	station := func(code, region string) map[string]any {
		return map[string]any{"code": code, "name": "第二站", "region": region, "kind": "station",
			"zones": []map[string]any{{"zone": "adult_male", "beds": 2}}}
	}
	for _, tc := range []struct {
		name, path, field string
		token             string
		body              map[string]any
	}{
		{"a region with a zero-width space", "/v1/stations", "region", adminToken, station("S09", "R1\u200b")},
		{"a full-width region", "/v1/stations", "region", adminToken, station("S09", "Ｒ1")},
		{"a region with a leading space", "/v1/stations", "region", adminToken, station("S09", " R1")},
		{"a lowercase region", "/v1/stations", "region", adminToken, station("S09", "r1")},
		{"s01 beside S01", "/v1/stations", "code", adminToken, station("s01", "R1")},
		{"a code with a trailing space", "/v1/stations", "code", adminToken, station("S01 ", "R1")},
		{"a coordinator of a look-alike region", "/v1/tokens", "region", adminToken, map[string]any{"role": "coordinator", "region": "R1\u00a0"}},
		{"an inspector of a lowercase region", "/v1/tokens", "region", adminToken, map[string]any{"role": "inspector", "region": "r1"}},
		{"staff of a lowercase station", "/v1/tokens", "station", adminToken, map[string]any{"role": "staff", "station": "s01"}},
		{"an intake at a look-alike station", "/v1/cases", "station", w.staff1, func() map[string]any {
			b := intakeBody("S01")
			b["station"] = "S０1"
			return b
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := headCount(t, w.store)
			expectProblem(t, w.call(tc.token, "POST", tc.path, tc.body), http.StatusBadRequest, "invalid", tc.field)
			if after := headCount(t, w.store); after != before {
				t.Fatalf("a refused request wrote %d events", after-before)
			}
		})
	}
	t.Run("a transfer to a lowercase station", func(t *testing.T) {
		id := w.intake(w.staff1, "S01")
		rec := w.call(w.staff1, "POST", "/v1/cases/"+id+"/transfer-request", map[string]any{"to_station": "s02", "reason": "离家近"})
		expectProblem(t, rec, http.StatusBadRequest, "invalid", "to_station")
	})
	t.Run("the code in its one spelling is taken", func(t *testing.T) {
		w.must(http.StatusCreated, adminToken, "POST", "/v1/stations", station("S-09_A", "R1"))
	})
}
