package sealed

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"waystation/eventstore"
)

// KeyStreamPrefix begins the name of every stream StreamKeys writes. The
// rule "a stream whose name begins with KeyStreamPrefix is a key stream"
// is the one place that says which streams are the key store's records
// and not case records: Store leaves them out of the global log it shows,
// and the esdb audit index leaves them out of its Merkle tree (a scavenge
// removes erased keys from the cluster, which must not look like
// tampering). No domain stream begins with it.
const KeyStreamPrefix = "waystation-key"

// IsKeyStream reports whether stream is one of the key store's streams.
func IsKeyStream(stream string) bool { return strings.HasPrefix(stream, KeyStreamPrefix) }

// Stored names of the key streams and their event types. Never rename or
// reuse: replicas and stored keys depend on them.
const (
	keyStreamPrefix   = KeyStreamPrefix + "-"        // + subject: the subject's wrapped data key
	keyIDStreamPrefix = KeyStreamPrefix + "id-"      // + key ID (decimal): the subject the key was given to
	erasureStream     = KeyStreamPrefix + "s-erased" // one event per Destroy: what every replica evicts
	checkStream       = KeyStreamPrefix + "s-check"  // the check text, wrapped by the master key

	typeDataKey       = "waystation.data_key"
	typeDataKeyID     = "waystation.data_key_id"
	typeKeysDestroyed = "waystation.data_keys_destroyed"
	typeMasterCheck   = "waystation.master_key_check"
)

// streamOpTimeout bounds one read or write of the key streams, which the
// Keys methods make without a context of the caller's.
const streamOpTimeout = 30 * time.Second

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

// dataKeyEvent is the data of a key stream's event.
type dataKeyEvent struct {
	KeyID   string `json:"key_id"`
	Wrapped string `json:"wrapped"`
}

// keysDestroyedEvent is the data of an erasure event.
type keysDestroyedEvent struct {
	Subjects []string `json:"subjects"`
	KeyIDs   []string `json:"key_ids"`
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
			_, err = ks.store.Append(ctx, checkStream, eventstore.NoStream, newEvent(typeMasterCheck, map[string]string{"check": string(w)}))
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

// follow subscribes to the erasure events from revision from and evicts
// what each names; live is closed at the first caught-up marker. While the
// subscription is down nothing is cached. It returns when Close cancels
// ks.ctx.
func (ks *StreamKeys) follow(from uint64, live chan struct{}) {
	defer close(ks.done)
	pause := 100 * time.Millisecond
	for ks.ctx.Err() == nil {
		for m, err := range ks.store.SubscribeToStream(ks.ctx, erasureStream, from) {
			if err != nil {
				break
			}
			if m.CaughtUp {
				ks.mu.Lock()
				ks.following = true
				ks.mu.Unlock()
				if live != nil {
					close(live)
					live = nil
				}
				pause = 100 * time.Millisecond
				continue
			}
			if m.Event == nil {
				continue
			}
			from = m.Event.Revision + 1
			var ev keysDestroyedEvent
			if json.Unmarshal(m.Event.Data, &ev) != nil {
				continue
			}
			ids := make([]uint64, 0, len(ev.KeyIDs))
			for _, s := range ev.KeyIDs {
				if id, err := strconv.ParseUint(s, 10, 64); err == nil {
					ids = append(ids, id)
				}
			}
			ks.evict(ev.Subjects, ids)
		}
		// The subscription ended: until it is live again, erasures made
		// elsewhere would go unseen, so forget every key and cache none.
		ks.mu.Lock()
		ks.following = false
		ks.forgetAll()
		ks.mu.Unlock()
		select {
		case <-ks.ctx.Done():
		case <-time.After(pause):
		}
		pause = min(2*pause, 5*time.Second)
	}
}

// forgetAll empties the caches; the caller holds mu.
func (ks *StreamKeys) forgetAll() {
	ks.bySubject = map[string]*streamKey{}
	ks.byID = map[uint64]*streamKey{}
	ks.epoch++
}

// evict forgets the keys of subjects and the keys numbered ids, and
// remembers the subjects as erased.
func (ks *StreamKeys) evict(subjects []string, ids []uint64) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.epoch++
	for _, s := range subjects {
		if k := ks.bySubject[s]; k != nil {
			delete(ks.byID, k.id)
			delete(ks.bySubject, s)
		}
		if len(ks.erased) >= maxCached {
			ks.erased = map[string]bool{}
		}
		ks.erased[s] = true
		for _, w := range ks.waiters[s] {
			close(w)
		}
		delete(ks.waiters, s)
	}
	for _, id := range ids {
		if k := ks.byID[id]; k != nil {
			delete(ks.bySubject, k.subject)
			delete(ks.byID, id)
		}
	}
}

