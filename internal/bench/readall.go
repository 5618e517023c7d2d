package bench

import (
	"context"
	"fmt"
	"time"

	"waystation/eventstore"
	"waystation/eventstore/bolt"
)

// ReadResult is what `waystation bench readall` prints.
type ReadResult struct {
	Events       int     `json:"events"`
	Seconds      float64 `json:"seconds"`
	EventsPerSec float64 `json:"events_per_sec"`
	HeapMB       float64 `json:"heap_mb"`
}

// ReadAll reads the whole global log of the embedded store in dir
// forwards and reports the rate.
func ReadAll(ctx context.Context, dir string) (ReadResult, error) {
	store, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		return ReadResult{}, err
	}
	defer store.Close()
	heap := startHeapSampler()
	start := time.Now()
	n := 0
	for _, err := range store.ReadAll(ctx, eventstore.ReadAllOptions{}) {
		if err != nil {
			heap.stop()
			return ReadResult{}, fmt.Errorf("bench: read all: %w", err)
		}
		n++
	}
	elapsed := time.Since(start)
	peak := heap.stop()
	return ReadResult{
		Events: n, Seconds: elapsed.Seconds(), EventsPerSec: float64(n) / elapsed.Seconds(),
		HeapMB: float64(peak) / (1 << 20),
	}, nil
}
