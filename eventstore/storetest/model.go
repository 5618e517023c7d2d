package storetest

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"waystation/eventstore"
)

// model is the Store contract of eventstore.go held in memory, as plainly
// as it can be written: a map of streams, each every event ever appended
// to it (the revision is the index) with the first revision still live,
// and the global log in commit order. The model-based case asks it what
// every operation must answer and what every read must yield, and holds
// the store to it. Positions are the store's to choose: the model learns
// each one the first time the store shows it and from then on holds the
// store to it and to the log's order.
type model struct {
	// keepRevision: the backend's DeletedStreamsKeepTheirRevision limit.
	keepRevision bool
	name         func(stream string) string // how failure messages name a stream
	streams      map[string]*modelStream
	log          []*modelEvent // every event appended in this run, in commit order
}

// modelStream is one stream of the model.
type modelStream struct {
	events     []*modelEvent // every event ever appended, revision = index
	liveFrom   uint64        // revisions below were soft-deleted
	tombstoned bool
}

// modelEvent is one appended event of the model.
type modelEvent struct {
	data     eventstore.EventData
	stream   string
	revision uint64
	index    int                 // place in model.log
	position eventstore.Position // zero until the store has shown it
}

func newModel(name func(string) string) *model {
	return &model{name: name, streams: map[string]*modelStream{}}
}

// stream returns the stream's state; a stream never written is the zero
// state (missing).
func (m *model) stream(name string) *modelStream {
	s := m.streams[name]
	if s == nil {
		s = &modelStream{}
		m.streams[name] = s
	}
	return s
}

// next is the revision the stream's next event gets.
func (s *modelStream) next() uint64 { return uint64(len(s.events)) }

// exists reports whether the stream has at least one live event.
// deleted reports whether the stream was soft-deleted and not recreated.
func (s *modelStream) deleted() bool { return !s.tombstoned && s.next() > 0 && s.liveFrom == s.next() }

// keepsRevision reports whether, under DeletedStreamsKeepTheirRevision, a
// write with expected succeeds on s although s is missing: s is deleted
// and expected names its last deleted revision.
func (m *model) keepsRevision(s *modelStream, expected eventstore.ExpectedRevision) bool {
	r, exact := expected.Revision()
	return m.keepRevision && s.deleted() && exact && r == s.next()-1
}

func (s *modelStream) exists() bool { return !s.tombstoned && s.next() > s.liveFrom }

// live returns the stream's readable events.
func (s *modelStream) live() []*modelEvent {
	if !s.exists() {
		return nil
	}
	return s.events[s.liveFrom:]
}

// last returns the stream's last live event, or nil when it is missing.
func (s *modelStream) last() *modelEvent {
	if !s.exists() {
		return nil
	}
	return s.events[len(s.events)-1]
}

// outcome is what an operation must answer: nil, ErrStreamDeleted,
// ErrStreamNotFound, or a wrong expected version with the actual state.
type outcome struct {
	err          error // nil, ErrStreamDeleted, ErrStreamNotFound or ErrWrongExpectedVersion
	actual       uint64
	actualExists bool
}

func (o outcome) String() string {
	switch {
	case o.err == nil:
		return "ok"
	case errors.Is(o.err, eventstore.ErrWrongExpectedVersion) && o.actualExists:
		return fmt.Sprintf("wrong expected version (actual revision %d)", o.actual)
	case errors.Is(o.err, eventstore.ErrWrongExpectedVersion):
		return "wrong expected version (actual: no stream)"
	}
	return o.err.Error()
}

// check returns the outcome of checking expected against the stream: ok,
// or a wrong expected version carrying the stream's actual state.
func (s *modelStream) check(expected eventstore.ExpectedRevision) outcome {
	ok := false
	switch r, exact := expected.Revision(); {
	case expected.IsAny():
		ok = true
	case expected.IsNoStream():
		ok = !s.exists()
	case expected.IsStreamExists():
		ok = s.exists()
	case exact:
		ok = s.exists() && s.next()-1 == r
	}
	if ok {
		return outcome{}
	}
	o := outcome{err: eventstore.ErrWrongExpectedVersion, actualExists: s.exists()}
	if s.exists() {
		o.actual = s.next() - 1
	}
	return o
}

// append applies an append of events with fresh IDs, returning what the
// store must answer. For a written append, the result's position is left
// zero: the store picks it (after every earlier one). An empty append
// answers the stream's current state.
func (m *model) append(
	name string, expected eventstore.ExpectedRevision, events []eventstore.EventData,
) (outcome, eventstore.AppendResult) {
	s := m.stream(name)
	if s.tombstoned {
		return outcome{err: eventstore.ErrStreamDeleted}, eventstore.AppendResult{}
	}
	// An empty append is answered from the stream's state, which says missing.
	if o := s.check(expected); o.err != nil && (len(events) == 0 || !m.keepsRevision(s, expected)) {
		return o, eventstore.AppendResult{}
	}
	if len(events) == 0 {
		if last := s.last(); last != nil {
			return outcome{}, eventstore.AppendResult{NextExpectedRevision: last.revision, Position: last.position}
		}
		return outcome{}, eventstore.AppendResult{}
	}
	for _, e := range events {
		me := &modelEvent{data: e, stream: name, revision: s.next(), index: len(m.log)}
		s.events = append(s.events, me)
		m.log = append(m.log, me)
	}
	return outcome{}, eventstore.AppendResult{NextExpectedRevision: s.next() - 1}
}

