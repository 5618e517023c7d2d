package projections_test

import (
	"errors"
	"testing"
	"time"

	"waystation/domain"
	"waystation/projections"
)

func TestOccupancyCountsBedsHospitalAndTransit(t *testing.T) {
	w := newWorld(t)
	w.station("S01", "R1", stdZones...)
	w.station("S02", "R1", stdZones...)
	a := w.intake("S01", t0, man, domain.Inspection{})
	b := w.intake("S01", t0.Add(time.Minute), woman, domain.Inspection{})
	c := w.intake("S01", t0.Add(2*time.Minute), man, domain.Inspection{})
	d := w.intake("S01", t0.Add(3*time.Minute), man, domain.Inspection{})
	w.bed("S01", a, t0.Add(10*time.Minute), domain.ZoneAdultMale, 5)
	w.bed("S01", b, t0.Add(11*time.Minute), domain.ZoneAdultFemale, 1)
	w.bed("S01", c, t0.Add(12*time.Minute), domain.ZoneAdultMale, 1)
	w.step(c, t0.Add(time.Hour), domain.HospitalAdmitted{Hospital: "City No. 1"})
	w.release("S01", c, t0.Add(time.Hour), domain.ZoneAdultMale, 1, domain.ReleaseHospital)
	w.step(d, t0.Add(time.Hour), domain.TransferRequested{From: "S01", To: "S02", Reason: "dialect"})
	w.step(d, t0.Add(2*time.Hour), domain.TransferAccepted{From: "S01", To: "S02"})
	w.step(d, t0.Add(3*time.Hour), domain.EscortDeparted{From: "S01", To: "S02", Escorts: []string{"e1"}})
	r := w.runner(newClock(t0.Add(4 * time.Hour)).now)

	got, err := r.Occupancy("S01", projections.AsOf{})
	if err != nil {
		t.Fatal(err)
	}
	want := []projections.ZoneOccupancy{
		{Zone: domain.ZoneAdultMale, Beds: 6, Seasonal: 2, Occupied: 1, Free: 5},
		{Zone: domain.ZoneAdultFemale, Beds: 2, Occupied: 1, Free: 1},
		{Zone: domain.ZoneMinors, Beds: 2, Occupied: 0, Free: 2},
	}
	if len(got.Zones) != len(want) {
		t.Fatalf("zones: got %+v, want %+v", got.Zones, want)
	}
	for i := range want {
		if got.Zones[i] != want[i] {
			t.Errorf("zone %d: got %+v, want %+v", i, got.Zones[i], want[i])
		}
	}
	if got.InHospital != 1 || got.InTransit != 1 {
		t.Errorf("in hospital %d, in transit %d; want 1 and 1", got.InHospital, got.InTransit)
	}
	if len(
		got.Residents,
	) != 2 || got.Residents[0].CaseID != a || got.Residents[0].Bed != "adult_male-5" || got.Residents[1].CaseID != b {
		t.Errorf("residents: got %+v", got.Residents)
	}

	// As of before the hospital admission, case c was still in bed 1.
	then, err := r.Occupancy("S01", projections.AsOf{At: t0.Add(30 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if then.Zones[0].Occupied != 2 || then.InHospital != 0 || then.InTransit != 0 {
		t.Errorf("as of 08:30: got %+v", then)
	}

	if _, err := r.Occupancy("S99", projections.AsOf{}); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("unknown station: got %v, want not_found", err)
	}
}
