package bench_test

import (
	"context"
	"testing"

	"waystation/internal/bench"
)

func TestBenchReadAllCountsEveryEvent(t *testing.T) {
	dir := t.TempDir()
	if _, err := bench.Append(context.Background(), dir, 3, 50); err != nil {
		t.Fatal(err)
	}
	res, err := bench.ReadAll(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if res.Events != 50 || res.EventsPerSec <= 0 {
		t.Fatalf("got %+v, want 50 events at a positive rate", res)
	}
}
