// Package bolt is Waystation's embedded event store: one bbolt file in the
// data folder, one writer goroutine that commits every pending request in a
// single transaction and fsync (group commit), dense global positions in
// commit order, and a signed Merkle tree over the log (package audit).
package bolt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"waystation/eventstore"
	"waystation/eventstore/audit"
)

// DataFile is the name of the bbolt file inside the data folder.
const DataFile = "events.db"

// Limits on what one append may carry; larger requests fail with
// eventstore.ErrInvalid.
const (
	MaxStreamName = 1024     // bytes in a stream name
	MaxTypeName   = 256      // bytes in an event type
	MaxEventSize  = 16 << 20 // bytes of data plus metadata of one event
)

// Batch limits of the writer: a batch closes when it holds this many
// requests or this many payload bytes, whichever comes first.
const (
	maxBatchRequests = 2048
	maxBatchBytes    = 32 << 20
)

// Options tune a Store. The zero Options is the production configuration.
type Options struct {
	// NoSync skips fsync on commit. For tests only: an acknowledged append
	// may be lost on power failure. Never the default.
	NoSync bool
	// Now is the clock that stamps RecordedAt; time.Now when nil.
	Now func() time.Time
	// Observer, when set, hears about every committed batch.
	Observer Observer
}

// Observer hears about the writer's work, for metrics. Calls come from the
// writer goroutine and must return quickly.
type Observer interface {
	// ObserveBatch reports one committed transaction: how many events and
	// requests it carried, how long its commit (with fsync) took, and how
	// long the whole batch took from the first request taken.
	ObserveBatch(events, requests int, fsync, total time.Duration)
}

// Store is the embedded event store. It implements eventstore.Store and
// eventstore.CheckpointStore and is safe for concurrent use.
type Store struct {
	dir    string
	db     *bbolt.DB
	opts   Options
	signer *audit.Signer

	requests chan *request
	tails    tailCache     // owned by the writer goroutine
	closing  chan struct{} // closed by Close
	stopped  chan struct{} // closed when the writer goroutine has returned
	closeMu  sync.Mutex
	closed   bool // guarded by closeMu

	head      atomic.Uint64 // last committed position
	appending atomic.Int64  // callers inside Append

	notifyMu sync.Mutex
	notify   chan struct{} // guarded by notifyMu; closed and replaced after every commit
}

// Open opens (creating if needed) the store in dir. The folder is made
// mode 0700 (also when it existed with a wider mode: it holds personal data
// and the signing key) and its files 0600. When another process holds the
// store, Open fails at once with an error wrapping eventstore.ErrLocked.
func Open(dir string, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("eventstore/bolt: creating data folder %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("eventstore/bolt: restricting data folder %s to its owner: %w", dir, err)
	}
	db, err := bbolt.Open(filepath.Join(dir, DataFile), 0o600, &bbolt.Options{
		Timeout:        200 * time.Millisecond,
		NoSync:         opts.NoSync,
		FreelistType:   bbolt.FreelistMapType,
		NoFreelistSync: true,
		// Read transactions (reads, subscriptions, Backup) block a write
		// that must grow the memory map; mapping 1 GiB of address space
		// up front keeps that from happening until the file is larger.
		InitialMmapSize: 1 << 30,
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("eventstore/bolt: data folder %s: %w", dir, eventstore.ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("eventstore/bolt: opening %s: %w", filepath.Join(dir, DataFile), err)
	}
	signer, err := audit.LoadOrCreateSigner(dir)
	if err != nil {
		db.Close()
		return nil, err
	}
	s := &Store{
		dir:      dir,
		db:       db,
		opts:     opts,
		signer:   signer,
		requests: make(chan *request, 4096),
		tails:    tailCache{},
		closing:  make(chan struct{}),
		stopped:  make(chan struct{}),
		notify:   make(chan struct{}),
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		s.head.Store(readHead(tx))
		return registerVerifier(tx, signer.VerifierKey())
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("eventstore/bolt: initialising %s: %w", dir, err)
	}
	go s.write()
	return s, nil
}

// Dir returns the data folder.
func (s *Store) Dir() string { return s.dir }

// Close stops the writer after its current batch, fails queued requests
// with eventstore.ErrClosed, ends subscriptions and closes the file. It is
// safe to call more than once.
func (s *Store) Close() error {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return nil
	}
	s.closed = true
	close(s.closing)
	s.closeMu.Unlock()
	<-s.stopped
	s.wake()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("eventstore/bolt: closing: %w", err)
	}
	return nil
}

func (s *Store) isClosed() bool {
	select {
	case <-s.closing:
		return true
	default:
		return false
	}
}

// Head returns the position of the last committed event.
func (s *Store) Head(ctx context.Context) (eventstore.Position, error) {
	if err := s.check(ctx); err != nil {
		return eventstore.Position{}, err
	}
	return eventstore.At(s.head.Load()), nil
}

// check returns ErrClosed or the context's error, wrapped, if either applies.
func (s *Store) check(ctx context.Context) error {
	if s.isClosed() {
		return eventstore.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("eventstore/bolt: %w", err)
	}
	return nil
}

// view runs fn in a read transaction, turning a closed database into
// ErrClosed.
func (s *Store) view(fn func(tx *bbolt.Tx) error) error {
	if s.isClosed() {
		return eventstore.ErrClosed
	}
	err := s.db.View(fn)
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return eventstore.ErrClosed
	}
	return err
}

// changed returns a channel that is closed at the next commit or Close.
func (s *Store) changed() <-chan struct{} {
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()
	return s.notify
}

// wake closes the current notification channel.
func (s *Store) wake() {
	s.notifyMu.Lock()
	close(s.notify)
	s.notify = make(chan struct{})
	s.notifyMu.Unlock()
}

func readHead(tx *bbolt.Tx) uint64 {
	v := tx.Bucket(bucketMeta).Get(metaHead)
	if len(v) != 8 {
		return 0
	}
	return beUint64(v)
}

func beUint64(b []byte) uint64 {
	return uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
		uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
}