// cache keeps k when no eviction happened since epoch was read and the
// follower is live, and reports whether no eviction happened (when one
// did, the caller reads the key again: it may have been the one erased).
func (ks *StreamKeys) cache(k *streamKey, epoch uint64) (bool, error) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	switch {
	case ks.closed:
		return false, eventstore.ErrClosed
	case ks.epoch != epoch:
		return false, nil
	case !ks.following:
		return true, nil // fresh from the store: usable once, not kept
	}
	if len(ks.byID) >= maxCached {
		// Emptied for room: nothing erased is involved, so no new epoch.
		ks.bySubject = map[string]*streamKey{}
		ks.byID = map[uint64]*streamKey{}
	}
	ks.byID[k.id] = k
	ks.bySubject[k.subject] = k
	return true, nil
}

// cached returns the cached key of subject (or of id, when subject is
// empty), the eviction epoch, and whether subject is known to be erased.
func (ks *StreamKeys) cached(subject string, id uint64) (k *streamKey, epoch uint64, erased bool, err error) {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	if ks.closed {
		return nil, 0, false, eventstore.ErrClosed
	}
	if subject != "" {
		return ks.bySubject[subject], ks.epoch, ks.erased[subject], nil
	}
	return ks.byID[id], ks.epoch, false, nil
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

// errLostRace: another replica gave the subject a key first.
var errLostRace = errors.New("sealed: another replica created the key first")

// readSubject reads and opens subject's key from its stream: ErrErased
// when the stream is tombstoned, ErrNoKey when there is none.
func (ks *StreamKeys) readSubject(ctx context.Context, subject string) (*streamKey, error) {
	rec, err := firstEvent(ctx, ks.store, keyStreamPrefix+subject)
	switch {
	case errors.Is(err, eventstore.ErrStreamDeleted):
		return nil, ErrErased
	case errors.Is(err, eventstore.ErrStreamNotFound):
		return nil, ErrNoKey
	case err != nil:
		return nil, fmt.Errorf("sealed: reading a data key: %w", err)
	}
	var ev dataKeyEvent
	if err := json.Unmarshal(rec.Data, &ev); err != nil {
		return nil, fmt.Errorf("sealed: a data key event is malformed: %w", err)
	}
	id, err := strconv.ParseUint(ev.KeyID, 10, 64)
	if err != nil {
		return nil, errors.New("sealed: a data key event is malformed")
	}
	raw, err := unwrapWith(ks.master, []byte(ev.Wrapped), streamKeyLabel(id, subject))
	if err != nil {
		return nil, err
	}
	defer clear(raw)
	aead, err := newAEAD(raw)
	if err != nil {
		return nil, err
	}
	return &streamKey{id: id, subject: subject, aead: aead}, nil
}

// create gives subject a fresh key: it claims a random ID, then writes the
// key stream. errLostRace means another replica wrote it first.
func (ks *StreamKeys) create(ctx context.Context, subject string) (*streamKey, error) {
	var id uint64
	for attempt := 0; ; attempt++ {
		if attempt == 8 {
			return nil, errors.New("sealed: no free data key ID after 8 draws")
		}
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		if id = binary.BigEndian.Uint64(b[:]) >> 1; id == 0 {
			continue
		}
		_, err := ks.store.Append(ctx, keyIDStream(id), eventstore.NoStream, newEvent(typeDataKeyID, map[string]string{"subject": subject}))
		if err == nil {
			break
		}
		if !errors.Is(err, eventstore.ErrWrongExpectedVersion) && !errors.Is(err, eventstore.ErrStreamDeleted) {
			return nil, fmt.Errorf("sealed: claiming a data key ID: %w", err)
		}
	}
	raw := make([]byte, 32)
	defer clear(raw)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	w, err := wrapWith(ks.master, raw, streamKeyLabel(id, subject))
	if err != nil {
		return nil, err
	}
	_, err = ks.store.Append(ctx, keyStreamPrefix+subject, eventstore.NoStream,
		newEvent(typeDataKey, dataKeyEvent{KeyID: strconv.FormatUint(id, 10), Wrapped: string(w)}))
	switch {
	case errors.Is(err, eventstore.ErrWrongExpectedVersion):
		// The claimed ID seals nothing: release it (a failure leaves a
		// harmless claim).
		_ = ks.store.Tombstone(ctx, keyIDStream(id), eventstore.Any)
		return nil, errLostRace
	case errors.Is(err, eventstore.ErrStreamDeleted):
		_ = ks.store.Tombstone(ctx, keyIDStream(id), eventstore.Any)
		return nil, ErrErased
	case err != nil:
		return nil, fmt.Errorf("sealed: writing a data key: %w", err)
	}
	aead, err := newAEAD(raw)
	if err != nil {
		return nil, err
	}
	return &streamKey{id: id, subject: subject, aead: aead}, nil
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

// streamKeyLabel binds a wrapped key to its ID and subject.
func streamKeyLabel(id uint64, subject string) string {
	return "key:" + strconv.FormatUint(id, 10) + ":" + subject
}

func keyIDStream(id uint64) string { return keyIDStreamPrefix + strconv.FormatUint(id, 10) }

// newEvent returns an event of type typ whose data is v as JSON.
func newEvent(typ string, v any) eventstore.EventData {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err) // v is one of this file's own types
	}
	return eventstore.EventData{ID: uuid.Must(uuid.NewV7()), Type: typ, Data: data, Metadata: []byte(`{}`)}
}

