package projections_test

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"waystation/domain"
	"waystation/projections"
)

// cst returns hh:mm in Beijing (domain.CivilZone) on the day'th day after
// 2 March 2026.
func cst(day, hh, mm int) time.Time {
	return time.Date(2026, 3, 2+day, hh, mm, 0, 0, domain.CivilZone)
}

// days is the period of the civil dates from the from'th to the to'th day
// after 2 March 2026, both included.
func days(from, to int) projections.Period {
	return projections.DatesPeriod(domain.CivilDate(cst(from, 0, 0)), domain.CivilDate(cst(to, 0, 0)))
}

// TestStatsCountCivilDaysAndBedNightsInBeijing: days, nights and bands are
// cut at midnight in Beijing; a bed night is a person holding a bed at the
// midnight that ends a date, not away in hospital or in transit, not yet
// exited; people with no bed do not count; tonight has not ended and does
// not count.
func TestStatsCountCivilDaysAndBedNightsInBeijing(t *testing.T) {
	w := newWorld(t)
	w.station("S01", "R1", stdZones...)
	w.station("S02", "R2", stdZones...)
	// a: in bed from day 0 to day 3 at 10:00: the nights of days 0, 1, 2.
	a := w.intake("S01", cst(0, 16, 0), man, domain.Inspection{})
	w.bed("S01", a, cst(0, 16, 10), domain.ZoneAdultMale, 1)
	w.step(a, cst(3, 10, 0), domain.LeftVoluntarily{DeclarationRef: "D-a"})
	w.release("S01", a, cst(3, 10, 0), domain.ZoneAdultMale, 1, domain.ReleaseExit)
	// c: in bed from 23:40 on day 1 to 00:10 on day 2, Beijing time (15:40
	// to 16:10 UTC on day 1): one night, day 1's.
	c := w.intake("S01", cst(1, 23, 30), woman, domain.Inspection{})
	w.bed("S01", c, cst(1, 23, 40), domain.ZoneAdultFemale, 1)
	w.step(c, cst(2, 0, 10), domain.LeftVoluntarily{DeclarationRef: "D-c"})
	w.release("S01", c, cst(2, 0, 10), domain.ZoneAdultFemale, 1, domain.ReleaseExit)
	// b: a bed at S01 on day 1, in transit from 20:00 (the bed still held
	// at S01), handed over to S02 on day 2 and in bed there since.
	b := w.intake("S01", cst(1, 10, 0), boy, domain.Inspection{})
	w.bed("S01", b, cst(1, 10, 30), domain.ZoneMinors, 1)
	w.step(b, cst(1, 11, 0), domain.TransferRequested{From: "S01", To: "S02", Reason: "minors"})
	w.step(b, cst(1, 12, 0), domain.TransferAccepted{From: "S01", To: "S02"})
	w.step(b, cst(1, 20, 0), domain.EscortDeparted{From: "S01", To: "S02", Escorts: []string{"e"}})
	w.step(b, cst(2, 9, 0), domain.HandedOver{From: "S01", To: "S02", ReceivedBy: "s2"})
	w.release("S01", b, cst(2, 9, 0), domain.ZoneMinors, 1, domain.ReleaseHandover)
	w.bed("S02", b, cst(2, 10, 0), domain.ZoneMinors, 1)
	// d: in bed from day 0, in hospital from day 1 noon to day 2 noon with
	// the bed held, dies on day 3 before the bed is released.
	d := w.intake("S01", cst(0, 17, 0), old, domain.Inspection{})
	w.bed("S01", d, cst(0, 17, 10), domain.ZoneAdultMale, 2)
	w.step(d, cst(1, 11, 0), domain.MedicalReferred{Hospital: "designated"})
	w.step(d, cst(1, 12, 0), domain.HospitalAdmitted{Hospital: "designated"})
	w.step(d, cst(2, 10, 0), domain.HospitalDischarged{})
	w.step(d, cst(2, 12, 0), domain.MedicalReturned{})
	w.step(d, cst(3, 12, 0), domain.Died{Place: "station"})
	// e: arrives 20 minutes after midnight on day 2 in Beijing (16:20 UTC
	// on day 1) and never gets a bed.
	w.intake("S01", cst(2, 0, 20), man, domain.Inspection{})
	// Now is 20:00 on day 4: the nights of days 0 to 3 are over, day 4's
	// is not.
	r := w.runner(newClock(cst(4, 20, 0)).now)

	census := func(s projections.Stats) []int {
		out := []int{}
		for _, d := range s.Census {
			out = append(out, d.Count)
		}
		return out
	}
	dates := func(s projections.Stats) []string {
		out := []string{}
		for _, d := range s.Census {
			out = append(out, d.Date)
		}
		return out
	}
	// A period given in UTC is counted from its instant, shown in Beijing
	// time with the civil dates it covers.
	s01, err := r.Stats(
		projections.Filter{Station: "S01"}, projections.Period{From: cst(0, 10, 0).UTC(), To: cst(6, 0, 0).UTC()},
	)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s01.From.Format(time.RFC3339)+" "+s01.To.Format(time.RFC3339)+" "+s01.FromDate+" "+s01.ToDate,
		"2026-03-02T10:00:00+08:00 2026-03-08T00:00:00+08:00 2026-03-02 2026-03-07"; got != want || s01.ToInclusive {
		t.Errorf("range: got %s (to inclusive %v), want %s, to exclusive", got, s01.ToInclusive, want)
	}
	if got, want := dates(s01), []string{
		"2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05",
	}; !slices.Equal(got, want) {
		t.Errorf("census dates: got %v, want %v (completed nights only)", got, want)
	}
	if got, want := census(s01), []int{2, 2, 2, 0}; !slices.Equal(got, want) {
		t.Errorf("S01 census: got %v, want %v", got, want)
	}
	if s01.BedNights != 6 || s01.Intakes != 5 || s01.Exits != 3 {
		t.Errorf("S01: bed nights %d intakes %d exits %d; want 6, 5, 3", s01.BedNights, s01.Intakes, s01.Exits)
	}
	wantMap := func(what string, got, want map[string]int) {
		t.Helper()
		if !maps.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", what, got, want)
		}
	}
	wantMap("intakes by sex", s01.IntakesBySex, map[string]int{"male": 4, "female": 1})
	wantMap("intakes by age band", s01.IntakesByAgeBand, map[string]int{"18-59": 3, "6-13": 1, "60+": 1})
	wantMap("exits by type", s01.ExitsByType, map[string]int{"voluntary_leave": 2, "death": 1})
	wantMap("exits by sex", s01.ExitsBySex, map[string]int{"male": 2, "female": 1})
	wantMap("exits by age band", s01.ExitsByAgeBand, map[string]int{"18-59": 2, "60+": 1})
	wantMap("length of stay", s01.LengthOfStay, map[string]int{projections.StayUpTo10Days: 3})
	if len(s01.Stations) != 1 || s01.Stations[0].Station != "S01" || len(s01.Regions) != 0 {
		t.Errorf("one station: rows %+v, regions %+v; want the station's row and no region rows", s01.Stations, s01.Regions)
	}

	all, err := r.Stats(projections.Filter{}, days(0, 5))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := census(all), []int{2, 2, 3, 1}; !slices.Equal(got, want) || all.BedNights != 8 {
		t.Errorf("everywhere: census %v (bed nights %d), want %v (8)", got, all.BedNights, want)
	}
	if len(all.Stations) != 2 || len(all.Regions) != 2 {
		t.Fatalf("everywhere: %d station rows, %d region rows; want 2 and 2", len(all.Stations), len(all.Regions))
	}
	st1, st2 := all.Stations[0], all.Stations[1]
	if st1.Station != "S01" || st1.Region != "R1" || st1.BedNights != 6 || st1.Intakes != 5 || st1.Exits != 3 ||
		st1.IntakesBySex["female"] != 1 || st1.IntakesByAgeBand["60+"] != 1 ||
		st1.ExitsByAgeBand["60+"] != 1 || st1.ExitsBySex["male"] != 2 {
		t.Errorf("S01's row: %+v", st1)
	}
	if st2.Station != "S02" || st2.Region != "R2" || st2.BedNights != 2 || st2.Intakes != 0 || st2.Exits != 0 {
		t.Errorf("S02's row: %+v", st2)
	}
	r1, r2 := all.Regions[0], all.Regions[1]
	if r1.Region != "R1" || r1.BedNights != 6 || r1.Intakes != 5 || r1.Exits != 3 ||
		r1.ExitsByType["death"] != 1 || r1.IntakesBySex["male"] != 4 {
		t.Errorf("R1's row: %+v", r1)
	}
	if r2.Region != "R2" || r2.BedNights != 2 || r2.Intakes != 0 {
		t.Errorf("R2's row: %+v", r2)
	}

	region, err := r.Stats(projections.Filter{Region: "R2"}, days(0, 5))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := census(region), []int{0, 0, 1, 1}; !slices.Equal(got, want) ||
		len(region.Stations) != 1 || len(region.Regions) != 1 || region.Regions[0].BedNights != 2 {
		t.Errorf(
			"region R2: census %v, stations %+v, regions %+v; want %v with one row each", got,
			region.Stations, region.Regions, want,
		)
	}

	// The days are Beijing's: e arrived on 4 March there (3 March in UTC).
	before, err := r.Stats(projections.Filter{Station: "S01"}, days(0, 1))
	if err != nil {
		t.Fatal(err)
	}
	day2, err := r.Stats(projections.Filter{Station: "S01"}, days(2, 2))
	if err != nil {
		t.Fatal(err)
	}
	if before.Intakes != 4 || day2.Intakes != 1 || day2.Exits != 1 || day2.ExitsByType["voluntary_leave"] != 1 {
		t.Errorf(
			"intakes on 2-3 March %d (want 4), on 4 March %d (want 1), exits on 4 March %v (want c's)",
			before.Intakes, day2.Intakes, day2.ExitsByType,
		)
	}
	if got := census(before); !slices.Equal(got, []int{2, 2}) {
		t.Errorf("census of 2-3 March: got %v, want [2 2]", got)
	}

	// Tonight's census is not taken yet; at 00:00 in Beijing it is.
	today, err := r.Stats(projections.Filter{}, days(4, 4))
	if err != nil {
		t.Fatal(err)
	}
	if len(today.Census) != 0 || today.BedNights != 0 {
		t.Errorf("today before its midnight: census %v, bed nights %d; want none", today.Census, today.BedNights)
	}
	r2now := w.runner(newClock(cst(5, 0, 0)).now)
	tonight, err := r2now.Stats(projections.Filter{}, days(4, 4))
	if err != nil {
		t.Fatal(err)
	}
	if got := census(tonight); !slices.Equal(got, []int{1}) || tonight.BedNights != 1 {
		t.Errorf("today at its midnight: census %v, bed nights %d; want [1] and 1", got, tonight.BedNights)
	}
}

