package bench

import (
	"context"
	"fmt"

	"waystation/eventstore/bolt"
	"waystation/projections/loggen"
)

// RebuildResult is what `waystation bench rebuild` prints: the rebuild's
// report, and the latencies of applying one batch of events to the views
// (p50_ms, p99_ms, max_ms, by nearest rank), the rebuild's unit of work;
// writers is 1, the one goroutine that folds.
type RebuildResult struct {
	loggen.Report
	Writers int `json:"writers"`
	Latencies
}

// Rebuild writes a realistic log of about events events into the store in
// dir unless one is there (many stations, cases through the whole
// lifecycle, valid domain events written straight to the store), rebuilds
// every projection from the first event, and reports the rebuild's wall
// and CPU time, events per second, the latencies of applying each batch,
// the safety board as of a past moment and the heap the live views take.
// The store is opened without fsync: the benchmark's data is disposable.
func Rebuild(ctx context.Context, dir string, events int) (RebuildResult, error) {
	s, err := bolt.Open(dir, bolt.Options{NoSync: true})
	if err != nil {
		return RebuildResult{}, err
	}
	defer s.Close()
	rep, err := loggen.RebuildBenchmark(ctx, s, s, events)
	if err != nil {
		return RebuildResult{}, fmt.Errorf("bench rebuild: %w", err)
	}
	return RebuildResult{Report: rep, Writers: 1, Latencies: SummarizeLatencies(rep.RebuildBatches)}, nil
}
