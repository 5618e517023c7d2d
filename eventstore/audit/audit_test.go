package audit_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
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
	forged[len(s1.Origin())+1] = '8'
	if _, err := audit.OpenTreeHead(forged, string(pub)); !errors.Is(err, audit.ErrSignature) {
		t.Fatalf("altered size: got %v, want ErrSignature", err)
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
	f.Add([]byte(legacyNote))
	f.Add([]byte("go.sum database tree\n3\n\n"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		h, err := audit.OpenTreeHead(msg, s.VerifierKey())
		if err == nil && h.Size < 0 {
			t.Fatalf("accepted a head of negative size")
		}
	})
}

// legacyKey and legacyNote are a verifier key and a tree head of 1,234
// events that it signed in the form Waystation signed heads in before its
// checkpoints named their log (tlog.FormatTree's text, headed by the Go
// checksum database's "go.sum database tree"), as data folders and export
// bundles made then hold them.
const (
	legacyKey  = "waystation-audit+b42b1f83+AcWLnbEsG7o5wop4mIGxsdoE7dr1Toumt1e/lrC5WPOc"
	legacyNote = "go.sum database tree\n1234\nlc3lne3IX+/sFijlR5ZYhqhawYWetvlkr3xzbdE0rp4=\n\n" +
		"— waystation-audit tCsfgyRMq2gZEBsprCLhr2VGLY4eA6vFGuyAjVO1pzHekmV/d6abIacBX7yipn/mWL7u54XtJQL4n8/VPVmR5m1wtAQ=\n"
)

// signText signs text with the key of the data folder dir, as the
// folder's signer would sign anything.
func signText(tb testing.TB, dir, text string) []byte {
	tb.Helper()
	skey, err := os.ReadFile(filepath.Join(dir, audit.KeyFile))
	if err != nil {
		tb.Fatal(err)
	}
	signer, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		tb.Fatal(err)
	}
	msg, err := note.Sign(&note.Note{Text: text}, signer)
	if err != nil {
		tb.Fatal(err)
	}
	return msg
}