// remove applies a soft delete (hard false) or a tombstone.
func (m *model) remove(name string, expected eventstore.ExpectedRevision, hard bool) outcome {
	s := m.stream(name)
	if s.tombstoned {
		return outcome{err: eventstore.ErrStreamDeleted}
	}
	if o := s.check(expected); o.err != nil && !m.keepsRevision(s, expected) {
		return o
	}
	if hard {
		s.tombstoned = true
		return outcome{}
	}
	if m.keepRevision && s.deleted() && !expected.IsStreamExists() {
		return outcome{} // deleted again: nothing changes
	}
	if !s.exists() {
		return outcome{err: eventstore.ErrStreamNotFound}
	}
	s.liveFrom = s.next()
	return outcome{}
}

// readStream returns what ReadStream must yield: the events, or the one
// error (ErrStreamDeleted, ErrStreamNotFound) it must yield alone.
func (m *model) readStream(name string, opts eventstore.ReadStreamOptions) ([]*modelEvent, error) {
	s := m.stream(name)
	switch {
	case s.tombstoned:
		return nil, eventstore.ErrStreamDeleted
	case !s.exists():
		return nil, eventstore.ErrStreamNotFound
	}
	var out []*modelEvent
	if opts.Direction == eventstore.Backwards {
		for _, e := range slices.Backward(s.live()) {
			if e.revision <= opts.From {
				out = append(out, e)
			}
		}
	} else {
		for _, e := range s.live() {
			if e.revision >= opts.From {
				out = append(out, e)
			}
		}
	}
	if opts.Limit > 0 && len(out) > opts.Limit {
		out = out[:opts.Limit]
	}
	return out, nil
}

// subscribeStream returns what SubscribeToStream from revision from must
// deliver before its caught-up marker, or ErrStreamDeleted.
func (m *model) subscribeStream(name string, from uint64) ([]*modelEvent, error) {
	s := m.stream(name)
	if s.tombstoned {
		return nil, eventstore.ErrStreamDeleted
	}
	var out []*modelEvent
	for _, e := range s.live() {
		if e.revision >= from {
			out = append(out, e)
		}
	}
	return out, nil
}

// readAll returns the events of the run that a ReadAll from the event at
// index after (exclusive; -1 is before the run, len(log) after it) must
// yield, in its direction.
func (m *model) readAll(after int, dir eventstore.Direction) []*modelEvent {
	if dir == eventstore.Backwards {
		out := slices.Clone(m.log[:max(0, min(after, len(m.log)))])
		slices.Reverse(out)
		return out
	}
	return slices.Clone(m.log[min(after+1, len(m.log)):])
}

// lastPosition returns the position of the run's last event the store has
// shown, or Start.
func (m *model) lastPosition() eventstore.Position {
	p := eventstore.Start
	for _, e := range m.log {
		if !e.position.IsZero() {
			p = e.position
		}
	}
	return p
}

// learn holds got, an event the store yielded, to want: the same ID, type,
// payloads, stream and revision, a recorded time, and the position the
// store showed before, or, the first time, a position after every earlier
// event's and before every later one's. It returns what differs.
func (m *model) learn(got eventstore.RecordedEvent, want *modelEvent) error {
	switch {
	case got.ID != want.data.ID || got.Stream != want.stream || got.Revision != want.revision:
		return fmt.Errorf(
			"got event %s %s@%d, want %s %s@%d", got.ID, m.name(got.Stream), got.Revision, want.data.ID,
			m.name(want.stream), want.revision,
		)
	case got.Type != want.data.Type || string(got.Data) != string(want.data.Data) || string(got.Metadata) != string(
		want.data.Metadata,
	):
		return fmt.Errorf("event %s %s@%d: got type %q data %q metadata %q, want %q %q %q", got.ID, m.name(
			got.Stream,
		), got.Revision,
			got.Type, got.Data, got.Metadata, want.data.Type, want.data.Data, want.data.Metadata)
	case got.RecordedAt.IsZero() || got.Position.IsZero():
		return fmt.Errorf("event %s %s@%d has no recorded time or position", got.ID, m.name(got.Stream), got.Revision)
	case !want.position.IsZero() && got.Position != want.position:
		return fmt.Errorf(
			"event %s %s@%d: position %s, shown before as %s", got.ID, m.name(got.Stream), got.Revision,
			got.Position, want.position,
		)
	}
	if want.position.IsZero() {
		return m.place(want, got.Position)
	}
	return nil
}

// place records that e is at position p, after checking that p keeps the
// log's order against every position already known.
func (m *model) place(e *modelEvent, p eventstore.Position) error {
	for _, o := range m.log {
		if o.position.IsZero() || o == e {
			continue
		}
		if c := cmp.Compare(o.index, e.index); c != o.position.Compare(p) {
			order := map[int]string{-1: "before", 1: "after"}[c]
			return fmt.Errorf("event %s %s@%d at position %s, but %s %s@%d (appended %s it) is at %s",
				e.data.ID, m.name(e.stream), e.revision, p, o.data.ID, m.name(o.stream), o.revision, order, o.position)
		}
	}
	e.position = p
	return nil
}
