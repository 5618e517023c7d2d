package credential

import (
	"sync"
	"time"
)

// Throttle counts failed logins per key (a username, a client address) and
// locks a key after MaxFailures failures within Window: for FirstLock, then
// twice as long at each failure after a lock ended, up to MaxLock. Success
// does not clear a key: failures age out of the window. The zero Throttle
// is not usable; make one with NewThrottle.
type Throttle struct {
	MaxFailures int
	Window      time.Duration
	FirstLock   time.Duration
	MaxLock     time.Duration
	// MaxKeys bounds the keys kept; past it, keys with no failure in the
	// window are dropped first, then the oldest.
	MaxKeys int
	Now     func() time.Time

	mu   sync.Mutex // guards keys
	keys map[string]*failures
}

// failures is the record of one key: the times of its failures in the
// window (oldest first), and its current lock.
type failures struct {
	at          []time.Time
	lockedUntil time.Time
	lock        time.Duration // the length of the last lock, 0 before any
}

// NewThrottle returns a Throttle of max failures within window, locking
// for one minute at first and at most an hour, reading time from now.
func NewThrottle(max int, window time.Duration, now func() time.Time) *Throttle {
	return &Throttle{MaxFailures: max, Window: window, FirstLock: time.Minute, MaxLock: time.Hour,
		MaxKeys: 100_000, Now: now, keys: map[string]*failures{}}
}

// Locked returns how long the first locked key of keys stays locked, or 0
// when none is.
func (t *Throttle) Locked(keys ...string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.Now()
	for _, k := range keys {
		if f := t.keys[k]; f != nil && now.Before(f.lockedUntil) {
			return f.lockedUntil.Sub(now)
		}
	}
	return 0
}

// Fail records a failure of every key, and returns the keys it locked now
// (each once per lock) and the longest lock now in force among keys.
func (t *Throttle) Fail(keys ...string) (locked []string, retryAfter time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.Now()
	for _, k := range keys {
		f := t.keys[k]
		if f == nil {
			t.makeRoom(now)
			f = &failures{}
			t.keys[k] = f
		}
		f.age(now, t.Window)
		f.at = append(f.at, now)
		if len(f.at) > t.MaxFailures {
			f.at = f.at[len(f.at)-t.MaxFailures:]
		}
		if len(f.at) >= t.MaxFailures && !now.Before(f.lockedUntil) {
			f.lock = min(max(2*f.lock, t.FirstLock), t.MaxLock)
			f.lockedUntil = now.Add(f.lock)
			locked = append(locked, k)
		}
		if now.Before(f.lockedUntil) {
			retryAfter = max(retryAfter, f.lockedUntil.Sub(now))
		}
	}
	return locked, retryAfter
}

// age drops failures older than window before now; once none is left and
// the lock has ended, the key starts over at FirstLock.
func (f *failures) age(now time.Time, window time.Duration) {
	i := 0
	for i < len(f.at) && now.Sub(f.at[i]) >= window {
		i++
	}
	f.at = f.at[i:]
	if len(f.at) == 0 && !now.Before(f.lockedUntil) && now.Sub(f.lockedUntil) >= window {
		f.lock = 0
	}
}

// makeRoom keeps the number of keys under MaxKeys: when full, it drops the
// keys with nothing left in force and, if that frees less than a tenth,
// arbitrary keys down to nine tenths, so that a flood of new keys costs
// amortized constant time; memory's bound wins over a dropped key's count.
// The caller holds t.mu.
func (t *Throttle) makeRoom(now time.Time) {
	if len(t.keys) < t.MaxKeys {
		return
	}
	for k, f := range t.keys {
		f.age(now, t.Window)
		if len(f.at) == 0 && !now.Before(f.lockedUntil) {
			delete(t.keys, k)
		}
	}
	for k := range t.keys {
		if len(t.keys) < t.MaxKeys*9/10 {
			break
		}
		delete(t.keys, k)
	}
}
