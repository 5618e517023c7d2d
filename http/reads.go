package http

import (
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
)

// recordRead writes a read of case id by an inspector, coordinator or
// admin to the access log (the access-log stream), by the rule of
// recordReads.
func (s *Server) recordRead(r *http.Request, id uuid.UUID) error {
	return s.recordReads(r, []uuid.UUID{id})
}

// accessLogBatch is the most access-log entries recordReads writes in one
// append. An entry is about 370 bytes, so 256 of them are about 95 KiB:
// well under EventStoreDB's default maximum append of 1 MiB, which one
// append of a whole page would pass at about 2,600 entries (a page of
// repeat visitors can show more cases than that), failing every such read.
const accessLogBatch = 256

// accessLogMemory is the most reads a server remembers as recorded (see
// readMemory): about 170 bytes each, some 22 MiB at most.
const accessLogMemory = 1 << 17

// recordReads records that the request's actor, an inspector, coordinator
// or admin, was shown each case of ids through the request's route. Staff
// reads of their own station's cases are not recorded.
//
// What a read is, for the access log: the reader (the token's ID, the
// principal) was shown the case's data through one route (the route
// template: /v1/cases/{id}, /v1/events/stream, ...). Answers are shown
// once the read is recorded (a refused or failed read records nothing, a
// read that cannot be recorded is not shown); the live stream of the log
// records the cases of what it has written to the connection, once the
// write is flushed, never what is only queued (see streamEvents).
//
// The window rule: an entry (reader, case, route, time T) stands for the
// reader's reads of that case through that route until T plus the window
// (Config.AccessLogWindow, one hour by default). A read is recorded unless
// this server has recorded the same reader, case and route less than a
// window ago, so for every read the log holds an entry of the same reader,
// case and route at most one window earlier: an inspector asking who read a
// case, and when, learns every reader and route, each time to within the
// window. The log grows by at most one entry per reader, case and route per
// window, per server: a reconnecting stream, a refreshed page or a second
// stream of the same token add nothing new. The memory is per process and
// bounded (accessLogMemory entries, the oldest forgotten first): a restart,
// another replica or a forgotten read records the read again, which makes
// the log longer, never untrue. Concurrent reads of the same case wait for
// one another's entry rather than writing two.
//
// Entries are written in order, in appends of at most accessLogBatch (the
// server's batch, which tests may lower), all before recordReads returns.
// When an append fails, the entries of the earlier appends stay written: a
// read may be recorded that was then not shown, never the other way round.
func (s *Server) recordReads(r *http.Request, ids []uuid.UUID) error {
	a := actorOf(r)
	if len(ids) == 0 || !loggedReader(a.Role) {
		return nil
	}
	route := routeOf(r)
	// A read waiting for another's entry whose append failed writes its
	// own; three rounds of failures are the store's, not a race.
	for range 3 {
		now := s.now().UTC()
		mine, flight, waits := s.reads.claim(a.ID, route, ids, now)
		written, err := s.appendReads(r, a, route, now, mine)
		s.reads.settle(a.ID, route, mine, flight, written, now)
		if err != nil {
			return err
		}
		ids = ids[:0:0]
		for _, w := range waits {
			select {
			case <-w.flight.done:
			case <-r.Context().Done():
				return domain.Internal(r.Context().Err(), "recording the read in the access log")
			}
			if !w.written() {
				ids = append(ids, w.id)
			}
		}
		if len(ids) == 0 {
			return nil
		}
	}
	return domain.Internal(errors.New("another read's entry failed three times"), "recording the read in the access log")
}

// appendReads appends one entry per case of ids and returns how many of
// ids it wrote (all, unless it fails).
func (s *Server) appendReads(
	r *http.Request, a domain.Actor, route string, now time.Time, ids []uuid.UUID,
) (int, error) {
	meta := domain.Metadata{
		OccurredAt: now, RecordedAt: now, Actor: a.ID, Role: a.Role, Region: a.Region,
		CorrelationID: requestIDOf(r.Context()), LegalBasis: domain.BasisStatutoryDuty,
	}
	events := make([]eventstore.EventData, 0, len(ids))
	for _, id := range ids {
		evID, err := uuid.NewV7()
		if err != nil {
			return 0, domain.Internal(err, "no event ID")
		}
		data, err := domain.Encode(evID, domain.CaseRead{CaseID: id.String(), Reader: a.ID, Role: a.Role, Route: route}, meta)
		if err != nil {
			return 0, domain.Internal(err, "encoding the access log entry")
		}
		events = append(events, data)
	}
	written := 0
	for batch := range slices.Chunk(events, s.accessLogBatch) {
		if _, err := s.cfg.Store.Append(r.Context(), domain.CaseReadsStream, eventstore.Any, batch...); err != nil {
			return written, domain.Internal(err, "recording the read in the access log")
		}
		written += len(batch)
	}
	return written, nil
}

