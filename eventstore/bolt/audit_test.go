package bolt_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	bbolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

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
		if err := audit.CheckInclusion(
			p, newer.Tree(), int64(e.Position.Commit-1), audit.LeafOf(altered),
		); !errors.Is(err, audit.ErrProof) {
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

// toOldForm rewrites every signed tree head of the data folder dir (the
// latest and those kept for good) in the form releases signed them in
// before checkpoints named their log: tlog.FormatTree's text, headed by
// the Go checksum database's "go.sum database tree", signed with the
// folder's key. It returns how many heads it rewrote.
func toOldForm(tb testing.TB, dir string) int {
	tb.Helper()
	skey, err := os.ReadFile(filepath.Join(dir, audit.KeyFile))
	if err != nil {
		tb.Fatal(err)
	}
	signer, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		tb.Fatal(err)
	}
	vkey, err := os.ReadFile(filepath.Join(dir, audit.PublicKeyFile))
	if err != nil {
		tb.Fatal(err)
	}
	db, err := bbolt.Open(filepath.Join(dir, bolt.DataFile), 0o600, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	n := 0
	old := func(msg []byte) []byte {
		h, err := audit.OpenTreeHead(msg, string(vkey))
		if err != nil {
			tb.Fatalf("stored head: %v", err)
		}
		out, err := note.Sign(&note.Note{Text: string(tlog.FormatTree(h.Tree()))}, signer)
		if err != nil {
			tb.Fatal(err)
		}
		n++
		return out
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket([]byte("meta"))
		if err := meta.Put([]byte("latest_head"), old(meta.Get([]byte("latest_head")))); err != nil {
			return err
		}
		heads := tx.Bucket([]byte("tree_heads"))
		rewritten := map[string][]byte{}
		if err := heads.ForEach(func(k, v []byte) error {
			rewritten[string(k)] = old(v)
			return nil
		}); err != nil {
			return err
		}
		for k, v := range rewritten {
			if err := heads.Put([]byte(k), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// TestHeadsSignedInTheOldFormStillVerify: given a data folder whose signed
// tree heads are all in the old form ("go.sum database tree"), when the
// store opens it again, then Verify, pinned to the folder's key, checks
// every one of them; TreeHead answers the stored head until the next
// append, and then a checkpoint that names the folder's log, which the
// old head is proved consistent with.
func TestHeadsSignedInTheOldFormStillVerify(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, bolt.Options{NoSync: true})
	vkey := s.VerifierKey()
	for i := range 82 {
		if _, err := s.Append(
			ctx, "case-"+strconv.Itoa(i%5), eventstore.Any, storetest.Events("case.note_added", 100)...,
		); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	rewritten := toOldForm(t, dir)
	if rewritten < 3 {
		t.Fatalf("rewrote %d heads, want the latest and at least two kept for good", rewritten)
	}

	s = openAt(t, dir, bolt.Options{NoSync: true})
	rep, err := s.Verify(ctx, vkey)
	if err != nil || !rep.OK() || rep.HeadsChecked != rewritten {
		t.Fatalf("verify a folder of old-form heads: %+v, %v; want OK with all %d heads checked", rep, err, rewritten)
	}
	old, err := s.TreeHead(ctx)
	if err != nil {
		t.Fatalf("tree head of a folder of old-form heads: %v", err)
	}
	if old.Size != 8200 || old.Origin != "" || !strings.HasPrefix(string(old.Note), "go.sum database tree\n") {
		t.Fatalf(
			"stored head: size %d, origin %q, note %q; want the old-form head of 8200 events", old.Size, old.Origin, old.Note,
		)
	}

	fill(t, s, 5)
	now, err := s.TreeHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if origin := audit.Origin(vkey); now.Origin != origin || !strings.HasPrefix(string(now.Note), origin+"\n8205\n") {
		t.Fatalf("new head: origin %q, note %q; want a checkpoint of %s at size 8205", now.Origin, now.Note, origin)
	}
	cp, err := s.ConsistencyProof(ctx, old.Size, now.Size)
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.CheckConsistency(cp, old.Tree(), now.Tree()); err != nil {
		t.Fatalf("the new checkpoint does not extend the old head: %v", err)
	}
	rep, err = s.Verify(ctx, vkey)
	if err != nil || !rep.OK() || rep.HeadsChecked != rewritten {
		t.Fatalf("verify after the first checkpoint: %+v, %v; want OK with %d heads checked", rep, err, rewritten)
	}
}
