package esdb_test

import (
	"context"
	"encoding/binary"
	"errors"
	"path/filepath"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/tlog"

	"waystation/eventstore"
	"waystation/eventstore/audit"
	"waystation/eventstore/bolt"
	"waystation/eventstore/esdb"
)

// auditor is what the HTTP layer and `waystation verify` call on either
// backend; the index must offer it with the embedded store's signatures.
type auditor interface {
	TreeHead(ctx context.Context) (audit.SignedTreeHead, error)
	InclusionProof(ctx context.Context, pos eventstore.Position, treeSize int64) (tlog.RecordProof, error)
	ConsistencyProof(ctx context.Context, oldSize, newSize int64) (tlog.TreeProof, error)
	Verify(ctx context.Context, pinned ...string) (audit.VerifyReport, error)
	VerifierKey() string
}

var (
	_ auditor = (*bolt.Store)(nil)
	_ auditor = (*esdb.AuditIndex)(nil)
)

// openIndex opens an audit index in dir over st, closed when the test ends.
func openIndex(tb testing.TB, dir string, st eventstore.Store, opts esdb.AuditOptions) *esdb.AuditIndex {
	tb.Helper()
	opts.NoSync = true
	x, err := esdb.OpenAuditIndex(dir, st, opts)
	if err != nil {
		tb.Fatalf("open audit index: %v", err)
	}
	tb.Cleanup(func() { _ = x.Close() })
	return x
}

// runIndex runs x until the returned stop is called (or the test ends) and
// fails the test if Run ends with an error.
func runIndex(tb testing.TB, x *esdb.AuditIndex) (stop func()) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- x.Run(ctx) }()
	var stopped bool
	stop = func() {
		tb.Helper()
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("run: %v", err)
		}
	}
	tb.Cleanup(stop)
	return stop
}

// headFor waits until x has indexed the event at pos and returns the head.
func headFor(tb testing.TB, x *esdb.AuditIndex, pos eventstore.Position) audit.SignedTreeHead {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // a liveness bound, not a speed requirement
	defer cancel()
	h, err := x.WaitFor(ctx, pos)
	if err != nil {
		tb.Fatalf("waiting for position %s: %v", pos, err)
	}
	return h
}

// writeHistory writes events to several streams, a multi-event append, a
// soft delete and a tombstone (the last two put the server's bookkeeping
// events into $all), and returns the position of the last event written.
func writeHistory(tb testing.TB, st eventstore.Store, prefix string) eventstore.Position {
	tb.Helper()
	ctx := context.Background()
	a := appendEvents(tb, st, prefix+"case-a", eventstore.NoStream, event(0), event(1), event(2))
	appendEvents(tb, st, prefix+"station-x", eventstore.NoStream, event(3))
	d := appendEvents(tb, st, prefix+"case-deleted", eventstore.NoStream, event(4))
	if err := st.Delete(ctx, prefix+"case-deleted", eventstore.Exact(d.NextExpectedRevision)); err != nil {
		tb.Fatal(err)
	}
	t := appendEvents(tb, st, prefix+"case-gone", eventstore.NoStream, event(5), event(6))
	if err := st.Tombstone(ctx, prefix+"case-gone", eventstore.Exact(t.NextExpectedRevision)); err != nil {
		tb.Fatal(err)
	}
	return appendEvents(tb, st, prefix+"case-a", eventstore.Exact(a.NextExpectedRevision), event(7)).Position
}

func TestAuditIndexesOfTwoReplicasBuildTheSameTree(t *testing.T) {
	first, srv := open(t)
	second, err := esdb.Open(context.Background(), srv.URL(), esdb.Options{RetryInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = second.Close() })

	// The first replica follows the log live, the second catches up later.
	live := openIndex(t, t.TempDir(), first, esdb.AuditOptions{MaxBatch: 2})
	runIndex(t, live)
	writeHistory(t, first, "")
	last := appendEvents(t, second, "case-from-second", eventstore.NoStream, event(8)).Position
	late := openIndex(t, t.TempDir(), second, esdb.AuditOptions{})
	runIndex(t, late)

	h1, h2 := headFor(t, live, last), headFor(t, late, last)
	events := readAll(t, first)
	if h1.Size != int64(len(events)) {
		t.Fatalf("live replica's head has size %d, want the %d Waystation events of $all", h1.Size, len(events))
	}
	if h1.Tree() != h2.Tree() {
		t.Fatalf("replicas disagree: %d/%x and %d/%x", h1.Size, h1.Root, h2.Size, h2.Root)
	}
	var want audit.Range
	for _, e := range events {
		want.Append(audit.LeafOf(e).Hash())
	}
	if h1.Root != want.Root() {
		t.Fatalf("root %x is not the tree of $all's events in order (%x)", h1.Root, want.Root())
	}

	// Same tree, but each replica vouches for it with its own key.
	if live.VerifierKey() == late.VerifierKey() {
		t.Fatal("two replicas share a signing key")
	}
	if _, err := audit.OpenTreeHead(h1.Note, live.VerifierKey()); err != nil {
		t.Fatalf("live replica's head does not check with its key: %v", err)
	}
	if _, err := audit.OpenTreeHead(h1.Note, late.VerifierKey()); !errors.Is(err, audit.ErrSignature) {
		t.Fatalf("live replica's head checked with the other replica's key: %v", err)
	}
}

