package esdb

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
	"golang.org/x/mod/sumdb/tlog"

	"waystation/eventstore"
	"waystation/eventstore/audit"
	"waystation/eventstore/sealed"
)

// AuditIndexFile is the name, inside a replica's data folder, of the file
// that holds the audit index.
const AuditIndexFile = "audit-index.db"

// auditHeadEvery is how often (in leaves) a signed tree head is kept for
// good, besides the latest one, so that Verify can check many heads.
const auditHeadEvery = 4096

// auditVerifyPage is how many events Verify reads from the cluster before
// checking them in one read transaction of the index.
const auditVerifyPage = 4096

// defaultAuditBatch is how many events Run commits at most in one
// transaction when AuditOptions.MaxBatch is zero.
const defaultAuditBatch = 1024

// Bucket and key names of the index file. Never reorder, rename or reuse.
var (
	auditBucketTree      = []byte("tree")      // storage index (8 bytes) -> tlog hash
	auditBucketLeaves    = []byte("leaves")    // position (16 bytes) -> leaf index (8 bytes)
	auditBucketPositions = []byte("positions") // leaf index (8 bytes) -> position (16 bytes)
	auditBucketHeads     = []byte("heads")     // tree size (8 bytes) -> signed note
	auditBucketMeta      = []byte("meta")

	auditMetaSize       = []byte("size")        // number of leaves
	auditMetaLast       = []byte("last")        // position of the last leaf
	auditMetaLatestHead = []byte("latest-head") // signed note over the whole index
	auditMetaVerifiers  = []byte("verifiers")   // every key that signed here, one a line
)

// AuditOptions tunes OpenAuditIndex. The zero value is the production
// configuration.
type AuditOptions struct {
	// NoSync skips fsync on commit. For tests only: a crash may lose
	// indexed leaves, which Run then indexes again from the cluster.
	NoSync bool
	// MaxBatch is the most events Run indexes in one transaction; zero
	// means 1024.
	MaxBatch int
}

// AuditIndex makes the cluster's global log tamper-evident for one
// replica. It follows $all from its own saved position and keeps, in
// AuditIndexFile in the replica's data folder, the RFC 6962 Merkle tree of
// the events it has seen (each event's leaf is audit.LeafOf, the same as
// on the embedded store), a map from each event's position to its leaf
// index, and tree heads signed with the replica's Ed25519 key
// (audit.LoadOrCreateSigner, in the same folder). It offers the same
// TreeHead, InclusionProof, ConsistencyProof, Verify and VerifierKey as
// the embedded store, so the HTTP layer and `waystation verify` use either
// through one interface.
//
// Leaf indexes are dense: leaf n is the (n+1)th audited event of $all in
// the order of $all. Audited are the events Waystation writes except those
// of the key streams (sealed.IsKeyStream: the data keys of personal data,
// kept in the cluster by sealed.StreamKeys); the server's bookkeeping
// events are not leaves either. Key streams are left out because they are
// not case records and an erasure is completed by a scavenge that removes
// their events from $all: were they leaves, every such scavenge would
// look like tampering, and a replica rebuilding its index after one would
// build another tree. The same rule holds in Run and Verify. The
// cluster's positions are sparse commit/prepare pairs, so leaf indexes
// must be looked up with LeafIndex, never computed from a position.
//
// Trust model. The index is per replica: each replica keeps its own tree,
// signs its own heads with its own key, and vouches only for what it has
// seen. Every event is a leaf exactly once, in $all order, and the leaf
// encodes only what the cluster stores (position, stream, revision, ID,
// type, recorded time and payload digests), so two replicas that follow
// the same $all build the same tree: the same leaves, in the same order,
// with the same root hash at every size; only their signatures differ.
// Comparing two replicas' roots at one size therefore shows whether the
// cluster showed them the same history. A signed head proves that this
// replica had seen exactly those events when it signed; a consistency
// proof between two heads proves the later log extends the earlier one;
// Verify re-reads $all and finds events altered, removed (for example by a
// scavenge of deleted streams) or reordered since the replica indexed
// them. The index cannot tell whether an event was altered in the cluster
// before this replica first saw it: another replica's heads, or an
// inspector's saved heads, are what catch that.
//
// An AuditIndex is safe for concurrent use. Run follows the log; the other
// methods answer from what has been indexed so far.
type AuditIndex struct {
	store    eventstore.Store
	db       *bbolt.DB
	signer   *audit.Signer
	maxBatch int

	// closed is cancelled by Close; running counts Run calls, which Close
	// waits for before closing the file.
	closed    context.Context
	close     context.CancelFunc
	running   sync.WaitGroup
	closeOnce sync.Once

	mu      sync.Mutex
	size    int64               // guarded by mu: leaves indexed
	last    eventstore.Position // guarded by mu: position of the last leaf
	changed chan struct{}       // guarded by mu: closed and replaced when leaves are added
	runs    int                 // guarded by mu: Run calls in progress
}

