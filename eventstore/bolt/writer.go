package bolt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/tlog"

	"waystation/eventstore"
	"waystation/eventstore/audit"
)

// headEvery is how often, in events, a signed tree head is kept for good in
// bucketTreeHeads; the latest one is always kept in bucketMeta.
const headEvery = 4096

// maxGather bounds how long the writer waits for callers that are about
// to queue a request.
const maxGather = 500 * time.Microsecond

// request is one unit of work for the writer goroutine. apply runs inside
// the batch transaction; it must make every check before its first write,
// so that a failing request leaves nothing behind. An error from a write is
// wrapped in fatalError and rolls the whole batch back.
type request struct {
	ctx   context.Context
	size  int
	apply func(w *txn) (eventstore.AppendResult, error)
	done  chan response
	// answered is set by submit once it has received the writer's one
	// answer: the writer no longer touches the request, which may then be
	// reused.
	answered bool
}

// appendRequests recycles Append's requests with their answer channels.
// Only answered requests are put back: one whose caller gave up may still
// be answered by the writer.
var appendRequests = sync.Pool{New: func() any { return &request{done: make(chan response, 1)} }}

type response struct {
	result eventstore.AppendResult
	err    error
}

type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }
func (e *fatalError) Unwrap() error { return e.err }

// txn is the state of one batch transaction.
type txn struct {
	tx     *bbolt.Tx
	tails  tailCache
	tree   *treeStore
	head   uint64 // last position assigned so far in this batch
	now    time.Time
	events int
}

// submit hands r to the writer and waits for its answer.
func (s *Store) submit(ctx context.Context, r *request) (eventstore.AppendResult, error) {
	if err := s.check(ctx); err != nil {
		return eventstore.AppendResult{}, err
	}
	r.ctx = ctx
	if r.done == nil {
		r.done = make(chan response, 1)
	}
	select {
	case s.requests <- r:
	case <-s.closing:
		return eventstore.AppendResult{}, eventstore.ErrClosed
	case <-ctx.Done():
		return eventstore.AppendResult{}, fmt.Errorf("eventstore/bolt: %w", ctx.Err())
	}
	select {
	case resp := <-r.done:
		r.answered = true
		return resp.result, resp.err
	case <-s.stopped:
		select {
		case resp := <-r.done:
			r.answered = true
			return resp.result, resp.err
		default:
			return eventstore.AppendResult{}, eventstore.ErrClosed
		}
	case <-ctx.Done():
		// The request may still commit; a retry with the same event IDs
		// finds out without writing twice.
		return eventstore.AppendResult{}, fmt.Errorf("eventstore/bolt: %w", ctx.Err())
	}
}

// write is the writer goroutine: it takes every pending request into one
// transaction, commits it with one fsync, then answers and wakes readers.
func (s *Store) write() {
	defer close(s.stopped)
	var lastCommit time.Duration
	for {
		var first *request
		select {
		case first = <-s.requests:
		case <-s.closing:
			for {
				select {
				case r := <-s.requests:
					r.done <- response{err: eventstore.ErrClosed}
				default:
					return
				}
			}
		}
		batch := []*request{first}
		size := first.size
		// Take every pending request. Callers that are inside Append but
		// not yet queued (they were answered by the last commit and are
		// preparing their next events) are waited for, a quarter of the
		// last commit at most, so that one fsync serves them too instead of
		// the next batch: with many writers this doubles the batch.
		deadline := time.Now().Add(min(lastCommit/4, maxGather))
		for len(batch) < maxBatchRequests && size < maxBatchBytes {
			select {
			case r := <-s.requests:
				batch = append(batch, r)
				size += r.size
				continue
			default:
			}
			if int64(len(batch)) >= s.appending.Load() || !time.Now().Before(deadline) {
				break
			}
			runtime.Gosched()
		}
		began := time.Now()
		s.commit(batch)
		lastCommit = time.Since(began)
	}
}

