package http

import (
	"context"
	"errors"
	"log/slog"
	"sort"
	"sync"
	"time"

	"waystation/domain"
	"waystation/eventstore"
)

// people is the server's index of accounts and their sessions: the
// accounts folded from the access stream (through the token index's
// subscription), the sessions from the recent tail of the sessions stream
// and its subscription, the uses of sessions and the failed logins not yet
// recorded.
type people struct {
	policy domain.SessionPolicy
	now    func() time.Time
	// ended is called with the ID of an account that was disabled or
	// reset, once the index refuses its sessions: the server ends its live
	// streams.
	ended func(account string)

	mu          sync.RWMutex
	accounts    domain.Accounts      // guarded by mu
	sessionsLen uint64               // guarded by mu; events of the sessions stream folded
	changed     chan struct{}        // guarded by mu; closed and replaced at each sessions event
	lastUse     map[string]time.Time // guarded by mu; by session ID, uses not yet recorded
	tallies     map[string]*tally    // guarded by mu; failed logins not yet recorded, by account ID
}

// tally counts the failed logins of one account (or of unknown usernames,
// under "") since they were last recorded.
type tally struct {
	failures    int
	addresses   map[string]bool // at most maxTallyAddresses kept
	lockedUntil time.Time
}

// maxTallyAddresses bounds the addresses one tally remembers; past it the
// record counts the failures and names no address.
const maxTallyAddresses = 64

func newPeople(policy domain.SessionPolicy, now func() time.Time, ended func(string)) *people {
	return &people{policy: policy, now: now, ended: ended, changed: make(chan struct{}),
		lastUse: map[string]time.Time{}, tallies: map[string]*tally{}}
}

// foldAccess applies an access-stream event; for a disabling or a reset it
// then calls ended, outside the lock.
func (p *people) foldAccess(env domain.Envelope) {
	p.mu.Lock()
	p.accounts.Evolve(env)
	p.mu.Unlock()
	switch e := env.Event.(type) {
	case domain.AccountDisabled:
		p.ended(e.ID)
	case domain.AccountReset:
		p.ended(e.ID)
	}
}

// foldSessions applies an event of the sessions stream at its revision.
func (p *people) foldSessions(env domain.Envelope) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.accounts.Evolve(env)
	p.sessionsLen = env.Revision + 1
	close(p.changed)
	p.changed = make(chan struct{})
}

