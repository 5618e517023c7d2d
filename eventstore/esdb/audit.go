package esdb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"waystation/eventstore"
	"waystation/eventstore/audit"
	"waystation/eventstore/sealed"
)

// AuditIndexFile is the name, inside a replica's data folder, of the file
// that holds the audit index.
const AuditIndexFile = "audit-index.db"

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
		for _, name := range [][]byte{
			auditBucketTree, auditBucketLeaves, auditBucketPositions, auditBucketHeads, auditBucketMeta,
		} {
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

// audited reports whether e is a leaf of the audit tree: every event of
// $all that the store yields except those of the key streams.
func audited(e *eventstore.RecordedEvent) bool { return !sealed.IsKeyStream(e.Stream) }
