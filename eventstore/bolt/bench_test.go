package bolt_test

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"waystation/eventstore"
	"waystation/eventstore/bolt"
)

// payload is a 256-byte JSON document, the size of a typical case event.
var payload = []byte(`{"note":"` + string(make256()) + `"}`)

func make256() []byte {
	b := make([]byte, 256-len(`{"note":""}`))
	for i := range b {
		b[i] = 'a' + byte(i%26)
	}
	return b
}

func benchEvent() eventstore.EventData {
	return eventstore.EventData{
		ID: uuid.Must(uuid.NewV7()), Type: "case.note_added", Data: payload, Metadata: []byte(`{"schema":1}`),
	}
}

// BenchmarkAppend appends one event per call from 1 to 256 concurrent
// writers, each to its own stream, with fsync on: group commit is what
// makes more writers faster. One op is one appended event.
func BenchmarkAppend(b *testing.B) {
	for _, writers := range []int{1, 16, 64, 256} {
		b.Run("writers="+strconv.Itoa(writers), func(b *testing.B) {
			s := openAt(b, b.TempDir(), bolt.Options{})
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ReportAllocs()
			b.ResetTimer()
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					stream := "case-bench-" + strconv.Itoa(w)
					for next.Add(1) <= int64(b.N) {
						if _, err := s.Append(ctx, stream, eventstore.Any, benchEvent()); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// prefill appends n events in appends of 500 to a few streams, without
// fsync (the reads are what is measured).
func prefill(b *testing.B, n int) *bolt.Store {
	b.Helper()
	s := openAt(b, b.TempDir(), bolt.Options{NoSync: true})
	batch := make([]eventstore.EventData, 0, 500)
	for i := 0; i < n; i += cap(batch) {
		batch = batch[:0]
		for range min(cap(batch), n-i) {
			batch = append(batch, benchEvent())
		}
		if _, err := s.Append(ctx, "case-"+strconv.Itoa(i%7), eventstore.Any, batch...); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkReadAll reads the global log forwards. One op is one event.
func BenchmarkReadAll(b *testing.B) {
	const size = 200_000
	s := prefill(b, size)
	b.ReportAllocs()
	b.ResetTimer()
	read := 0
	for read < b.N {
		for _, err := range s.ReadAll(ctx, eventstore.ReadAllOptions{Limit: min(size, b.N-read)}) {
			if err != nil {
				b.Fatal(err)
			}
			read++
		}
	}
	b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkReadStream reads one stream of 5,000 events forwards. One op is
// one event.
func BenchmarkReadStream(b *testing.B) {
	const size = 5_000
	s := openAt(b, b.TempDir(), bolt.Options{NoSync: true})
	for i := 0; i < size; i += 500 {
		batch := make([]eventstore.EventData, 500)
		for j := range batch {
			batch[j] = benchEvent()
		}
		if _, err := s.Append(ctx, "case-long", eventstore.Any, batch...); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Append(ctx, "case-other", eventstore.Any, benchEvent()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	read := 0
	for read < b.N {
		for _, err := range s.ReadStream(ctx, "case-long", eventstore.ReadStreamOptions{Limit: min(size, b.N-read)}) {
			if err != nil {
				b.Fatal(err)
			}
			read++
		}
	}
	b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "events/s")
}
