package storetest

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"waystation/eventstore"
)

// SeedVariable names the environment variable that replaces the seeds of
// the model-based case with its own comma-separated list, to rerun a
// failure (the failure message names its seed) or to try more histories.
const SeedVariable = "STORETEST_SEED"

// modelSeeds are the seeds the model-based case runs when SeedVariable is
// not set: each one a different random history, the same on every run.
var modelSeeds = []uint64{1, 2, 3, 4}

// modelOps is how many random operations one seed runs before the final
// checks.
const modelOps = 120

// chunk is a size at which a backend may pack or page revisions (the
// embedded store packs them in 64s); appends and limits are drawn around it.
const chunk = 64

// bulk is a size at which a backend may page reads (the embedded store
// reads 512 events per transaction); a few appends are larger.
const bulk = 512

// longStream is the revision past which a stream only gets small appends,
// so that reading it from every revision stays cheap.
const longStream = 400

// modelBased runs random histories of appends (with every kind of expected
// revision, empty ones and retries), soft deletes, tombstones, reads of
// streams from every revision in both directions, reads of the global
// log, and subscriptions to streams and to the log, and holds the store to
// an in-memory model of the contract after every operation.
func (s *suite) modelBased(t *testing.T) {
	seeds := modelSeeds
	if v := os.Getenv(SeedVariable); v != "" {
		seeds = nil
		for f := range strings.SplitSeq(v, ",") {
			n, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
			if err != nil {
				t.Fatalf("%s=%q: want a comma-separated list of seeds (unsigned integers)", SeedVariable, v)
			}
			seeds = append(seeds, n)
		}
	}
	for _, seed := range seeds {
		t.Run("seed_"+strconv.FormatUint(seed, 10), func(t *testing.T) { s.runModel(t, seed) })
	}
}

// modelRun is one seed's history.
type modelRun struct {
	t      *testing.T
	store  eventstore.Store
	seed   uint64
	rng    *rand.Rand
	m      *model
	prefix string              // every stream of the run starts with it
	names  []string            // the run's streams, in the order they were made
	short  map[string]string   // stream name → s0, s1, ... in the operation list
	ops    []string            // the operations so far, for the failure message
	retry  map[string]appended // per stream, its last written append while nothing else changed it
	subs   []*modelSub         // open subscriptions, caught up
	base   eventstore.Position // the head before the run
	n      int                 // events made so far
}

// appended is a written append and the store's answer.
type appended struct {
	expected eventstore.ExpectedRevision
	events   []eventstore.EventData
	result   eventstore.AppendResult
}

// modelSub is an open subscription of the run.
type modelSub struct {
	name   string // what the operation list calls it
	stream string // "" for the global log
	from   uint64 // stream subscriptions: the first revision delivered
	sub    *subscription
}

func (s *suite) runModel(t *testing.T, seed uint64) {
	r := &modelRun{
		t: t, store: s.open(t), seed: seed,
		rng:    rand.New(rand.NewPCG(seed, 0x5715_70e7)),
		prefix: s.stream(t, "model-"+strconv.FormatUint(seed, 10)) + "-",
		short:  map[string]string{},
		retry:  map[string]appended{},
	}
	r.m = newModel(r.shortName)
	r.m.keepRevision = s.limits.DeletedStreamsKeepTheirRevision
	r.base = head(t, r.store)
	for range 3 {
		r.newStream()
	}
	r.subscribeAll(-1)
	for range modelOps {
		switch w := r.rng.IntN(100); {
		case w < 45:
			r.appendOp()
		case w < 50:
			r.retryOp()
		case w < 62:
			r.readStream(r.pick(), false)
		case w < 69:
			r.removeOp(false)
		case w < 71:
			r.removeOp(true)
		case w < 75:
			r.readAll(false)
		case w < 86:
			r.subscribeStreamOp()
		case w < 89:
			r.subscribeAllOp()
		default:
			r.unsubscribeOp()
		}
	}
	r.op("final checks")
	for _, name := range r.names {
		r.readStream(name, true)
	}
	r.readAll(true)
	// A sentinel event behind every subscription: a subscription holding
	// an event it should not have delivers that instead of the sentinel.
	for _, name := range r.names {
		if !r.m.stream(name).tombstoned && slices.ContainsFunc(r.subs, func(ms *modelSub) bool { return ms.stream == name }) {
			r.op("append %s any, 1 event (sentinel)", r.short[name])
			r.append(name, eventstore.Any, r.events(1))
		}
	}
	name := r.newStream()
	r.op("append %s no stream, 1 event (sentinel)", r.short[name])
	r.append(name, eventstore.NoStream, r.events(1))
}