// OpenAuditIndex opens (creating on first start) the audit index of the
// replica whose data folder is dir, over the cluster store. Nothing is
// indexed until Run. It fails with an error wrapping eventstore.ErrLocked
// when another process holds the index.
func OpenAuditIndex(dir string, store eventstore.Store, opts AuditOptions) (*AuditIndex, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("esdb: audit index folder: %w", err)
	}
	signer, err := audit.LoadOrCreateSigner(dir)
	if err != nil {
		return nil, fmt.Errorf("esdb: audit index: %w", err)
	}
	db, err := bbolt.Open(filepath.Join(dir, AuditIndexFile), 0o600, &bbolt.Options{
		Timeout: 200 * time.Millisecond,
		NoSync:  opts.NoSync,
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("esdb: audit index in %s: %w", dir, eventstore.ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("esdb: opening audit index: %w", err)
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = defaultAuditBatch
	}
	x := &AuditIndex{store: store, db: db, signer: signer, maxBatch: opts.MaxBatch, changed: make(chan struct{})}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{auditBucketTree, auditBucketLeaves, auditBucketPositions, auditBucketHeads, auditBucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		if err := registerAuditVerifier(tx, signer.VerifierKey()); err != nil {
			return err
		}
		meta := tx.Bucket(auditBucketMeta)
		x.size = int64(auditU64(meta.Get(auditMetaSize)))
		x.last = auditPosition(meta.Get(auditMetaLast))
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("esdb: audit index: %w", err)
	}
	x.closed, x.close = context.WithCancel(context.Background())
	return x, nil
}

// Close stops Run (it returns eventstore.ErrClosed), waits for it, and
// closes the index file. Later calls return eventstore.ErrClosed. Close
// does not close the cluster store.
func (x *AuditIndex) Close() error {
	var err error
	x.closeOnce.Do(func() {
		// Cancelling under mu orders Close after any Run that has
		// registered itself, and before any that has not.
		x.mu.Lock()
		x.close()
		x.mu.Unlock()
		x.running.Wait()
		x.mu.Lock()
		close(x.changed) // wakes WaitFor, which then sees the index closed
		x.changed = make(chan struct{})
		x.mu.Unlock()
		err = x.db.Close()
	})
	return err
}

// check returns ErrClosed after Close, or ctx's error.
func (x *AuditIndex) check(ctx context.Context) error {
	if x.closed.Err() != nil {
		return eventstore.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("esdb: audit index: %w", err)
	}
	return nil
}

// Indexed returns how many events the index holds and the position of the
// last one (eventstore.Start when it is empty).
func (x *AuditIndex) Indexed() (int64, eventstore.Position) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.size, x.last
}

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
	for e, err := range x.store.ReadAll(ctx, eventstore.ReadAllOptions{Direction: eventstore.Backwards, From: eventstore.End}) {
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

// VerifierKey returns the public key that checks this replica's signed tree
// heads (the content of audit.PublicKeyFile), for an inspector to pin.
func (x *AuditIndex) VerifierKey() string { return x.signer.VerifierKey() }

// TreeHead returns the signed head of the tree over every event indexed so
// far. For an empty index it signs the empty tree.
func (x *AuditIndex) TreeHead(ctx context.Context) (audit.SignedTreeHead, error) {
	if err := x.check(ctx); err != nil {
		return audit.SignedTreeHead{}, err
	}
	var msg []byte
	var size uint64
	err := x.db.View(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(auditBucketMeta)
		msg = bytes.Clone(meta.Get(auditMetaLatestHead))
		size = auditU64(meta.Get(auditMetaSize))
		return nil
	})
	if err != nil {
		return audit.SignedTreeHead{}, fmt.Errorf("esdb: audit index: %w", err)
	}
	if size == 0 {
		return x.signer.Sign(tlog.Tree{})
	}
	if msg == nil {
		return audit.SignedTreeHead{}, fmt.Errorf("esdb: audit index: %w: no signed tree head for %d events", audit.ErrTampered, size)
	}
	h, err := audit.OpenTreeHead(msg, x.verifierKeys()...)
	if err != nil {
		return audit.SignedTreeHead{}, fmt.Errorf("esdb: audit index: %w", err)
	}
	if uint64(h.Size) != size {
		return audit.SignedTreeHead{}, fmt.Errorf("esdb: audit index: %w: latest signed head has size %d but %d events are indexed", audit.ErrTampered, h.Size, size)
	}
	return h, nil
}

