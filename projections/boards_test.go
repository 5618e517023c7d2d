package projections_test

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/projections"
)

func TestTransferBoardShowsAgeAgainstTheMarks(t *testing.T) {
	w := newWorld(t)
	w.station("S01", "R1", stdZones...)
	w.station("S02", "R2", stdZones...)
	w.station("S03", "R3", stdZones...)
	a := admitted(w, man, domain.Inspection{})
	w.step(a, t0.Add(time.Hour), domain.TransferRequested{From: "S01", To: "S02", Reason: "hometown"})
	b := admitted(w, woman, domain.Inspection{})
	w.step(b, t0.Add(2*time.Hour), domain.TransferRequested{From: "S01", To: "S02", Reason: "hometown"})
	w.step(b, t0.Add(3*time.Hour), domain.TransferAccepted{From: "S01", To: "S02"})
	w.step(b, t0.Add(4*time.Hour), domain.EscortDeparted{From: "S01", To: "S02", Escorts: []string{"e"}})
	c := admitted(w, old, domain.Inspection{})
	w.step(c, t0.Add(time.Hour), domain.TransferRequested{From: "S01", To: "S03", Reason: "care"})
	w.step(c, t0.Add(2*time.Hour), domain.TransferDeclined{From: "S01", To: "S03", Reason: "full"})
	r := w.runner(newClock(t0.Add(76*time.Hour + time.Minute)).now)

	board, err := r.Transfers("R2", projections.AsOf{})
	if err != nil {
		t.Fatal(err)
	}
	if len(board.Transfers) != 2 {
		t.Fatalf("got %d transfers, want 2 (the declined one is not in flight): %+v", len(board.Transfers), board.Transfers)
	}
	first, second := board.Transfers[0], board.Transfers[1]
	if first.CaseID != a || first.State != domain.TransferStateRequested || !first.Unanswered || first.HandoverOverdue {
		t.Errorf("first: got %+v", first)
	}
	if second.CaseID != b || second.State != domain.TransferStateDeparted || !second.HandoverOverdue || second.AgeHours < 74 {
		t.Errorf("second: got %+v", second)
	}
	// As of 40 hours in, nothing was past its mark yet.
	then, err := r.Transfers("R1", projections.AsOf{At: t0.Add(40 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(then.Transfers) != 2 || then.Transfers[0].Unanswered || then.Transfers[1].HandoverOverdue {
		t.Errorf("as of +40h: got %+v", then.Transfers)
	}
}

func TestPersonIndexLinksCasesByIDNumberOrNameBirthAndHukou(t *testing.T) {
	w := newWorld(t)
	w.station("S01", "R1", stdZones...)
	w.station("S02", "R1", stdZones...)
	first := admitted(w, man, domain.Inspection{})
	w.step(first, t0.Add(time.Hour), domain.LeftVoluntarily{DeclarationRef: "D"})
	p := man
	p.Name = "ZHANG SAN"
	second := w.intake("S02", t0.Add(40*24*time.Hour), p, domain.Inspection{})
	// A namesake born on another day is someone else.
	other := man
	other.BirthDate = domain.Date{Year: 1981, Month: 5, Day: 1}
	stranger := w.intake("S02", t0.Add(41*24*time.Hour), other, domain.Inspection{})
	r := w.runner(newClock(t0.Add(50 * 24 * time.Hour)).now)

	cases, err := r.Person(second)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 2 || cases[0].CaseID != first || cases[1].CaseID != second {
		t.Errorf("person of the second case: got %+v", cases)
	}
	if alone, _ := r.Person(stranger); len(alone) != 1 {
		t.Errorf("the namesake: got %d cases, want 1", len(alone))
	}
	visitors := allRepeatVisitors(t, r, projections.Filter{Region: "R1"}, 0)
	if len(visitors) != 1 || visitors[0].LatestCase != second {
		t.Errorf("repeat visitors: got %+v", visitors)
	}
}

// allRepeatVisitors pages through the repeat visitors f selects, limit
// at a time, and returns them in the order listed; it fails the test when
// a page holds more than limit (50 when zero, at most 500).
func allRepeatVisitors(tb testing.TB, r *projections.Runner, f projections.Filter, limit int) []projections.RepeatVisitor {
	tb.Helper()
	want := min(limit, 500)
	if want == 0 {
		want = 50
	}
	var out []projections.RepeatVisitor
	for cursor := ""; ; {
		page, err := r.RepeatVisitors(projections.RepeatVisitorQuery{Filter: f, Limit: limit, Cursor: cursor})
		if err != nil {
			tb.Fatal(err)
		}
		if len(page.Items) > want {
			tb.Fatalf("a page of %d repeat visitors, want at most %d", len(page.Items), want)
		}
		out = append(out, page.Items...)
		if cursor = page.NextCursor; cursor == "" {
			return out
		}
		if len(page.Items) == 0 {
			tb.Fatalf("an empty page with a next cursor %q", cursor)
		}
	}
}

func TestRepeatVisitorsPageThroughEveryPersonOnce(t *testing.T) {
	w := newWorld(t)
	w.station("S01", "R1", stdZones...)
	w.station("S02", "R2", stdZones...)
	// Five people come twice, the latest visit at S01 (the fourth's at
	// S02); a sixth comes once. Intakes alternate so that a person's cases
	// are not next to each other in the log.
	const people = 5
	persons := make([]domain.Person, people+1)
	for i := range persons {
		persons[i] = man
		persons[i].Name = fmt.Sprintf("Person %c", 'A'+i)
		persons[i].IDNumber = fmt.Sprintf("11010119800501%04d", i)
	}
	latest := make([]uuid.UUID, people)
	for visit := range 2 {
		for i := range people {
			station := "S01"
			if i == 3 && visit == 1 {
				station = "S02"
			}
			latest[i] = w.intake(station, t0.Add(time.Duration(visit*people+i)*time.Hour), persons[i], domain.Inspection{})
		}
	}
	w.intake("S01", t0.Add(20*time.Hour), persons[people], domain.Inspection{})
	r := w.runner(newClock(t0.Add(24 * time.Hour)).now)

	newestFirst := slices.Clone(latest)
	slices.Reverse(newestFirst)
	inR1 := slices.DeleteFunc(slices.Clone(newestFirst), func(id uuid.UUID) bool { return id == latest[3] })
	for _, tc := range []struct {
		name  string
		f     projections.Filter
		limit int
		want  []uuid.UUID
	}{
		{name: "pages of two list each person once, newest first", limit: 2, want: newestFirst},
		{name: "pages of one", limit: 1, want: newestFirst},
		{name: "the default page holds them all", want: newestFirst},
		{name: "a limit beyond the maximum is the maximum", limit: 100000, want: newestFirst},
		{name: "a region's pages skip the people last seen elsewhere", f: projections.Filter{Region: "R1"}, limit: 2, want: inR1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []uuid.UUID
			for _, v := range allRepeatVisitors(t, r, tc.f, tc.limit) {
				if len(v.Cases) != 2 || v.Cases[1].CaseID != v.LatestCase {
					t.Errorf("visitor %s: cases %+v, want two ending with the latest", v.LatestCase, v.Cases)
				}
				got = append(got, v.LatestCase)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("latest cases listed %v, want %v", got, tc.want)
			}
		})
	}
	first, err := r.RepeatVisitors(projections.RepeatVisitorQuery{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Items) != 2 || first.NextCursor == "" {
		t.Fatalf("first page of two: %d items, next cursor %q; want 2 and a cursor", len(first.Items), first.NextCursor)
	}
	for _, tc := range []struct {
		name  string
		q     projections.RepeatVisitorQuery
		field string
	}{
		{"a negative limit", projections.RepeatVisitorQuery{Limit: -1}, "limit"},
		{"a cursor that is not a number", projections.RepeatVisitorQuery{Cursor: "x"}, "cursor"},
		{"a cursor beyond the log", projections.RepeatVisitorQuery{Cursor: "1000"}, "cursor"},
	} {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			_, err := r.RepeatVisitors(tc.q)
			var de *domain.Error
			if !errors.As(err, &de) || de.Code != domain.CodeInvalid || de.Field != tc.field {
				t.Fatalf("got %v, want an invalid %s", err, tc.field)
			}
		})
	}
}

// cst returns hh:mm in Beijing (domain.CivilZone) on the day'th day after
// 2 March 2026.
func cst(day, hh, mm int) time.Time {
	return time.Date(2026, 3, 2+day, hh, mm, 0, 0, domain.CivilZone)
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
	// Times given in UTC are taken to the start of their Beijing date.
	s01, err := r.Stats(projections.Filter{Station: "S01"}, cst(0, 10, 0).UTC(), cst(6, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if !s01.From.Equal(cst(0, 0, 0)) || !s01.To.Equal(cst(6, 0, 0)) {
		t.Errorf("range: got %s to %s, want the Beijing dates 2026-03-02 to 2026-03-08", s01.From, s01.To)
	}
	if got, want := dates(s01), []string{"2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"}; !slices.Equal(got, want) {
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

	all, err := r.Stats(projections.Filter{}, cst(0, 0, 0), cst(6, 0, 0))
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
		st1.IntakesBySex["female"] != 1 || st1.IntakesByAgeBand["60+"] != 1 || st1.ExitsByAgeBand["60+"] != 1 || st1.ExitsBySex["male"] != 2 {
		t.Errorf("S01's row: %+v", st1)
	}
	if st2.Station != "S02" || st2.Region != "R2" || st2.BedNights != 2 || st2.Intakes != 0 || st2.Exits != 0 {
		t.Errorf("S02's row: %+v", st2)
	}
	r1, r2 := all.Regions[0], all.Regions[1]
	if r1.Region != "R1" || r1.BedNights != 6 || r1.Intakes != 5 || r1.Exits != 3 || r1.ExitsByType["death"] != 1 || r1.IntakesBySex["male"] != 4 {
		t.Errorf("R1's row: %+v", r1)
	}
	if r2.Region != "R2" || r2.BedNights != 2 || r2.Intakes != 0 {
		t.Errorf("R2's row: %+v", r2)
	}

	region, err := r.Stats(projections.Filter{Region: "R2"}, cst(0, 0, 0), cst(6, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := census(region), []int{0, 0, 1, 1}; !slices.Equal(got, want) ||
		len(region.Stations) != 1 || len(region.Regions) != 1 || region.Regions[0].BedNights != 2 {
		t.Errorf("region R2: census %v, stations %+v, regions %+v; want %v with one row each", got, region.Stations, region.Regions, want)
	}

	// The days are Beijing's: e arrived on 4 March there (3 March in UTC).
	before, err := r.Stats(projections.Filter{Station: "S01"}, cst(0, 0, 0), cst(2, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	day2, err := r.Stats(projections.Filter{Station: "S01"}, cst(2, 0, 0), cst(3, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if before.Intakes != 4 || day2.Intakes != 1 || day2.Exits != 1 || day2.ExitsByType["voluntary_leave"] != 1 {
		t.Errorf("intakes on 2-3 March %d (want 4), on 4 March %d (want 1), exits on 4 March %v (want c's)", before.Intakes, day2.Intakes, day2.ExitsByType)
	}
	if got := census(before); !slices.Equal(got, []int{2, 2}) {
		t.Errorf("census of 2-3 March: got %v, want [2 2]", got)
	}

	// Tonight's census is not taken yet; at 00:00 in Beijing it is.
	today, err := r.Stats(projections.Filter{}, cst(4, 0, 0), cst(5, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(today.Census) != 0 || today.BedNights != 0 {
		t.Errorf("today before its midnight: census %v, bed nights %d; want none", today.Census, today.BedNights)
	}
	r2now := w.runner(newClock(cst(5, 0, 0)).now)
	tonight, err := r2now.Stats(projections.Filter{}, cst(4, 0, 0), cst(5, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if got := census(tonight); !slices.Equal(got, []int{1}) || tonight.BedNights != 1 {
		t.Errorf("today at its midnight: census %v, bed nights %d; want [1] and 1", got, tonight.BedNights)
	}
	if _, err := r.Stats(projections.Filter{}, cst(0, 0, 0), cst(0, 23, 0)); err == nil {
		t.Error("a range within one date: got no error")
	}
}

func TestPersonIndexNormalisesFullWidthCaseSpacesAndPunctuation(t *testing.T) {
	w := newWorld(t)
	w.station("S01", "R1", stdZones...)
	first := w.intake("S01", t0, man, domain.Inspection{})
	linked := []uuid.UUID{first}
	for i, name := range []string{"ＺＨＡＮＧ·ｓａｎ", "zhang  san", "Zhang-San.", "张三 Zhang San"} {
		p := man
		p.Name = name
		p.HukouPlace = " HUNAN "
		id := w.intake("S01", t0.Add(time.Duration(i+1)*time.Hour), p, domain.Inspection{})
		if i < 3 {
			linked = append(linked, id)
		}
	}
	r := w.runner(newClock(t0.Add(24 * time.Hour)).now)
	cases, err := r.Person(first)
	if err != nil {
		t.Fatal(err)
	}
	var got []uuid.UUID
	for _, c := range cases {
		got = append(got, c.CaseID)
	}
	if !slices.Equal(got, linked) {
		t.Errorf("linked cases: got %v, want %v (the last name differs)", got, linked)
	}
}
