package sealed

import (
	"context"
	"crypto/cipher"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"waystation/eventstore"
)

// StreamKeys keeps one AES-256 data key per data subject in the event
// store itself, so that every replica of a cluster seals and opens with
// the same keys and an erasure on one replica holds on all. It implements
// Keys.
//
// Layout. The key of subject S lives in stream "waystation-key-S", one
// event holding the key's ID and the key wrapped (AES-GCM) by the master
// key, bound to the ID and the subject as associated data. The stream is
// created with eventstore.NoStream, so when two replicas race to give S a
// key, one append wins and the loser reads (and uses) the winner's key.
// Key IDs are drawn at random (63 bits, never 0) by each replica with no
// coordination: the ID is claimed first by creating the stream
// "waystation-keyid-ID" (NoStream again, so a collision is noticed and the
// ID drawn again), whose one event names the subject; KeyByID of a key
// made by another replica reads that stream, then the subject's. A claim
// whose key stream was never written (the replica lost the race, or
// stopped in between) names a key that seals nothing.
//
// Erasure. Destroy tombstones the subjects' key streams (which also keeps
// an erased subject from ever getting a new key) and the ID streams of
// their keys, evicts the keys from this replica's memory, and then appends
// one event naming the subjects and key IDs to "waystation-keys-erased".
// Every StreamKeys follows that stream and evicts what it names. Opened
// keys are cached in memory (a bounded cache, emptied when full); any key
// not cached is read from the store, where a tombstoned stream is never
// opened again. So another replica may keep opening an erased person's
// values from its cache only until its subscription delivers the erasure
// event (normally within moments; WaitForErasure waits for it); while the
// subscription is down the replica caches nothing and reads every key from
// the store.
//
// Physical removal. A tombstoned stream's events stay in the cluster's
// files (and $all) until a scavenge removes them; EventStore-Client-Go v4
// cannot start a scavenge, so the operator schedules them
// (docs/privacy.md). Until then the erased key is still on disk, wrapped by the
// master key.
//
// Every replica must be given the same master key: OpenStreamKeys checks
// it against a check value the first replica wrote, and refuses another.
type StreamKeys struct {
	store  eventstore.Store
	master cipher.AEAD

	ctx  context.Context // cancelled by Close
	stop context.CancelFunc
	done chan struct{} // closed when the erasure follower returns

	mu        sync.RWMutex
	bySubject map[string]*streamKey // guarded by mu
	byID      map[uint64]*streamKey // guarded by mu
	erased    map[string]bool       // subjects known to be erased; guarded by mu
	// unannounced are subjects whose keys this replica destroyed but
	// whose erasure it could not yet announce; guarded by mu.
	unannounced map[string]bool
	waiters     map[string][]chan struct{} // WaitForErasure calls; guarded by mu
	epoch       uint64                     // bumped by every eviction; guarded by mu
	following   bool                       // the erasure follower is live; guarded by mu
	closed      bool                       // guarded by mu
}

// streamKey is one opened data key and the subject it was given to.
type streamKey struct {
	id      uint64
	subject string
	aead    cipher.AEAD
}

// OpenStreamKeys opens the key store kept in store with master, a 32-byte
// key that every replica sharing store must be given. The first replica
// writes a check value; a master key that does not open it is
// ErrMasterKey. store must be the store as it holds events (not a sealed
// Store). OpenStreamKeys returns once it follows the erasure events; Close
// stops it and does not close store.
func OpenStreamKeys(ctx context.Context, store eventstore.Store, master []byte) (*StreamKeys, error) {
	if len(master) != 32 {
		return nil, ErrMasterKey
	}
	m, err := newAEAD(master)
	if err != nil {
		return nil, err
	}
	ks := &StreamKeys{store: store, master: m, done: make(chan struct{}),
		bySubject: map[string]*streamKey{}, byID: map[uint64]*streamKey{},
		erased: map[string]bool{}, waiters: map[string][]chan struct{}{}}
	if err := ks.checkMaster(ctx); err != nil {
		return nil, err
	}
	from, err := nextRevision(ctx, store, erasureStream)
	if err != nil {
		return nil, fmt.Errorf("sealed: key streams: %w", err)
	}
	ks.ctx, ks.stop = context.WithCancel(context.Background())
	live := make(chan struct{})
	go ks.follow(from, live)
	select {
	case <-live:
		return ks, nil
	case <-ctx.Done():
		ks.Close()
		return nil, fmt.Errorf("sealed: key streams: following erasures: %w", ctx.Err())
	}
}

