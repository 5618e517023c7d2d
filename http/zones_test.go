package http_test

import (
	"net/http"
	"testing"
)

// zoneBeds is a zone as the occupancy board shows it.
type zoneBeds struct {
	Zone     string
	Beds     int
	Seasonal int
	Free     int
}

func occupancyOf(t testing.TB, w *world, station string) map[string]zoneBeds {
	t.Helper()
	occ := decodeAs[struct{ Zones []zoneBeds }](t, w.must(200, adminToken, "GET", "/v1/stations/"+station+"/occupancy", nil))
	out := map[string]zoneBeds{}
	for _, z := range occ.Zones {
		out[z.Zone] = z
	}
	return out
}

func TestChangeZonesAddsSeasonalBeds(t *testing.T) {
	w := newWorld(t)
	winter := map[string]any{"zones": []map[string]any{
		{"zone": "adult_male", "beds": 3, "seasonal": 2}, {"zone": "adult_female", "beds": 2}, {"zone": "minors", "beds": 2}, {"zone": "isolation", "beds": 1},
	}}
	rec := w.must(200, adminToken, "POST", "/v1/stations/S01/zones", winter, "Idempotency-Key", "winter-2026")
	got := decodeAs[struct {
		Code    string
		Version uint64
	}](t, rec)
	if got.Code != "S01" || got.Version < 2 || rec.Header().Get("ETag") == "" {
		t.Fatalf("answer %+v, ETag %q", got, rec.Header().Get("ETag"))
	}
	if z := occupancyOf(t, w, "S01")["adult_male"]; z.Beds != 5 || z.Seasonal != 2 || z.Free != 5 {
		t.Fatalf("adult_male after the change: %+v, want 5 beds of which 2 seasonal, all free", z)
	}
	// The seasonal beds can be given.
	id := w.intake(w.staff1, "S01")
	w.must(200, w.staff1, "POST", "/v1/cases/"+id+"/eligibility", map[string]any{"eligible": true})
	w.must(200, w.staff1, "POST", "/v1/cases/"+id+"/security-check", map[string]any{"checked_by": map[string]any{"staff_id": "s-7", "sex": "male"}})
	w.must(200, w.staff1, "POST", "/v1/cases/"+id+"/bed", map[string]any{"zone": "adult_male", "bed": "adult_male-5"})

	t.Run("the same request again writes nothing", func(t *testing.T) {
		head := headCount(t, w.store)
		again := decodeAs[struct{ Version uint64 }](t, w.must(200, adminToken, "POST", "/v1/stations/S01/zones", winter, "Idempotency-Key", "winter-2026"))
		if again.Version != got.Version || headCount(t, w.store) != head {
			t.Fatalf("replay answered version %d (first %d), log grew by %d", again.Version, got.Version, headCount(t, w.store)-head)
		}
	})
	t.Run("the same key with another body is refused", func(t *testing.T) {
		other := map[string]any{"zones": []map[string]any{{"zone": "adult_male", "beds": 9}}}
		expectProblem(t, w.call(adminToken, "POST", "/v1/stations/S01/zones", other, "Idempotency-Key", "winter-2026"), http.StatusUnprocessableEntity, "rule_violation", "")
	})
	t.Run("an occupied bed cannot disappear", func(t *testing.T) {
		summer := map[string]any{"zones": []map[string]any{{"zone": "adult_male", "beds": 3}, {"zone": "adult_female", "beds": 2}}}
		expectProblem(t, w.call(adminToken, "POST", "/v1/stations/S01/zones", summer), http.StatusUnprocessableEntity, "rule_violation", "bed_occupied")
		if z := occupancyOf(t, w, "S01")["adult_male"]; z.Beds != 5 {
			t.Fatalf("a refused change changed the beds: %+v", z)
		}
	})
	t.Run("a stale If-Match is refused", func(t *testing.T) {
		expectProblem(t, w.call(adminToken, "POST", "/v1/stations/S01/zones", winter, "If-Match", `"1"`), http.StatusPreconditionFailed, "precondition_failed", "")
	})
}

func TestChangeZonesIsCheckedAndForAdminsOnly(t *testing.T) {
	w := newWorld(t)
	ok := map[string]any{"zones": []map[string]any{{"zone": "adult_male", "beds": 4}}}
	for name, token := range map[string]string{"staff": w.staff1, "coordinator": w.coord1, "inspector": w.inspAll} {
		t.Run("refused to "+name, func(t *testing.T) {
			expectProblem(t, w.call(token, "POST", "/v1/stations/S01/zones", ok), http.StatusForbidden, "forbidden", "")
		})
	}
	for _, tc := range []struct {
		name  string
		body  any
		field string
	}{
		{"an unknown zone", map[string]any{"zones": []map[string]any{{"zone": "adult_male", "beds": 4}, {"zone": "garden", "beds": 1}}}, "zones.1.zone"},
		{"negative beds", map[string]any{"zones": []map[string]any{{"zone": "adult_male", "beds": -1}}}, "zones.0.beds"},
		{"negative seasonal beds", map[string]any{"zones": []map[string]any{{"zone": "adult_male", "beds": 1, "seasonal": -2}}}, "zones.0.seasonal"},
		{"a zone listed twice", map[string]any{"zones": []map[string]any{{"zone": "minors", "beds": 1}, {"zone": "minors", "beds": 2}}}, "zones.1.zone"},
		{"no zones at all", map[string]any{}, "zones"},
		{"an unknown field", `{"zones":[],"beds":3}`, "beds"},
		{"beds that are not a number", `{"zones":[{"zone":"minors","beds":"two"}]}`, "zones.0.beds"},
	} {
		t.Run("refused with "+tc.name, func(t *testing.T) {
			expectProblem(t, w.call(adminToken, "POST", "/v1/stations/S01/zones", tc.body), http.StatusBadRequest, "invalid", tc.field)
		})
	}
	expectProblem(t, w.call(adminToken, "POST", "/v1/stations/S99/zones", ok), http.StatusNotFound, "not_found", "")
	if z := occupancyOf(t, w, "S01")["adult_male"]; z.Beds != 3 {
		t.Fatalf("refused changes changed the beds: %+v", z)
	}
}
