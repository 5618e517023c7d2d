package bench_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"waystation/eventstore"
	"waystation/eventstore/bolt"
	"waystation/internal/bench"
)

func TestFsyncRateMeasuresAndCleansUp(t *testing.T) {
	dir := t.TempDir()
	rate, err := bench.FsyncRate(dir, 0)
	if err != nil {
		t.Fatalf("fsync rate: %v", err)
	}
	if rate <= 0 {
		t.Fatalf("fsync rate %v, want a positive rate", rate)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("fsync probe left %d files behind", len(entries))
	}
}

func TestBenchAppendWritesEveryEventAndReports(t *testing.T) {
	dir := t.TempDir()
	res, err := bench.Append(context.Background(), dir, 5, 123)
	if err != nil {
		t.Fatalf("bench: %v", err)
	}
	if res.Writers != 5 || res.Events != 123 {
		t.Fatalf("got writers %d, events %d; want 5, 123", res.Writers, res.Events)
	}
	if res.EventsPerSec <= 0 || res.FsyncPerSec <= 0 || res.P50Ms <= 0 || res.P99Ms < res.P50Ms || res.MaxMs < res.P99Ms {
		t.Fatalf("implausible figures: %+v", res)
	}
	if want := res.EventsPerSec / res.FsyncPerSec; res.RatioToFsync != want {
		t.Fatalf("ratio to fsync %v, want events/s over fsync/s = %v", res.RatioToFsync, want)
	}
	if res.Batches < 1 || res.Batches > 123 {
		t.Fatalf("%d batches for 123 single-event appends", res.Batches)
	}

	s, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	head, err := s.Head(context.Background())
	if err != nil || head != eventstore.At(123) {
		t.Fatalf("store head after the bench: %s, %v; want 123", head, err)
	}
	if _, err := s.Verify(context.Background()); err != nil {
		t.Fatalf("verify after the bench: %v", err)
	}

	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	json.Unmarshal(b, &fields)
	for _, k := range []string{"events_per_sec", "p50_ms", "p99_ms", "max_ms", "writers", "events", "fsync_per_sec", "ratio_to_fsync", "heap_mb"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b)
		}
	}
}

func TestBenchAppendRefusesNonsense(t *testing.T) {
	for _, c := range []struct{ writers, events int }{{0, 10}, {3, 0}} {
		if _, err := bench.Append(context.Background(), t.TempDir(), c.writers, c.events); err == nil {
			t.Errorf("writers %d, events %d: no error", c.writers, c.events)
		}
	}
}
