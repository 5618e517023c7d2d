package bench

import (
	"math"
	"slices"
	"time"
)

// Latencies is the summary every benchmark prints of the latencies it
// recorded, in milliseconds.
type Latencies struct {
	P50Ms float64 `json:"p50_ms"`
	P99Ms float64 `json:"p99_ms"`
	MaxMs float64 `json:"max_ms"`
}

// SummarizeLatencies sorts recorded in place and returns its 50th and 99th
// percentiles and its maximum, by nearest rank (see NearestRank), so every
// figure is a latency that was actually recorded. No latencies give zeros.
// Every benchmark reports through here, so their figures compare.
func SummarizeLatencies(recorded []time.Duration) Latencies {
	if len(recorded) == 0 {
		return Latencies{}
	}
	slices.Sort(recorded)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return Latencies{
		P50Ms: ms(NearestRank(recorded, 0.50)),
		P99Ms: ms(NearestRank(recorded, 0.99)),
		MaxMs: ms(recorded[len(recorded)-1]),
	}
}

// NearestRank returns the q-quantile of sorted, ascending latencies by
// nearest rank: the ceil(q × n)-th smallest of n, the smallest latency that
// at least a share q of all are at most. A q of 0 or less gives the
// smallest, 1 or more the largest, and no latencies give 0.
func NearestRank(sorted []time.Duration, q float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(q * float64(n)))
	return sorted[min(max(rank, 1), n)-1]
}
