package projections_test

import (
	"context"
	"testing"
	"time"

	"waystation/domain"
	"waystation/projections"
)

// nov returns hh:mm in Beijing on the given date of November 2026 (a day
// past 30 runs on into December).
func nov(day, hh, mm int) time.Time {
	return time.Date(2026, 11, day, hh, mm, 0, 0, domain.CivilZone)
}

// reportNow is the clock of the report tests: 10 December 2026.
var reportNow = time.Date(2026, 12, 10, 12, 0, 0, 0, domain.CivilZone)

// reportWorld is the given of every report test: stations S01 and S02 in
// region R1 and S03 in region R2, each with stdZones (10 beds).
func reportWorld(t *testing.T) *world {
	t.Helper()
	w := newWorld(t)
	w.station("S01", "R1", stdZones...)
	w.station("S02", "R1", stdZones...)
	w.station("S03", "R2", stdZones...)
	return w
}

// report is the when: the report of period for f, as of asOf.
func report(t *testing.T, w *world, f projections.Filter, period string, asOf projections.AsOf) projections.Report {
	t.Helper()
	r := w.runner(newClock(reportNow).now)
	p, err := projections.ParseReportPeriod(period)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := r.Report(context.Background(), f, p, asOf)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func station(t *testing.T, rep projections.Report, code string) projections.StationReport {
	t.Helper()
	for _, s := range rep.Stations {
		if s.Station == code {
			return s
		}
	}
	t.Fatalf("no row for station %s in %+v", code, rep.Stations)
	return projections.StationReport{}
}

func region(t *testing.T, rep projections.Report, code string) projections.RegionReport {
	t.Helper()
	for _, s := range rep.Regions {
		if s.Region == code {
			return s
		}
	}
	t.Fatalf("no row for region %s", code)
	return projections.RegionReport{}
}

func wantInt(t *testing.T, name string, got, want int) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %d, want %d", name, got, want)
	}
}

func wantFloat(t *testing.T, name string, got *float64, want float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s = null, want %v", name, want)
	} else if *got != want {
		t.Errorf("%s = %v, want %v", name, *got, want)
	}
}