// op records the operation about to run.
func (r *modelRun) op(format string, args ...any) {
	r.ops = append(r.ops, fmt.Sprintf("%3d  ", len(r.ops)+1)+fmt.Sprintf(format, args...))
}

// result notes the answer of the operation just run.
func (r *modelRun) result(format string, args ...any) {
	r.ops[len(r.ops)-1] += " → " + fmt.Sprintf(format, args...)
}

// fail ends the run with what differs from the model, the seed and the
// operations that led there.
func (r *modelRun) fail(format string, args ...any) {
	r.t.Helper()
	parts := strings.Split(r.t.Name(), "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	r.t.Fatalf("the store differs from the model of the contract: %s\n\n"+
		"seed %d; rerun with %s=%d go test -run '%s' in the backend's package\n"+
		"operations (the last one failed; streams are s0, s1, ...):\n%s",
		fmt.Sprintf(format, args...), r.seed, SeedVariable, r.seed, strings.Join(parts, "/"), strings.Join(r.ops, "\n"))
}

// newStream adds a fresh stream to the run and returns its name.
func (r *modelRun) newStream() string {
	short := "s" + strconv.Itoa(len(r.names))
	name := r.prefix + short
	r.names = append(r.names, name)
	r.short[name] = short
	return name
}

// pick returns one of the run's streams, mostly one not tombstoned.
func (r *modelRun) pick() string {
	var usable []string
	for _, n := range r.names {
		if !r.m.stream(n).tombstoned {
			usable = append(usable, n)
		}
	}
	if len(usable) == 0 || r.rng.IntN(8) == 0 {
		return r.names[r.rng.IntN(len(r.names))]
	}
	return usable[r.rng.IntN(len(usable))]
}

// expected returns an expected revision for an operation on ms: any of
// the kinds, the right exact revision most often, wrong ones sometimes.
func (r *modelRun) expected(ms *modelStream) eventstore.ExpectedRevision {
	next := ms.next()
	c := []eventstore.ExpectedRevision{
		eventstore.Any, eventstore.NoStream, eventstore.StreamExists, eventstore.Exact(next), eventstore.Exact(0),
	}
	if !ms.exists() {
		c = append(c, eventstore.NoStream, eventstore.NoStream, eventstore.Any)
	}
	if next > 0 {
		c = append(c, eventstore.Exact(next-1), eventstore.Exact(next-1), eventstore.Exact(next-1), eventstore.Exact(next-1))
	}
	if next > 1 {
		c = append(c, eventstore.Exact(next-2))
	}
	if ms.liveFrom > 0 {
		c = append(c, eventstore.Exact(ms.liveFrom-1))
	}
	return c[r.rng.IntN(len(c))]
}

// count returns how many events an append to ms carries: none, a few,
// up to a chunk, more than one chunk of 64, or, rarely, more than a page
// of 512 (the size in which the embedded store reads).
func (r *modelRun) count(ms *modelStream) int {
	if ms.next() > longStream {
		return 1 + r.rng.IntN(3)
	}
	if r.rng.IntN(40) == 0 {
		return bulk + r.rng.IntN(chunk)
	}
	switch w := r.rng.IntN(20); {
	case w == 0:
		return 0
	case w < 11:
		return 1 + r.rng.IntN(5)
	case w < 17:
		return 6 + r.rng.IntN(chunk-6)
	default:
		return chunk + r.rng.IntN(40)
	}
}

func (r *modelRun) events(n int) []eventstore.EventData {
	out := make([]eventstore.EventData, n)
	for i := range out {
		out[i] = Event("model."+string(rune('a'+r.n%3)), r.n)
		r.n++
	}
	return out
}

