package projections

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
)

// batchSize is how many events are decoded together while catching up.
const batchSize = 1024

// batch is a run of consecutive events of the log, decoded by the decode
// workers and applied in order by one goroutine.
type batch struct {
	recs   []eventstore.RecordedEvent
	envs   []domain.Envelope
	done   chan struct{}
	marker bool // a caught-up marker, with no events
}

// decoder decodes batches of stored events on every core while the caller
// applies earlier batches, in log order. It is what makes a rebuild fast:
// decoding JSON is most of the work.
type decoder struct {
	work    chan *batch
	ordered chan *batch
	wg      sync.WaitGroup
	onError func(rec eventstore.RecordedEvent, err error)
	// keep, when not nil, says from an event's metadata whether its
	// payload is needed; the others come out with a nil Event.
	keep func(domain.Envelope) bool
	// spareRecs and spareEnvs hold the slices of applied batches for
	// reuse, which spares the garbage collector most of a rebuild's
	// allocations.
	spareRecs chan []eventstore.RecordedEvent
	spareEnvs chan []domain.Envelope
}

// newDecoder starts the decode workers. Batches sent with submit come out
// of next in the same order; close stops the workers once drained.
func newDecoder(onError func(eventstore.RecordedEvent, error), keep func(domain.Envelope) bool) *decoder {
	n := max(runtime.GOMAXPROCS(0), 1)
	d := &decoder{
		work:      make(chan *batch, 2*n),
		ordered:   make(chan *batch, 2*n+2),
		onError:   onError,
		keep:      keep,
		spareRecs: make(chan []eventstore.RecordedEvent, 4*n+4),
		spareEnvs: make(chan []domain.Envelope, 4*n+4),
	}
	for range n {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			for b := range d.work {
				d.decode(b)
				close(b.done)
			}
		}()
	}
	return d
}

func (d *decoder) decode(b *batch) {
	b.envs = slices.Grow(b.envs[:0], len(b.recs))[:len(b.recs)]
	for i, rec := range b.recs {
		keep := d.keep
		if keep != nil && referenceType(rec.Type) {
			keep = nil // reference data is kept whatever its date
		}
		env, err := domain.DecodeIf(rec, keep)
		if err != nil {
			d.onError(rec, err)
			// An undecodable event still moves the position on.
			env = domain.Envelope{
				Stream: rec.Stream, Revision: rec.Revision, Position: rec.Position, ID: rec.ID, RecordedAt: rec.RecordedAt,
			}
		}
		b.envs[i] = env
	}
}

// buffer returns an empty slice with room for a batch of events, one that
// an applied batch left when there is one.
func (d *decoder) buffer() []eventstore.RecordedEvent {
	select {
	case recs := <-d.spareRecs:
		return recs
	default:
		return make([]eventstore.RecordedEvent, 0, batchSize)
	}
}

// submit queues recs (which the decoder now owns) for decoding.
func (d *decoder) submit(recs []eventstore.RecordedEvent) {
	b := &batch{recs: recs, done: make(chan struct{})}
	select {
	case b.envs = <-d.spareEnvs:
	default:
	}
	d.ordered <- b
	d.work <- b
}

// release hands back the slices of a batch that was applied and that
// nothing refers to any more.
func (d *decoder) release(b *batch) {
	select {
	case d.spareRecs <- b.recs[:0]:
	default:
	}
	select {
	case d.spareEnvs <- b.envs[:0]:
	default:
	}
	b.recs, b.envs = nil, nil
}

// close stops accepting batches; next drains what was submitted.
func (d *decoder) close() {
	close(d.work)
	close(d.ordered)
}

// wait blocks until the workers have stopped.
func (d *decoder) wait() { d.wg.Wait() }

// readAll reads the global log after from and hands decoded events, in
// order and in batches, to apply, until the end of the log or until stop
// returns true for an event (which is then not applied). Events for which
// keep (when not nil) returns false come with a nil Event. It returns the
// first error of the store or of apply.
func readAll(ctx context.Context, store eventstore.Store, from eventstore.Position,
	onError func(eventstore.RecordedEvent, error), keep func(domain.Envelope) bool,
	stop func(eventstore.Position) bool, apply func([]domain.Envelope) error) error {
	d := newDecoder(onError, keep)
	applyErr := make(chan error, 1)
	var failed atomic.Bool
	go func() {
		var err error
		for b := range d.ordered {
			<-b.done
			if err == nil {
				if err = apply(b.envs); err != nil {
					failed.Store(true)
				}
			}
			d.release(b)
		}
		applyErr <- err
	}()
	var readErr error
	recs := d.buffer()
	for rec, err := range store.ReadAll(ctx, eventstore.ReadAllOptions{From: from}) {
		if err != nil {
			readErr = err
			break
		}
		if failed.Load() || (stop != nil && stop(rec.Position)) {
			break
		}
		recs = append(recs, rec)
		if len(recs) == batchSize {
			d.submit(recs)
			recs = d.buffer()
		}
	}
	if len(recs) > 0 {
		d.submit(recs)
	}
	d.close()
	err := <-applyErr
	d.wait()
	if readErr != nil {
		return readErr
	}
	return err
}

// readCase returns the caseReader of a fold that reads the log with keep
// (see readAll; every event when nil): it reads the case's stream from the
// store and leaves out the events that fold leaves out, those keep drops
// and the undecodable ones.
func (r *Runner) readCase(ctx context.Context, keep func(domain.Envelope) bool) caseReader {
	return func(id uuid.UUID, before uint64) ([]domain.Envelope, error) {
		var out []domain.Envelope
		if before == 0 {
			return out, nil // Limit 0 would read the whole stream
		}
		opts := eventstore.ReadStreamOptions{Limit: int(before)}
		for rec, err := range r.store.ReadStream(ctx, domain.CaseStream(id), opts) {
			if err != nil {
				return nil, err
			}
			if env, err := domain.DecodeIf(rec, keep); err == nil && env.Event != nil {
				out = append(out, env)
			}
		}
		return out, nil
	}
}
