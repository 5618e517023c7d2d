package esdb_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"

	"waystation/eventstore"
	"waystation/eventstore/bolt"
	"waystation/eventstore/esdb"
)

// readAll returns every Waystation event of $all, in order.
func readAll(tb testing.TB, st eventstore.Store) []eventstore.RecordedEvent {
	tb.Helper()
	var out []eventstore.RecordedEvent
	for e, err := range st.ReadAll(context.Background(), eventstore.ReadAllOptions{}) {
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// summary is what a reader notices of a log: order, IDs, streams and
// revisions, without the positions each backend assigns.
func summary(events []eventstore.RecordedEvent) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Stream + "@" + strconv.FormatUint(e.Revision, 10) + " " + e.ID.String() + " " + string(e.Data)
	}
	return out
}

func TestMigrateCopiesEverythingInOrderAndCanBeRerun(t *testing.T) {
	ctx := context.Background()
	from, _ := open(t)
	to, _ := open(t)

	a := appendEvents(t, from, "case-a", eventstore.NoStream, event(0), event(1))
	appendEvents(t, from, "station-S01", eventstore.NoStream, event(2))
	appendEvents(t, from, "case-a", eventstore.Exact(a.NextExpectedRevision), event(3))
	appendEvents(t, from, "case-gone", eventstore.NoStream, event(4))
	if err := from.Delete(ctx, "case-gone", eventstore.Any); err != nil {
		t.Fatal(err)
	}
	appendEvents(t, from, "case-erased", eventstore.NoStream, event(5))
	if err := from.Tombstone(ctx, "case-erased", eventstore.Any); err != nil {
		t.Fatal(err)
	}
	appendEvents(t, from, "case-again", eventstore.NoStream, event(6))
	if err := from.Delete(ctx, "case-again", eventstore.Any); err != nil {
		t.Fatal(err)
	}
	appendEvents(t, from, "case-again", eventstore.Any, event(7))

	copied, err := esdb.Migrate(ctx, from, to, esdb.MigrateOptions{})
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if copied != 8 {
		t.Errorf("copied %d events, want 8", copied)
	}
	want := summary(readAll(t, from))
	if got := summary(readAll(t, to)); !slices.Equal(got, want) {
		t.Fatalf("cluster log:\n got %q\nwant %q", got, want)
	}

	appendEvents(t, from, "case-a", eventstore.Exact(2), event(8))
	copied, err = esdb.Migrate(ctx, from, to, esdb.MigrateOptions{})
	if err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	if copied != 1 {
		t.Errorf("second run copied %d events, want only the 1 new one", copied)
	}
	want = summary(readAll(t, from))
	if got := summary(readAll(t, to)); !slices.Equal(got, want) {
		t.Fatalf("cluster log after rerun:\n got %q\nwant %q", got, want)
	}

	for stream, wantErr := range map[string]error{
		"case-gone": eventstore.ErrStreamNotFound, "case-erased": eventstore.ErrStreamDeleted,
	} {
		for _, err := range to.ReadStream(ctx, stream, eventstore.ReadStreamOptions{}) {
			if !errors.Is(err, wantErr) {
				t.Errorf("reading %s on the cluster: got %v, want %v", stream, err, wantErr)
			}
			break
		}
	}
	var revs []uint64
	for e, err := range to.ReadStream(ctx, "case-again", eventstore.ReadStreamOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		revs = append(revs, e.Revision)
	}
	if !slices.Equal(revs, []uint64{1}) {
		t.Errorf("recreated stream reads revisions %v on the cluster, want [1] as on the source", revs)
	}
}

// TestMigrateFromTheEmbeddedStoreKeepsAStreamRecreatedPastAChunk: given an
// embedded store whose case stream was soft-deleted at revision 9 and
// recreated with 100 events, when it is migrated, then the cluster reads
// the stream as the embedded store does, revisions 10 to 109.
func TestMigrateFromTheEmbeddedStoreKeepsAStreamRecreatedPastAChunk(t *testing.T) {
	ctx := context.Background()
	from, err := bolt.Open(t.TempDir(), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = from.Close() })
	to, _ := open(t)

	var first []eventstore.EventData
	for n := range 10 {
		first = append(first, event(n))
	}
	appendEvents(t, from, "case-again", eventstore.NoStream, first...)
	if err := from.Delete(ctx, "case-again", eventstore.Exact(9)); err != nil {
		t.Fatal(err)
	}
	var again []eventstore.EventData
	for n := range 100 {
		again = append(again, event(10+n))
	}
	appendEvents(t, from, "case-again", eventstore.NoStream, again...)

	if _, err := esdb.Migrate(ctx, from, to, esdb.MigrateOptions{}); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	revisionsOf := func(st eventstore.Store) []uint64 {
		var revs []uint64
		for e, err := range st.ReadStream(ctx, "case-again", eventstore.ReadStreamOptions{}) {
			if err != nil {
				t.Fatal(err)
			}
			revs = append(revs, e.Revision)
		}
		return revs
	}
	want := make([]uint64, 100)
	for i := range want {
		want[i] = uint64(10 + i)
	}
	if got := revisionsOf(to); !slices.Equal(got, want) {
		t.Fatalf("the cluster reads revisions %v after migration, want 10 to 109 as on the embedded store", got)
	}
	if got := revisionsOf(from); !slices.Equal(got, want) {
		t.Fatalf("the embedded store reads revisions %v, want 10 to 109", got)
	}
}
