package projections_test

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/projections"
)

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
