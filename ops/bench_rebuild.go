package ops

import (
	"context"
	"fmt"

	"waystation/eventstore/bolt"
	"waystation/projections/loggen"
)

// BenchRebuild runs `waystation bench rebuild`: it writes a realistic log
// of about events events into the store in dir unless one is there (many
// stations, cases through the whole lifecycle, valid domain events written
// straight to the store), rebuilds every projection from the first event,
// and reports events per second and the heap the live views take. The
// store is opened without fsync: the benchmark's data is disposable.
func BenchRebuild(ctx context.Context, dir string, events int) (BenchResult, error) {
	s, err := bolt.Open(dir, bolt.Options{NoSync: true})
	if err != nil {
		return BenchResult{}, err
	}
	defer s.Close()
	rep, err := loggen.RebuildBenchmark(ctx, s, s, events)
	if err != nil {
		return BenchResult{}, fmt.Errorf("bench rebuild: %w", err)
	}
	return BenchResult{
		Writers:      1,
		Events:       rep.Events,
		Seconds:      rep.RebuildSec,
		EventsPerSec: rep.EventsPerSec,
		HeapMB:       rep.HeapMB,
	}, nil
}
