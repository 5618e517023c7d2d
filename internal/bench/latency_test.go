package bench_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"waystation/internal/bench"
)

// ms returns n milliseconds.
func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// oneTo returns the latencies 1 ms … n ms, shuffled, as a benchmark
// records them.
func oneTo(n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = ms(i + 1)
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(n, func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func TestSummarizeLatenciesByNearestRank(t *testing.T) {
	for _, c := range []struct {
		name     string
		recorded []time.Duration
		want     bench.Latencies
	}{
		{"no latencies", nil, bench.Latencies{}},
		{"one latency is every percentile", []time.Duration{ms(7)}, bench.Latencies{P50Ms: 7, P99Ms: 7, MaxMs: 7}},
		{"two: the median is the lower one", []time.Duration{ms(9), ms(3)}, bench.Latencies{P50Ms: 3, P99Ms: 9, MaxMs: 9}},
		{"1..10 ms: p99 is the largest", oneTo(10), bench.Latencies{P50Ms: 5, P99Ms: 10, MaxMs: 10}},
		{"1..100 ms", oneTo(100), bench.Latencies{P50Ms: 50, P99Ms: 99, MaxMs: 100}},
		{"1..101 ms: ranks round up", oneTo(101), bench.Latencies{P50Ms: 51, P99Ms: 100, MaxMs: 101}},
		{"1..1000 ms", oneTo(1000), bench.Latencies{P50Ms: 500, P99Ms: 990, MaxMs: 1000}},
		{"three slow ones in 200: p99 is the 198th", append(repeat(ms(2), 197), ms(3), ms(4), ms(800)), bench.Latencies{P50Ms: 2, P99Ms: 3, MaxMs: 800}},
		{"sub-millisecond latencies keep their fraction", []time.Duration{1500 * time.Microsecond, 250 * time.Microsecond}, bench.Latencies{P50Ms: 0.25, P99Ms: 1.5, MaxMs: 1.5}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := bench.SummarizeLatencies(c.recorded); got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

// repeat returns n latencies of d.
func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

func TestNearestRankEnds(t *testing.T) {
	sorted := []time.Duration{ms(1), ms(2), ms(3), ms(4)}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0, ms(1)}, {0.25, ms(1)}, {0.26, ms(2)}, {0.5, ms(2)}, {0.75, ms(3)}, {0.99, ms(4)}, {1, ms(4)}, {1.5, ms(4)}} {
		if got := bench.NearestRank(sorted, c.q); got != c.want {
			t.Errorf("q %v of 1..4 ms: got %v, want %v", c.q, got, c.want)
		}
	}
	if got := bench.NearestRank(nil, 0.5); got != 0 {
		t.Errorf("median of nothing: got %v, want 0", got)
	}
}
