package projections_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/projections"
)

// transfers reads the transfer board q selects as of asOf, failing the
// test on an error.
func transfers(tb testing.TB, r *projections.Runner, q projections.TransferQuery, asOf projections.AsOf) projections.TransferBoard {
	tb.Helper()
	b, err := r.Transfers(q, asOf)
	if err != nil {
		tb.Fatalf("Transfers(%+v, %+v): %v", q, asOf, err)
	}
	return b
}

// caseIDs returns the case ID and state of each transfer of b, in order.
func caseIDs(b projections.TransferBoard) []string {
	out := []string{}
	for _, t := range b.Transfers {
		out = append(out, t.CaseID.String()+" "+t.State)
	}
	return out
}

func TestTransferBoardShowsAgeAgainstTheMarks(t *testing.T) {
	// Given a request unanswered for 75 hours, an escort that left 72
	// hours and 1 minute ago, and a request declined after an hour.
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
	now := t0.Add(76*time.Hour + time.Minute)
	r := w.runner(newClock(now).now)

	// When the receiving region looks at its board now.
	board := transfers(t, r, projections.TransferQuery{Region: "R2"}, projections.AsOf{})

	// Then both transfers to it are there, each past its mark, with its
	// exact age; the declined one went to another region.
	if len(board.Transfers) != 2 {
		t.Fatalf("got %d transfers, want 2: %+v", len(board.Transfers), board.Transfers)
	}
	first, second := board.Transfers[0], board.Transfers[1]
	if first.CaseID != a || first.State != domain.TransferStateRequested || !first.Unanswered || first.HandoverOverdue ||
		!first.AnswerDue.Equal(t0.Add(49*time.Hour)) || !first.HandoverDue.IsZero() {
		t.Errorf("first: got %+v", first)
	}
	if got, want := first.AgeSeconds, int64(75*3600+60); got != want || first.AgeHours != 75.0 {
		t.Errorf("first's age: %d s, %v h; want %d s, 75.0 h", got, first.AgeHours, want)
	}
	if second.CaseID != b || second.State != domain.TransferStateDeparted || !second.HandoverOverdue ||
		!second.HandoverDue.Equal(t0.Add(76*time.Hour)) || !second.AnswerDue.IsZero() {
		t.Errorf("second: got %+v", second)
	}
	if second.AgeSeconds != 74*3600+60 || second.AgeHours != 74.0 {
		t.Errorf("second's age: %d s, %v h; want %d s, 74.0 h", second.AgeSeconds, second.AgeHours, 74*3600+60)
	}
	if first.FromRegion != "R1" || first.ToRegion != "R2" || first.Direction != "" {
		t.Errorf("first's regions %q to %q, direction %q; want R1 to R2 and no direction on a region's board", first.FromRegion, first.ToRegion, first.Direction)
	}
	// As of 40 hours in, nothing was past its mark yet.
	then := transfers(t, r, projections.TransferQuery{Region: "R1"}, projections.AsOf{At: t0.Add(40 * time.Hour)})
	if got, want := caseIDs(then), []string{a.String() + " requested", b.String() + " departed", c.String() + " declined"}; !slices.Equal(got, want) {
		t.Fatalf("R1 as of +40h: got %v, want %v", got, want)
	}
	if then.Transfers[0].Unanswered || then.Transfers[1].HandoverOverdue {
		t.Errorf("as of +40h: got %+v", then.Transfers)
	}
	if d := then.Transfers[2]; d.DeclineReason != "full" || !d.EndedAt.Equal(t0.Add(2*time.Hour)) || d.AgeSeconds != 3600 || d.Unanswered {
		t.Errorf("the declined transfer: got %+v, want declined for \"full\" at +2h after an hour", d)
	}
}

