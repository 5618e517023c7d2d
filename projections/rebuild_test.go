package projections_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/projections"
	"waystation/projections/loggen"
)

func boardJSON(tb testing.TB, r *projections.Runner, asOf projections.AsOf) string {
	tb.Helper()
	b, err := r.Safety(projections.Filter{}, asOf)
	if err != nil {
		tb.Fatal(err)
	}
	b.Known = false
	out, err := json.Marshal(b)
	if err != nil {
		tb.Fatal(err)
	}
	return string(out)
}

// marshal returns v as JSON.
func marshal(tb testing.TB, v any, err error) string {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// everything reads every view of r, live, into JSON by name: the safety
// board, each station's occupancy, statistics everywhere and per region,
// every case in search, each region's transfers, the repeat visitors, and
// the history, state and person index of several cases (every repeat
// visitor's among them).
func everything(tb testing.TB, r *projections.Runner, from, to time.Time) map[string]string {
	tb.Helper()
	out := map[string]string{"board": boardJSON(tb, r, projections.AsOf{})}
	regions := map[string]bool{}
	for _, st := range r.Stations() {
		occ, err := r.Occupancy(st.Code, projections.AsOf{})
		out["occupancy "+st.Code] = marshal(tb, occ, err)
		regions[st.Region] = true
	}
	period := projections.Period{From: from, To: to}
	stats, err := r.Stats(projections.Filter{}, period)
	out["stats"] = marshal(tb, stats, err)
	for region := range regions {
		stats, err := r.Stats(projections.Filter{Region: region}, period)
		out["stats "+region] = marshal(tb, stats, err)
		transfers, err := r.Transfers(projections.TransferQuery{Region: region}, projections.AsOf{})
		out["transfers "+region] = marshal(tb, transfers, err)
	}
	var cases []projections.CaseSummary
	for cursor := ""; ; {
		page, err := r.SearchCases(projections.CaseQuery{Limit: 500, Cursor: cursor})
		if err != nil {
			tb.Fatal(err)
		}
		cases = append(cases, page.Items...)
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	out["search"] = marshal(tb, cases, nil)
	visitors := allRepeatVisitors(tb, r, projections.Filter{}, 500)
	out["repeat visitors"] = marshal(tb, visitors, nil)
	if len(visitors) == 0 {
		tb.Fatal("no repeat visitors in the log: the comparison would not cover them")
	}
	var ids []uuid.UUID
	for i := 0; i < len(cases); i += 37 {
		ids = append(ids, cases[i].ID)
	}
	for _, v := range visitors {
		for _, c := range v.Cases {
			ids = append(ids, c.CaseID)
		}
	}
	for _, id := range ids {
		h, err := r.History(id, projections.AsOf{}, 0)
		out["history "+id.String()] = marshal(tb, h, err)
		c, _ := r.Case(id)
		out["case "+id.String()] = marshal(tb, c, nil)
		p, err := r.Person(id)
		out["person "+id.String()] = marshal(tb, p, err)
	}
	return out
}

// then reads the views that can be shown as of a past moment, live at
// that moment or as of it.
func then(tb testing.TB, r *projections.Runner, asOf projections.AsOf) map[string]string {
	tb.Helper()
	out := map[string]string{"board": boardJSON(tb, r, asOf)}
	regions := map[string]bool{}
	for _, st := range r.Stations() {
		occ, err := r.Occupancy(st.Code, asOf)
		out["occupancy "+st.Code] = marshal(tb, occ, err)
		regions[st.Region] = true
	}
	for region := range regions {
		transfers, err := r.Transfers(projections.TransferQuery{Region: region}, asOf)
		transfers.Known = false
		out["transfers "+region] = marshal(tb, transfers, err)
	}
	return out
}

// sameViews reports every view that differs between got and want.
func sameViews(tb testing.TB, what string, got, want map[string]string) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Errorf("%s: %d views, want %d", what, len(got), len(want))
	}
	n := 0
	for name, w := range want {
		if g, ok := got[name]; !ok || g != w {
			if n++; n <= 5 {
				tb.Errorf("%s: %s differs:\n got %.600s\nwant %.600s", what, name, g, w)
			}
		}
	}
	if n > 5 {
		tb.Errorf("%s: %d views differ in all", what, n)
	}
}

func TestRebuildEqualsFollowingLiveAndAsOfEqualsLiveThen(t *testing.T) {
	w := newWorld(t)
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := newClock(start)
	r := w.runner(clk.now)
	// The log is written while the runner follows it, in three stages; the
	// live views are captured at the end of each stage.
	type snap struct {
		at    time.Time
		views map[string]string
	}
	var snaps []snap
	total := 0
	next := start
	for stage := range 3 {
		res, err := loggen.Generate(
			context.Background(), w.store,
			loggen.Options{Events: total + 700, Stations: 6, Regions: 2, Writers: 1, Start: next, Seed: uint64(stage)},
		)
		if err != nil {
			t.Fatal(err)
		}
		total += res.Events
		w.sync(r)
		// Every event of the stage was recorded by a day after it happened.
		at := res.End.Add(24 * time.Hour)
		clk.set(at)
		next = at.Add(48 * time.Hour)
		snaps = append(snaps, snap{at, then(t, r, projections.AsOf{})})
	}
	// A person who comes back to another station, with beds and a
	// handover in between, so that histories hold station events too.
	first := w.intake("S001", next, man, domain.Inspection{})
	w.step(first, next.Add(time.Minute), domain.EligibilityDecided{Eligible: true})
	w.step(first, next.Add(24*time.Hour), domain.LeftVoluntarily{DeclarationRef: "D"})
	again := w.intake("S002", next.Add(5*24*time.Hour), man, domain.Inspection{})
	w.step(again, next.Add(5*24*time.Hour+time.Minute), domain.EligibilityDecided{Eligible: true})
	w.sync(r)
	clk.set(next.Add(6 * 24 * time.Hour))
	from, to := start, next.Add(7*24*time.Hour)
	live := everything(t, r, from, to)

	if err := r.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	sameViews(t, "after the rebuild", everything(t, r, from, to), live)
	for i, s := range snaps {
		sameViews(
			t, fmt.Sprintf("stage %d as of %s (known then)", i, s.at),
			then(t, r, projections.AsOf{At: s.at, Known: true}), s.views,
		)
	}
}