// TestCheckpointNamesItsOwnLog: given a data folder's signer, when it
// signs a tree head, then the note is a C2SP checkpoint whose first line
// is the folder's origin (waystation.local/audit/ and the key's
// fingerprint), the same after the folder is reopened and different for
// another folder, followed by the size in decimal and the root in base64;
// nothing in it is the Go checksum database's header.
func TestCheckpointNamesItsOwnLog(t *testing.T) {
	dir := t.TempDir()
	s, err := audit.LoadOrCreateSigner(dir)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(filepath.Join(dir, audit.PublicKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(bytes.TrimSpace(pub))
	origin := "waystation.local/audit/" + hex.EncodeToString(sum[:8])
	if s.Origin() != origin || audit.Origin(string(pub)) != origin {
		t.Fatalf("origin %q (from the published key %q), want %q", s.Origin(), audit.Origin(string(pub)), origin)
	}
	root, _ := audit.TreeHash(9, build(t, 9))
	head, err := s.Sign(tlog.Tree{N: 9, Hash: root})
	if err != nil {
		t.Fatal(err)
	}
	text, _, ok := strings.Cut(string(head.Note), "\n\n")
	if want := origin + "\n9\n" + base64.StdEncoding.EncodeToString(root[:]); !ok || text != want {
		t.Fatalf("checkpoint text:\n%s\nwant\n%s", text, want)
	}
	if strings.Contains(string(head.Note), "go.sum") {
		t.Fatalf("checkpoint names the Go checksum database: %q", head.Note)
	}
	got, err := audit.OpenTreeHead(head.Note, string(pub))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if got.Size != 9 || got.Root != root || got.Origin != origin {
		t.Fatalf("opened %d %s %q, want 9 %s %q", got.Size, got.Root, got.Origin, root, origin)
	}
	again, err := audit.LoadOrCreateSigner(dir)
	if err != nil {
		t.Fatal(err)
	}
	if again.Origin() != origin {
		t.Fatalf("origin after reopening the folder: %q, want %q", again.Origin(), origin)
	}
	other, err := audit.LoadOrCreateSigner(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if other.Origin() == origin {
		t.Fatalf("two folders share the origin %q", origin)
	}
}

// TestTreeHeadInTheOldFormStillOpens: a head stored in the old form
// ("go.sum database tree") opens against its key, with no origin; altered,
// or against another key, it does not.
func TestTreeHeadInTheOldFormStillOpens(t *testing.T) {
	h, err := audit.OpenTreeHead([]byte(legacyNote), legacyKey)
	if err != nil {
		t.Fatalf("open the old-form head: %v", err)
	}
	if want := "lc3lne3IX+/sFijlR5ZYhqhawYWetvlkr3xzbdE0rp4="; h.Size != 1234 || base64.StdEncoding.EncodeToString(h.Root[:]) != want || h.Origin != "" {
		t.Fatalf("opened %d %s %q, want 1234 %s and no origin", h.Size, h.Root, h.Origin, want)
	}
	if string(h.Note) != legacyNote {
		t.Fatalf("note %q, want the stored note", h.Note)
	}
	forged := strings.Replace(legacyNote, "1234", "1235", 1)
	if _, err := audit.OpenTreeHead([]byte(forged), legacyKey); !errors.Is(err, audit.ErrSignature) {
		t.Fatalf("altered size: got %v, want ErrSignature", err)
	}
	other, err := audit.LoadOrCreateSigner(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := audit.OpenTreeHead([]byte(legacyNote), other.VerifierKey()); !errors.Is(err, audit.ErrSignature) {
		t.Fatalf("another key: got %v, want ErrSignature", err)
	}
	// The stored head is the first of a longer history: the folder's
	// signer now signs checkpoints, and a verifier holding both keys opens
	// both forms.
	head, err := other.Sign(tlog.Tree{N: 1300, Hash: h.Root})
	if err != nil {
		t.Fatal(err)
	}
	for _, msg := range [][]byte{[]byte(legacyNote), head.Note} {
		if _, err := audit.OpenTreeHead(msg, other.VerifierKey(), legacyKey); err != nil {
			t.Fatalf("open %q with both keys: %v", msg, err)
		}
	}
}

// TestCheckpointTextIsChecked: a checkpoint signed by the folder's key
// opens only with the folder's origin and the tlog-checkpoint layout;
// extension lines are allowed.
func TestCheckpointTextIsChecked(t *testing.T) {
	dir := t.TempDir()
	s, err := audit.LoadOrCreateSigner(dir)
	if err != nil {
		t.Fatal(err)
	}
	root := base64.StdEncoding.EncodeToString(make([]byte, 32))
	o := s.Origin()
	if h, err := audit.OpenTreeHead(signText(t, dir, o+"\n5\n"+root+"\nextension line\n"), s.VerifierKey()); err != nil || h.Size != 5 || h.Origin != o {
		t.Fatalf("checkpoint with an extension line: %+v, %v; want size 5 of %s", h, err, o)
	}
	for name, text := range map[string]string{
		"another log's origin":  "example.com/another-log\n5\n" + root + "\n",
		"a size with a zero":    o + "\n05\n" + root + "\n",
		"a negative size":       o + "\n-5\n" + root + "\n",
		"a size not a number":   o + "\nfive\n" + root + "\n",
		"a short root":          o + "\n5\n" + root[:40] + "\n",
		"an empty line":         o + "\n5\n" + root + "\n\nextension\n",
		"two lines":             o + "\n5\n",
		"an empty origin":       "\n5\n" + root + "\n",
		"root not in base64":    o + "\n5\n" + strings.Repeat("!", 44) + "\n",
		"an export's signature": "waystation-export/v1\ncase " + uuid.NewString() + "\nsha256 " + strings.Repeat("0", 64) + "\n",
	} {
		if _, err := audit.OpenTreeHead(signText(t, dir, text), s.VerifierKey()); !errors.Is(err, audit.ErrSignature) {
			t.Errorf("%s: got %v, want ErrSignature", name, err)
		}
	}
}