// follow folds the recent tail of the sessions stream (the sessions that
// could still be live), then follows it until ctx ends, resubscribing
// after failures.
func (p *people) follow(ctx context.Context, svc Service, store eventstore.Store, log *slog.Logger) {
	for ctx.Err() == nil {
		var tail domain.Accounts
		n, err := svc.SessionsSince(ctx, &tail, p.now().Add(-p.policy.Absolute))
		if err == nil {
			p.mu.Lock()
			p.accounts.MergeSessions(&tail)
			p.sessionsLen = n
			close(p.changed)
			p.changed = make(chan struct{})
			p.mu.Unlock()
			err = p.subscribe(ctx, store, n, log)
		}
		if errors.Is(err, eventstore.ErrClosed) || ctx.Err() != nil {
			return
		}
		log.Error("following the sessions stream", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (p *people) subscribe(ctx context.Context, store eventstore.Store, from uint64, log *slog.Logger) error {
	for msg, err := range store.SubscribeToStream(ctx, domain.SessionsStream, from) {
		if err != nil {
			return err
		}
		if msg.Event == nil {
			continue
		}
		env, err := domain.Decode(*msg.Event)
		if err != nil {
			log.Error("decoding a sessions event", "position", msg.Event.Position.String(), "err", err)
			continue
		}
		p.foldSessions(env)
	}
	return ctx.Err()
}

// waitFor returns once the index has folded n events of the sessions
// stream, or ctx ends.
func (p *people) waitFor(ctx context.Context, n uint64) error {
	for {
		p.mu.RLock()
		have, ch := p.sessionsLen, p.changed
		p.mu.RUnlock()
		if have >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// authenticate returns the account and session of a live session whose
// cookie secret has digest, and notes the use.
func (p *people) authenticate(digest string) (domain.Account, domain.Session, bool) {
	now := p.now()
	p.mu.RLock()
	s, found := p.accounts.Session(digest)
	acc, se, ok := p.accounts.Authenticate(digest, p.policy, p.lastUse[s.ID], now)
	last := p.lastUse[s.ID]
	p.mu.RUnlock()
	if !found || !ok {
		return domain.Account{}, domain.Session{}, false
	}
	if now.Sub(last) >= time.Second {
		p.mu.Lock()
		p.lastUse[se.ID] = now
		p.mu.Unlock()
	}
	return acc, se, true
}

// live reports whether the session whose cookie secret has digest still
// authenticates.
func (p *people) live(digest string) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	s, _ := p.accounts.Session(digest)
	_, _, ok := p.accounts.Authenticate(digest, p.policy, p.lastUse[s.ID], p.now())
	return ok
}

// account returns the account with id.
func (p *people) account(id string) (domain.Account, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.accounts.Account(id)
}

// names returns the display names of the accounts among ids, by ID (the
// IDs of tokens and unknown actors are left out).
func (p *people) names(ids []string) map[string]string {
	out := make(map[string]string)
	p.mu.RLock()
	defer p.mu.RUnlock()
	for _, id := range ids {
		if _, done := out[id]; done {
			continue
		}
		if acc, ok := p.accounts.Account(id); ok {
			out[id] = acc.Name
		}
	}
	return out
}

// byUsername returns the account whose username is username.
func (p *people) byUsername(username string) (domain.Account, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.accounts.ByUsername(username)
}

// list returns every account, by username.
func (p *people) list() []domain.Account {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.accounts.List()
}

// sessionsVersion returns how many events of the sessions stream the index
// holds.
func (p *people) sessionsVersion() uint64 {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.sessionsLen
}

// failed counts a failed login of account ("" for an unknown username)
// from address; lockedUntil is set when it locked the username.
func (p *people) failed(account, address string, lockedUntil time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.tallies[account]
	if t == nil {
		t = &tally{addresses: map[string]bool{}}
		p.tallies[account] = t
	}
	t.failures++
	if len(t.addresses) < maxTallyAddresses {
		t.addresses[address] = true
	}
	if lockedUntil.After(t.lockedUntil) {
		t.lockedUntil = lockedUntil
	}
}

// record appends what the index holds unrecorded: one SessionsSeen with
// the uses of the sessions since their last record, and one LoginFailed
// per tally. What it could not append stays for the next call.
func (p *people) record(ctx context.Context, svc Service) error {
	p.mu.Lock()
	uses, tallies := p.lastUse, p.tallies
	p.lastUse, p.tallies = map[string]time.Time{}, map[string]*tally{}
	p.mu.Unlock()

	var events []domain.Event
	if len(uses) > 0 {
		seen := domain.SessionsSeen{Sessions: make([]domain.SessionSeen, 0, len(uses))}
		for id, at := range uses {
			seen.Sessions = append(seen.Sessions, domain.SessionSeen{Session: id, At: at.UTC()})
		}
		sort.Slice(seen.Sessions, func(i, j int) bool { return seen.Sessions[i].Session < seen.Sessions[j].Session })
		events = append(events, seen)
	}
	accounts := make([]string, 0, len(tallies))
	for a := range tallies {
		accounts = append(accounts, a)
	}
	sort.Strings(accounts)
	for _, a := range accounts {
		t := tallies[a]
		e := domain.LoginFailed{Account: a, Addresses: len(t.addresses), Failures: t.failures}
		if len(t.addresses) == 1 {
			for addr := range t.addresses {
				e.Address = addr
			}
		}
		if !t.lockedUntil.IsZero() {
			until := t.lockedUntil.UTC()
			e.LockedUntil = &until
		}
		events = append(events, e)
	}
	if len(events) == 0 {
		return nil
	}
	if _, err := svc.RecordSessions(ctx, systemActor, nil, events...); err != nil {
		p.mu.Lock()
		for id, at := range uses {
			if at.After(p.lastUse[id]) {
				p.lastUse[id] = at
			}
		}
		for a, t := range tallies {
			if cur := p.tallies[a]; cur != nil {
				cur.failures += t.failures
			} else {
				p.tallies[a] = t
			}
		}
		p.mu.Unlock()
		return err
	}
	return nil
}

// systemActor is the actor of the records the server writes by itself
// (session uses, failed logins).
var systemActor = domain.Actor{ID: domain.ServiceActorID, Role: domain.RoleAdmin}

// keepRecording calls record every interval until ctx ends, and once more
// then, bounded by a few seconds.
func (p *people) keepRecording(ctx context.Context, svc Service, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			if err := p.record(fctx, svc); err != nil && !errors.Is(err, eventstore.ErrClosed) {
				log.Error("recording session uses and failed logins", "err", err)
			}
			return
		case <-t.C:
			if err := p.record(ctx, svc); err != nil && ctx.Err() == nil {
				log.Error("recording session uses and failed logins", "err", err)
			}
		}
	}
}

// sessionOf returns the session whose cookie secret has digest.
func (p *people) sessionOf(digest string) (domain.Session, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.accounts.Session(digest)
}
