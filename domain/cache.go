package domain

import (
	recency "container/list"
	"sync"

	"github.com/google/uuid"
)

// defaultCachedCases is how many folded cases a Service keeps when
// CachedCases is not set.
const defaultCachedCases = 4096

// caseCache keeps the folded state of the most recently used cases, so that
// a command reads only the events written since the case was last folded.
// A cached state is only ever replaced by a later version of the same
// case; Evolve never modifies a state in place, so a state handed out
// stays valid while the cache moves on. It is safe for concurrent use.
type caseCache struct {
	mu    sync.Mutex
	byID  map[uuid.UUID]*recency.Element // guarded by mu; values are *cachedCase
	order recency.List                   // guarded by mu; most recently used first
}

// cachedCase is one entry of a caseCache.
type cachedCase struct {
	id uuid.UUID
	c  Case
}

// get returns the cached state of case id, if any, and marks it used.
func (cc *caseCache) get(id uuid.UUID) (Case, bool) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	el, ok := cc.byID[id]
	if !ok {
		return Case{}, false
	}
	cc.order.MoveToFront(el)
	return el.Value.(*cachedCase).c, true
}

// put records c as the state of case id unless a later version is already
// cached, and evicts the least recently used case beyond limit cases
// (defaultCachedCases when limit is 0 or less).
func (cc *caseCache) put(id uuid.UUID, c Case, limit int) {
	if limit <= 0 {
		limit = defaultCachedCases
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.byID == nil {
		cc.byID = make(map[uuid.UUID]*recency.Element)
	}
	if el, ok := cc.byID[id]; ok {
		e := el.Value.(*cachedCase)
		if c.Version > e.c.Version {
			e.c = c
		}
		cc.order.MoveToFront(el)
		return
	}
	cc.byID[id] = cc.order.PushFront(&cachedCase{id: id, c: c})
	for cc.order.Len() > limit {
		last := cc.order.Back()
		delete(cc.byID, cc.order.Remove(last).(*cachedCase).id)
	}
}

// drop forgets case id.
func (cc *caseCache) drop(id uuid.UUID) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if el, ok := cc.byID[id]; ok {
		cc.order.Remove(el)
		delete(cc.byID, id)
	}
}