// firstEvent returns the first event of stream, or the store's error
// (eventstore.ErrStreamNotFound, eventstore.ErrStreamDeleted, ...).
func firstEvent(ctx context.Context, store eventstore.Store, stream string) (eventstore.RecordedEvent, error) {
	for rec, err := range store.ReadStream(ctx, stream, eventstore.ReadStreamOptions{Limit: 1}) {
		return rec, err
	}
	return eventstore.RecordedEvent{}, eventstore.ErrStreamNotFound
}

// nextRevision returns the revision after the last event of stream (0
// when it has none).
func nextRevision(ctx context.Context, store eventstore.Store, stream string) (uint64, error) {
	for rec, err := range store.ReadStream(ctx, stream, eventstore.ReadStreamOptions{Direction: eventstore.Backwards, From: eventstore.StreamEnd, Limit: 1}) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		return rec.Revision + 1, nil
	}
	return 0, nil
}

// tombstone tombstones stream whatever its state; one already tombstoned
// is not an error.
func tombstone(ctx context.Context, store eventstore.Store, stream string) error {
	err := store.Tombstone(ctx, stream, eventstore.Any)
	if err == nil || errors.Is(err, eventstore.ErrStreamDeleted) {
		return nil
	}
	return fmt.Errorf("sealed: destroying a data key: %w", err)
}

// wrapWith seals plain under master, bound to label, and returns it as
// base64 (nonce then sealed bytes).
func wrapWith(master cipher.AEAD, plain []byte, label string) ([]byte, error) {
	nonce := make([]byte, master.NonceSize(), master.NonceSize()+len(plain)+master.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	sealed := master.Seal(nonce, nonce, plain, []byte(label))
	out := make([]byte, base64.RawStdEncoding.EncodedLen(len(sealed)))
	base64.RawStdEncoding.Encode(out, sealed)
	return out, nil
}

// unwrapWith opens what wrapWith returned; any failure is ErrMasterKey.
func unwrapWith(master cipher.AEAD, enc []byte, label string) ([]byte, error) {
	raw := make([]byte, base64.RawStdEncoding.DecodedLen(len(enc)))
	n, err := base64.RawStdEncoding.Decode(raw, enc)
	if err != nil || n < master.NonceSize() {
		return nil, ErrMasterKey
	}
	ns := master.NonceSize()
	plain, err := master.Open(nil, raw[:ns], raw[ns:n], []byte(label))
	if err != nil {
		return nil, ErrMasterKey
	}
	return plain, nil
}
