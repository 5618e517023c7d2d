package projections_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
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
		res, err := loggen.Generate(context.Background(), w.store, loggen.Options{Events: total + 700, Stations: 6, Regions: 2, Writers: 1, Start: next, Seed: uint64(stage)})
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
		sameViews(t, fmt.Sprintf("stage %d as of %s (known then)", i, s.at), then(t, r, projections.AsOf{At: s.at, Known: true}), s.views)
	}
}

// positions is a durable projection for the test: it keeps, across
// runners, every position it was given and what it had flushed.
type positions struct {
	mu      sync.Mutex
	version int
	seen    []eventstore.Position
	flushed int
}

func (p *positions) Name() string { return "positions" }
func (p *positions) Version() int { return p.version }
func (p *positions) Apply(env domain.Envelope) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen = append(p.seen, env.Position)
	return nil
}
func (p *positions) Flush() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.flushed = len(p.seen)
	return nil
}

func TestRestartMidStreamLosesAndRepeatsNothing(t *testing.T) {
	w := newWorld(t)
	w.station("S01", "R1", stdZones...)
	p := &positions{version: 1}
	opts := projections.Options{Logger: slog.New(slog.DiscardHandler), CheckpointEvery: 7, Projections: []projections.Projection{p}}
	write := func(n int) {
		for i := range n {
			w.intake("S01", t0.Add(time.Duration(i)*time.Minute), man, domain.Inspection{})
		}
	}
	write(50)
	for round := range 3 {
		r := projections.NewRunner(w.store, w.store, opts)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		// Events keep arriving while the runner starts and stops.
		write(40)
		w.sync(r)
		write(round * 5)
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	// A last runner catches up with what arrived after the previous stop.
	r := projections.NewRunner(w.store, w.store, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	w.sync(r)
	head, _ := w.store.Head(context.Background())
	deadline := time.Now().Add(30 * time.Second)
	for {
		p.mu.Lock()
		n := len(p.seen)
		p.mu.Unlock()
		if n >= int(head.Commit) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.seen) != int(head.Commit) {
		t.Fatalf("the durable projection saw %d events, the log holds %d", len(p.seen), head.Commit)
	}
	for i, pos := range p.seen {
		if pos != eventstore.At(uint64(i+1)) {
			t.Fatalf("event %d: got position %s, want %d (lost or repeated)", i, pos, i+1)
		}
	}
	// The live views, folded again on every start, hold every case once.
	page, err := r.SearchCases(projections.CaseQuery{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	if want := int(head.Commit) - 1; len(page.Items) != want {
		t.Errorf("the views hold %d cases, want %d", len(page.Items), want)
	}
	// A new version of the projection starts again from the first event.
	p.version = 2
	p.seen = nil
	p.mu.Unlock()
	r2 := projections.NewRunner(w.store, w.store, opts)
	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() { done <- r2.Run(ctx2) }()
	w.sync(r2)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		n := len(p.seen)
		p.mu.Unlock()
		if n >= int(head.Commit) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel2()
	<-done
	p.mu.Lock()
	if len(p.seen) != int(head.Commit) || p.seen[0] != eventstore.At(1) {
		t.Errorf("version 2: saw %d events from %v, want all %d from 1", len(p.seen), p.seen[:1], head.Commit)
	}
}

// TestWaitWithin checks the bounded wait the HTTP layer uses to let a
// client read its own write: it returns once the views have folded the
// position, gives up with a deadline error when they do not within the
// bound, and stops when its context ends.
func TestWaitWithin(t *testing.T) {
	w := newWorld(t)
	w.station("S01", "R1", domain.ZoneBeds{Zone: domain.ZoneAdultMale, Beds: 2})
	r := w.runner(time.Now)
	head, err := w.store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	never := eventstore.At(1 << 40)

	t.Run("folded already: returns at once, even with no time left", func(t *testing.T) {
		if err := r.WaitWithin(context.Background(), head, 0); err != nil {
			t.Fatalf("got %v, want nil", err)
		}
	})
	t.Run("written while waiting: returns once folded", func(t *testing.T) {
		got := make(chan error, 1)
		next := eventstore.At(head.Commit + 1)
		go func() { got <- r.WaitWithin(context.Background(), next, time.Minute) }()
		w.station("S02", "R1", domain.ZoneBeds{Zone: domain.ZoneAdultMale, Beds: 1})
		if err := <-got; err != nil {
			t.Fatalf("got %v, want nil", err)
		}
	})
	t.Run("never written: gives up with a deadline error", func(t *testing.T) {
		err := r.WaitWithin(context.Background(), never, time.Millisecond)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want an error wrapping context.DeadlineExceeded", err)
		}
	})
	t.Run("context ended: stops with the context's error", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := r.WaitWithin(ctx, never, time.Minute)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want an error wrapping context.Canceled", err)
		}
	})
	t.Run("waits for different writes: each returns when its own is folded, not before", func(t *testing.T) {
		now, err := w.store.Head(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		first, second := eventstore.At(now.Commit+1), eventstore.At(now.Commit+2)
		gotFirst, gotSecond := make(chan error, 1), make(chan error, 1)
		go func() { gotFirst <- r.WaitFor(context.Background(), first) }()
		go func() { gotSecond <- r.WaitWithin(context.Background(), second, time.Minute) }()
		// An abandoned wait in between must not hold up the others.
		_ = r.WaitWithin(context.Background(), second, time.Millisecond)

		w.station("S03", "R1", domain.ZoneBeds{Zone: domain.ZoneAdultMale, Beds: 1})
		if err := <-gotFirst; err != nil {
			t.Fatalf("wait for the first write: got %v, want nil", err)
		}
		select {
		case err := <-gotSecond:
			t.Fatalf("the wait for the second write returned (%v) before it was written", err)
		default:
		}
		w.station("S04", "R1", domain.ZoneBeds{Zone: domain.ZoneAdultMale, Beds: 1})
		if err := <-gotSecond; err != nil {
			t.Fatalf("wait for the second write: got %v, want nil", err)
		}
	})
}

// batches records what Options.ObserveBatch is told.
type batches struct {
	mu    sync.Mutex
	sizes []int
}

func (b *batches) observe(events int, took time.Duration) {
	if took < 0 {
		panic("negative duration")
	}
	b.mu.Lock()
	b.sizes = append(b.sizes, events)
	b.mu.Unlock()
}

// take returns the sizes recorded so far and forgets them.
func (b *batches) take() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.sizes
	b.sizes = nil
	return out
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

// TestObserveBatchSeesEveryFoldedEvent: the batch hook of the rebuild
// benchmark is told of batches whose sizes sum to the events each fold
// read: a rebuild, an "as of" replay, and following the log live.
func TestObserveBatchSeesEveryFoldedEvent(t *testing.T) {
	w := newWorld(t)
	w.station("S01", "R1", stdZones...)
	for i := range 2100 { // more than two batches of the pipeline
		w.intake("S01", t0.Add(time.Duration(i)*time.Minute), man, domain.Inspection{})
	}
	head, err := w.store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	total := int(head.Commit)
	var seen batches
	r := projections.NewRunner(w.store, w.store, projections.Options{Logger: slog.New(slog.DiscardHandler), ObserveBatch: seen.observe})

	if err := r.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	sizes := seen.take()
	if len(sizes) < 3 || sum(sizes) != total {
		t.Errorf("rebuild: %d batches of %d events in all, want 3 or more summing to %d", len(sizes), sum(sizes), total)
	}
	if _, err := r.Safety(projections.Filter{}, projections.AsOf{At: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if sizes := seen.take(); sum(sizes) != total {
		t.Errorf("as-of replay: batches sum to %d events, want %d", sum(sizes), total)
	}

	// Following the log from the start, with events arriving meanwhile.
	var live batches
	follower := projections.NewRunner(w.store, w.store, projections.Options{Logger: slog.New(slog.DiscardHandler), ObserveBatch: live.observe})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- follower.Run(ctx) }()
	for i := range 5 {
		w.intake("S01", t0.Add(time.Duration(i)*time.Hour), woman, domain.Inspection{})
	}
	w.sync(follower)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if sizes := live.take(); sum(sizes) != total+5 {
		t.Errorf("following: batches sum to %d events, want %d", sum(sizes), total+5)
	}
}