// LeafIndex returns the leaf index of the event at position pos, which an
// inspector passes to audit.CheckInclusion. A position this index does not
// hold returns an error wrapping eventstore.ErrInvalid.
func (x *AuditIndex) LeafIndex(ctx context.Context, pos eventstore.Position) (int64, error) {
	if err := x.check(ctx); err != nil {
		return 0, err
	}
	var n int64 = -1
	err := x.db.View(func(tx *bbolt.Tx) error {
		if v := tx.Bucket(auditBucketLeaves).Get(auditPositionKey(pos)); len(v) == 8 {
			n = int64(auditU64(v))
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("esdb: audit index: %w", err)
	}
	if n < 0 {
		return 0, fmt.Errorf("%w: no event at position %s has been indexed", eventstore.ErrInvalid, pos)
	}
	return n, nil
}

// InclusionProof proves that the event at position pos is leaf
// LeafIndex(pos) of the tree of the first treeSize indexed events. Check it
// offline with audit.CheckInclusion. A position not indexed, or not in a
// tree of that size, returns an error wrapping eventstore.ErrInvalid.
func (x *AuditIndex) InclusionProof(ctx context.Context, pos eventstore.Position, treeSize int64) (tlog.RecordProof, error) {
	n, err := x.LeafIndex(ctx, pos)
	if err != nil {
		return nil, err
	}
	var proof tlog.RecordProof
	err = x.db.View(func(tx *bbolt.Tx) error {
		// The size is read in the transaction that proves, not from
		// Indexed, which Run updates only after its commit: a head that
		// TreeHead has just answered must be provable at once.
		size := int64(auditU64(tx.Bucket(auditBucketMeta).Get(auditMetaSize)))
		if n >= treeSize || treeSize > size {
			return fmt.Errorf("%w: position %s (leaf %d) is not in a tree of size %d (%d events indexed)", eventstore.ErrInvalid, pos, n, treeSize, size)
		}
		var err error
		proof, err = audit.InclusionProof(treeSize, n, auditTreeReader(tx))
		return err
	})
	if errors.Is(err, eventstore.ErrInvalid) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("esdb: audit index: %w", err)
	}
	return proof, nil
}

// ConsistencyProof proves that the tree of the first newSize indexed
// events extends the tree of the first oldSize. Check it offline with
// audit.CheckConsistency. Sizes out of order or beyond the index return an
// error wrapping eventstore.ErrInvalid.
func (x *AuditIndex) ConsistencyProof(ctx context.Context, oldSize, newSize int64) (tlog.TreeProof, error) {
	if err := x.check(ctx); err != nil {
		return nil, err
	}
	var proof tlog.TreeProof
	err := x.db.View(func(tx *bbolt.Tx) error {
		size := int64(auditU64(tx.Bucket(auditBucketMeta).Get(auditMetaSize))) // as in InclusionProof
		if oldSize < 0 || oldSize > newSize || newSize > size {
			return fmt.Errorf("%w: no consistency proof from size %d to %d (%d events indexed)", eventstore.ErrInvalid, oldSize, newSize, size)
		}
		var err error
		proof, err = audit.ConsistencyProof(oldSize, newSize, auditTreeReader(tx))
		return err
	})
	if errors.Is(err, eventstore.ErrInvalid) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("esdb: audit index: %w", err)
	}
	return proof, nil
}

// Verify re-reads $all from the cluster and checks, for every indexed
// event, that it is still at the position the index recorded for its leaf,
// that its recomputed leaf and every tree hash stored with it match the
// index, and that the recomputed tree matches every signed tree head kept
// (each signature against this replica's keys). It returns a report naming
// the first bad position, with an error wrapping audit.ErrTampered when
// the log and the index disagree. Run may continue meanwhile; Verify
// checks the events indexed when it began.
func (x *AuditIndex) Verify(ctx context.Context, pinned ...string) (audit.VerifyReport, error) {
	keys := x.verifierKeys()
	if len(pinned) > 0 {
		keys = pinned
	}
	rep, err := x.verify(ctx, keys)
	rep.Keys, rep.Pinned = keys, len(pinned) > 0
	return rep, err
}