func TestAuditInclusionProofsCheckForEveryEvent(t *testing.T) {
	st, _ := open(t)
	x := openIndex(t, t.TempDir(), st, esdb.AuditOptions{})
	runIndex(t, x)
	head := headFor(t, x, writeHistory(t, st, ""))
	ctx := context.Background()
	events := readAll(t, st)
	for i, e := range events {
		n, err := x.LeafIndex(ctx, e.Position)
		if err != nil || n != int64(i) {
			t.Fatalf("leaf index of position %s: %d, %v; want %d", e.Position, n, err, i)
		}
		proof, err := x.InclusionProof(ctx, e.Position, head.Size)
		if err != nil {
			t.Fatalf("inclusion proof of position %s: %v", e.Position, err)
		}
		if err := audit.CheckInclusion(proof, head.Tree(), n, audit.LeafOf(e)); err != nil {
			t.Fatalf("proof of position %s: %v", e.Position, err)
		}
		other := events[(i+1)%len(events)]
		if err := audit.CheckInclusion(proof, head.Tree(), n, audit.LeafOf(other)); !errors.Is(err, audit.ErrProof) {
			t.Fatalf("proof of position %s also proves another event: %v", e.Position, err)
		}
	}

	t.Run("position_never_indexed_is_invalid", func(t *testing.T) {
		between := eventstore.Position{Commit: events[0].Position.Commit + 1, Prepare: events[0].Position.Prepare + 1}
		if _, err := x.InclusionProof(ctx, between, head.Size); !errors.Is(err, eventstore.ErrInvalid) {
			t.Fatalf("got %v, want ErrInvalid", err)
		}
	})
	t.Run("tree_larger_than_the_index_is_invalid", func(t *testing.T) {
		if _, err := x.InclusionProof(ctx, events[0].Position, head.Size+1); !errors.Is(err, eventstore.ErrInvalid) {
			t.Fatalf("got %v, want ErrInvalid", err)
		}
	})
	t.Run("tree_without_the_event_is_invalid", func(t *testing.T) {
		if _, err := x.InclusionProof(ctx, events[2].Position, 2); !errors.Is(err, eventstore.ErrInvalid) {
			t.Fatalf("got %v, want ErrInvalid", err)
		}
	})
}

func TestAuditConsistencyProofLinksTwoHeads(t *testing.T) {
	st, _ := open(t)
	x := openIndex(t, t.TempDir(), st, esdb.AuditOptions{})
	runIndex(t, x)
	ctx := context.Background()
	older := headFor(t, x, appendEvents(t, st, "case-early", eventstore.NoStream, event(0), event(1), event(2)).Position)
	newer := headFor(t, x, writeHistory(t, st, "later-"))
	if older.Size != 3 || newer.Size <= older.Size {
		t.Fatalf("heads of size %d and %d, want 3 and more", older.Size, newer.Size)
	}
	proof, err := x.ConsistencyProof(ctx, older.Size, newer.Size)
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.CheckConsistency(proof, older.Tree(), newer.Tree()); err != nil {
		t.Fatalf("newer head does not extend the older: %v", err)
	}
	forged := older.Tree()
	forged.Hash[0] ^= 1
	if err := audit.CheckConsistency(proof, forged, newer.Tree()); !errors.Is(err, audit.ErrProof) {
		t.Fatalf("proof accepted a forged older head: %v", err)
	}
	if _, err := x.ConsistencyProof(ctx, older.Size, newer.Size+1); !errors.Is(err, eventstore.ErrInvalid) {
		t.Fatalf("proof to a size beyond the index: %v, want ErrInvalid", err)
	}
}

func TestAuditIndexResumesAfterRestartWithoutReaddingOrSkipping(t *testing.T) {
	st, _ := open(t)
	dir := t.TempDir()
	x := openIndex(t, dir, st, esdb.AuditOptions{MaxBatch: 2})
	stop := runIndex(t, x)
	before := headFor(t, x, writeHistory(t, st, "one-"))
	key := x.VerifierKey()
	stop()
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}

	// Written while the replica is down.
	last := writeHistory(t, st, "two-")

	again := openIndex(t, dir, st, esdb.AuditOptions{MaxBatch: 2})
	if n, _ := again.Indexed(); n != before.Size {
		t.Fatalf("reopened index holds %d events, want the %d it had", n, before.Size)
	}
	runIndex(t, again)
	after := headFor(t, again, last)
	if want := int64(len(readAll(t, st))); after.Size != want {
		t.Fatalf("resumed index holds %d events, want %d", after.Size, want)
	}
	fresh := openIndex(t, t.TempDir(), st, esdb.AuditOptions{})
	runIndex(t, fresh)
	if got, want := after.Tree(), headFor(t, fresh, last).Tree(); got != want {
		t.Fatalf("resumed tree %d/%x differs from one built in one go %d/%x", got.N, got.Hash, want.N, want.Hash)
	}
	if again.VerifierKey() != key {
		t.Fatal("signing key changed across the restart")
	}
	proof, err := again.ConsistencyProof(context.Background(), before.Size, after.Size)
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.CheckConsistency(proof, before.Tree(), after.Tree()); err != nil {
		t.Fatalf("head after the restart does not extend the one before: %v", err)
	}
}