func TestParseReportPeriod(t *testing.T) {
	for _, tc := range []struct {
		in, name, from, to string
	}{
		{"2026-11", "2026-11", "2026-11-01T00:00:00+08:00", "2026-12-01T00:00:00+08:00"},
		{"2026-Q4", "2026-Q4", "2026-10-01T00:00:00+08:00", "2027-01-01T00:00:00+08:00"},
		{"2026-q1", "2026-Q1", "2026-01-01T00:00:00+08:00", "2026-04-01T00:00:00+08:00"},
	} {
		p, err := projections.ParseReportPeriod(tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if p.Name != tc.name || p.From.Format(time.RFC3339) != tc.from || p.To.Format(time.RFC3339) != tc.to {
			t.Errorf("%s: got %s %s..%s, want %s %s..%s", tc.in, p.Name, p.From.Format(time.RFC3339),
				p.To.Format(time.RFC3339), tc.name, tc.from, tc.to)
		}
	}
	for _, bad := range []string{"", "2026", "2026-13", "2026-00", "2026-Q5", "26-11", "2026-1", "1899-01", "2026-Q0"} {
		if _, err := projections.ParseReportPeriod(bad); domain.ErrorCode(err) != domain.CodeInvalid {
			t.Errorf("%q: got %v, want invalid", bad, err)
		}
	}
}

// Assisted: intakes whose arrival falls on a civil date of the period in
// Beijing time, at the station of arrival, refusals left out; minors,
// elderly and disabled by the intake's date and inspection.
func TestReportAssistedCountsIntakesOnBeijingDatesWithoutRefusals(t *testing.T) {
	w := reportWorld(t)
	// Given: 31 October 23:30 in Beijing is 15:30 UTC: October, not November.
	w.intake("S01", time.Date(2026, 10, 31, 23, 30, 0, 0, domain.CivilZone), man, domain.Inspection{})
	// 30 November 23:59 Beijing counts; 1 December 00:00 does not.
	w.intake("S01", nov(30, 23, 59), man, domain.Inspection{})
	w.intake("S01", nov(31, 0, 0), man, domain.Inspection{})
	w.intake("S01", nov(2, 10, 0), boy, domain.Inspection{})
	w.intake("S01", nov(3, 10, 0), old, domain.Inspection{PhysicalDisability: true})
	w.intake("S02", nov(4, 10, 0), woman, domain.Inspection{SuspectedMentalDisorder: true})
	refused := w.intake("S01", nov(5, 10, 0), man, domain.Inspection{})
	w.step(refused, nov(5, 11, 0), domain.EligibilityDecided{Eligible: false, Reason: "has means", NoticeNo: "N1"})
	// When
	rep := report(t, w, projections.Filter{Region: "R1"}, "2026-11", projections.AsOf{})
	// Then
	wantInt(t, "assisted", rep.Assisted, 4)
	wantInt(t, "assisted_minors", rep.AssistedMinors, 1)
	wantInt(t, "assisted_elderly", rep.AssistedElderly, 1)
	wantInt(t, "assisted_disabled", rep.AssistedDisabled, 2)
	wantInt(t, "S01 assisted", station(t, rep, "S01").Assisted, 3)
	wantInt(t, "S02 assisted", station(t, rep, "S02").Assisted, 1)
}

// Refused: cases ended by a refusal at eligibility or at the security
// check, on the refusal's date, at the station that refused.
func TestReportRefusedCountsRefusalsOnTheirDate(t *testing.T) {
	w := reportWorld(t)
	a := w.intake("S01", nov(30, 22, 0), man, domain.Inspection{})
	w.step(a, nov(31, 0, 30), domain.EligibilityDecided{Eligible: false, Reason: "r", NoticeNo: "N1"}) // December
	b := w.intake("S01", nov(10, 22, 0), man, domain.Inspection{})
	w.step(b, nov(10, 22, 30), domain.SecurityChecked{CheckedBy: domain.Checker{StaffID: "s", Sex: domain.Male}, Refused: true})
	c := w.intake("S01", nov(11, 22, 0), man, domain.Inspection{})
	w.step(c, nov(11, 22, 30), domain.EligibilityDecided{Eligible: false, Reason: "r", NoticeNo: "N2"})
	rep := report(t, w, projections.Filter{Station: "S01"}, "2026-11", projections.AsOf{})
	wantInt(t, "refused", rep.Refused, 2)
	wantInt(t, "exits", rep.Exits, 0)
	wantInt(t, "assisted", rep.Assisted, 0) // a was refused later: not assisted either
}

// In station at the end: cases opened before the period's end and not
// exited by then, at the station they belonged to at that moment.
func TestReportInStationAtEndCountsTheBooksAtMidnight(t *testing.T) {
	w := reportWorld(t)
	w.intake("S01", nov(1, 10, 0), man, domain.Inspection{})         // still there
	gone := w.intake("S01", nov(2, 10, 0), man, domain.Inspection{}) // left on 30 November
	w.step(gone, nov(30, 20, 0), domain.LeftVoluntarily{DeclarationRef: "D"})
	late := w.intake("S01", nov(20, 10, 0), man, domain.Inspection{}) // left on 1 December
	w.step(late, nov(31, 9, 0), domain.LeftVoluntarily{DeclarationRef: "D"})
	moved := w.intake("S01", nov(3, 10, 0), man, domain.Inspection{}) // at S02 since 10 November
	w.step(moved, nov(9, 10, 0), domain.TransferRequested{From: "S01", To: "S02", Reason: "r"})
	w.step(moved, nov(9, 11, 0), domain.TransferAccepted{From: "S01", To: "S02"})
	w.step(moved, nov(10, 10, 0), domain.HandedOver{From: "S01", To: "S02", ReceivedBy: "x"})
	rep := report(t, w, projections.Filter{Region: "R1"}, "2026-11", projections.AsOf{})
	wantInt(t, "S01 in_station_at_end", station(t, rep, "S01").InStationAtEnd, 2)
	wantInt(t, "S02 in_station_at_end", station(t, rep, "S02").InStationAtEnd, 1)
	wantInt(t, "region in_station_at_end", rep.InStationAtEnd, 3)
}

// Beds, bed nights, bed nights available and occupancy: census at each
// midnight ending a date of the period, over the zones' beds at that
// midnight.
func TestReportOccupancyIsBedNightsOverBedNightsAvailable(t *testing.T) {
	w := reportWorld(t)
	a := w.intake("S01", nov(1, 10, 0), man, domain.Inspection{})
	w.bed("S01", a, nov(1, 10, 10), domain.ZoneAdultMale, 1)
	w.step(a, nov(11, 10, 0), domain.LeftVoluntarily{DeclarationRef: "D"}) // nights of 1..10 November: 10
	w.release("S01", a, nov(11, 10, 0), domain.ZoneAdultMale, 1, domain.ReleaseExit)
	// From 16 November 00:00, S01 has 20 beds instead of 10.
	w.write(domain.StationStream("S01"), nov(16, 0, 0), time.Time{}, domain.ZonesChanged{Zones: []domain.ZoneBeds{
		{Zone: domain.ZoneAdultMale, Beds: 10, Seasonal: 4}, {Zone: domain.ZoneAdultFemale, Beds: 4},
		{Zone: domain.ZoneMinors, Beds: 2},
	}})
	rep := report(t, w, projections.Filter{Station: "S01"}, "2026-11", projections.AsOf{})
	// The census midnights of 1..15 November end 2..16 November at 00:00:
	// 14 of 10 beds (2..15) and the one of 16 November 00:00 onwards (20).
	wantInt(t, "beds", rep.Beds, 20)
	wantInt(t, "bed_nights", rep.BedNights, 10)
	wantInt(t, "bed_nights_available", rep.BedNightsAvailable, 14*10+16*20)
	wantFloat(t, "occupancy_rate", rep.OccupancyRate, 0.0217)
}

// Length of stay: civil dates from the intake's to the exit's, averaged
// and the median taken over the period's exits that end a case.
func TestReportLengthOfStayIsCivilDaysOverExits(t *testing.T) {
	w := reportWorld(t)
	stays := []struct{ in, out time.Time }{
		{nov(1, 23, 0), nov(2, 1, 0)},   // 1 day: across midnight
		{nov(3, 1, 0), nov(3, 23, 0)},   // 0 days
		{nov(4, 10, 0), nov(8, 10, 0)},  // 4 days
		{nov(1, 10, 0), nov(21, 10, 0)}, // 20 days
	}
	for _, s := range stays {
		id := w.intake("S01", s.in, man, domain.Inspection{})
		w.step(id, s.out, domain.LeftVoluntarily{DeclarationRef: "D"})
	}
	rep := report(t, w, projections.Filter{Station: "S01"}, "2026-11", projections.AsOf{})
	wantInt(t, "stay_exits", rep.StayExits, 4)
	wantFloat(t, "average_stay_days", rep.AverageStayDays, 6.25)
	wantFloat(t, "median_stay_days", rep.MedianStayDays, 2.5)
}

// Exits by type: each exit on its date at the station it left; transferred
// counts a handover out of the row's scope.
func TestReportExitsByTypeAndTransfersOutOfScope(t *testing.T) {
	w := reportWorld(t)
	exit := func(st string, day int, ev domain.Event) {
		id := w.intake(st, nov(day, 9, 0), man, domain.Inspection{})
		w.step(id, nov(day, 12, 0), ev)
	}
	exit("S01", 2, domain.LeftVoluntarily{DeclarationRef: "D"})
	exit("S01", 3, domain.PickedUp{Collector: domain.Collector{Name: "c", IDNumber: "x", Relationship: "son"}})
	exit("S01", 4, domain.EscortedReturn{Destination: "home", Escorts: []string{"e"}})
	exit("S01", 5, domain.Absconded{})
	exit("S01", 6, domain.Terminated{Reason: "r"})
	exit("S01", 7, domain.Died{Place: "p"})
	transfer := func(from, to string, day int) {
		id := w.intake(from, nov(day, 9, 0), man, domain.Inspection{})
		w.step(id, nov(day, 10, 0), domain.TransferRequested{From: from, To: to, Reason: "r"})
		w.step(id, nov(day, 11, 0), domain.TransferAccepted{From: from, To: to})
		w.step(id, nov(day, 12, 0), domain.HandedOver{From: from, To: to, ReceivedBy: "x"})
	}
	transfer("S01", "S02", 8) // within R1
	transfer("S01", "S03", 9) // out of R1
	rep := report(t, w, projections.Filter{Region: "R1"}, "2026-11", projections.AsOf{})
	s1 := station(t, rep, "S01")
	for typ, want := range map[string]int{
		"voluntary_leave": 1, "pickup": 1, "escorted_return": 1, "absconding": 1, "termination": 1, "death": 1,
		"settlement": 0, "transferred": 2,
	} {
		wantInt(t, "S01 exits_by_type["+typ+"]", s1.ExitsByType[typ], want)
	}
	wantInt(t, "S01 exits", s1.Exits, 8)
	wantInt(t, "R1 transferred", rep.ExitsByType[projections.ExitTransferred], 1)
	wantInt(t, "R1 exits", rep.Exits, 7)
	all := report(t, w, projections.Filter{}, "2026-11", projections.AsOf{})
	wantInt(t, "all transferred", all.ExitsByType[projections.ExitTransferred], 0)
	wantInt(t, "region R1 row transferred", region(t, all, "R1").ExitsByType[projections.ExitTransferred], 1)
	wantInt(t, "region R2 row transferred", region(t, all, "R2").ExitsByType[projections.ExitTransferred], 0)
}

// Repeat visitors: people assisted in the period with an earlier case of
// the same person, at any station and any time before.
func TestReportRepeatVisitorsHaveAnEarlierCase(t *testing.T) {
	w := reportWorld(t)
	p := domain.Person{Name: "Zhao", Sex: domain.Male, IDNumber: "11010519491231002X", BirthDate: domain.Date{Year: 1949, Month: 12, Day: 31}}
	first := w.intake("S03", time.Date(2026, 5, 1, 10, 0, 0, 0, domain.CivilZone), p, domain.Inspection{})
	w.step(first, time.Date(2026, 5, 2, 10, 0, 0, 0, domain.CivilZone), domain.LeftVoluntarily{DeclarationRef: "D"})
	w.intake("S01", nov(5, 10, 0), p, domain.Inspection{})
	w.intake("S01", nov(6, 10, 0), man, domain.Inspection{})
	rep := report(t, w, projections.Filter{Station: "S01"}, "2026-11", projections.AsOf{})
	wantInt(t, "assisted", rep.Assisted, 2)
	wantInt(t, "repeat_visitors", rep.RepeatVisitors, 1)
	if rep.ReturnsAcrossProvinces != nil {
		t.Errorf("returns_across_provinces = %d, want null", *rep.ReturnsAcrossProvinces)
	}
}

// Alerts: raised at the deadline when the step that clears it came later
// or not at all; hours to clear are from the raising to the clearing.
func TestReportAlertsRaisedAndTimeToClear(t *testing.T) {
	w := reportWorld(t)
	// Notice 30 hours after the intake: no_family_search_notice raised at 24
	// h, cleared 6 h later. DNA requested on day 2: never raised.
	a := w.intake("S01", nov(2, 10, 0), man, domain.Inspection{})
	w.step(a, nov(3, 16, 0), domain.FamilySearchNoticePublished{Channel: "web"})
	w.step(a, nov(4, 10, 0), domain.DNARequested{Lab: "lab"})
	w.step(a, nov(12, 10, 0), domain.LeftVoluntarily{DeclarationRef: "D"})
	// A minor: guardianship after 34 hours (raised at 24 h, cleared 10 h
	// later); notice in time; no DNA request, picked up on day 9 (the DNA
	// deadline, day 8 14:00, was passed: raised and cleared at the exit, 19
	// hours later).
	b := w.intake("S01", nov(1, 14, 0), boy, domain.Inspection{})
	w.step(b, nov(1, 20, 0), domain.FamilySearchNoticePublished{Channel: "web"})
	w.step(b, nov(3, 0, 0), domain.GuardianshipTaken{Basis: "art. 92"})
	w.step(b, nov(9, 9, 0), domain.PickedUp{Collector: domain.Collector{Name: "c", IDNumber: "x", Relationship: "mother"}})
	// Absconded on 20 November, not closed: raised, still open.
	c := w.intake("S01", nov(20, 8, 0), man, domain.Inspection{})
	w.step(c, nov(20, 9, 0), domain.FamilySearchNoticePublished{Channel: "web"})
	w.step(c, nov(20, 10, 0), domain.Absconded{})
	rep := report(t, w, projections.Filter{Station: "S01"}, "2026-11", projections.AsOf{})
	for rule, want := range map[string]int{
		projections.RuleNoFamilySearchNotice: 1, projections.RuleUnaccompaniedMinor: 1,
		projections.RuleDNANotRequested: 1, projections.RuleAbsconded: 1,
	} {
		wantInt(t, "alerts_by_rule["+rule+"]", rep.AlertsByRule[rule], want)
	}
	wantInt(t, "alerts_raised", rep.AlertsRaised, 4)
	wantInt(t, "alerts_cleared", rep.AlertsCleared, 3)
	wantFloat(t, "alert_clear_hours_average", rep.AlertClearHoursAverage, 11.67) // (6+10+19)/3
	wantFloat(t, "alert_clear_hours_median", rep.AlertClearHoursMedian, 10)
}

// As of a moment: the November report as it stood on 1 December (known)
// leaves out the paperwork recorded later; as it stands now includes it.
func TestReportAsItStoodAndAsItStands(t *testing.T) {
	w := reportWorld(t)
	w.intake("S01", nov(10, 10, 0), man, domain.Inspection{})
	w.intake("S01", nov(20, 10, 0), woman, domain.Inspection{})
	// Recorded on 5 December, occurred on 28 November.
	late := w.intake("S01", nov(28, 10, 0), man, domain.Inspection{})
	w.write(domain.CaseStream(late), nov(28, 12, 0), time.Date(2026, 12, 5, 9, 0, 0, 0, domain.CivilZone),
		domain.LeftVoluntarily{DeclarationRef: "D"})
	dec1 := time.Date(2026, 12, 1, 0, 0, 0, 0, domain.CivilZone)

	now := report(t, w, projections.Filter{Station: "S01"}, "2026-11", projections.AsOf{})
	stood := report(t, w, projections.Filter{Station: "S01"}, "2026-11", projections.AsOf{At: dec1, Known: true})
	occurred := report(t, w, projections.Filter{Station: "S01"}, "2026-11", projections.AsOf{At: dec1})
	if now.Basis != projections.BasisLive || stood.Basis != projections.BasisKnown || occurred.Basis != projections.BasisOccurred {
		t.Errorf("bases = %s, %s, %s; want live, known, occurred", now.Basis, stood.Basis, occurred.Basis)
	}
	if !stood.AsOf.Equal(dec1) || !stood.Complete {
		t.Errorf("as it stood: as_of %s complete %v, want %s true", stood.AsOf, stood.Complete, dec1)
	}
	wantInt(t, "now exits", now.Exits, 1)
	wantInt(t, "now in_station_at_end", now.InStationAtEnd, 2)
	wantInt(t, "as it stood exits", stood.Exits, 0)
	wantInt(t, "as it stood in_station_at_end", stood.InStationAtEnd, 3)
	wantInt(t, "as it was (occurred) exits", occurred.Exits, 1)
}

// A report of a period still running counts up to now and says it is
// incomplete; one of a period not begun is refused.
func TestReportOfARunningPeriodIsIncomplete(t *testing.T) {
	w := reportWorld(t)
	w.intake("S01", time.Date(2026, 12, 3, 10, 0, 0, 0, domain.CivilZone), man, domain.Inspection{})
	rep := report(t, w, projections.Filter{}, "2026-12", projections.AsOf{})
	if rep.Complete {
		t.Error("December report complete on 10 December")
	}
	wantInt(t, "assisted", rep.Assisted, 1)
	r := w.runner(newClock(reportNow).now)
	p, _ := projections.ParseReportPeriod("2027-01")
	if _, err := r.Report(context.Background(), projections.Filter{}, p, projections.AsOf{}); domain.ErrorCode(err) != domain.CodeInvalid {
		t.Errorf("January 2027 on 10 December: got %v, want invalid", err)
	}
	if _, err := r.Report(context.Background(), projections.Filter{Station: "S09"}, p, projections.AsOf{}); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Errorf("unknown station: got %v, want not_found", err)
	}
}
