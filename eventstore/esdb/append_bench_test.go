package esdb_test

import (
	"context"
	"fmt"
	"testing"

	"waystation/eventstore"
)

// BenchmarkAppend appends one event to a stream that already holds 10,
// 1,000 or 10,000 events, on the in-process server, with the expected
// revision the domain passes (Exact) and with Any (as the access log is
// written). The cost of one append must not grow with the stream.
func BenchmarkAppend(b *testing.B) {
	for _, size := range []int{10, 1_000, 10_000} {
		for _, mode := range []string{"exact", "any"} {
			b.Run(fmt.Sprintf("%s/stream=%d", mode, size), func(b *testing.B) {
				st, _ := open(b)
				ctx := context.Background()
				stream := "bench-" + mode
				res := fill(b, st, stream, size)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; b.Loop(); i++ {
					expected := eventstore.Any
					if mode == "exact" {
						expected = eventstore.Exact(res.NextExpectedRevision)
					}
					r, err := st.Append(ctx, stream, expected, event(size+i))
					if err != nil {
						b.Fatalf("append: %v", err)
					}
					res = r
				}
			})
		}
	}
}

// fill writes n events to stream in batches of 500.
func fill(tb testing.TB, st eventstore.Store, stream string, n int) eventstore.AppendResult {
	tb.Helper()
	expected := eventstore.NoStream
	var res eventstore.AppendResult
	for written := 0; written < n; {
		batch := make([]eventstore.EventData, min(500, n-written))
		for i := range batch {
			batch[i] = event(written + i)
		}
		res = appendEvents(tb, st, stream, expected, batch...)
		expected = eventstore.Exact(res.NextExpectedRevision)
		written += len(batch)
	}
	return res
}
