// Package bench measures Waystation: appends to the embedded store, reads
// of its log, rebuilds of the views, the cost of sealing, and the whole
// service under HTTP load (RunLoad), each as a result `waystation bench` prints.
package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/google/uuid"

	"waystation/eventstore"
	"waystation/eventstore/bolt"
)

// Result is what `waystation bench append` and `bench http` print, as one
// JSON object.
type Result struct {
	Writers        int     `json:"writers"`
	Events         int     `json:"events"`
	Seconds        float64 `json:"seconds"`
	EventsPerSec   float64 `json:"events_per_sec,omitempty"`
	RequestsPerSec float64 `json:"requests_per_sec,omitempty"`
	// P50Ms, P99Ms and MaxMs are latencies, from call to answer (of an
	// append, or of an HTTP request), by nearest rank on every latency
	// recorded (SummarizeLatencies).
	P50Ms float64 `json:"p50_ms"`
	P99Ms float64 `json:"p99_ms"`
	MaxMs float64 `json:"max_ms"`
	// FsyncPerSec is the disk's own rate of 512-byte append + fsync,
	// measured in the same folder just before the run; RatioToFsync is
	// EventsPerSec divided by it, the gain from group commit.
	FsyncPerSec  float64 `json:"fsync_per_sec"`
	RatioToFsync float64 `json:"ratio_to_fsync"`
	// HeapMB is the largest live heap sampled during the run, in MiB; for
	// append, less the benchmark's own record of latencies (8 bytes an
	// event), so that it is the store's.
	HeapMB float64 `json:"heap_mb"`
	// Batches is how many transactions the writer committed;
	// EventsPerBatch is the mean group-commit size.
	Batches        int     `json:"batches,omitempty"`
	EventsPerBatch float64 `json:"events_per_batch,omitempty"`
}

// fsyncProbe is how long FsyncRate measures before a benchmark.
const fsyncProbe = time.Second

// FsyncRate measures how many 512-byte appends, each followed by fsync, the
// disk under dir completes per second, for d. It writes a scratch file in
// dir and removes it.
func FsyncRate(dir string, d time.Duration) (float64, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, fmt.Errorf("fsync probe: %w", err)
	}
	f, err := os.CreateTemp(dir, "fsync-probe-*")
	if err != nil {
		return 0, fmt.Errorf("fsync probe: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	block := make([]byte, 512)
	n := 0
	start := time.Now()
	for n == 0 || time.Since(start) < d {
		if _, err := f.Write(block); err != nil {
			return 0, fmt.Errorf("fsync probe: %w", err)
		}
		if err := f.Sync(); err != nil {
			return 0, fmt.Errorf("fsync probe: %w", err)
		}
		n++
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// payload is a 256-byte JSON document, the size of a typical case event;
// it carries no personal data.
var payload = func() []byte {
	b := []byte(`{"note":"`)
	for len(b) < 254 {
		b = append(b, byte('a'+len(b)%26))
	}
	return append(b, `"}`...)
}()

// Append measures appends to a real embedded store in dir, with fsync on:
// writers goroutines append events events in all, one event per append,
// each writer to its own stream with an exact expected revision. It
// measures the disk's fsync rate first, and samples the heap throughout.
func Append(ctx context.Context, dir string, writers, events int) (Result, error) {
	if writers < 1 || events < 1 {
		return Result{}, errors.New("bench: writers and events must be at least 1")
	}
	fsync, err := FsyncRate(dir, fsyncProbe)
	if err != nil {
		return Result{}, err
	}
	batches := &batchCount{}
	store, err := bolt.Open(dir, bolt.Options{Observer: batches})
	if err != nil {
		return Result{}, err
	}
	defer store.Close()

	run := uuid.NewString()[:8]
	lat, elapsed, peak, err := appendLoad(ctx, store, writers, events,
		func(w, _ int) string { return "bench-" + run + "-" + strconv.Itoa(w) },
		eventstore.EventData{Type: "bench.appended", Data: payload, Metadata: []byte(`{"schema":1}`)})
	if err != nil {
		return Result{}, err
	}
	r := Result{
		Writers:        writers,
		Events:         events,
		Seconds:        elapsed.Seconds(),
		EventsPerSec:   float64(events) / elapsed.Seconds(),
		RequestsPerSec: float64(events) / elapsed.Seconds(),
		P50Ms:          lat.P50Ms,
		P99Ms:          lat.P99Ms,
		MaxMs:          lat.MaxMs,
		FsyncPerSec:    fsync,
		HeapMB:         float64(peak) / (1 << 20),
	}
	r.RatioToFsync = r.EventsPerSec / fsync
	if b, e := batches.get(); b > 0 {
		r.Batches, r.EventsPerBatch = b, float64(e)/float64(b)
	}
	return r, nil
}

// appendLoad has writers goroutines append events events in all to store,
// one event per append with an exact expected revision: writer w's i-th
// append goes to stream(w, i), a name it has not used before starting a new
// stream, and is ev with a fresh ID. It returns the appends' latencies
// (SummarizeLatencies), the wall time and the peak heap sampled meanwhile,
// less the latencies' own record of 8 bytes an event.
func appendLoad(
	ctx context.Context, store eventstore.Store, writers, events int,
	stream func(w, i int) string, ev eventstore.EventData,
) (Latencies, time.Duration, uint64, error) {
	// One record allocated up front, each writer filling its own part:
	// 8 MB for a million events, which the heap figure leaves out.
	recorded := make([]time.Duration, events)
	own := uint64(cap(recorded)) * uint64(unsafe.Sizeof(time.Duration(0)))
	heap := startHeapSampler()
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	start := time.Now()
	next := 0
	for w := range writers {
		n := events / writers
		if w < events%writers {
			n++
		}
		mine := recorded[next : next+n]
		next += n
		wg.Go(func() {
			var name string
			var expected eventstore.ExpectedRevision
			for i := range n {
				if s := stream(w, i); s != name {
					name, expected = s, eventstore.NoStream
				}
				id, err := uuid.NewV7()
				if err != nil {
					errs <- err
					return
				}
				e := ev
				e.ID = id
				began := time.Now()
				res, err := store.Append(ctx, name, expected, e)
				if err != nil {
					errs <- err
					return
				}
				mine[i] = time.Since(began)
				expected = eventstore.Exact(res.NextExpectedRevision)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	peak := heap.stop()
	close(errs)
	if err := <-errs; err != nil {
		return Latencies{}, 0, 0, fmt.Errorf("bench: append: %w", err)
	}
	return SummarizeLatencies(recorded), elapsed, peak - min(peak, own), nil
}

// batchCount is a bolt.Observer that counts batches and events.
type batchCount struct{ batches, events atomic.Int64 }

// ObserveBatch counts one committed batch of events.
func (b *batchCount) ObserveBatch(events, requests int, fsync, total time.Duration) {
	b.batches.Add(1)
	b.events.Add(int64(events))
}

func (b *batchCount) get() (int, int64) { return int(b.batches.Load()), b.events.Load() }
