// Package audit makes the global event log tamper-evident. Every event is a
// leaf of an RFC 6962 Merkle tree (golang.org/x/mod/sumdb/tlog) over a
// canonical encoding of its place and digests; tree heads are signed with an
// Ed25519 key (golang.org/x/mod/sumdb/note) as checkpoints in C2SP's
// tlog-checkpoint form, whose first line names the log (Origin); heads
// signed in the older form still open. The package knows no storage
// engine: a backend stores the hashes that StoredHashes returns and reads
// them back through a tlog.HashReader, and an inspector checks proofs
// offline with CheckInclusion and CheckConsistency.
package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/tlog"

	"waystation/eventstore"
)

// leafVersion opens every canonical leaf encoding; a new layout gets a new
// version and never reuses this one.
const leafVersion = "waystation/leaf/v1\n"

// Leaf is what the Merkle tree commits to for one event: its place in the
// log and in its stream, its identity, and digests of its payloads. Hashing
// digests, not payloads, keeps erasure of personal data possible without
// breaking verification.
type Leaf struct {
	Position     eventstore.Position
	Stream       string
	Revision     uint64
	EventID      uuid.UUID
	Type         string
	RecordedAt   time.Time
	DataHash     [sha256.Size]byte
	MetadataHash [sha256.Size]byte
}

// LeafOf returns the leaf of a recorded event.
func LeafOf(e eventstore.RecordedEvent) Leaf {
	return Leaf{
		Position:     e.Position,
		Stream:       e.Stream,
		Revision:     e.Revision,
		EventID:      e.ID,
		Type:         e.Type,
		RecordedAt:   e.RecordedAt,
		DataHash:     sha256.Sum256(e.Data),
		MetadataHash: sha256.Sum256(e.Metadata),
	}
}

// Encode returns the canonical byte encoding of l: a version line, then the
// commit and prepare positions, the length-prefixed stream name, the
// revision, the 16 bytes of the event ID, the length-prefixed type, the
// recorded time in Unix nanoseconds, and the two SHA-256 digests. Integers
// are big-endian; lengths are 32-bit.
func (l Leaf) Encode() []byte {
	b := make([]byte, 0, len(leafVersion)+8+8+4+len(l.Stream)+8+16+4+len(l.Type)+8+2*sha256.Size)
	b = append(b, leafVersion...)
	b = binary.BigEndian.AppendUint64(b, l.Position.Commit)
	b = binary.BigEndian.AppendUint64(b, l.Position.Prepare)
	b = binary.BigEndian.AppendUint32(b, uint32(len(l.Stream)))
	b = append(b, l.Stream...)
	b = binary.BigEndian.AppendUint64(b, l.Revision)
	b = append(b, l.EventID[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(l.Type)))
	b = append(b, l.Type...)
	b = binary.BigEndian.AppendUint64(b, uint64(l.RecordedAt.UnixNano()))
	b = append(b, l.DataHash[:]...)
	b = append(b, l.MetadataHash[:]...)
	return b
}

// Hash returns the RFC 6962 leaf hash of l's canonical encoding.
func (l Leaf) Hash() tlog.Hash { return tlog.RecordHash(l.Encode()) }

// StoredHashes returns the hashes a backend must store when leaf is added
// at index n (0-based; the embedded store's position p is index p-1), in
// order, at the consecutive storage indexes starting at
// tlog.StoredHashIndex(0, n). r must return the hashes stored for earlier
// leaves.
func StoredHashes(n int64, leaf Leaf, r tlog.HashReader) ([]tlog.Hash, error) {
	return tlog.StoredHashesForRecordHash(n, leaf.Hash(), r)
}

// TreeHash returns the root hash of the tree of the first size leaves.
func TreeHash(size int64, r tlog.HashReader) (tlog.Hash, error) {
	return tlog.TreeHash(size, r)
}

// InclusionProof proves that the leaf at index n is in the tree of the first
// size leaves.
func InclusionProof(size, n int64, r tlog.HashReader) (tlog.RecordProof, error) {
	return tlog.ProveRecord(size, n, r)
}

// ConsistencyProof proves that the tree of the first newSize leaves extends
// the tree of the first oldSize leaves.
func ConsistencyProof(oldSize, newSize int64, r tlog.HashReader) (tlog.TreeProof, error) {
	return tlog.ProveTree(newSize, oldSize, r)
}

// ErrProof reports a proof that does not hold: the log was altered, or the
// proof belongs to another tree.
var ErrProof = errors.New("audit: proof does not verify")

// CheckInclusion reports whether proof shows that leaf sits at index n of
// tree. It needs no store and returns an error wrapping ErrProof when the
// proof fails.
func CheckInclusion(proof tlog.RecordProof, tree tlog.Tree, n int64, leaf Leaf) error {
	if err := tlog.CheckRecord(proof, tree.N, tree.Hash, n, leaf.Hash()); err != nil {
		return fmt.Errorf("%w: leaf %d in tree of size %d: %v", ErrProof, n, tree.N, err)
	}
	return nil
}

// CheckConsistency reports whether proof shows that newer extends older. It
// needs no store and returns an error wrapping ErrProof when the proof fails.
func CheckConsistency(proof tlog.TreeProof, older, newer tlog.Tree) error {
	if older.N > newer.N {
		return fmt.Errorf("%w: tree of size %d cannot extend one of size %d", ErrProof, newer.N, older.N)
	}
	if err := tlog.CheckTree(proof, newer.N, newer.Hash, older.N, older.Hash); err != nil {
		return fmt.Errorf("%w: tree of size %d against size %d: %v", ErrProof, newer.N, older.N, err)
	}
	return nil
}

// Range computes the root hash of a growing tree from its leaves alone,
// keeping O(log n) hashes; Verify uses it to recompute a tree without
// trusting any stored interior hash. The zero Range is an empty tree.
type Range struct {
	n     int64
	stack []tlog.Hash // roots of the perfect subtrees, largest first
}

// Append adds the next leaf hash.
func (r *Range) Append(h tlog.Hash) {
	r.stack = append(r.stack, h)
	for m := r.n; m&1 == 1; m >>= 1 {
		k := len(r.stack)
		r.stack[k-2] = tlog.NodeHash(r.stack[k-2], r.stack[k-1])
		r.stack = r.stack[:k-1]
	}
	r.n++
}

// Size returns the number of leaves appended.
func (r *Range) Size() int64 { return r.n }

// Root returns the RFC 6962 root hash of the leaves appended so far (the
// SHA-256 of nothing for an empty tree, as tlog.TreeHash has it).
func (r *Range) Root() tlog.Hash {
	if len(r.stack) == 0 {
		return sha256.Sum256(nil)
	}
	h := r.stack[len(r.stack)-1]
	for i := len(r.stack) - 2; i >= 0; i-- {
		h = tlog.NodeHash(r.stack[i], h)
	}
	return h
}