// checkMaster writes the check value when the store has none, and checks
// that master opens it.
func (ks *StreamKeys) checkMaster(ctx context.Context) error {
	for range 3 {
		rec, err := firstEvent(ctx, ks.store, checkStream)
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			w, err := wrapWith(ks.master, []byte(checkText), checkText)
			if err != nil {
				return err
			}
			_, err = ks.store.Append(
				ctx, checkStream, eventstore.NoStream, newEvent(typeMasterCheck, map[string]string{"check": string(w)}),
			)
			if err != nil && !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
				return fmt.Errorf("sealed: key streams: writing the master key check: %w", err)
			}
			continue // read back what won
		}
		if err != nil {
			return fmt.Errorf("sealed: key streams: reading the master key check: %w", err)
		}
		var c struct {
			Check string `json:"check"`
		}
		if err := json.Unmarshal(rec.Data, &c); err != nil {
			return ErrMasterKey
		}
		if _, err := unwrapWith(ks.master, []byte(c.Check), checkText); err != nil {
			return fmt.Errorf("%w: it is not the master key the other replicas of this store use", ErrMasterKey)
		}
		return nil
	}
	return fmt.Errorf("sealed: key streams: the master key check could not be written")
}

// SubjectKey implements Keys. A key not cached is read from the store;
// with create, a subject without one is given a fresh key, or the key of
// the replica that gave it one first.
func (ks *StreamKeys) SubjectKey(subject string, create bool) (uint64, cipher.AEAD, error) {
	if err := checkSubject(subject); err != nil {
		return 0, nil, err
	}
	k, epoch, erased, err := ks.cached(subject, 0)
	switch {
	case err != nil:
		return 0, nil, err
	case erased:
		return 0, nil, ErrErased
	case k != nil:
		return k.id, k.aead, nil
	}
	ctx, cancel := context.WithTimeout(ks.ctx, streamOpTimeout)
	defer cancel()
	for {
		k, err := ks.readSubject(ctx, subject)
		switch {
		case errors.Is(err, ErrNoKey) && create:
			k, err = ks.create(ctx, subject)
			if errors.Is(err, errLostRace) {
				continue // read the winner's key
			}
		case errors.Is(err, ErrErased):
			ks.evict([]string{subject}, nil)
		}
		if err != nil {
			return 0, nil, ks.closedOr(err)
		}
		ok, err := ks.cache(k, epoch)
		if err != nil {
			return 0, nil, err
		}
		if ok {
			return k.id, k.aead, nil
		}
		_, epoch, _, _ = ks.cached(subject, 0)
	}
}

// KeyByID implements Keys: a key not cached is found through the stream
// that names its subject, then the subject's key stream.
func (ks *StreamKeys) KeyByID(id uint64) (cipher.AEAD, error) {
	k, epoch, _, err := ks.cached("", id)
	if err != nil {
		return nil, err
	}
	if k != nil {
		return k.aead, nil
	}
	ctx, cancel := context.WithTimeout(ks.ctx, streamOpTimeout)
	defer cancel()
	for {
		rec, err := firstEvent(ctx, ks.store, keyIDStream(id))
		if errors.Is(err, eventstore.ErrStreamNotFound) || errors.Is(err, eventstore.ErrStreamDeleted) {
			return nil, ErrNoKey
		}
		if err != nil {
			return nil, ks.closedOr(fmt.Errorf("sealed: reading a data key ID: %w", err))
		}
		var claim struct {
			Subject string `json:"subject"`
		}
		if err := json.Unmarshal(rec.Data, &claim); err != nil || checkSubject(claim.Subject) != nil {
			return nil, errors.New("sealed: a data key ID event is malformed")
		}
		k, err := ks.readSubject(ctx, claim.Subject)
		switch {
		case errors.Is(err, ErrErased):
			ks.evict([]string{claim.Subject}, []uint64{id})
			return nil, ErrNoKey
		case err != nil:
			return nil, ks.closedOr(err)
		case k.id != id:
			return nil, ErrNoKey // a claim whose key was never written
		}
		ok, err := ks.cache(k, epoch)
		if err != nil {
			return nil, err
		}
		if ok {
			return k.aead, nil
		}
		_, epoch, _, _ = ks.cached("", id)
	}
}

// Destroy implements Keys: it tombstones the subjects' key streams and the
// ID streams of their keys and of ids, evicts them here, and then records
// the erasure for the other replicas. When Destroy returns without error
// no replica reads the keys from the store again, and every replica
// evicts them from its cache once it sees the erasure event.
func (ks *StreamKeys) Destroy(subjects []string, ids ...uint64) error {
	for _, s := range subjects {
		if err := checkSubject(s); err != nil {
			return err
		}
	}
	if _, _, _, err := ks.cached("", 0); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ks.ctx, streamOpTimeout)
	defer cancel()
	for _, s := range subjects {
		rec, err := firstEvent(ctx, ks.store, keyStreamPrefix+s)
		if err == nil {
			var ev dataKeyEvent
			if json.Unmarshal(rec.Data, &ev) == nil {
				if id, err := strconv.ParseUint(ev.KeyID, 10, 64); err == nil {
					ids = append(ids, id)
				}
			}
		} else if !errors.Is(err, eventstore.ErrStreamNotFound) && !errors.Is(err, eventstore.ErrStreamDeleted) {
			return ks.closedOr(fmt.Errorf("sealed: reading a data key: %w", err))
		}
		// A tombstone on a subject that never had a key keeps it from
		// getting one.
		if err := tombstone(ctx, ks.store, keyStreamPrefix+s); err != nil {
			return ks.closedOr(err)
		}
	}
	for _, id := range ids {
		if err := tombstone(ctx, ks.store, keyIDStream(id)); err != nil {
			return ks.closedOr(err)
		}
	}
	ks.evict(subjects, ids)
	if err := ks.announce(ctx, subjects, ids); err != nil {
		// Erased reports these subjects as not erased, and announces them
		// again, until an announcement succeeds.
		ks.mu.Lock()
		if ks.unannounced == nil {
			ks.unannounced = map[string]bool{}
		}
		for _, s := range subjects {
			ks.unannounced[s] = true
		}
		ks.mu.Unlock()
		return ks.closedOr(err)
	}
	return nil
}

