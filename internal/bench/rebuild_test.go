package bench_test

import (
	"context"
	"encoding/json"
	"testing"

	"waystation/internal/bench"
)

func TestBenchRebuildReportsTheRebuildAndItsBatchLatencies(t *testing.T) {
	dir := t.TempDir()
	first, err := bench.Rebuild(context.Background(), dir, 3000)
	if err != nil {
		t.Fatalf("bench rebuild: %v", err)
	}
	if first.Generated < 3000 || first.Events != first.Generated || first.Cases == 0 {
		t.Fatalf("first run: generated %d, rebuilt %d events of %d cases; want about 3000 events, all rebuilt", first.Generated, first.Events, first.Cases)
	}
	if first.EventsPerSec <= 0 || first.RebuildSec <= 0 || first.HeapMB <= 0 {
		t.Fatalf("implausible figures: %+v", first)
	}

	again, err := bench.Rebuild(context.Background(), dir, 3000)
	if err != nil {
		t.Fatalf("bench rebuild on its own log: %v", err)
	}
	if again.Generated != 0 || again.Events != first.Events || again.Cases != first.Cases {
		t.Errorf("second run on the same folder: generated %d, rebuilt %d events of %d cases; want 0 generated and the first run's %d events of %d cases",
			again.Generated, again.Events, again.Cases, first.Events, first.Cases)
	}

	b, err := json.Marshal(again)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	json.Unmarshal(b, &fields)
	for _, k := range []string{"events", "events_per_sec", "rebuild_sec", "heap_mb", "cases", "writers", "p50_ms", "p99_ms", "max_ms"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b)
		}
	}
	if again.P50Ms <= 0 || again.P99Ms < again.P50Ms || again.MaxMs < again.P99Ms {
		t.Errorf("batch latencies p50 %v, p99 %v, max %v: want 0 < p50 <= p99 <= max", again.P50Ms, again.P99Ms, again.MaxMs)
	}
}
