package esdb_test

import (
	"context"
	"testing"

	"waystation/eventstore"
	"waystation/eventstore/audit"
	"waystation/eventstore/esdb"
	"waystation/eventstore/sealed"
)

// TestAuditLeavesOutKeyStreams: the events of the key streams (data keys
// kept in the cluster) are not leaves: the tree holds exactly the other
// events, two replicas' trees agree whether or not key events sit between
// case events, and Verify passes after a key stream is tombstoned (as an
// erasure does before a scavenge removes it).
func TestAuditLeavesOutKeyStreams(t *testing.T) {
	st, _ := open(t)
	ctx := context.Background()
	x := openIndex(t, t.TempDir(), st, esdb.AuditOptions{NoSync: true})
	runIndex(t, x)
	keyStream := sealed.KeyStreamPrefix + "-case-1"
	appendEvents(t, st, keyStream, eventstore.NoStream, event(0))
	first := appendEvents(t, st, "case-1", eventstore.NoStream, event(1), event(2))
	appendEvents(t, st, sealed.KeyStreamPrefix+"s-erased", eventstore.Any, event(3))
	last := appendEvents(t, st, "case-2", eventstore.NoStream, event(4))
	h := headFor(t, x, last.Position)
	if h.Size != 3 {
		t.Fatalf("tree of %d leaves, want the 3 case events", h.Size)
	}
	if _, err := x.LeafIndex(ctx, first.Position); err != nil {
		t.Errorf("a case event is not a leaf: %v", err)
	}

	// Only the case events, in log order, make the tree.
	var leaves []audit.Leaf
	for _, e := range readAll(t, st) {
		if !sealed.IsKeyStream(e.Stream) {
			leaves = append(leaves, audit.LeafOf(e))
		}
	}
	other := openIndex(t, t.TempDir(), st, esdb.AuditOptions{NoSync: true})
	runIndex(t, other)
	if h2 := headFor(t, other, last.Position); h2.Root != h.Root || int(h2.Size) != len(leaves) {
		t.Errorf("a second replica's tree: size %d root %x, first's size %d root %x", h2.Size, h2.Root, h.Size, h.Root)
	}

	if err := st.Tombstone(ctx, keyStream, eventstore.Any); err != nil {
		t.Fatal(err)
	}
	after := appendEvents(t, st, "case-3", eventstore.NoStream, event(5))
	headFor(t, x, after.Position)
	rep, err := x.Verify(ctx)
	if err != nil {
		t.Fatalf("verify after a key stream was tombstoned: %v (%+v)", err, rep)
	}
	if rep.Events != 4 {
		t.Errorf("verify checked %d events, want the 4 case events", rep.Events)
	}
}