func TestTransferBoardKeepsEndedTransfersForThirtyDays(t *testing.T) {
	// Given a transfer handed over, one declined and one whose person
	// absconded in transit, each ended on day 1, and one still in flight.
	w := newWorld(t)
	w.station("S01", "R1", stdZones...)
	w.station("S02", "R1", stdZones...)
	day := func(n int) time.Time { return t0.Add(time.Duration(n) * projections.Day) }
	handed := admitted(w, man, domain.Inspection{})
	w.step(handed, t0.Add(time.Hour), domain.TransferRequested{From: "S01", To: "S02", Reason: "hometown"})
	w.step(handed, t0.Add(2*time.Hour), domain.TransferAccepted{From: "S01", To: "S02"})
	w.step(handed, t0.Add(3*time.Hour), domain.EscortDeparted{From: "S01", To: "S02", Escorts: []string{"e"}})
	w.step(handed, day(1), domain.HandedOver{From: "S01", To: "S02", ReceivedBy: "s2"})
	declined := admitted(w, woman, domain.Inspection{})
	w.step(declined, t0.Add(time.Hour), domain.TransferRequested{From: "S01", To: "S02", Reason: "care"})
	w.step(declined, day(1).Add(time.Hour), domain.TransferDeclined{From: "S01", To: "S02", Reason: "full"})
	gone := admitted(w, old, domain.Inspection{})
	w.step(gone, t0.Add(time.Hour), domain.TransferRequested{From: "S01", To: "S02", Reason: "care"})
	w.step(gone, t0.Add(2*time.Hour), domain.TransferAccepted{From: "S01", To: "S02"})
	w.step(gone, t0.Add(3*time.Hour), domain.EscortDeparted{From: "S01", To: "S02", Escorts: []string{"e"}})
	w.step(gone, day(1).Add(2*time.Hour), domain.Absconded{})
	open := admitted(w, man, domain.Inspection{})
	w.step(open, day(2), domain.TransferRequested{From: "S01", To: "S02", Reason: "hometown"})
	clk := newClock(day(31))
	r := w.runner(clk.now)
	all := []string{open.String() + " requested", gone.String() + " case_exited", declined.String() + " declined", handed.String() + " handed_over"}

	for _, tt := range []struct {
		name string
		now  time.Time
		q    projections.TransferQuery
		want []string
	}{
		{"30 days after they ended they are still there, the one in flight first", day(31), projections.TransferQuery{Region: "R1"}, all},
		{"a day later they are gone", day(32).Add(3 * time.Hour), projections.TransferQuery{Region: "R1"}, all[:1]},
		{"since brings them back", day(32).Add(3 * time.Hour), projections.TransferQuery{Region: "R1", Since: ptr(day(1))}, all},
		{"since keeps those that ended at or after it", day(32).Add(3 * time.Hour), projections.TransferQuery{Region: "R1", Since: ptr(day(1).Add(time.Hour))}, all[:3]},
		{"one state", day(31), projections.TransferQuery{Region: "R1", States: []string{projections.TransferHandedOver}}, all[3:]},
		{"two states", day(31), projections.TransferQuery{Region: "R1", States: []string{projections.TransferDeclined, domain.TransferStateRequested}}, []string{all[0], all[2]}},
		{"the receiving station's board", day(31), projections.TransferQuery{Region: "R1", Station: "S02"}, all},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk.set(tt.now)
			b := transfers(t, r, tt.q, projections.AsOf{})
			if got := caseIDs(b); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			want := tt.now.Add(-projections.TransferKept)
			if tt.q.Since != nil {
				want = *tt.q.Since
			}
			if !b.Since.Equal(want) {
				t.Errorf("since %s, want the query's or 30 days before now", b.Since)
			}
		})
	}
	clk.set(day(31))
	// Ended transfers keep their times; their age stops at the end.
	b := transfers(t, r, projections.TransferQuery{Region: "R1", Station: "S02"}, projections.AsOf{})
	h := b.Transfers[3]
	if !h.EndedAt.Equal(day(1)) || !h.AcceptedAt.Equal(t0.Add(2*time.Hour)) || !h.DepartedAt.Equal(t0.Add(3*time.Hour)) ||
		h.AgeSeconds != 23*3600 || h.HandoverOverdue || h.Direction != "incoming" {
		t.Errorf("the handed over transfer: got %+v", h)
	}
	if g := b.Transfers[1]; !g.EndedAt.Equal(day(1).Add(2*time.Hour)) || g.HandoverOverdue {
		t.Errorf("the transfer ended by absconding: got %+v", g)
	}
	// As of day 1 at noon, the one handed over is ended and the others
	// in flight but for the decline; the last had not been requested.
	then := transfers(t, r, projections.TransferQuery{Region: "R1"}, projections.AsOf{At: day(1).Add(90 * time.Minute)})
	if got, want := caseIDs(then), []string{gone.String() + " departed", declined.String() + " declined", handed.String() + " handed_over"}; !slices.Equal(got, want) {
		t.Errorf("as of day 1, 01:30 later: got %v, want %v", got, want)
	}
	if _, err := r.Transfers(projections.TransferQuery{Region: "R1", States: []string{"done"}}, projections.AsOf{}); !isInvalid(err, "state") {
		t.Errorf("an unknown state: got %v, want invalid state", err)
	}
	if _, err := r.Transfers(projections.TransferQuery{Region: "R1", Since: &time.Time{}}, projections.AsOf{}); !isInvalid(err, "since") {
		t.Errorf("since the zero time: got %v, want invalid since", err)
	}
}

