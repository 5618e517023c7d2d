package esdb_test

import (
	"context"
	"sync"
	"testing"

	"waystation/eventstore"
	"waystation/eventstore/audit"
	"waystation/eventstore/esdb"
)

// An inspector reads the checkpoint and at once asks for proofs against
// it; while Run keeps indexing, every head TreeHead answers must already be
// provable, by inclusion and by consistency with the previous head.
func TestAuditHeadIsProvableTheMomentItIsAnswered(t *testing.T) {
	st, _ := open(t)
	x := openIndex(t, t.TempDir(), st, esdb.AuditOptions{MaxBatch: 1})
	runIndex(t, x)
	first := appendEvents(t, st, "case-first", eventstore.NoStream, event(0)).Position
	headFor(t, x, first)
	leaf := audit.LeafOf(readAll(t, st)[0])

	const writes = 200
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() {
		for i := range writes {
			if _, err := st.Append(ctx, "case-busy", eventstore.Any, event(i+1)); err != nil {
				if ctx.Err() == nil {
					t.Errorf("append: %v", err)
				}
				return
			}
		}
	})
	var prev audit.SignedTreeHead
	for prev.Size < writes+1 && !t.Failed() {
		h, err := x.TreeHead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		proof, err := x.InclusionProof(ctx, first, h.Size)
		if err != nil {
			t.Fatalf("inclusion proof in the head of size %d just answered: %v", h.Size, err)
		}
		if err := audit.CheckInclusion(proof, h.Tree(), 0, leaf); err != nil {
			t.Fatal(err)
		}
		if prev.Size > 0 {
			cp, err := x.ConsistencyProof(ctx, prev.Size, h.Size)
			if err != nil {
				t.Fatalf("consistency proof from size %d to the head of size %d just answered: %v", prev.Size, h.Size, err)
			}
			if err := audit.CheckConsistency(cp, prev.Tree(), h.Tree()); err != nil {
				t.Fatal(err)
			}
		}
		prev = h
	}
}