func TestAuditVerify(t *testing.T) {
	st, _ := open(t)
	dir := t.TempDir()
	x := openIndex(t, dir, st, esdb.AuditOptions{MaxBatch: 3})
	stop := runIndex(t, x)
	head := headFor(t, x, writeHistory(t, st, ""))
	stop()
	events := readAll(t, st)

	rep, err := x.Verify(context.Background())
	if err != nil || !rep.OK() {
		t.Fatalf("verify of an intact index: %+v, %v", rep, err)
	}
	if rep.Events != int64(len(events)) || rep.Root != head.Root || rep.HeadsChecked == 0 {
		t.Fatalf("verify checked %d events (root %x, %d heads), want %d events, root %x and the latest head",
			rep.Events, rep.Root, rep.HeadsChecked, len(events), head.Root)
	}

	// Alter the stored leaf hash of one event in the index file.
	const bad = 4
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bbolt.Open(filepath.Join(dir, esdb.AuditIndexFile), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("tree"))
		k := binary.BigEndian.AppendUint64(nil, uint64(tlog.StoredHashIndex(0, bad)))
		h := append([]byte(nil), b.Get(k)...)
		if len(h) != len(tlog.Hash{}) {
			return errors.New("leaf hash not found where the index keeps it")
		}
		h[0] ^= 0xff
		return b.Put(k, h)
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}

	tampered := openIndex(t, dir, st, esdb.AuditOptions{})
	rep, err = tampered.Verify(context.Background())
	if !errors.Is(err, audit.ErrTampered) || rep.OK() {
		t.Fatalf("verify of an altered index: %+v, %v; want ErrTampered", rep, err)
	}
	if rep.FirstBad != events[bad].Position {
		t.Fatalf("verify names position %s, want %s where the hash was altered", rep.FirstBad, events[bad].Position)
	}
	if rep.Events != bad {
		t.Fatalf("verify checked %d events before the bad one, want %d", rep.Events, bad)
	}
}

func TestAuditWaitForEndsWhenTheIndexCloses(t *testing.T) {
	st, _ := open(t)
	x := openIndex(t, t.TempDir(), st, esdb.AuditOptions{})
	done := make(chan error, 1)
	go func() {
		_, err := x.WaitFor(context.Background(), eventstore.Position{Commit: 1 << 40, Prepare: 1 << 40})
		done <- err
	}()
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, eventstore.ErrClosed) {
			t.Fatalf("got %v, want ErrClosed", err)
		}
	case <-time.After(30 * time.Second): // a liveness bound, not a speed requirement
		t.Fatal("WaitFor still waiting after Close")
	}
	if err := x.Run(context.Background()); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("run after close: %v, want ErrClosed", err)
	}
}

func TestAuditVerifyNamesTheFirstIndexedEventMissingFromTheLog(t *testing.T) {
	st, _ := open(t)
	dir := t.TempDir()
	x := openIndex(t, dir, st, esdb.AuditOptions{})
	stop := runIndex(t, x)
	headFor(t, x, writeHistory(t, st, ""))
	stop()
	first := readAll(t, st)[0].Position
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}

	// The same replica folder, now pointed at a cluster whose $all has
	// lost every event (as after a scavenge or a restore of an old backup).
	emptied, _ := open(t)
	rep, err := openIndex(t, dir, emptied, esdb.AuditOptions{}).Verify(context.Background())
	if !errors.Is(err, audit.ErrTampered) {
		t.Fatalf("verify against a log without the indexed events: %+v, %v; want ErrTampered", rep, err)
	}
	if rep.FirstBad != first {
		t.Fatalf("verify names position %s, want the first indexed event at %s", rep.FirstBad, first)
	}
}

// BenchmarkAuditIndexCatchUp measures how fast a fresh replica indexes a
// log of 2,000 events from the in-process server (fsync on, as in
// production); the figure is per event.
func BenchmarkAuditIndexCatchUp(b *testing.B) {
	st, _ := open(b)
	const events, perAppend = 2000, 10
	var last eventstore.Position
	for i := 0; i < events/perAppend; i++ {
		batch := make([]eventstore.EventData, perAppend)
		for j := range batch {
			batch[j] = event(i*perAppend + j)
		}
		last = appendEvents(b, st, "case-bench", eventstore.Any, batch...).Position
	}
	b.ResetTimer()
	for range b.N {
		x, err := esdb.OpenAuditIndex(b.TempDir(), st, esdb.AuditOptions{})
		if err != nil {
			b.Fatal(err)
		}
		stop := runIndex(b, x)
		if h := headFor(b, x, last); h.Size != events {
			b.Fatalf("indexed %d events, want %d", h.Size, events)
		}
		stop()
		_ = x.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*events), "ns/event")
}