// commit runs one batch.
func (s *Store) commit(batch []*request) {
	began := time.Now()
	answers := make([]response, len(batch))
	fail := func(err error) {
		for _, r := range batch {
			r.done <- response{err: err}
		}
	}
	tx, err := s.db.Begin(true)
	if err != nil {
		fail(fmt.Errorf("eventstore/bolt: beginning transaction: %w", err))
		return
	}
	// Positions, tree indexes and UUIDv7 event IDs grow: fill their pages
	// instead of splitting them in half.
	for _, name := range [][]byte{bucketLog, bucketTree, bucketEventIDs} {
		tx.Bucket(name).FillPercent = 1.0
	}
	rollback := func() {
		tx.Rollback()
		clear(s.tails)
	}
	w := &txn{tx: tx, tails: s.tails, tree: newTreeStore(tx), head: readHead(tx), now: s.opts.Now().UTC()}
	start := w.head
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			answers[i].err = fmt.Errorf("eventstore/bolt: %w", err)
			continue
		}
		answers[i].result, answers[i].err = r.apply(w)
		var fatal *fatalError
		if errors.As(answers[i].err, &fatal) {
			rollback()
			fail(fmt.Errorf("eventstore/bolt: batch rolled back: %w", fatal.err))
			return
		}
	}
	if w.head != start {
		err := w.tree.flush()
		if err == nil {
			err = tx.Bucket(bucketMeta).Put(metaHead, u64(w.head))
		}
		if err != nil {
			rollback()
			fail(fmt.Errorf("eventstore/bolt: batch rolled back: %w", err))
			return
		}
		if err := s.sealTree(w, start); err != nil {
			rollback()
			fail(fmt.Errorf("eventstore/bolt: batch rolled back: %w", err))
			return
		}
	}
	committing := time.Now()
	if err := tx.Commit(); err != nil {
		clear(s.tails)
		fail(fmt.Errorf("eventstore/bolt: commit: %w", err))
		return
	}
	done := time.Now()
	s.head.Store(w.head)
	for i, r := range batch {
		r.done <- answers[i]
	}
	s.wake()
	if s.opts.Observer != nil {
		s.opts.Observer.ObserveBatch(w.events, len(batch), done.Sub(committing), done.Sub(began))
	}
}

// sealTree signs the tree head of the batch and stores it.
func (s *Store) sealTree(w *txn, start uint64) error {
	root, err := audit.TreeHash(int64(w.head), w.tree)
	if err != nil {
		return fmt.Errorf("tree hash: %w", err)
	}
	sth, err := s.signer.Sign(tlog.Tree{N: int64(w.head), Hash: root})
	if err != nil {
		return err
	}
	if err := w.tx.Bucket(bucketMeta).Put(metaLatestHead, sth.Note); err != nil {
		return err
	}
	if w.head/headEvery != start/headEvery {
		return w.tx.Bucket(bucketTreeHeads).Put(u64(w.head), sth.Note)
	}
	return nil
}

// registerVerifier records vkey among the keys that signed heads here.
func registerVerifier(tx *bbolt.Tx, vkey string) error {
	b := tx.Bucket(bucketMeta)
	list := b.Get(metaVerifiers)
	for _, line := range bytes.Split(list, []byte("\n")) {
		if string(line) == vkey {
			return nil
		}
	}
	next := append(append([]byte(nil), list...), vkey...)
	return b.Put(metaVerifiers, append(next, '\n'))
}

// prepared is an event made ready for the writer by the caller's
// goroutine: its record encoded with revision and time left zero (the
// writer fills them in) and its payload digests computed.
type prepared struct {
	id                 uuid.UUID
	typ                string
	record             []byte
	dataHash, metaHash [sha256.Size]byte
}

// Append implements eventstore.Store.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	s.appending.Add(1)
	defer s.appending.Add(-1)
	if err := validateStream(stream); err != nil {
		return eventstore.AppendResult{}, err
	}
	size := 0
	batch := make([]prepared, len(events))
	for i, e := range events {
		switch {
		case e.ID == uuid.Nil:
			return eventstore.AppendResult{}, fmt.Errorf("%w: event %d has no ID", eventstore.ErrInvalid, i)
		case e.Type == "" || len(e.Type) > MaxTypeName:
			return eventstore.AppendResult{}, fmt.Errorf("%w: event %d: type must have 1 to %d bytes", eventstore.ErrInvalid, i, MaxTypeName)
		case len(e.Data)+len(e.Metadata) > MaxEventSize:
			return eventstore.AppendResult{}, fmt.Errorf("%w: event %d is larger than %d bytes", eventstore.ErrInvalid, i, MaxEventSize)
		}
		for j := range i {
			if events[j].ID == e.ID {
				return eventstore.AppendResult{}, fmt.Errorf("%w: event ID %s appears twice", eventstore.ErrInvalid, e.ID)
			}
		}
		batch[i] = prepared{
			id:       e.ID,
			typ:      e.Type,
			record:   encodeRecord(&eventstore.RecordedEvent{ID: e.ID, Stream: stream, Type: e.Type, Data: e.Data, Metadata: e.Metadata}),
			dataHash: sha256.Sum256(e.Data),
			metaHash: sha256.Sum256(e.Metadata),
		}
		size += len(batch[i].record)
	}
	r := appendRequests.Get().(*request)
	r.size = size
	r.apply = func(w *txn) (eventstore.AppendResult, error) { return w.append(stream, expected, batch) }
	res, err := s.submit(ctx, r)
	if r.answered {
		*r = request{done: r.done}
		appendRequests.Put(r)
	}
	return res, err
}

