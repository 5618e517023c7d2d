package projections_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/projections"
)

// TestAsOfBeforeTheStationWasRegistered: a station registered in
// Waystation after the back-dated records of its cases is known, with its
// region, on boards as of those records' moments; a zone opened later is
// not there before it opened.
func TestAsOfBeforeTheStationWasRegistered(t *testing.T) {
	w := newWorld(t)
	registered := t0
	w.write(domain.StationStream("S01"), registered, time.Time{},
		domain.StationRegistered{Code: "S01", Name: "Station S01", Region: "R1", Kind: domain.KindStation, Zones: stdZones})
	// Paperwork of the station's earlier days, recorded after the station
	// was registered but dated five days before.
	arrived, typed := registered.Add(-5*24*time.Hour), registered.Add(time.Hour)
	id := uuid.MustParse("01960000-0000-7000-8000-000000000999")
	w.write(domain.CaseStream(id), arrived, typed, domain.IntakeRegistered{
		CaseID: id, Station: "S01", Referral: domain.Referral{Source: domain.SourceWalkIn}, Person: boy})
	w.write(domain.CaseStream(id), arrived.Add(time.Minute), typed, domain.EligibilityDecided{Eligible: true})
	w.write(
		domain.StationStream("S01"), arrived.Add(time.Hour), typed,
		domain.BedAssigned{CaseID: id, Zone: domain.ZoneMinors, Bed: domain.BedName(domain.ZoneMinors, 1)},
	)
	// A care zone opened a day after the registration.
	opened := registered.Add(24 * time.Hour)
	w.write(domain.StationStream("S01"), opened, time.Time{},
		domain.ZonesChanged{
			Zones: append(append([]domain.ZoneBeds{}, stdZones...), domain.ZoneBeds{Zone: domain.ZoneCare, Beds: 3}),
		})
	r := w.runner(newClock(registered.Add(48 * time.Hour)).now)

	then := projections.AsOf{At: arrived.Add(30 * time.Hour)}
	for _, known := range []bool{false, true} {
		asOf := then
		asOf.Known = known
		board, err := r.Safety(projections.Filter{Region: "R1"}, asOf)
		if err != nil {
			t.Fatalf("safety of R1 as of %s (known %v): %v", then.At, known, err)
		}
		found := false
		for _, a := range board.Alerts {
			if a.CaseID == id && a.Rule == projections.RuleUnaccompaniedMinor {
				found = a.Region == "R1"
			}
		}
		// Known: the intake was recorded only later, so staff could not have
		// known the case then; the board is empty but answers.
		if found == known {
			t.Errorf("as of %s (known %v): unaccompanied minor raised %v, want %v", then.At, known, found, !known)
		}
		occ, err := r.Occupancy("S01", asOf)
		if err != nil {
			t.Fatalf("occupancy of S01 as of %s (known %v): %v", then.At, known, err)
		}
		if residents := len(occ.Residents); residents != map[bool]int{false: 1, true: 0}[known] {
			t.Errorf("occupancy as of %s (known %v): %d residents", then.At, known, residents)
		}
		if len(occ.Zones) != len(stdZones) {
			t.Errorf(
				"occupancy as of %s (known %v): zones %+v, want the registered ones without the care zone",
				then.At, known, occ.Zones,
			)
		}
	}
	later, err := r.Occupancy("S01", projections.AsOf{At: opened.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(later.Zones); n != len(stdZones)+1 || later.Zones[n-1].Zone != domain.ZoneCare {
		t.Errorf("occupancy after the care zone opened: zones %+v, want the care zone too", later.Zones)
	}
	if _, err := r.Safety(projections.Filter{Region: "R9"}, then); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("a region with no station, as of then: got %v, want not_found", err)
	}
}
