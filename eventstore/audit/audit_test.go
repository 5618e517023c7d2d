package audit_test

import (
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"waystation/eventstore"
	"waystation/eventstore/audit"
)

// memoryTree keeps stored hashes in memory, as a backend would in a bucket.
type memoryTree []tlog.Hash

func (m *memoryTree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		out[i] = (*m)[x]
	}
	return out, nil
}

func leaf(n int) audit.Leaf {
	return audit.LeafOf(eventstore.RecordedEvent{
		ID: uuid.NewSHA1(uuid.NameSpaceOID, []byte{byte(n), byte(n >> 8)}), Stream: "case-1", Revision: uint64(n),
		Position: eventstore.At(uint64(n + 1)), Type: "case.note_added",
		Data: []byte(`{"n":1}`), Metadata: []byte(`{}`), RecordedAt: time.Unix(1700000000, int64(n)).UTC(),
	})
}

func build(tb testing.TB, n int) *memoryTree {
	tb.Helper()
	m := &memoryTree{}
	for i := range n {
		hs, err := audit.StoredHashes(int64(i), leaf(i), m)
		if err != nil {
			tb.Fatal(err)
		}
		*m = append(*m, hs...)
	}
	return m
}

func TestRangeRootMatchesTheStoredTree(t *testing.T) {
	m := build(t, 70)
	var r audit.Range
	for n := 0; n <= 70; n++ {
		want, err := audit.TreeHash(int64(n), m)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Root(); got != want {
			t.Fatalf("size %d: range root %s, stored tree root %s", n, got, want)
		}
		if n < 70 {
			r.Append(leaf(n).Hash())
		}
	}
}

func TestEveryLeafFieldChangesTheHash(t *testing.T) {
	base := leaf(3)
	changes := map[string]func(l *audit.Leaf){
		"position":   func(l *audit.Leaf) { l.Position = eventstore.At(99) },
		"stream":     func(l *audit.Leaf) { l.Stream = "case-2" },
		"revision":   func(l *audit.Leaf) { l.Revision++ },
		"event ID":   func(l *audit.Leaf) { l.EventID = uuid.New() },
		"type":       func(l *audit.Leaf) { l.Type = "case.closed" },
		"time":       func(l *audit.Leaf) { l.RecordedAt = l.RecordedAt.Add(time.Nanosecond) },
		"data":       func(l *audit.Leaf) { l.DataHash = sha256.Sum256([]byte("x")) },
		"metadata":   func(l *audit.Leaf) { l.MetadataHash = sha256.Sum256([]byte("x")) },
		"boundaries": func(l *audit.Leaf) { l.Stream, l.Type = l.Stream+"c", "ase.note_added" },
	}
	for name, change := range changes {
		l := base
		change(&l)
		if l.Hash() == base.Hash() {
			t.Errorf("changing the %s leaves the leaf hash unchanged", name)
		}
	}
}

func TestProofsHoldAndCatchForgery(t *testing.T) {
	m := build(t, 40)
	root17, _ := audit.TreeHash(17, m)
	root40, _ := audit.TreeHash(40, m)
	old, now := tlog.Tree{N: 17, Hash: root17}, tlog.Tree{N: 40, Hash: root40}
	p, err := audit.InclusionProof(40, 12, m)
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.CheckInclusion(p, now, 12, leaf(12)); err != nil {
		t.Fatalf("inclusion: %v", err)
	}
	if err := audit.CheckInclusion(p, now, 12, leaf(13)); !errors.Is(err, audit.ErrProof) {
		t.Fatalf("another leaf at index 12: got %v, want ErrProof", err)
	}
	c, err := audit.ConsistencyProof(17, 40, m)
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.CheckConsistency(c, old, now); err != nil {
		t.Fatalf("consistency: %v", err)
	}
	rewritten := old
	rewritten.Hash[3] ^= 1
	if err := audit.CheckConsistency(c, rewritten, now); !errors.Is(err, audit.ErrProof) {
		t.Fatalf("rewritten history: got %v, want ErrProof", err)
	}
	if err := audit.CheckConsistency(c, now, old); !errors.Is(err, audit.ErrProof) {
		t.Fatalf("shrinking tree: got %v, want ErrProof", err)
	}
}

