package ops_test

import (
	"testing"
	"time"

	"waystation/ops"
)

// occupiedBeds returns how many beds of zone the occupancy board of S01
// shows as occupied.
func occupiedBeds(t testing.TB, r *running, zone string) int {
	t.Helper()
	occ := r.must(t, 200, adminToken, "GET", "/v1/stations/S01/occupancy", nil)
	for _, z := range occ["zones"].([]any) {
		z := z.(map[string]any)
		if z["zone"] == zone {
			return int(z["occupied"].(float64))
		}
	}
	t.Fatalf("occupancy has no zone %s: %v", zone, occ)
	return 0
}

// admitToHospital records a resident placed in an adult_female bed of S01
// and admitted to hospital, and returns the case's ID.
func admitToHospital(t testing.TB, r *running, staff string) string {
	t.Helper()
	id := r.must(t, 201, staff, "POST", "/v1/cases", intake("Hospital Hold", time.Now().Add(-3*time.Hour)))["id"].(string)
	path := "/v1/cases/" + id
	r.must(t, 200, staff, "POST", path+"/eligibility", map[string]any{"eligible": true})
	r.must(t, 200, staff, "POST", path+"/security-check", map[string]any{"checked_by": map[string]any{"staff_id": "s-7", "sex": "female"}})
	r.must(t, 200, staff, "POST", path+"/bed", map[string]any{"zone": "adult_female"})
	r.must(t, 200, staff, "POST", path+"/medical-referral", map[string]any{"hospital": "Designated hospital No. 3"})
	r.must(t, 200, staff, "POST", path+"/hospital-admission", map[string]any{"hospital": "Designated hospital No. 3"})
	return id
}

func TestTheConfiguredBedHoldKeepsAHospitalizedResidentsBed(t *testing.T) {
	t.Run("no hold: the bed is freed at admission", func(t *testing.T) {
		r := start(t, t.TempDir())
		staff := r.seed(t)
		admitToHospital(t, r, staff)
		if n := occupiedBeds(t, r, "adult_female"); n != 0 {
			t.Errorf("%d adult_female beds occupied after admission with no hold, want 0", n)
		}
	})

	t.Run("a hold of 48 h: the bed stays held, and is freed once the hold has expired", func(t *testing.T) {
		dir := t.TempDir()
		r := startWith(t, dir, func(c *ops.Config) { c.BedHold = 48 * time.Hour })
		staff := r.seed(t)
		admitToHospital(t, r, staff)
		if n := occupiedBeds(t, r, "adult_female"); n != 1 {
			t.Errorf("%d adult_female beds occupied during a 48 h hold, want 1", n)
		}
		if err := r.stop(); err != nil {
			t.Fatal(err)
		}

		// Restarted with a hold that has run out, the service frees the
		// bed by itself, without waiting for the zone to fill up.
		again := startWith(t, dir, func(c *ops.Config) { c.BedHold = time.Nanosecond })
		deadline := time.Now().Add(30 * time.Second)
		for occupiedBeds(t, again, "adult_female") != 0 {
			if time.Now().After(deadline) {
				t.Fatal("the bed of an expired hold was not freed after a start")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