// Delete implements eventstore.Store. Deleting a missing stream returns
// ErrStreamNotFound (after checking expected).
func (s *Store) Delete(ctx context.Context, stream string, expected eventstore.ExpectedRevision) error {
	if err := validateStream(stream); err != nil {
		return err
	}
	_, err := s.submit(ctx, &request{apply: func(w *txn) (eventstore.AppendResult, error) {
		return eventstore.AppendResult{}, w.delete(stream, expected, false)
	}})
	return err
}

// Tombstone implements eventstore.Store. A stream that was never written
// can be tombstoned, which reserves its name for good.
func (s *Store) Tombstone(ctx context.Context, stream string, expected eventstore.ExpectedRevision) error {
	if err := validateStream(stream); err != nil {
		return err
	}
	_, err := s.submit(ctx, &request{apply: func(w *txn) (eventstore.AppendResult, error) {
		return eventstore.AppendResult{}, w.delete(stream, expected, true)
	}})
	return err
}

// SaveCheckpoint implements eventstore.CheckpointStore; the position is
// durable when it returns.
func (s *Store) SaveCheckpoint(ctx context.Context, name string, pos eventstore.Position) error {
	if name == "" || len(name) > MaxStreamName {
		return fmt.Errorf("%w: checkpoint name must have 1 to %d bytes", eventstore.ErrInvalid, MaxStreamName)
	}
	_, err := s.submit(ctx, &request{apply: func(w *txn) (eventstore.AppendResult, error) {
		if err := w.tx.Bucket(bucketCheckpoints).Put([]byte(name), encodePosition(pos)); err != nil {
			return eventstore.AppendResult{}, &fatalError{err}
		}
		return eventstore.AppendResult{}, nil
	}})
	return err
}

// DeleteCheckpoint implements eventstore.CheckpointStore.
func (s *Store) DeleteCheckpoint(ctx context.Context, name string) error {
	_, err := s.submit(ctx, &request{apply: func(w *txn) (eventstore.AppendResult, error) {
		if err := w.tx.Bucket(bucketCheckpoints).Delete([]byte(name)); err != nil {
			return eventstore.AppendResult{}, &fatalError{err}
		}
		return eventstore.AppendResult{}, nil
	}})
	return err
}

// LoadCheckpoint implements eventstore.CheckpointStore.
func (s *Store) LoadCheckpoint(ctx context.Context, name string) (eventstore.Position, bool, error) {
	if err := s.check(ctx); err != nil {
		return eventstore.Position{}, false, err
	}
	var pos eventstore.Position
	var found bool
	err := s.view(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketCheckpoints).Get([]byte(name))
		if v == nil {
			return nil
		}
		p, err := decodePosition(v)
		pos, found = p, err == nil
		return err
	})
	return pos, found, err
}

func validateStream(stream string) error {
	if stream == "" || len(stream) > MaxStreamName || strings.IndexByte(stream, 0) >= 0 {
		return fmt.Errorf("%w: stream name must have 1 to %d bytes and no NUL", eventstore.ErrInvalid, MaxStreamName)
	}
	return nil
}

func (w *txn) stream(name string) (streamState, error) {
	st, err := loadStream(w.tx, name)
	if err != nil {
		return st, &fatalError{err}
	}
	return st, nil
}

// checkExpected returns a *WrongExpectedVersionError when st does not meet
// expected.
func checkExpected(stream string, expected eventstore.ExpectedRevision, st streamState) error {
	exists := st.exists()
	var ok bool
	switch r, exact := expected.Revision(); {
	case expected.IsAny():
		ok = true
	case expected.IsNoStream():
		ok = !exists
	case expected.IsStreamExists():
		ok = exists
	case exact:
		ok = exists && st.next-1 == r
	}
	if ok {
		return nil
	}
	e := &eventstore.WrongExpectedVersionError{Stream: stream, Expected: expected, ActualExists: exists}
	if exists {
		e.Actual = st.next - 1
	}
	return e
}

