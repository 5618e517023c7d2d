package projections_test

import (
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
	visitors, err := r.RepeatVisitors(projections.Filter{Region: "R1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(visitors) != 1 || visitors[0].LatestCase != second {
		t.Errorf("repeat visitors: got %+v", visitors)
	}
}

func TestStatsCensusBedNightsAndBands(t *testing.T) {
	w := newWorld(t)
	w.station("S01", "R1", stdZones...)
	w.station("S02", "R2", stdZones...)
	// Arrives on day 0 at 08:00, leaves on day 3 at 10:00: present at the
	// end of days 0, 1 and 2.
	a := admitted(w, man, domain.Inspection{})
	w.step(a, t0.Add(3*24*time.Hour+2*time.Hour), domain.LeftVoluntarily{DeclarationRef: "D"})
	// Arrives on day 1, handed over to S02 on day 2, still there.
	b := w.intake("S01", t0.Add(24*time.Hour), boy, domain.Inspection{})
	w.step(b, t0.Add(24*time.Hour+time.Hour), domain.TransferRequested{From: "S01", To: "S02", Reason: "minors"})
	w.step(b, t0.Add(24*time.Hour+2*time.Hour), domain.TransferAccepted{From: "S01", To: "S02"})
	w.step(b, t0.Add(24*time.Hour+3*time.Hour), domain.EscortDeparted{From: "S01", To: "S02", Escorts: []string{"e"}})
	w.step(b, t0.Add(2*24*time.Hour), domain.HandedOver{From: "S01", To: "S02", ReceivedBy: "s2"})
	r := w.runner(newClock(t0.Add(10 * 24 * time.Hour)).now)

	from := t0.Truncate(24 * time.Hour)
	s, err := r.Stats(projections.Filter{Station: "S01"}, from, from.Add(5*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	census := []int{1, 2, 1, 0, 0}
	for i, want := range census {
		if s.Census[i].Count != want {
			t.Errorf("S01 census day %d (%s): got %d, want %d", i, s.Census[i].Date, s.Census[i].Count, want)
		}
	}
	if s.BedNights != 4 || s.Intakes != 2 || s.Exits != 1 {
		t.Errorf("S01: bed nights %d intakes %d exits %d; want 4, 2, 1", s.BedNights, s.Intakes, s.Exits)
	}
	if s.ExitsByType["voluntary_leave"] != 1 || s.LengthOfStay[projections.StayUpTo10Days] != 1 {
		t.Errorf("exits by type %v, length of stay %v", s.ExitsByType, s.LengthOfStay)
	}
	if s.IntakesByAgeBand["6-13"] != 1 || s.IntakesByAgeBand["18-59"] != 1 || s.IntakesBySex["male"] != 2 {
		t.Errorf("age bands %v, sexes %v", s.IntakesByAgeBand, s.IntakesBySex)
	}
	all, err := r.Stats(projections.Filter{}, from, from.Add(5*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if all.BedNights != 7 || len(all.Stations) != 2 || all.Stations[1].BedNights != 3 {
		t.Errorf("everywhere: bed nights %d, stations %+v; want 7 with 3 at S02", all.BedNights, all.Stations)
	}
	if _, err := r.Stats(projections.Filter{}, from, from); err == nil {
		t.Error("an empty range: got no error")
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
