package projections_test

import (
	"encoding/json"
	"errors"
	"fmt"
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
func transfers(
	tb testing.TB, r *projections.Runner, q projections.TransferQuery, asOf projections.AsOf,
) projections.TransferBoard {
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
		t.Errorf(
			"first's regions %q to %q, direction %q; want R1 to R2 and no direction on a region's board",
			first.FromRegion, first.ToRegion, first.Direction,
		)
	}
	// As of 40 hours in, nothing was past its mark yet.
	then := transfers(t, r, projections.TransferQuery{Region: "R1"}, projections.AsOf{At: t0.Add(40 * time.Hour)})
	if got, want := caseIDs(then), []string{
		a.String() + " requested", b.String() + " departed", c.String() + " declined",
	}; !slices.Equal(got, want) {
		t.Fatalf("R1 as of +40h: got %v, want %v", got, want)
	}
	if then.Transfers[0].Unanswered || then.Transfers[1].HandoverOverdue {
		t.Errorf("as of +40h: got %+v", then.Transfers)
	}
	if d := then.Transfers[2]; d.DeclineReason != "full" || !d.EndedAt.Equal(
		t0.Add(2*time.Hour),
	) || d.AgeSeconds != 3600 || d.Unanswered {
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
	all := []string{
		open.String() + " requested",
		gone.String() + " case_exited",
		declined.String() + " declined",
		handed.String() + " handed_over",
	}

	for _, tt := range []struct {
		name string
		now  time.Time
		q    projections.TransferQuery
		want []string
	}{
		{
			"30 days after they ended they are still there, the one in flight first",
			day(31),
			projections.TransferQuery{Region: "R1"},
			all,
		},
		{"a day later they are gone", day(32).Add(3 * time.Hour), projections.TransferQuery{Region: "R1"}, all[:1]},
		{
			"since brings them back",
			day(32).Add(3 * time.Hour),
			projections.TransferQuery{Region: "R1", Since: ptr(day(1))},
			all,
		},
		{
			"since keeps those that ended at or after it",
			day(32).Add(3 * time.Hour),
			projections.TransferQuery{Region: "R1", Since: ptr(day(1).Add(time.Hour))},
			all[:3],
		},
		{
			"one state",
			day(31),
			projections.TransferQuery{Region: "R1", States: []string{projections.TransferHandedOver}},
			all[3:],
		},
		{
			"two states",
			day(31),
			projections.TransferQuery{
				Region: "R1", States: []string{projections.TransferDeclined, domain.TransferStateRequested},
			},
			[]string{all[0], all[2]},
		},
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
	if got, want := caseIDs(then), []string{
		gone.String() + " departed", declined.String() + " declined", handed.String() + " handed_over",
	}; !slices.Equal(got, want) {
		t.Errorf("as of day 1, 01:30 later: got %v, want %v", got, want)
	}
	if _, err := r.Transfers(
		projections.TransferQuery{Region: "R1", States: []string{"done"}}, projections.AsOf{},
	); !isInvalid(err, "state") {
		t.Errorf("an unknown state: got %v, want invalid state", err)
	}
	if _, err := r.Transfers(
		projections.TransferQuery{Region: "R1", Since: &time.Time{}}, projections.AsOf{},
	); !isInvalid(err, "since") {
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
		{
			withID,
			domain.Inspection{},
			domain.Male,
			"18-59",
			domain.ZoneAdultMale,
			[]domain.Zone{domain.ZoneAdultMale, domain.ZoneIsolation, domain.ZoneObservation},
			man.Name,
		},
		{
			woman,
			domain.Inspection{SuspectedInfectious: true},
			domain.Female,
			"18-59",
			domain.ZoneIsolation,
			[]domain.Zone{domain.ZoneIsolation},
			woman.Name,
		},
		{
			boy,
			domain.Inspection{},
			domain.Male,
			"6-13",
			domain.ZoneMinors,
			[]domain.Zone{domain.ZoneMinors, domain.ZoneIsolation, domain.ZoneObservation},
			boy.Name,
		},
		{
			old,
			domain.Inspection{},
			domain.Male,
			"60+",
			domain.ZoneCare,
			[]domain.Zone{domain.ZoneCare, domain.ZoneAdultMale, domain.ZoneIsolation, domain.ZoneObservation},
			old.Name,
		},
	}
	ids := make([]uuid.UUID, len(people))
	for i, p := range people {
		ids[i] = admitted(w, p.p, p.in)
		w.step(
			ids[i], t0.Add(time.Duration(i+1)*time.Hour),
			domain.TransferRequested{From: "S01", To: "S02", Reason: fmt.Sprintf("reason %d", i)},
		)
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
		if e.CaseID != ids[i] || e.Sex != p.sex || e.AgeBand != p.band || e.ZoneNeeded != p.needed || !slices.Equal(
			e.ZonesFitting, p.fitting,
		) ||
			e.Reason != fmt.Sprintf("reason %d", i) || e.Direction != "incoming" || !e.RequestedAt.Equal(
			t0.Add(time.Duration(i+1)*time.Hour),
		) {
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
	young := transfers(
		t, r, projections.TransferQuery{Station: "S02"}, projections.AsOf{At: t0.Add(time.Hour + time.Millisecond)},
	)
	raw, err = json.Marshal(young)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"age_seconds":0,"age_hours":0.0,`) {
		t.Errorf("a transfer 1 ms old: %s, want age_seconds 0 and age_hours 0.0", raw)
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
		Old: json.RawMessage(`"` + t0.Add(time.Hour).Format(time.RFC3339) + `"`), New: json.RawMessage(
			`"` + t0.Add(2*time.Hour).Format(time.RFC3339) + `"`,
		), Reason: "typed late"})
	w.step(
		id, t0.Add(4*time.Hour),
		domain.Corrected{
			EventID: request,
			Field:   "reason",
			Old:     json.RawMessage(`"hometwn"`),
			New:     json.RawMessage(`"hometown"`),
			Reason:  "typo",
		},
	)
	w.step(
		id, t0.Add(4*time.Hour),
		domain.Corrected{
			EventID: decline, Field: "reason", Old: json.RawMessage(`"ful"`), New: json.RawMessage(`"full"`), Reason: "typo",
		},
	)
	w.sync(r)

	// Then the board shows the corrected values.
	e := transfers(t, r, projections.TransferQuery{Region: "R1"}, projections.AsOf{}).Transfers[0]
	if !e.RequestedAt.Equal(
		t0.Add(2*time.Hour),
	) || e.Reason != "hometown" || e.DeclineReason != "full" || e.AgeSeconds != 3600 {
		t.Errorf("after the corrections: got %+v", e)
	}

	// And when the person's data is erased, the reasons go with it.
	w.step(id, t0.Add(4*time.Hour), domain.Terminated{Reason: "done"})
	w.step(
		id, t0.Add(4*time.Hour),
		domain.PersonalDataErased{Reason: domain.ErasureSubjectRequest, Trigger: domain.ErasureOnRequest},
	)
	w.sync(r)
	e = transfers(t, r, projections.TransferQuery{Region: "R1"}, projections.AsOf{}).Transfers[0]
	if e.Reason != "" || e.DeclineReason != "" || e.State != projections.TransferDeclined {
		t.Errorf("after the erasure: got %+v, want the declined transfer with no reasons", e)
	}
}
