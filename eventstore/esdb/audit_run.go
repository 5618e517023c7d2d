package esdb

import (
	"context"
	"errors"
	"fmt"

	bbolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/tlog"

	"waystation/eventstore"
	"waystation/eventstore/audit"
)

// auditHeadEvery is how often (in leaves) a signed tree head is kept for
// good, besides the latest one, so that Verify can check many heads.
const auditHeadEvery = 4096

// defaultAuditBatch is how many events Run commits at most in one
// transaction when AuditOptions.MaxBatch is zero.
const defaultAuditBatch = 1024

// Run follows $all from after the last indexed event, adds every event as
// the next leaf, and seals every transaction it commits with a signed tree
// head, so that the latest head always covers everything indexed. It runs
// until ctx is cancelled (it then returns nil) or Close (ErrClosed), or
// returns the error that stopped it; a dropped subscription is resumed by
// the store, not reported. Only one Run may be in progress at a time;
// after Run returns, calling it again resumes where it stopped.
func (x *AuditIndex) Run(ctx context.Context) error {
	x.mu.Lock()
	if x.runs > 0 {
		x.mu.Unlock()
		return errors.New("esdb: audit index is already running")
	}
	if x.closed.Err() != nil {
		x.mu.Unlock()
		return eventstore.ErrClosed
	}
	x.runs++
	x.running.Add(1)
	from := x.last
	x.mu.Unlock()
	defer func() {
		x.mu.Lock()
		x.runs--
		x.mu.Unlock()
		x.running.Done()
	}()

	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(x.closed, cancel)
	defer stop()
	feed := make(chan eventstore.RecordedEvent, x.maxBatch)
	failed := make(chan error, 1)
	go func() {
		defer close(feed)
		for m, err := range x.store.SubscribeToAll(ctx, from) {
			if err != nil {
				failed <- err
				return
			}
			if m.Event == nil || !audited(m.Event) {
				continue
			}
			select {
			case feed <- *m.Event:
			case <-ctx.Done():
				return
			}
		}
	}()
	// finish stops the subscription and waits for its goroutine.
	finish := func(err error) error {
		cancel()
		for range feed {
		}
		if x.closed.Err() != nil {
			return eventstore.ErrClosed
		}
		return err
	}
	for {
		e, ok := <-feed
		if !ok {
			select {
			case err := <-failed:
				return finish(fmt.Errorf("esdb: audit index: following $all: %w", err))
			default:
				return finish(nil)
			}
		}
		batch := []eventstore.RecordedEvent{e}
	drain:
		for len(batch) < x.maxBatch {
			select {
			case e, ok := <-feed:
				if !ok {
					break drain
				}
				batch = append(batch, e)
			default:
				break drain
			}
		}
		if err := x.add(batch); err != nil {
			return finish(err)
		}
	}
}

// add indexes batch in one transaction and seals it with a signed head.
func (x *AuditIndex) add(batch []eventstore.RecordedEvent) error {
	var size int64
	var last eventstore.Position
	err := x.db.Update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(auditBucketMeta)
		treeB := tx.Bucket(auditBucketTree)
		leavesB := tx.Bucket(auditBucketLeaves)
		positionsB := tx.Bucket(auditBucketPositions)
		size = int64(auditU64(meta.Get(auditMetaSize)))
		last = auditPosition(meta.Get(auditMetaLast))
		start := size
		hashes := auditTreeReader(tx)
		for _, e := range batch {
			if size > 0 && !last.Before(e.Position) {
				continue // delivered again; already a leaf
			}
			hs, err := audit.StoredHashes(size, audit.LeafOf(e), hashes)
			if err != nil {
				return err
			}
			at := tlog.StoredHashIndex(0, size)
			for i := range hs {
				if err := treeB.Put(auditKey(uint64(at+int64(i))), hs[i][:]); err != nil {
					return err
				}
			}
			if err := leavesB.Put(auditPositionKey(e.Position), auditKey(uint64(size))); err != nil {
				return err
			}
			if err := positionsB.Put(auditKey(uint64(size)), auditPositionKey(e.Position)); err != nil {
				return err
			}
			size++
			last = e.Position
		}
		if size == start {
			return nil
		}
		if err := meta.Put(auditMetaSize, auditKey(uint64(size))); err != nil {
			return err
		}
		if err := meta.Put(auditMetaLast, auditPositionKey(last)); err != nil {
			return err
		}
		root, err := audit.TreeHash(size, hashes)
		if err != nil {
			return err
		}
		sth, err := x.signer.Sign(tlog.Tree{N: size, Hash: root})
		if err != nil {
			return err
		}
		if err := meta.Put(auditMetaLatestHead, sth.Note); err != nil {
			return err
		}
		if size/auditHeadEvery != start/auditHeadEvery {
			return tx.Bucket(auditBucketHeads).Put(auditKey(uint64(size)), sth.Note)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("esdb: audit index: adding %d events: %w", len(batch), err)
	}
	x.mu.Lock()
	if size != x.size {
		x.size, x.last = size, last
		close(x.changed)
		x.changed = make(chan struct{})
	}
	x.mu.Unlock()
	return nil
}

// WaitFor waits until the index holds the event at position pos (a
// position the store returned for a Waystation event, such as an
// AppendResult's) and returns a signed head whose tree includes it. It
// needs Run to be in progress, and returns ctx's error if the event is not
// indexed before ctx ends.
func (x *AuditIndex) WaitFor(ctx context.Context, pos eventstore.Position) (audit.SignedTreeHead, error) {
	for {
		if err := x.check(ctx); err != nil {
			return audit.SignedTreeHead{}, err
		}
		x.mu.Lock()
		last, changed := x.last, x.changed
		x.mu.Unlock()
		if !last.Before(pos) {
			return x.TreeHead(ctx)
		}
		select {
		case <-changed:
		case <-ctx.Done():
		}
	}
}

// CatchUp waits until the index holds every audited event that the store
// held when CatchUp was called, so that a replica that stops indexes the
// events it wrote (an access-log entry appended just before the last
// answer among them). It needs Run to be in progress, and returns ctx's
// error if the index does not get there before ctx ends.
func (x *AuditIndex) CatchUp(ctx context.Context) error {
	for e, err := range x.store.ReadAll(
		ctx, eventstore.ReadAllOptions{Direction: eventstore.Backwards, From: eventstore.End},
	) {
		if err != nil {
			return err
		}
		if audited(&e) {
			_, err := x.WaitFor(ctx, e.Position)
			return err
		}
	}
	return nil
}
