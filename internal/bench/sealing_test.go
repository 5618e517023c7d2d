package bench_test

import (
	"context"
	"testing"

	"waystation/internal/bench"
)

func TestBenchSealingRunsBothSidesOnTheSameWork(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and rebuilds four stores")
	}
	got, err := bench.Sealing(context.Background(), t.TempDir(), 4, 200, 2000)
	if err != nil {
		t.Fatal(err)
	}
	if got.AppendPlain.Events != 200 || got.AppendSealed.Events != 200 || got.AppendPlain.EventsPerSec <= 0 || got.AppendSealed.EventsPerSec <= 0 {
		t.Errorf("append sides: plain %+v, sealed %+v", got.AppendPlain, got.AppendSealed)
	}
	if got.RebuildPlain.Events == 0 || got.RebuildSealed.Events == 0 || got.RebuildPlain.Cases == 0 || got.RebuildSealed.Cases == 0 {
		t.Errorf("rebuild sides: plain %+v, sealed %+v", got.RebuildPlain, got.RebuildSealed)
	}
	if _, err := bench.Sealing(context.Background(), t.TempDir(), 0, 10, 10); err == nil {
		t.Error("Sealing accepted zero writers")
	}
}
