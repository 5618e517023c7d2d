package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

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