// announce records the destruction of the subjects' keys and of the keys
// numbered ids on the erasure stream, which every replica follows to evict
// them from its cache.
func (ks *StreamKeys) announce(ctx context.Context, subjects []string, ids []uint64) error {
	ev := keysDestroyedEvent{Subjects: subjects, KeyIDs: make([]string, len(ids))}
	if ev.Subjects == nil {
		ev.Subjects = []string{}
	}
	for i, id := range ids {
		ev.KeyIDs[i] = strconv.FormatUint(id, 10)
	}
	if _, err := ks.store.Append(ctx, erasureStream, eventstore.Any, newEvent(typeKeysDestroyed, ev)); err != nil {
		return fmt.Errorf("sealed: recording an erasure for the other replicas: %w", err)
	}
	return nil
}

// Erased implements Keys: it reports whether subject's erasure is done,
// its key destroyed and the destruction announced to the other replicas.
// A subject whose announcement failed here, or whose key stream is
// tombstoned without this replica having heard of it (an erasure that
// stopped between the two), is announced again first, and reported not
// erased when that fails, so that the retention job erases it again. A
// subject not known here to be erased is looked up in the store; a failed
// lookup reports false.
func (ks *StreamKeys) Erased(subject string) bool {
	ctx, cancel := context.WithTimeout(ks.ctx, streamOpTimeout)
	defer cancel()
	ks.mu.RLock()
	pending := ks.unannounced[subject]
	ks.mu.RUnlock()
	if pending {
		if ks.announce(ctx, []string{subject}, nil) != nil {
			return false
		}
		ks.mu.Lock()
		delete(ks.unannounced, subject)
		ks.mu.Unlock()
		return true
	}
	_, _, erased, err := ks.cached(subject, 0)
	if err != nil || erased {
		return erased
	}
	_, err = firstEvent(ctx, ks.store, keyStreamPrefix+subject)
	if errors.Is(err, eventstore.ErrStreamDeleted) {
		// The key is gone from the store, but this replica had not heard
		// of it: the erasure may have stopped between the tombstone and
		// its announcement, and other replicas may still hold the key in
		// their caches. Announce it again (harmless if it was announced):
		// until that succeeds the erasure does not count as done, so the
		// retention job erases again.
		if err := ks.announce(ctx, []string{subject}, nil); err != nil {
			return false
		}
		ks.evict([]string{subject}, nil)
		return true
	}
	return false
}

// Has implements Keys: whether subject's key stream holds a live key. A
// failed lookup reports false.
func (ks *StreamKeys) Has(subject string) bool {
	k, _, erased, err := ks.cached(subject, 0)
	switch {
	case err != nil || erased:
		return false
	case k != nil:
		return true
	}
	ctx, cancel := context.WithTimeout(ks.ctx, streamOpTimeout)
	defer cancel()
	_, err = firstEvent(ctx, ks.store, keyStreamPrefix+subject)
	return err == nil
}

// WaitForErasure returns once this replica knows subject was erased (it
// has seen the erasure event, or read the tombstone) and so no longer
// opens the subject's values with a cached key, or with ctx's error, or
// eventstore.ErrClosed after Close.
func (ks *StreamKeys) WaitForErasure(ctx context.Context, subject string) error {
	ks.mu.Lock()
	if ks.closed {
		ks.mu.Unlock()
		return eventstore.ErrClosed
	}
	if ks.erased[subject] {
		ks.mu.Unlock()
		return nil
	}
	w := make(chan struct{})
	ks.waiters[subject] = append(ks.waiters[subject], w)
	ks.mu.Unlock()
	select {
	case <-w:
		ks.mu.RLock()
		closed := ks.closed
		ks.mu.RUnlock()
		if closed {
			return eventstore.ErrClosed
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops following erasures and forgets every key; it does not close
// the store. Later calls of the other methods fail with
// eventstore.ErrClosed.
func (ks *StreamKeys) Close() error {
	ks.mu.Lock()
	if ks.closed {
		ks.mu.Unlock()
		return nil
	}
	ks.closed = true
	ks.forgetAll()
	for s, ws := range ks.waiters {
		for _, w := range ws {
			close(w)
		}
		delete(ks.waiters, s)
	}
	ks.mu.Unlock()
	if ks.stop != nil {
		ks.stop()
		<-ks.done
	}
	return nil
}

// closedOr returns eventstore.ErrClosed when Close ended the operation,
// else err.
func (ks *StreamKeys) closedOr(err error) error {
	if ks.ctx.Err() != nil {
		return eventstore.ErrClosed
	}
	return err
}
