package projections

import (
	"container/heap"

	"waystation/eventstore"
)

// setPosition records that the live views stand at p, when p is later than
// their position, and wakes the waiters p satisfies.
func (r *Runner) setPosition(p eventstore.Position) {
	r.posMu.Lock()
	if r.pos.Before(p) {
		r.pos = p
		// Wake only the waiters this position satisfies: a request
		// waiting for a later write sleeps on.
		for len(r.waiters) > 0 && !p.Before(r.waiters[0].pos) {
			close(heap.Pop(&r.waiters).(*waiter).reached)
		}
	}
	r.posMu.Unlock()
}

// waiter is one WaitFor call: reached is closed once the live views stand
// at pos or later.
type waiter struct {
	pos     eventstore.Position
	reached chan struct{}
	index   int // in the heap, for removal when the wait is abandoned
}

// waiterHeap orders waiters by position, earliest first (container/heap).
type waiterHeap []*waiter

func (h waiterHeap) Len() int { return len(h) }

func (h waiterHeap) Less(i, j int) bool { return h[i].pos.Before(h[j].pos) }

func (h waiterHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}

func (h *waiterHeap) Push(x any) {
	w := x.(*waiter)
	w.index = len(*h)
	*h = append(*h, w)
}

func (h *waiterHeap) Pop() any {
	old := *h
	w := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	w.index = -1
	return w
}

// await returns nil when the live views already stand at pos, else a
// waiter whose channel closes when they do; the caller must call abandon
// if it stops waiting first.
func (r *Runner) await(pos eventstore.Position) *waiter {
	r.posMu.Lock()
	defer r.posMu.Unlock()
	if !r.pos.Before(pos) {
		return nil
	}
	w := &waiter{pos: pos, reached: make(chan struct{})}
	heap.Push(&r.waiters, w)
	return w
}

// abandon forgets a waiter whose caller stopped waiting.
func (r *Runner) abandon(w *waiter) {
	r.posMu.Lock()
	if w.index >= 0 {
		heap.Remove(&r.waiters, w.index)
	}
	r.posMu.Unlock()
}
