package bench

import (
	"runtime/metrics"
	"time"
)

// heapSampler records the largest live heap seen every few milliseconds,
// from startHeapSampler until stop.
type heapSampler struct {
	done chan struct{}
	peak chan uint64
}

// startHeapSampler starts sampling the live heap.
func startHeapSampler() *heapSampler {
	h := &heapSampler{done: make(chan struct{}), peak: make(chan uint64, 1)}
	go func() {
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var peak uint64
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-h.done:
				h.peak <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return h
}

// stop ends the sampling and returns the largest live heap seen, in bytes.
func (h *heapSampler) stop() uint64 {
	close(h.done)
	return <-h.peak
}