// TestStatsCountThePeriodUpToItsEnd: a date to counts the whole date and
// its night; a time to counts up to that instant, inclusive, and a night
// only when the period reaches its end; a time from counts from that
// instant.
func TestStatsCountThePeriodUpToItsEnd(t *testing.T) {
	// Given a man in bed from 10:00 on day 0, intakes on day 1 at 09:00,
	// at 23:59:59 sharp and half a second later, and one at midnight.
	w := newWorld(t)
	w.station("S01", "R1", stdZones...)
	a := w.intake("S01", cst(0, 10, 0), man, domain.Inspection{})
	w.bed("S01", a, cst(0, 10, 0), domain.ZoneAdultMale, 1)
	w.intake("S01", cst(1, 9, 0), woman, domain.Inspection{})
	w.intake("S01", cst(1, 23, 59).Add(59*time.Second), woman, domain.Inspection{})
	w.intake("S01", cst(1, 23, 59).Add(59*time.Second+500*time.Millisecond), woman, domain.Inspection{})
	w.intake("S01", cst(2, 0, 0), woman, domain.Inspection{})
	r := w.runner(newClock(cst(4, 12, 0)).now)
	last := cst(1, 23, 59).Add(59 * time.Second)

	for _, tt := range []struct {
		name             string
		p                projections.Period
		intakes          int
		census           []string
		toDate, interval string
	}{
		{"day 1, a date: the whole date and its night", days(1, 1), 3, []string{"2026-03-03"}, "2026-03-03",
			"2026-03-03T00:00:00+08:00 2026-03-04T00:00:00+08:00 false"},
		{"to 23:59:59 on day 1: that instant included, not the night that ends at midnight",
			projections.Period{From: cst(1, 0, 0), To: last, ToInclusive: true}, 2, []string{}, "2026-03-03",
			"2026-03-03T00:00:00+08:00 2026-03-03T23:59:59+08:00 true"},
		{"to midnight, inclusive: the night of day 1 and the intake at midnight",
			projections.Period{From: cst(1, 0, 0), To: cst(2, 0, 0), ToInclusive: true},
			4, []string{"2026-03-03"}, "2026-03-04",
			"2026-03-03T00:00:00+08:00 2026-03-04T00:00:00+08:00 true"},
		{"from 09:00:01 on day 1: the intake at 09:00 left out, the night in",
			projections.Period{From: cst(1, 9, 0).Add(time.Second), To: cst(2, 0, 0)},
			2, []string{"2026-03-03"}, "2026-03-03",
			"2026-03-03T09:00:01+08:00 2026-03-04T00:00:00+08:00 false"},
		{"one instant", projections.Period{From: last, To: last, ToInclusive: true}, 1, []string{}, "2026-03-03",
			"2026-03-03T23:59:59+08:00 2026-03-03T23:59:59+08:00 true"},
		{"days 0 to 9: the nights that have passed", days(0, 9), 5,
			[]string{"2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"}, "2026-03-11",
			"2026-03-02T00:00:00+08:00 2026-03-12T00:00:00+08:00 false"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := r.Stats(projections.Filter{}, tt.p)
			if err != nil {
				t.Fatal(err)
			}
			var census []string
			nights := 0
			for _, d := range s.Census {
				census = append(census, d.Date)
				nights += d.Count
			}
			if got := s.From.Format(time.RFC3339) + " " + s.To.Format(time.RFC3339) + " " + fmt.Sprint(
				s.ToInclusive,
			); got != tt.interval {
				t.Errorf("interval %s, want %s", got, tt.interval)
			}
			if s.Intakes != tt.intakes || !slices.Equal(
				census, tt.census,
			) && len(census)+len(tt.census) > 0 || s.BedNights != nights || s.ToDate != tt.toDate {
				t.Errorf(
					"intakes %d, census %v, bed nights %d, to_date %s; want %d, %v, the census' sum, %s",
					s.Intakes, census, s.BedNights, s.ToDate, tt.intakes, tt.census, tt.toDate,
				)
			}
		})
	}

	for _, tt := range []struct {
		name, field string
		p           projections.Period
	}{
		{"from after to", "from", projections.Period{From: cst(2, 0, 0), To: cst(1, 0, 0), ToInclusive: true}},
		{"from at an exclusive to", "from", projections.Period{From: cst(1, 0, 0), To: cst(1, 0, 0)}},
		{
			"3661 days",
			"to",
			projections.DatesPeriod(domain.Date{Year: 2016, Month: 2, Day: 27}, domain.Date{Year: 2026, Month: 3, Day: 6}),
		},
		{
			"40 years",
			"to",
			projections.DatesPeriod(domain.Date{Year: 1986, Month: 3, Day: 1}, domain.Date{Year: 2026, Month: 3, Day: 1}),
		},
		{"from in the future", "from", projections.Period{From: cst(4, 12, 1), To: cst(5, 0, 0)}},
		{
			"before 1900",
			"from",
			projections.Period{
				From: time.Date(1899, 12, 31, 0, 0, 0, 0, domain.CivilZone),
				To:   time.Date(1900, 1, 2, 0, 0, 0, 0, domain.CivilZone),
			},
		},
		{"the zero time", "from", projections.Period{To: cst(1, 0, 0)}},
	} {
		t.Run("refused: "+tt.name, func(t *testing.T) {
			if _, err := r.Stats(projections.Filter{}, tt.p); !isInvalid(err, tt.field) {
				t.Errorf("got %v, want invalid %s", err, tt.field)
			}
		})
	}
	if _, err := r.Stats(
		projections.Filter{},
		projections.DatesPeriod(domain.Date{Year: 2016, Month: 2, Day: 28}, domain.Date{Year: 2026, Month: 3, Day: 6}),
	); err != nil {
		t.Errorf("3660 days: %v", err)
	}
}
