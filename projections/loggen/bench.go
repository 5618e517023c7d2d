package loggen

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync/atomic"
	"time"

	"waystation/eventstore"
	"waystation/projections"
)

// Report is what RebuildBenchmark measured.
type Report struct {
	Events       int     `json:"events"`      // events in the log
	Generated    int     `json:"generated"`   // events written by this run (0: the log was there)
	Cases        int     `json:"cases"`       // cases in the live views
	RebuildSec   float64 `json:"rebuild_sec"` // time to fold the whole log into fresh views
	EventsPerSec float64 `json:"events_per_sec"`
	AsOfSec      float64 `json:"as_of_sec"` // the safety board as of the log's middle moment
	HeapMB       float64 `json:"heap_mb"`   // live heap holding the views, after a GC
	// RebuildCPUSec and AsOfCPUSec are the CPU time the process spent on
	// the rebuild and on the as-of board (0 where the platform does not
	// say): unlike the times above, they hardly change when other programs
	// load the machine.
	RebuildCPUSec float64 `json:"rebuild_cpu_sec"`
	AsOfCPUSec    float64 `json:"as_of_cpu_sec"`
	// RebuildBatches holds how long the rebuild took to apply each batch
	// of events to the views (projections.Options.ObserveBatch), in fold
	// order, for the caller to summarise (p50, p99); it is not in the
	// JSON form.
	RebuildBatches []time.Duration `json:"-"`
}

// RebuildBenchmark writes a log of about events events to store unless it
// holds one, rebuilds every projection from the start, measures the
// safety board as of a past moment, and the heap that the live views take.
func RebuildBenchmark(
	ctx context.Context, store eventstore.Store, cps eventstore.CheckpointStore, events int,
) (Report, error) {
	var rep Report
	head, err := store.Head(ctx)
	if err != nil {
		return rep, err
	}
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(1, 0, 0)
	if head.IsZero() {
		res, err := Generate(ctx, store, Options{Events: events, Start: start, Seed: 1})
		if err != nil {
			return rep, err
		}
		rep.Generated = res.Events
		end = res.End
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	// About one batch per thousand events: room for all of them, so that
	// recording a batch never allocates during the fold.
	batches := make([]time.Duration, 0, events/512+64)
	var recording atomic.Bool
	recording.Store(true)
	observe := func(_ int, took time.Duration) {
		// Only the rebuild's batches: the as-of board below folds too.
		if recording.Load() {
			batches = append(batches, took)
		}
	}
	r := projections.NewRunner(store, cps, projections.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: func() time.Time { return end }, ObserveBatch: observe})
	t, cpu := time.Now(), CPUTime()
	if err := r.Rebuild(ctx); err != nil {
		return rep, err
	}
	recording.Store(false)
	rep.RebuildBatches = batches
	rep.RebuildSec = time.Since(t).Seconds()
	rep.RebuildCPUSec = (CPUTime() - cpu).Seconds()
	lag, err := r.Lag(ctx)
	if err != nil {
		return rep, err
	}
	rep.Events = int(lag.Applied + lag.Undecodable)
	rep.EventsPerSec = float64(rep.Events) / rep.RebuildSec
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	rep.HeapMB = float64(after.HeapAlloc) / (1 << 20)
	page, err := r.SearchCases(projections.CaseQuery{Limit: 1})
	if err != nil {
		return rep, err
	}
	_ = page
	mid := start.Add(end.Sub(start) / 2)
	t, cpu = time.Now(), CPUTime()
	board, err := r.Safety(projections.Filter{}, projections.AsOf{At: mid})
	if err != nil {
		return rep, err
	}
	rep.AsOfSec = time.Since(t).Seconds()
	rep.AsOfCPUSec = (CPUTime() - cpu).Seconds()
	if len(board.Alerts) == 0 && rep.Events > 10000 {
		return rep, fmt.Errorf("loggen: the board as of %s is empty; the log is not realistic", mid)
	}
	rep.Cases = countCases(r)
	runtime.KeepAlive(r)
	return rep, nil
}

func countCases(r *projections.Runner) int {
	n := 0
	cursor := ""
	for {
		p, err := r.SearchCases(projections.CaseQuery{Limit: 500, Cursor: cursor})
		if err != nil {
			return n
		}
		n += len(p.Items)
		if cursor = p.NextCursor; cursor == "" {
			return n
		}
	}
}
