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
// and reports the rebuild's wall and CPU time, events per second, the
// safety board as of a past moment and the heap the live views take. The
// store is opened without fsync: the benchmark's data is disposable.
//
// A rebuild is one call with no requests, so its report carries no
// latency percentiles rather than zeros; it is the same report as
// `bench sealing`'s rebuild runs (loggen.Report).
func BenchRebuild(ctx context.Context, dir string, events int) (loggen.Report, error) {
	s, err := bolt.Open(dir, bolt.Options{NoSync: true})
	if err != nil {
		return loggen.Report{}, err
	}
	defer s.Close()
	rep, err := loggen.RebuildBenchmark(ctx, s, s, events)
	if err != nil {
		return loggen.Report{}, fmt.Errorf("bench rebuild: %w", err)
	}
	return rep, nil
}