func TestSignerKeyIsCreatedOncePrivatelyAndSignsHeads(t *testing.T) {
	dir := t.TempDir()
	s1, err := audit.LoadOrCreateSigner(dir)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := audit.LoadOrCreateSigner(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s1.VerifierKey() != s2.VerifierKey() {
		t.Fatal("reopening the folder made a new key")
	}
	for _, name := range []string{audit.KeyFile, audit.PublicKeyFile} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %o, want 600", name, fi.Mode().Perm())
		}
	}
	pub, _ := os.ReadFile(filepath.Join(dir, audit.PublicKeyFile))

	m := build(t, 9)
	root, _ := audit.TreeHash(9, m)
	head, err := s1.Sign(tlog.Tree{N: 9, Hash: root})
	if err != nil {
		t.Fatal(err)
	}
	got, err := audit.OpenTreeHead(head.Note, string(pub))
	if err != nil {
		t.Fatalf("open with the published key: %v", err)
	}
	if got.Size != 9 || got.Root != root {
		t.Fatalf("opened head %d %s, want 9 %s", got.Size, got.Root, root)
	}
	other, err := audit.LoadOrCreateSigner(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := audit.OpenTreeHead(head.Note, other.VerifierKey()); !errors.Is(err, audit.ErrSignature) {
		t.Fatalf("open with another key: got %v, want ErrSignature", err)
	}
	forged := append([]byte(nil), head.Note...)
	forged[len(s1.Origin()+"\n")] = '8'
	if _, err := audit.OpenTreeHead(forged, string(pub)); !errors.Is(err, audit.ErrSignature) {
		t.Fatalf("altered size: got %v, want ErrSignature", err)
	}
}

// TestCheckpointsNameTheirOwnLog: a signed head is a C2SP tlog-checkpoint
// whose origin line names this log (the same after the folder is opened
// again, another for another folder), never the Go checksum database's
// header; and a head signed in that old form, as stores hold them from
// before, still opens.
func TestCheckpointsNameTheirOwnLog(t *testing.T) {
	dir := t.TempDir()
	s, err := audit.LoadOrCreateSigner(dir)
	if err != nil {
		t.Fatal(err)
	}
	root := tlog.RecordHash([]byte("x"))
	head, err := s.Sign(tlog.Tree{N: 3, Hash: root})
	if err != nil {
		t.Fatal(err)
	}
	keyID := strings.Split(s.VerifierKey(), "+")[1]
	if want := "waystation/log/" + keyID + "\n3\n" + root.String() + "\n\n"; !strings.HasPrefix(string(head.Note), want) {
		t.Fatalf("checkpoint %q, want it to begin %q", head.Note, want)
	}
	opened, err := audit.OpenTreeHead(head.Note, s.VerifierKey())
	if err != nil || opened.Origin != s.Origin() || opened.Size != 3 || opened.Root != root {
		t.Fatalf("opened %+v, %v; want origin %s, size 3", opened, err, s.Origin())
	}
	again, err := audit.LoadOrCreateSigner(dir)
	if err != nil || again.Origin() != s.Origin() {
		t.Fatalf("reopened origin %q (%v), want %q", again.Origin(), err, s.Origin())
	}
	other, err := audit.LoadOrCreateSigner(t.TempDir())
	if err != nil || other.Origin() == s.Origin() {
		t.Fatalf("another folder's origin %q (%v) is this one's", other.Origin(), err)
	}

	skey, err := os.ReadFile(filepath.Join(dir, audit.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		t.Fatal(err)
	}
	legacy, err := note.Sign(&note.Note{Text: string(tlog.FormatTree(tlog.Tree{N: 7, Hash: root}))}, signer)
	if err != nil {
		t.Fatal(err)
	}
	old, err := audit.OpenTreeHead(legacy, s.VerifierKey())
	if err != nil || old.Size != 7 || old.Root != root || old.Origin != "" {
		t.Fatalf("legacy head opened as %+v, %v; want size 7 and no origin", old, err)
	}
}

func FuzzOpenTreeHead(f *testing.F) {
	s, err := audit.LoadOrCreateSigner(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	head, err := s.Sign(tlog.Tree{N: 3, Hash: tlog.RecordHash([]byte("x"))})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(head.Note)
	f.Add([]byte("go.sum database tree\n3\n\n"))
	f.Add([]byte("waystation/log/00000000\n03\nAAAA\n\n"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		h, err := audit.OpenTreeHead(msg, s.VerifierKey())
		if err == nil && h.Size < 0 {
			t.Fatalf("accepted a head of negative size")
		}
	})
}
