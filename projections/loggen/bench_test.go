package loggen_test

import (
	"context"
	"math"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"waystation/eventstore/bolt"
	"waystation/projections/loggen"
)

// BenchmarkRebuild folds a generated log (LOGGEN_EVENTS events, 100 000 by
// default) into fresh views and reports events/s, the "as of" board time
// and the heap of the live views.
func BenchmarkRebuild(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("LOGGEN_EVENTS")); err == nil {
		n = v
	}
	dir := os.Getenv("LOGGEN_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	s, err := bolt.Open(dir, bolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for b.Loop() {
		rep, err := loggen.RebuildBenchmark(context.Background(), s, s, n)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(rep.EventsPerSec, "events/s")
		b.ReportMetric(rep.AsOfSec, "as_of_s")
		b.ReportMetric(rep.HeapMB, "heap_MB")
		b.ReportMetric(rep.RebuildCPUSec, "rebuild_cpu_s")
		b.ReportMetric(rep.AsOfCPUSec, "as_of_cpu_s")
		b.ReportMetric(float64(rep.Events), "events")
		b.ReportMetric(float64(rep.Cases), "cases")
		batches := slices.Sorted(slices.Values(rep.RebuildBatches))
		if len(batches) == 0 {
			b.Fatal("the rebuild reported no batches")
		}
		// Nearest rank: the smallest value with at least q of them at or below it.
		rank := func(q float64) float64 {
			i := max(int(math.Ceil(q*float64(len(batches))))-1, 0)
			return float64(batches[i]) / float64(time.Millisecond)
		}
		b.ReportMetric(rank(0.50), "batch_p50_ms")
		b.ReportMetric(rank(0.99), "batch_p99_ms")
	}
}
