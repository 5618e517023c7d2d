package sealed

import (
	"crypto/cipher"
	"sync"
)

// keyCache holds opened data keys by ID in shards, so that readers opening
// events on several goroutines at once (requests, subscriptions, a
// rebuild) seldom meet on a lock.
type keyCache struct {
	shards [64]struct {
		mu   sync.RWMutex
		keys map[uint64]cipher.AEAD // guarded by mu
	}
}

func (c *keyCache) get(id uint64) cipher.AEAD {
	sh := &c.shards[id%64]
	sh.mu.RLock()
	k := sh.keys[id]
	sh.mu.RUnlock()
	return k
}

// put caches k; a full shard (maxCached/64 keys) is emptied first.
func (c *keyCache) put(id uint64, k cipher.AEAD) {
	sh := &c.shards[id%64]
	sh.mu.Lock()
	if sh.keys == nil || len(sh.keys) >= maxCached/64 {
		sh.keys = map[uint64]cipher.AEAD{}
	}
	sh.keys[id] = k
	sh.mu.Unlock()
}

func (c *keyCache) remove(id uint64) {
	sh := &c.shards[id%64]
	sh.mu.Lock()
	delete(sh.keys, id)
	sh.mu.Unlock()
}

func (c *keyCache) clear() {
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		sh.keys = nil
		sh.mu.Unlock()
	}
}
