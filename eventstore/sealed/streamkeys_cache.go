package sealed

import (
	"encoding/json"
	"strconv"
	"time"

	"waystation/eventstore"
)

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