// limit returns a read limit: none, a few, about a chunk, or anything.
func (r *modelRun) limit() int {
	switch w := r.rng.IntN(16); {
	case w == 0:
		return 0
	case w < 6:
		return 1 + r.rng.IntN(3)
	case w < 10:
		return 63 + r.rng.IntN(3)
	default:
		return 1 + r.rng.IntN(130)
	}
}

func (r *modelRun) appendOp() {
	name := r.pick()
	ms := r.m.stream(name)
	exp := r.expected(ms)
	events := r.events(r.count(ms))
	r.op("append %s %s, %s", r.short[name], exp, count(len(events)))
	r.append(name, exp, events)
}

// append appends events and holds the answer, the stream and every
// subscription to the model.
func (r *modelRun) append(name string, exp eventstore.ExpectedRevision, events []eventstore.EventData) {
	before := len(r.m.stream(name).events)
	want, wantRes := r.m.append(name, exp, events)
	got, err := r.store.Append(ctx, name, exp, events...)
	r.outcome(err, want, name, exp)
	if want.err != nil {
		r.result("%s", want)
		return
	}
	if len(events) > 0 {
		r.result("revisions %d-%d", before, wantRes.NextExpectedRevision)
	} else {
		r.result("%+v", wantRes)
	}
	if got.NextExpectedRevision != wantRes.NextExpectedRevision {
		r.fail("append answered next expected revision %d, want %d", got.NextExpectedRevision, wantRes.NextExpectedRevision)
	}
	if len(events) == 0 {
		if got != wantRes {
			r.fail("empty append answered %+v, want the stream's state %+v", got, wantRes)
		}
		return
	}
	written := r.m.stream(name).events[before:]
	if got.Position.IsZero() {
		r.fail("append answered no position")
	}
	if err := r.m.place(written[len(written)-1], got.Position); err != nil {
		r.fail("append answered position %s: %v", got.Position, err)
	}
	r.retry[name] = appended{expected: exp, events: events, result: got}
	r.delivered(written)
}

// outcome holds an operation's error to the one the model wants.
func (r *modelRun) outcome(err error, want outcome, name string, exp eventstore.ExpectedRevision) {
	r.t.Helper()
	if want.err == nil {
		if err != nil {
			r.fail("got error %v, want success", err)
		}
		return
	}
	if !errors.Is(want.err, eventstore.ErrWrongExpectedVersion) {
		if !errors.Is(err, want.err) {
			r.fail("got error %v, want %s", err, want)
		}
		return
	}
	var wev *eventstore.WrongExpectedVersionError
	if !errors.As(err, &wev) {
		r.fail("got error %v, want a *WrongExpectedVersionError: %s", err, want)
	}
	if wev.Stream != name || wev.Expected != exp || wev.ActualExists != want.actualExists ||
		(want.actualExists && wev.Actual != want.actual) {
		r.fail(
			"got %v (stream %s, expected %s, actual %d, exists %v), want %s", err, wev.Stream, wev.Expected,
			wev.Actual, wev.ActualExists, want,
		)
	}
}

