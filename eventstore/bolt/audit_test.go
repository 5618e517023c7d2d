package bolt_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"waystation/eventstore"
	"waystation/eventstore/audit"
	"waystation/eventstore/bolt"
	"waystation/eventstore/storetest"
)

var ctx = context.Background()

// fill appends n single-event appends spread over a few streams.
func fill(tb testing.TB, s *bolt.Store, n int) {
	tb.Helper()
	for i := range n {
		stream := "case-" + string(rune('a'+i%3))
		if _, err := s.Append(ctx, stream, eventstore.Any, storetest.Event("case.note_added", i)); err != nil {
			tb.Fatalf("append %d: %v", i, err)
		}
	}
}

func TestVerifyPassesOnAnUntouchedLog(t *testing.T) {
	s := openTemp(t)
	fill(t, s, 300)
	rep, err := s.Verify(ctx)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if rep.Events != 300 || !rep.OK() || rep.HeadsChecked == 0 {
		t.Fatalf("got report %+v, want 300 events, OK, at least one signed head checked", rep)
	}
	head, err := s.TreeHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if head.Size != 300 || head.Root != rep.Root {
		t.Fatalf("tree head size %d root %s, want 300 and the recomputed root %s", head.Size, head.Root, rep.Root)
	}
}

func TestVerifyNamesTheAlteredEvent(t *testing.T) {
	for _, pos := range []uint64{1, 7, 40} {
		dir := t.TempDir()
		s, err := bolt.Open(dir, bolt.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		fill(t, s, 40)
		s.Close()

		flipByte(t, filepath.Join(dir, bolt.DataFile), pos)

		s = openAt(t, dir, bolt.Options{NoSync: true})
		rep, err := s.Verify(ctx)
		if !errors.Is(err, audit.ErrTampered) {
			t.Fatalf("position %d altered: verify returned %v, want ErrTampered", pos, err)
		}
		if rep.FirstBad != eventstore.At(pos) {
			t.Fatalf("verify named position %s, want %d", rep.FirstBad, pos)
		}
	}
}

// flipByte changes the last byte (inside the metadata) of the stored
// event at pos, behind the store's back.
func flipByte(tb testing.TB, path string, pos uint64) {
	tb.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	key := make([]byte, 8)
	for i := range 8 {
		key[7-i] = byte(pos >> (8 * i))
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("log"))
		v := append([]byte(nil), b.Get(key)...)
		if len(v) == 0 {
			return errors.New("no such event")
		}
		v[len(v)-2] ^= 0x01
		return b.Put(key, v)
	})
	if err != nil {
		tb.Fatal(err)
	}
}

func TestProofsCheckOffline(t *testing.T) {
	s := openTemp(t)
	fill(t, s, 50)
	old, err := s.TreeHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, s, 37)
	now, err := s.TreeHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// An inspector holds only the public key, the two signed notes, the
	// proofs and the events.
	vkey := s.VerifierKey()
	older, err := audit.OpenTreeHead(old.Note, vkey)
	if err != nil {
		t.Fatalf("open older head: %v", err)
	}
	newer, err := audit.OpenTreeHead(now.Note, vkey)
	if err != nil {
		t.Fatalf("open newer head: %v", err)
	}
	cp, err := s.ConsistencyProof(ctx, older.Size, newer.Size)
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.CheckConsistency(cp, older.Tree(), newer.Tree()); err != nil {
		t.Fatalf("consistency: %v", err)
	}
	events, err := storetest.Collect(s.ReadAll(ctx, eventstore.ReadAllOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []eventstore.RecordedEvent{events[0], events[49], events[86]} {
		p, err := s.InclusionProof(ctx, e.Position, newer.Size)
		if err != nil {
			t.Fatal(err)
		}
		if err := audit.CheckInclusion(p, newer.Tree(), int64(e.Position.Commit-1), audit.LeafOf(e)); err != nil {
			t.Fatalf("inclusion of %s: %v", e.Position, err)
		}
		altered := e
		altered.Data = append([]byte(nil), e.Data...)
		altered.Data[0] ^= 1
		if err := audit.CheckInclusion(p, newer.Tree(), int64(e.Position.Commit-1), audit.LeafOf(altered)); !errors.Is(err, audit.ErrProof) {
			t.Fatalf("altered event %s: got %v, want ErrProof", e.Position, err)
		}
	}
	forged := newer.Tree()
	forged.Hash[0] ^= 1
	if err := audit.CheckConsistency(cp, older.Tree(), forged); !errors.Is(err, audit.ErrProof) {
		t.Fatalf("forged newer root: got %v, want ErrProof", err)
	}
	if _, err := s.InclusionProof(ctx, eventstore.At(88), 87); !errors.Is(err, eventstore.ErrInvalid) {
		t.Fatalf("proof past the tree: got %v, want ErrInvalid", err)
	}
}

func TestVerifyAgainstAPinnedKeyTrustsNoOtherSigner(t *testing.T) {
	s := openTemp(t)
	fill(t, s, 20)
	own := s.VerifierKey()
	stranger, err := audit.LoadOrCreateSigner(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}

	// Given the store's own published key, the log verifies and the
	// report says the key was pinned.
	rep, err := s.Verify(ctx, own)
	if err != nil || !rep.OK() || !rep.Pinned || len(rep.Keys) != 1 || rep.Keys[0] != own {
		t.Fatalf("verify pinned to the store's key: %+v, %v; want OK, pinned to that key", rep, err)
	}
	// Given another key (as if the heads had been re-signed by whoever
	// rewrote the store), no head checks out and the log does not verify.
	rep, err = s.Verify(ctx, stranger.VerifierKey())
	if !errors.Is(err, audit.ErrTampered) || rep.OK() {
		t.Fatalf("verify pinned to a stranger's key: %+v, %v; want an error wrapping audit.ErrTampered", rep, err)
	}
	// Unpinned, the store's own keys are used, and the report says so.
	rep, err = s.Verify(ctx)
	if err != nil || rep.Pinned || len(rep.Keys) == 0 {
		t.Fatalf("unpinned verify: %+v, %v; want OK, not pinned, the store's keys named", rep, err)
	}
}