// readKey is one reader's reads of one case through one route.
type readKey struct {
	reader, route string
	id            uuid.UUID
}

// readFlight is one recordReads call's append of the entries it claimed:
// done closes once the append has ended, having written the first written
// of them.
type readFlight struct {
	done    chan struct{}
	written int // set before done closes
}

// readMark is the access-log entry of a readKey: being written by flight
// (as its index-th entry) until the flight is done, then written at at.
type readMark struct {
	seq    uint64 // tells a mark from the one that replaced it
	at     time.Time
	flight *readFlight // nil once written
	index  int
}

// readWait is a read that waits for another call's entry.
type readWait struct {
	id     uuid.UUID
	flight *readFlight
	index  int
}

// written reports whether the entry w waited for was written.
func (w readWait) written() bool { return w.index < w.flight.written }

// readMemory remembers the entries the server has written lately, for the
// window rule of recordReads: at most max of them (about 170 bytes each),
// each for window.
type readMemory struct {
	window time.Duration
	max    int

	mu    sync.Mutex
	seq   uint64               // guarded by mu
	marks map[readKey]readMark // guarded by mu
	// order is the written marks, oldest first, from head on; an item
	// whose mark has since been replaced is skipped.
	order []readOrder // guarded by mu
	head  int         // guarded by mu
}

type readOrder struct {
	key readKey
	seq uint64
}

func newReadMemory(window time.Duration, max int) *readMemory {
	return &readMemory{window: window, max: max, marks: map[readKey]readMark{}}
}

// claim sorts ids, read by reader through route at now, into those the
// caller is to record (marked as being written by the flight it returns)
// and those whose entry another call is writing; the rest are recorded
// within the window already.
func (m *readMemory) claim(
	reader, route string, ids []uuid.UUID, now time.Time,
) (mine []uuid.UUID, f *readFlight, waits []readWait) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range ids {
		k := readKey{reader: reader, route: route, id: id}
		if mk, ok := m.marks[k]; ok {
			if mk.flight != nil {
				waits = append(waits, readWait{id: id, flight: mk.flight, index: mk.index})
				continue
			}
			if now.Sub(mk.at) < m.window {
				continue
			}
		}
		if f == nil {
			f = &readFlight{done: make(chan struct{})}
		}
		m.seq++
		m.marks[k] = readMark{seq: m.seq, flight: f, index: len(mine)}
		mine = append(mine, id)
	}
	return mine, f, waits
}

// settle ends flight f, which claim returned for mine: its first written
// entries were written at now, the others not (and are forgotten).
func (m *readMemory) settle(reader, route string, mine []uuid.UUID, f *readFlight, written int, now time.Time) {
	if f == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, id := range mine {
		k := readKey{reader: reader, route: route, id: id}
		if i >= written {
			delete(m.marks, k)
			continue
		}
		mk := m.marks[k]
		mk.at, mk.flight = now, nil
		m.marks[k] = mk
		m.order = append(m.order, readOrder{key: k, seq: mk.seq})
	}
	f.written = written
	close(f.done)
	m.forget(now)
}

// forget drops the marks older than the window, and the oldest ones while
// more than max are kept.
func (m *readMemory) forget(now time.Time) {
	for m.head < len(m.order) {
		o := m.order[m.head]
		mk, ok := m.marks[o.key]
		if !ok || mk.seq != o.seq {
			m.head++
			continue
		}
		if len(m.marks) <= m.max && now.Sub(mk.at) < m.window {
			break
		}
		delete(m.marks, o.key)
		m.head++
	}
	if m.head > len(m.order)/2 {
		m.order = append(m.order[:0], m.order[m.head:]...)
		m.head = 0
	}
}

// loggedReader reports whether reads by role go to the access log: those
// of inspectors, coordinators and admins.
func loggedReader(role domain.Role) bool {
	return role == domain.RoleInspector || role == domain.RoleCoordinator || role == domain.RoleAdmin
}

// caseReads collects the cases whose events a read of the log shows, each
// once, in order of first appearance.
type caseReads struct {
	ids  []uuid.UUID
	seen map[uuid.UUID]bool
}

// add notes the case of stream, if stream is a case's.
func (c *caseReads) add(stream string) {
	id, ok := domain.CaseIDOf(stream)
	if !ok || c.seen[id] {
		return
	}
	if c.seen == nil {
		c.seen = map[uuid.UUID]bool{}
	}
	c.seen[id] = true
	c.ids = append(c.ids, id)
}

// take returns the cases noted since the last take and forgets them.
func (c *caseReads) take() []uuid.UUID {
	ids := c.ids
	c.ids, c.seen = nil, nil
	return ids
}