// verify is Verify against the verifier keys given.
func (x *AuditIndex) verify(ctx context.Context, keys []string) (audit.VerifyReport, error) {
	if err := x.check(ctx); err != nil {
		return audit.VerifyReport{}, err
	}
	var size int64
	var heads []audit.SignedTreeHead
	var headErr error
	err := x.db.View(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(auditBucketMeta)
		size = int64(auditU64(meta.Get(auditMetaSize)))
		msgs := [][]byte{bytes.Clone(meta.Get(auditMetaLatestHead))}
		_ = tx.Bucket(auditBucketHeads).ForEach(func(_, v []byte) error {
			msgs = append(msgs, bytes.Clone(v))
			return nil
		})
		heads, headErr = audit.OpenTreeHeads(msgs, size, keys...)
		return nil
	})
	if err != nil {
		return audit.VerifyReport{}, fmt.Errorf("esdb: audit index: %w", err)
	}
	if headErr != nil {
		return audit.VerifyReport{Problem: headErr.Error()}, fmt.Errorf("esdb: audit index: %w: %v", audit.ErrTampered, headErr)
	}
	if size > 0 && len(heads) == 0 {
		return audit.VerifyReport{Problem: "no signed tree head"}, fmt.Errorf("esdb: audit index: %w: no signed tree head", audit.ErrTampered)
	}
	v := audit.NewVerifier(nil, heads)
	page := make([]eventstore.RecordedEvent, 0, auditVerifyPage)
	// check compares one page of cluster events with the index.
	check := func() error {
		return x.db.View(func(tx *bbolt.Tx) error {
			v.SetReader(auditTreeReader(tx))
			positionsB := tx.Bucket(auditBucketPositions)
			for _, e := range page {
				n := v.Events()
				want := auditPosition(positionsB.Get(auditKey(uint64(n))))
				if want != e.Position {
					at := e.Position
					if want.Before(at) && !want.IsZero() {
						at = want // the indexed event is gone from $all
					}
					return v.Fail(at, fmt.Sprintf("leaf %d was indexed at position %s but $all holds position %s there", n, want, e.Position))
				}
				if err := v.Add(e); err != nil {
					return err
				}
			}
			return nil
		})
	}
	var failed error
	if size > 0 {
		for e, err := range x.store.ReadAll(ctx, eventstore.ReadAllOptions{}) {
			if err != nil {
				return audit.VerifyReport{}, fmt.Errorf("esdb: audit index: reading $all: %w", err)
			}
			if !audited(&e) {
				continue
			}
			page = append(page, e)
			if int64(len(page))+v.Events() == size || len(page) == cap(page) {
				if failed = check(); failed != nil {
					break
				}
				page = page[:0]
			}
			if v.Events() == size {
				break
			}
		}
	}
	if failed == nil && len(page) > 0 {
		failed = check()
	}
	if failed == nil && v.Events() < size {
		err := x.db.View(func(tx *bbolt.Tx) error {
			n := v.Events()
			at := auditPosition(tx.Bucket(auditBucketPositions).Get(auditKey(uint64(n))))
			return v.Fail(at, fmt.Sprintf("leaf %d was indexed at position %s but $all ends before it", n, at))
		})
		if !errors.Is(err, audit.ErrTampered) {
			return audit.VerifyReport{}, fmt.Errorf("esdb: audit index: %w", err)
		}
	}
	rep, err := v.Finish()
	if err != nil {
		return rep, fmt.Errorf("esdb: audit index: %w", err)
	}
	return rep, nil
}

// audited reports whether e is a leaf of the audit tree: every event of
// $all that the store yields except those of the key streams.
func audited(e *eventstore.RecordedEvent) bool { return !sealed.IsKeyStream(e.Stream) }

// verifierKeys returns every key that signed heads in this index, the
// current one first.
func (x *AuditIndex) verifierKeys() []string {
	keys := []string{x.signer.VerifierKey()}
	_ = x.db.View(func(tx *bbolt.Tx) error {
		for _, k := range strings.Split(string(tx.Bucket(auditBucketMeta).Get(auditMetaVerifiers)), "\n") {
			if k != "" && k != keys[0] {
				keys = append(keys, k)
			}
		}
		return nil
	})
	return keys
}

// registerAuditVerifier records vkey among the keys that signed heads here.
func registerAuditVerifier(tx *bbolt.Tx, vkey string) error {
	b := tx.Bucket(auditBucketMeta)
	list := b.Get(auditMetaVerifiers)
	for _, line := range bytes.Split(list, []byte("\n")) {
		if string(line) == vkey {
			return nil
		}
	}
	next := append(append([]byte(nil), list...), vkey...)
	return b.Put(auditMetaVerifiers, append(next, '\n'))
}

// auditTreeReader reads stored Merkle hashes from the tree bucket of tx.
func auditTreeReader(tx *bbolt.Tx) tlog.HashReader {
	b := tx.Bucket(auditBucketTree)
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, idx := range indexes {
			v := b.Get(auditKey(uint64(idx)))
			if len(v) != len(tlog.Hash{}) {
				return nil, fmt.Errorf("tree hash %d missing", idx)
			}
			copy(out[i][:], v)
		}
		return out, nil
	})
}

func auditKey(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func auditU64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// auditPositionKey encodes p so that byte order is log order.
func auditPositionKey(p eventstore.Position) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, p.Commit), p.Prepare)
}

func auditPosition(b []byte) eventstore.Position {
	if len(b) != 16 {
		return eventstore.Start
	}
	return eventstore.Position{Commit: binary.BigEndian.Uint64(b), Prepare: binary.BigEndian.Uint64(b[8:])}
}