// isInvalid reports whether err is an invalid error naming field.
func isInvalid(err error, field string) bool {
	var de *domain.Error
	return errors.As(err, &de) && de.Code == domain.CodeInvalid && de.Field == field
}

func TestTransferBoardShowsWhatTheStationsNeedAndNoName(t *testing.T) {
	// Given transfers of a man, a woman with a suspected infectious
	// disease, a boy of 10 and a man of 75, the man's with his ID number.
	w := newWorld(t)
	w.station("S01", "R1", stdZones...)
	w.station("S02", "R2", stdZones...)
	withID := man
	withID.IDNumber, withID.IDType = "11010519800501123X", domain.IDResidentCard
	people := []struct {
		p       domain.Person
		in      domain.Inspection
		sex     domain.Sex
		band    string
		needed  domain.Zone
		fitting []domain.Zone
		name    string
	}{
		{withID, domain.Inspection{}, domain.Male, "18-59", domain.ZoneAdultMale, []domain.Zone{domain.ZoneAdultMale, domain.ZoneIsolation, domain.ZoneObservation}, man.Name},
		{woman, domain.Inspection{SuspectedInfectious: true}, domain.Female, "18-59", domain.ZoneIsolation, []domain.Zone{domain.ZoneIsolation}, woman.Name},
		{boy, domain.Inspection{}, domain.Male, "6-13", domain.ZoneMinors, []domain.Zone{domain.ZoneMinors, domain.ZoneIsolation, domain.ZoneObservation}, boy.Name},
		{old, domain.Inspection{}, domain.Male, "60+", domain.ZoneCare, []domain.Zone{domain.ZoneCare, domain.ZoneAdultMale, domain.ZoneIsolation, domain.ZoneObservation}, old.Name},
	}
	ids := make([]uuid.UUID, len(people))
	for i, p := range people {
		ids[i] = admitted(w, p.p, p.in)
		w.step(ids[i], t0.Add(time.Duration(i+1)*time.Hour), domain.TransferRequested{From: "S01", To: "S02", Reason: fmt.Sprintf("reason %d", i)})
	}
	r := w.runner(newClock(t0.Add(10 * time.Hour)).now)

	// When the receiving station looks at its board.
	b := transfers(t, r, projections.TransferQuery{Station: "S02"}, projections.AsOf{})

	// Then each transfer says the person's sex, age band and zones, and
	// the reason, and the board holds no name, birth date or ID number.
	if len(b.Transfers) != len(people) {
		t.Fatalf("got %d transfers, want %d", len(b.Transfers), len(people))
	}
	for i, p := range people {
		e := b.Transfers[i]
		if e.CaseID != ids[i] || e.Sex != p.sex || e.AgeBand != p.band || e.ZoneNeeded != p.needed || !slices.Equal(e.ZonesFitting, p.fitting) ||
			e.Reason != fmt.Sprintf("reason %d", i) || e.Direction != "incoming" || !e.RequestedAt.Equal(t0.Add(time.Duration(i+1)*time.Hour)) {
			t.Errorf("transfer %d: got %+v, want %s, %s, zone %s of %v", i, e, p.sex, p.band, p.needed, p.fitting)
		}
	}
	raw, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range people {
		personal := []string{p.name}
		if !p.p.BirthDate.IsZero() {
			personal = append(personal, p.p.BirthDate.String())
		}
		for _, v := range personal {
			if strings.Contains(string(raw), v) {
				t.Errorf("the board holds %q: %s", v, raw)
			}
		}
	}
	if strings.Contains(string(raw), withID.IDNumber) {
		t.Errorf("the board holds the ID number: %s", raw)
	}
	// Every hour figure is written with one decimal, never in exponent
	// form, however young the transfer.
	young := transfers(t, r, projections.TransferQuery{Station: "S02"}, projections.AsOf{At: t0.Add(time.Hour + time.Millisecond)})
	raw, err = json.Marshal(young)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"age_seconds":0,"age_hours":0.0,`) {
		t.Errorf("a transfer 1 ms old: %s, want age_seconds 0 and age_hours 0.0", raw)
	}
}

func TestHoursAreWrittenWithOneDecimal(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{12 * time.Millisecond, "0.0"},
		{11880 * time.Millisecond, "0.0"},
		{3 * time.Minute, "0.1"},
		{3*time.Hour + 20*time.Minute, "3.3"},
		{75*time.Hour + time.Minute, "75.0"},
		{10 * 365 * 24 * time.Hour, "87600.0"},
	} {
		raw, err := json.Marshal(projections.HoursOf(tt.d))
		if err != nil || string(raw) != tt.want {
			t.Errorf("%s: got %s (%v), want %s", tt.d, raw, err, tt.want)
		}
	}
}

func TestTransferBoardFollowsCorrectionsAndErasure(t *testing.T) {
	// Given a transfer requested at +1h for "hometwn" and declined.
	w := newWorld(t)
	w.station("S01", "R1", stdZones...)
	w.station("S02", "R1", stdZones...)
	id := admitted(w, man, domain.Inspection{})
	w.step(id, t0.Add(time.Hour), domain.TransferRequested{From: "S01", To: "S02", Reason: "hometwn"})
	w.step(id, t0.Add(3*time.Hour), domain.TransferDeclined{From: "S01", To: "S02", Reason: "ful"})
	r := w.runner(newClock(t0.Add(5 * time.Hour)).now)
	h, err := r.History(id, projections.AsOf{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	request, decline := h.Events[2].EventID, h.Events[3].EventID

	// When the request's time and both reasons are corrected.
	w.step(id, t0.Add(4*time.Hour), domain.Corrected{EventID: request, Field: domain.OccurredAtField,
		Old: json.RawMessage(`"` + t0.Add(time.Hour).Format(time.RFC3339) + `"`), New: json.RawMessage(`"` + t0.Add(2*time.Hour).Format(time.RFC3339) + `"`), Reason: "typed late"})
	w.step(id, t0.Add(4*time.Hour), domain.Corrected{EventID: request, Field: "reason", Old: json.RawMessage(`"hometwn"`), New: json.RawMessage(`"hometown"`), Reason: "typo"})
	w.step(id, t0.Add(4*time.Hour), domain.Corrected{EventID: decline, Field: "reason", Old: json.RawMessage(`"ful"`), New: json.RawMessage(`"full"`), Reason: "typo"})
	w.sync(r)

	// Then the board shows the corrected values.
	e := transfers(t, r, projections.TransferQuery{Region: "R1"}, projections.AsOf{}).Transfers[0]
	if !e.RequestedAt.Equal(t0.Add(2*time.Hour)) || e.Reason != "hometown" || e.DeclineReason != "full" || e.AgeSeconds != 3600 {
		t.Errorf("after the corrections: got %+v", e)
	}

	// And when the person's data is erased, the reasons go with it.
	w.step(id, t0.Add(4*time.Hour), domain.Terminated{Reason: "done"})
	w.step(id, t0.Add(4*time.Hour), domain.PersonalDataErased{Reason: domain.ErasureSubjectRequest, Trigger: domain.ErasureOnRequest})
	w.sync(r)
	e = transfers(t, r, projections.TransferQuery{Region: "R1"}, projections.AsOf{}).Transfers[0]
	if e.Reason != "" || e.DeclineReason != "" || e.State != projections.TransferDeclined {
		t.Errorf("after the erasure: got %+v, want the declined transfer with no reasons", e)
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
	s01, err := r.Stats(projections.Filter{Station: "S01"}, projections.Period{From: cst(0, 10, 0).UTC(), To: cst(6, 0, 0).UTC()})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s01.From.Format(time.RFC3339)+" "+s01.To.Format(time.RFC3339)+" "+s01.FromDate+" "+s01.ToDate,
		"2026-03-02T10:00:00+08:00 2026-03-08T00:00:00+08:00 2026-03-02 2026-03-07"; got != want || s01.ToInclusive {
		t.Errorf("range: got %s (to inclusive %v), want %s, to exclusive", got, s01.ToInclusive, want)
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

	region, err := r.Stats(projections.Filter{Region: "R2"}, days(0, 5))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := census(region), []int{0, 0, 1, 1}; !slices.Equal(got, want) ||
		len(region.Stations) != 1 || len(region.Regions) != 1 || region.Regions[0].BedNights != 2 {
		t.Errorf("region R2: census %v, stations %+v, regions %+v; want %v with one row each", got, region.Stations, region.Regions, want)
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
		t.Errorf("intakes on 2-3 March %d (want 4), on 4 March %d (want 1), exits on 4 March %v (want c's)", before.Intakes, day2.Intakes, day2.ExitsByType)
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
		{"to 23:59:59 on day 1: that instant included, not the night that ends at midnight", projections.Period{From: cst(1, 0, 0), To: last, ToInclusive: true}, 2, []string{}, "2026-03-03",
			"2026-03-03T00:00:00+08:00 2026-03-03T23:59:59+08:00 true"},
		{"to midnight, inclusive: the night of day 1 and the intake at midnight", projections.Period{From: cst(1, 0, 0), To: cst(2, 0, 0), ToInclusive: true}, 4, []string{"2026-03-03"}, "2026-03-04",
			"2026-03-03T00:00:00+08:00 2026-03-04T00:00:00+08:00 true"},
		{"from 09:00:01 on day 1: the intake at 09:00 left out, the night in", projections.Period{From: cst(1, 9, 0).Add(time.Second), To: cst(2, 0, 0)}, 2, []string{"2026-03-03"}, "2026-03-03",
			"2026-03-03T09:00:01+08:00 2026-03-04T00:00:00+08:00 false"},
		{"one instant", projections.Period{From: last, To: last, ToInclusive: true}, 1, []string{}, "2026-03-03",
			"2026-03-03T23:59:59+08:00 2026-03-03T23:59:59+08:00 true"},
		{"days 0 to 9: the nights that have passed", days(0, 9), 5, []string{"2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"}, "2026-03-11",
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
			if got := s.From.Format(time.RFC3339) + " " + s.To.Format(time.RFC3339) + " " + fmt.Sprint(s.ToInclusive); got != tt.interval {
				t.Errorf("interval %s, want %s", got, tt.interval)
			}
			if s.Intakes != tt.intakes || !slices.Equal(census, tt.census) && len(census)+len(tt.census) > 0 || s.BedNights != nights || s.ToDate != tt.toDate {
				t.Errorf("intakes %d, census %v, bed nights %d, to_date %s; want %d, %v, the census' sum, %s", s.Intakes, census, s.BedNights, s.ToDate, tt.intakes, tt.census, tt.toDate)
			}
		})
	}

	for _, tt := range []struct {
		name, field string
		p           projections.Period
	}{
		{"from after to", "from", projections.Period{From: cst(2, 0, 0), To: cst(1, 0, 0), ToInclusive: true}},
		{"from at an exclusive to", "from", projections.Period{From: cst(1, 0, 0), To: cst(1, 0, 0)}},
		{"3661 days", "to", projections.DatesPeriod(domain.Date{Year: 2016, Month: 2, Day: 27}, domain.Date{Year: 2026, Month: 3, Day: 6})},
		{"40 years", "to", projections.DatesPeriod(domain.Date{Year: 1986, Month: 3, Day: 1}, domain.Date{Year: 2026, Month: 3, Day: 1})},
		{"from in the future", "from", projections.Period{From: cst(4, 12, 1), To: cst(5, 0, 0)}},
		{"before 1900", "from", projections.Period{From: time.Date(1899, 12, 31, 0, 0, 0, 0, domain.CivilZone), To: time.Date(1900, 1, 2, 0, 0, 0, 0, domain.CivilZone)}},
		{"the zero time", "from", projections.Period{To: cst(1, 0, 0)}},
	} {
		t.Run("refused: "+tt.name, func(t *testing.T) {
			if _, err := r.Stats(projections.Filter{}, tt.p); !isInvalid(err, tt.field) {
				t.Errorf("got %v, want invalid %s", err, tt.field)
			}
		})
	}
	if _, err := r.Stats(projections.Filter{}, projections.DatesPeriod(domain.Date{Year: 2016, Month: 2, Day: 28}, domain.Date{Year: 2026, Month: 3, Day: 6})); err != nil {
		t.Errorf("3660 days: %v", err)
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
