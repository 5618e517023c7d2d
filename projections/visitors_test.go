package projections_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/projections"
)

// allRepeatVisitors pages through the repeat visitors f selects, limit
// at a time, and returns them in the order listed; it fails the test when
// a page holds more than limit (50 when zero, at most 500).
func allRepeatVisitors(
	tb testing.TB, r *projections.Runner, f projections.Filter, limit int,
) []projections.RepeatVisitor {
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
		{
			name:  "a region's pages skip the people last seen elsewhere",
			f:     projections.Filter{Region: "R1"},
			limit: 2,
			want:  inR1,
		},
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