func (w *txn) append(stream string, expected eventstore.ExpectedRevision, events []prepared) (eventstore.AppendResult, error) {
	st, err := w.stream(stream)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	if st.tombstoned {
		return eventstore.AppendResult{}, fmt.Errorf("%w: %s", eventstore.ErrStreamDeleted, stream)
	}
	idB := w.tx.Bucket(bucketEventIDs)
	if len(events) > 0 {
		var stored []uint64
		for _, e := range events {
			if v := idB.Get(e.id[:]); v != nil {
				stored = append(stored, beUint64(v))
			}
		}
		switch {
		case len(stored) == len(events):
			return w.replay(stream, expected, st, stored)
		case len(stored) > 0:
			return eventstore.AppendResult{}, fmt.Errorf("%w: %d of %d events already stored", eventstore.ErrIdempotencyConflict, len(stored), len(events))
		}
	}
	if err := checkExpected(stream, expected, st); err != nil {
		return eventstore.AppendResult{}, err
	}
	if len(events) == 0 {
		if !st.exists() {
			return eventstore.AppendResult{}, nil
		}
		return eventstore.AppendResult{NextExpectedRevision: st.next - 1, Position: eventstore.At(st.last)}, nil
	}
	logB := w.tx.Bucket(bucketLog)
	now := uint64(w.now.UnixNano())
	for i := range events {
		e := &events[i]
		w.head++
		rev := st.next + uint64(i)
		binary.BigEndian.PutUint64(e.record[offRevision:], rev)
		binary.BigEndian.PutUint64(e.record[offRecordedAt:], now)
		binary.BigEndian.PutUint64(e.record[offPrevious:], st.last)
		st.last = w.head
		pos := u64(w.head)
		if err := logB.Put(pos, e.record); err != nil {
			return eventstore.AppendResult{}, &fatalError{err}
		}
		if err := idB.Put(e.id[:], pos); err != nil {
			return eventstore.AppendResult{}, &fatalError{err}
		}
		leaf := audit.Leaf{
			Position: eventstore.At(w.head), Stream: stream, Revision: rev, EventID: e.id, Type: e.typ,
			RecordedAt: w.now, DataHash: e.dataHash, MetadataHash: e.metaHash,
		}
		if err := w.tree.add(int64(w.head-1), leaf.Hash()); err != nil {
			return eventstore.AppendResult{}, &fatalError{err}
		}
		w.events++
	}
	w.tails.appended(stream, st, w.head-uint64(len(events))+1, len(events))
	st.next += uint64(len(events))
	if err := saveStream(w.tx, stream, st, w.tails); err != nil {
		return eventstore.AppendResult{}, &fatalError{err}
	}
	return eventstore.AppendResult{NextExpectedRevision: st.next - 1, Position: eventstore.At(w.head)}, nil
}

// replay answers a retried append whose events are all stored at the given
// positions: the original result when they sit, in order, at the place the
// request names, ErrIdempotencyConflict otherwise.
func (w *txn) replay(stream string, expected eventstore.ExpectedRevision, st streamState, positions []uint64) (eventstore.AppendResult, error) {
	logB := w.tx.Bucket(bucketLog)
	var first, last eventstore.RecordedEvent
	for i, p := range positions {
		e, err := decodeRecord(p, logB.Get(u64(p)))
		if err != nil {
			return eventstore.AppendResult{}, &fatalError{err}
		}
		if e.Stream != stream || (i > 0 && e.Revision != last.Revision+1) {
			return eventstore.AppendResult{}, fmt.Errorf("%w: events stored at another place", eventstore.ErrIdempotencyConflict)
		}
		if i == 0 {
			first = e
		}
		last = e
	}
	r, exact := expected.Revision()
	switch {
	case exact && first.Revision != r+1,
		expected.IsNoStream() && first.Revision != 0 && first.Revision != st.liveFrom:
		return eventstore.AppendResult{}, fmt.Errorf("%w: events stored at another revision", eventstore.ErrIdempotencyConflict)
	}
	return eventstore.AppendResult{NextExpectedRevision: last.Revision, Position: last.Position}, nil
}

func (w *txn) delete(stream string, expected eventstore.ExpectedRevision, tombstone bool) error {
	st, err := w.stream(stream)
	if err != nil {
		return err
	}
	if st.tombstoned {
		return fmt.Errorf("%w: %s", eventstore.ErrStreamDeleted, stream)
	}
	if err := checkExpected(stream, expected, st); err != nil {
		return err
	}
	if tombstone {
		st.tombstoned = true
	} else {
		if !st.exists() {
			return fmt.Errorf("%w: %s", eventstore.ErrStreamNotFound, stream)
		}
		st.liveFrom = st.next
	}
	if err := saveStream(w.tx, stream, st, w.tails); err != nil {
		return &fatalError{err}
	}
	return nil
}
