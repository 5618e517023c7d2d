package projections_test

import (
	"errors"
	"testing"
	"time"

	"waystation/domain"
	"waystation/projections"
)

func TestSearchCasesPagesNewestFirst(t *testing.T) {
	w := newWorld(t)
	w.station("S01", "R1", stdZones...)
	w.station("S02", "R2", stdZones...)
	var ids []string
	for i := range 7 {
		st := "S01"
		if i%2 == 1 {
			st = "S02"
		}
		p := man
		if i == 3 {
			p = woman
		}
		ids = append(ids, w.intake(st, t0.Add(time.Duration(i)*time.Minute), p, domain.Inspection{}).String())
	}
	r := w.runner(newClock(t0.Add(time.Hour)).now)

	var got []string
	cursor := ""
	for range 10 {
		page, err := r.SearchCases(projections.CaseQuery{Station: "S01", Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			got = append(got, it.ID.String())
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	want := []string{ids[6], ids[4], ids[2], ids[0]}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("item %d: got %s, want %s", i, got[i], want[i])
		}
	}
	byName, err := r.SearchCases(projections.CaseQuery{Q: "li si"})
	if err != nil {
		t.Fatal(err)
	}
	if len(byName.Items) != 1 || byName.Items[0].ID.String() != ids[3] {
		t.Errorf("search by name: got %+v", byName.Items)
	}
	byRegion, err := r.SearchCases(projections.CaseQuery{Region: "R2", Status: "received"})
	if err != nil {
		t.Fatal(err)
	}
	if len(byRegion.Items) != 3 {
		t.Errorf("region R2: got %d cases, want 3", len(byRegion.Items))
	}
	if _, err := r.SearchCases(projections.CaseQuery{Status: "asleep"}); !errors.Is(err, domain.ErrInvalid) {
		t.Errorf("unknown status: got %v, want invalid", err)
	}
}