// retryOp sends again the last written append of a stream that nothing
// changed since: the store must answer the original result and write
// nothing (the next deliveries and reads show that it wrote nothing).
func (r *modelRun) retryOp() {
	var names []string
	for _, n := range r.names {
		if _, ok := r.retry[n]; ok {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		r.appendOp()
		return
	}
	name := names[r.rng.IntN(len(names))]
	a := r.retry[name]
	r.op("retry the last append to %s (%s, %s)", r.short[name], a.expected, count(len(a.events)))
	got, err := r.store.Append(ctx, name, a.expected, a.events...)
	if err != nil {
		r.fail("retry: got error %v, want the original result %+v", err, a.result)
	}
	if got != a.result {
		r.fail("retry answered %+v, want the original result %+v", got, a.result)
	}
}

func (r *modelRun) removeOp(hard bool) {
	name := r.pick()
	exp := r.expected(r.m.stream(name))
	what, remove := "delete", r.store.Delete
	if hard {
		what, remove = "tombstone", r.store.Tombstone
	}
	r.op("%s %s %s", what, r.short[name], exp)
	want := r.m.remove(name, exp, hard)
	r.outcome(remove(ctx, name, exp), want, name, exp)
	r.result("%s", want)
	if want.err != nil {
		return
	}
	delete(r.retry, name)
	if !hard {
		return
	}
	// Every subscription to the stream ends with ErrStreamDeleted.
	r.subs = slices.DeleteFunc(r.subs, func(ms *modelSub) bool {
		if ms.stream != name {
			return false
		}
		if err := r.endErr(ms); !errors.Is(err, eventstore.ErrStreamDeleted) {
			r.fail("subscription %s ended with %v when its stream was tombstoned, want ErrStreamDeleted", ms.name, err)
		}
		return true
	})
	r.newStream()
}

// readStream reads the stream forwards and backwards, with random limits,
// from the revisions around its live range and around every chunk of 64
// revisions (where a backend that packs or pages revisions may go wrong),
// from a few random ones and from StreamEnd, and without a limit from its
// first revision, its first live one and a random one; from every
// revision when every is set (the final checks).
func (r *modelRun) readStream(name string, every bool) {
	ms := r.m.stream(name)
	next := ms.next()
	what := "around its live range and chunks"
	if every {
		what = "every revision"
	}
	r.op("read %s forwards and backwards from %s", r.short[name], what)
	from := []uint64{0, ms.liveFrom, ms.liveFrom + 1, next, next + 1}
	if next > 0 {
		from = append(from, next-1)
	}
	if ms.liveFrom > 0 {
		from = append(from, ms.liveFrom-1)
	}
	for rev := uint64(chunk); rev <= next; rev += chunk {
		from = append(from, rev-1, rev, rev+1)
	}
	for range 3 {
		from = append(from, uint64(r.rng.IntN(int(next)+2)))
	}
	if every {
		from = from[:0]
		for rev := range next + 2 {
			from = append(from, rev)
		}
	}
	unlimited := []uint64{0, ms.liveFrom, uint64(r.rng.IntN(int(next) + 2))}
	for _, dir := range []eventstore.Direction{eventstore.Forwards, eventstore.Backwards} {
		for _, rev := range from {
			r.checkRead(name, eventstore.ReadStreamOptions{Direction: dir, From: rev, Limit: r.limit()})
		}
		for _, rev := range unlimited {
			r.checkRead(name, eventstore.ReadStreamOptions{Direction: dir, From: rev})
		}
	}
	r.checkRead(name, eventstore.ReadStreamOptions{Direction: eventstore.Backwards, From: eventstore.StreamEnd})
	r.checkRead(
		name, eventstore.ReadStreamOptions{Direction: eventstore.Backwards, From: eventstore.StreamEnd, Limit: r.limit()},
	)
}

func (r *modelRun) checkRead(name string, opts eventstore.ReadStreamOptions) {
	r.t.Helper()
	want, wantErr := r.m.readStream(name, opts)
	got, err := Collect(r.store.ReadStream(ctx, name, opts))
	what := fmt.Sprintf(
		"read %s %s from %s, limit %d", r.short[name], direction(opts.Direction), revision(opts.From), opts.Limit,
	)
	if wantErr != nil {
		if !errors.Is(err, wantErr) || len(got) > 0 {
			r.fail(
				"%s: got %d events (%s) and error %v, want only %v", what, len(got), revisionRanges(revisions(got)), err, wantErr,
			)
		}
		return
	}
	if err != nil {
		r.fail("%s: got error %v after %d events, want %d events", what, err, len(got), len(want))
	}
	r.same(what, got, want)
}

// same holds events the store yielded to those the model wants.
func (r *modelRun) same(what string, got []eventstore.RecordedEvent, want []*modelEvent) {
	r.t.Helper()
	if len(got) != len(want) {
		r.fail("%s: got %d events (%s), want %d (%s)", what, len(got), r.describe(got), len(want), r.describeModel(want))
	}
	for i := range got {
		if err := r.m.learn(got[i], want[i]); err != nil {
			r.fail("%s: event %d of %d: %v\n got %s\nwant %s", what, i, len(got), err, r.describe(got), r.describeModel(want))
		}
	}
}

// readAll reads the run's part of the global log forwards and backwards,
// in pages of a random limit, and from the position of a random event of
// the run; the head must not be before the run's last event.
func (r *modelRun) readAll(thorough bool) {
	limits := []int{r.allLimit()}
	if thorough {
		limits = append(limits, 0, 20+r.rng.IntN(40))
	}
	r.op("read all, both directions, in pages of %v", limits)
	for _, limit := range limits {
		r.same(fmt.Sprintf("read all forwards from before the run, pages of %d", limit),
			r.readAllPaged(eventstore.Forwards, r.base, limit), r.m.readAll(-1, eventstore.Forwards))
		r.same(fmt.Sprintf("read all backwards from the end, pages of %d", limit),
			r.readAllPaged(eventstore.Backwards, eventstore.End, limit), r.m.readAll(len(r.m.log), eventstore.Backwards))
	}
	if n := len(r.m.log); n > 0 {
		ks := []int{r.rng.IntN(n)}
		if thorough {
			ks = append(ks, 0, n-1)
		}
		for _, k := range ks {
			p, limit := r.m.log[k].position, r.allLimit()
			r.same(fmt.Sprintf("read all forwards from event %d of the run at %s, pages of %d", k, p, limit),
				r.readAllPaged(eventstore.Forwards, p, limit), r.m.readAll(k, eventstore.Forwards))
			r.same(fmt.Sprintf("read all backwards from event %d of the run at %s, pages of %d", k, p, limit),
				r.readAllPaged(eventstore.Backwards, p, limit), r.m.readAll(k, eventstore.Backwards))
		}
	}
	h, err := r.store.Head(ctx)
	if err != nil {
		r.fail("head: %v", err)
	}
	if last := r.m.lastPosition(); h.Before(last) {
		r.fail("head %s is before the run's last event at %s", h, last)
	}
}

// allLimit returns a page size for reading the global log.
func (r *modelRun) allLimit() int {
	switch r.rng.IntN(3) {
	case 0:
		return 0
	case 1:
		return 7 + r.rng.IntN(100)
	}
	return 400 + r.rng.IntN(300)
}

// readAllPaged reads the global log from from in direction dir, in pages
// of limit events (0: one read), each page starting at the last position
// seen, and returns the events of the run. Backwards, it stops at the
// position the run started after.
func (r *modelRun) readAllPaged(
	dir eventstore.Direction, from eventstore.Position, limit int,
) []eventstore.RecordedEvent {
	var out []eventstore.RecordedEvent
	for {
		page, err := Collect(r.store.ReadAll(ctx, eventstore.ReadAllOptions{Direction: dir, From: from, Limit: limit}))
		if err != nil {
			r.fail("read all %s from %s, limit %d: %v", direction(dir), from, limit, err)
		}
		if limit > 0 && len(page) > limit {
			r.fail("read all %s from %s, limit %d: got %d events", direction(dir), from, limit, len(page))
		}
		for _, e := range page {
			if dir == eventstore.Backwards && !r.base.Before(e.Position) {
				return out
			}
			if strings.HasPrefix(e.Stream, r.prefix) {
				out = append(out, e)
			}
		}
		if limit == 0 || len(page) < limit {
			return out
		}
		from = page[len(page)-1].Position
	}
}

// subscribeStreamOp subscribes to a stream from a revision before, at,
// inside or after its live range, and holds its history to the model.
func (r *modelRun) subscribeStreamOp() {
	if len(r.subs) >= 5 {
		r.unsubscribeOp()
	}
	name := r.pick()
	ms := r.m.stream(name)
	next := ms.next()
	c := []uint64{0, 0, ms.liveFrom, ms.liveFrom + 1, next, next + 2, uint64(r.rng.IntN(int(next) + 1))}
	if next > 0 {
		c = append(c, next-1)
	}
	from := c[r.rng.IntN(len(c))]
	sub := &modelSub{name: fmt.Sprintf("to %s from %d", r.short[name], from), stream: name, from: from}
	r.op("subscribe %s", sub.name)
	want, wantErr := r.m.subscribeStream(name, from)
	sub.sub = subscribe(r.t, func(c context.Context) iter.Seq2[eventstore.Message, error] {
		return r.store.SubscribeToStream(c, name, from)
	})
	if wantErr != nil {
		if err := r.endErr(sub); !errors.Is(err, wantErr) {
			r.fail("subscription %s ended with %v, want %v", sub.name, err, wantErr)
		}
		return
	}
	r.catchUp(sub, want)
}

// subscribeAllOp subscribes to the global log after a random event of the
// run whose position is known.
func (r *modelRun) subscribeAllOp() {
	if len(r.subs) >= 5 {
		r.unsubscribeOp()
	}
	known := []int{-1}
	for i, e := range r.m.log {
		if !e.position.IsZero() {
			known = append(known, i)
		}
	}
	r.subscribeAll(known[r.rng.IntN(len(known))])
}

// subscribeAll subscribes to the global log after the run's event k (-1:
// before the run).
func (r *modelRun) subscribeAll(k int) {
	from := r.base
	if k >= 0 {
		from = r.m.log[k].position
	}
	sub := &modelSub{name: "to the log from before the run"}
	if k >= 0 {
		sub.name = fmt.Sprintf("to the log after event %d of the run", k)
	}
	r.op("subscribe %s", sub.name)
	sub.sub = subscribe(r.t, func(c context.Context) iter.Seq2[eventstore.Message, error] {
		return r.store.SubscribeToAll(c, from)
	})
	r.catchUp(sub, r.m.readAll(k, eventstore.Forwards))
}

// catchUp holds a new subscription's history to want, then to its
// caught-up marker, and keeps it open.
func (r *modelRun) catchUp(sub *modelSub, want []*modelEvent) {
	r.receive(sub, "before catching up", want)
	m, err := r.next(sub)
	switch {
	case err != nil:
		r.fail("subscription %s: %v after its %d events of history, want the caught-up marker", sub.name, err, len(want))
	case !m.CaughtUp:
		r.fail("subscription %s delivered %s@%d after its %d events of history (%s), want the caught-up marker",
			sub.name, r.shortName(m.Event.Stream), m.Event.Revision, len(want), r.describeModel(want))
	}
	r.subs = append(r.subs, sub)
}

// receive holds a subscription's next deliveries to want, one by one, so
// that a wrong event fails at once rather than after guard.
func (r *modelRun) receive(sub *modelSub, when string, want []*modelEvent) {
	r.t.Helper()
	var got []eventstore.RecordedEvent
	for len(got) < len(want) {
		m, err := r.next(sub)
		switch {
		case err != nil:
			r.fail("subscription %s %s: %v after %d events (%s), want %d (%s)",
				sub.name, when, err, len(got), r.describe(got), len(want), r.describeModel(want))
		case m.CaughtUp && when == "before catching up":
			r.fail("subscription %s caught up after %d events (%s), want %d (%s) first",
				sub.name, len(got), r.describe(got), len(want), r.describeModel(want))
		case m.CaughtUp:
			r.fail("subscription %s %s: a second caught-up marker after %d of %d events", sub.name, when, len(got), len(want))
		}
		got = append(got, *m.Event)
		if err := r.m.learn(*m.Event, want[len(got)-1]); err != nil {
			r.fail("subscription %s %s: event %d of %d: %v\n got %s\nwant %s",
				sub.name, when, len(got)-1, len(want), err, r.describe(got), r.describeModel(want))
		}
	}
}

func (r *modelRun) unsubscribeOp() {
	if len(r.subs) == 0 {
		return
	}
	i := r.rng.IntN(len(r.subs))
	sub := r.subs[i]
	r.op("cancel subscription %s", sub.name)
	sub.sub.cancel()
	select {
	case <-sub.sub.ended:
	case <-time.After(guard):
		r.fail("subscription %s did not end when cancelled", sub.name)
	}
	select {
	case err := <-sub.sub.errs:
		r.fail("subscription %s ended with %v when cancelled, want no error", sub.name, err)
	default:
	}
	r.subs = slices.Delete(r.subs, i, i+1)
}

// delivered holds every open subscription to the events an append wrote:
// each must deliver those it covers next, in order, and nothing else.
func (r *modelRun) delivered(written []*modelEvent) {
	for _, sub := range r.subs {
		var want []*modelEvent
		for _, e := range written {
			if sub.stream == "" || e.stream == sub.stream && e.revision >= sub.from {
				want = append(want, e)
			}
		}
		r.receive(sub, "live", want)
	}
}

// next returns a subscription's next message about the run, or an error
// when it errs, ends or delivers nothing within guard.
func (r *modelRun) next(sub *modelSub) (eventstore.Message, error) {
	for {
		select {
		case m := <-sub.sub.msgs:
			if m.Event != nil && !strings.HasPrefix(m.Event.Stream, r.prefix) {
				continue // another user of a shared store
			}
			if !m.CaughtUp && m.Event == nil {
				return m, errors.New("an empty message")
			}
			return m, nil
		case err := <-sub.sub.errs:
			return eventstore.Message{}, fmt.Errorf("failed with %w", err)
		case <-sub.sub.ended:
			return eventstore.Message{}, errors.New("ended")
		case <-time.After(guard):
			return eventstore.Message{}, fmt.Errorf("delivered nothing more within %s", guard)
		}
	}
}

// endErr waits for a subscription to end and returns its error, failing
// the run when it delivers an event of the run first.
func (r *modelRun) endErr(sub *modelSub) error {
	for {
		select {
		case m := <-sub.sub.msgs:
			if m.Event != nil && strings.HasPrefix(m.Event.Stream, r.prefix) {
				r.fail("subscription %s delivered %s@%d, want it to end", sub.name, m.Event.Stream, m.Event.Revision)
			}
		case err := <-sub.sub.errs:
			return err
		case <-sub.sub.ended:
			select {
			case err := <-sub.sub.errs:
				return err
			default:
				return nil
			}
		case <-time.After(guard):
			r.fail("subscription %s did not end within %s", sub.name, guard)
		}
	}
}

// describe summarises events as the streams and revision ranges they hold.
func (r *modelRun) describe(events []eventstore.RecordedEvent) string {
	var parts []string
	for i := 0; i < len(events); {
		j := i + 1
		for j < len(events) && events[j].Stream == events[i].Stream {
			j++
		}
		parts = append(parts, r.shortName(events[i].Stream)+" "+revisionRanges(revisions(events[i:j])))
		i = j
	}
	return strings.Join(parts, ", ")
}

func (r *modelRun) describeModel(events []*modelEvent) string {
	rec := make([]eventstore.RecordedEvent, len(events))
	for i, e := range events {
		rec[i] = eventstore.RecordedEvent{Stream: e.stream, Revision: e.revision}
	}
	return r.describe(rec)
}

func (r *modelRun) shortName(stream string) string {
	if s, ok := r.short[stream]; ok {
		return s
	}
	return stream
}

// revisionRanges renders revisions as runs: "0-63 70 72-80".
func revisionRanges(revs []uint64) string {
	if len(revs) == 0 {
		return "none"
	}
	var b strings.Builder
	for i := 0; i < len(revs); {
		j := i
		if i+1 < len(revs) && (revs[i+1] == revs[i]+1 || revs[i+1]+1 == revs[i]) {
			step := revs[i+1] - revs[i] // 1, or -1 wrapped
			for j+1 < len(revs) && revs[j+1]-revs[j] == step {
				j++
			}
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatUint(revs[i], 10))
		if j > i {
			b.WriteString("-" + strconv.FormatUint(revs[j], 10))
		}
		i = j + 1
	}
	return b.String()
}

// count renders n events.
func count(n int) string {
	if n == 1 {
		return "1 event"
	}
	return strconv.Itoa(n) + " events"
}

func direction(d eventstore.Direction) string {
	if d == eventstore.Backwards {
		return "backwards"
	}
	return "forwards"
}

func revision(r uint64) string {
	if r == eventstore.StreamEnd {
		return "the end"
	}
	return strconv.FormatUint(r, 10)
}
