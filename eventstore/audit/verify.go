package audit

import (
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"waystation/eventstore"
)

// ErrTampered reports a log that does not match its own Merkle tree or its
// signed tree heads: an event, a stored hash or a signed head was altered,
// or events were removed.
var ErrTampered = errors.New("audit: log does not verify")

// VerifyReport is the outcome of checking a whole log.
type VerifyReport struct {
	// Events is how many events were checked.
	Events int64 `json:"events"`
	// Root is the recomputed root hash of the tree over those events.
	Root tlog.Hash `json:"root"`
	// HeadsChecked is how many signed tree heads matched the recomputed
	// tree.
	HeadsChecked int `json:"heads_checked"`
	// FirstBad is the position of the first event found altered or
	// missing, or the zero Position when every event checks out.
	FirstBad eventstore.Position `json:"first_bad,omitzero"`
	// Problem says what failed, without any event payload; empty when the
	// log verifies.
	Problem string `json:"problem,omitempty"`
	// Keys are the verifier keys the signed tree heads were checked
	// against; Pinned says whether the caller gave them (else they were
	// the store's own, which whoever can rewrite the store can replace).
	Keys   []string `json:"keys,omitempty"`
	Pinned bool     `json:"pinned,omitempty"`
}

// OK reports whether the log verified.
func (r VerifyReport) OK() bool { return r.Problem == "" }

// Verifier checks a log leaf by leaf against the hashes a backend stored
// and against its signed tree heads. Feed it every event in order with
// Add, then call Finish.
type Verifier struct {
	stored tlog.HashReader
	heads  []SignedTreeHead // ascending by size
	tree   Range
	report VerifyReport
}

// NewVerifier returns a Verifier over the stored hashes r and the signed
// heads (any order), which the caller has already checked the signatures of.
func NewVerifier(r tlog.HashReader, heads []SignedTreeHead) *Verifier {
	var sorted []SignedTreeHead
	for _, h := range heads {
		if h.Size > 0 {
			sorted = append(sorted, h)
		}
	}
	for i := 1; i < len(sorted); i++ {
		for j := i; j > 0 && sorted[j].Size < sorted[j-1].Size; j-- {
			sorted[j], sorted[j-1] = sorted[j-1], sorted[j]
		}
	}
	return &Verifier{stored: r, heads: sorted}
}

// Add checks the next event, which must be leaf index Events() of the log.
// It returns an error wrapping ErrTampered, and records the event's
// position in the report, at the first problem.
func (v *Verifier) Add(e eventstore.RecordedEvent) error {
	if v.report.Problem != "" {
		return fmt.Errorf("%w: %s", ErrTampered, v.report.Problem)
	}
	n := v.tree.Size()
	leaf := LeafOf(e)
	h := leaf.Hash()
	want, err := StoredHashes(n, leaf, v.stored)
	if err != nil {
		return v.fail(e.Position, fmt.Sprintf("stored tree unreadable at leaf %d: %v", n, err))
	}
	at := tlog.StoredHashIndex(0, n)
	indexes := make([]int64, len(want))
	for i := range indexes {
		indexes[i] = at + int64(i)
	}
	got, err := v.stored.ReadHashes(indexes)
	if err != nil {
		return v.fail(e.Position, fmt.Sprintf("stored hashes of leaf %d missing: %v", n, err))
	}
	for i := range want {
		if got[i] != want[i] {
			return v.fail(e.Position, fmt.Sprintf("event at position %s differs from its stored tree hash", e.Position))
		}
	}
	v.tree.Append(h)
	v.report.Events++
	for len(v.heads) > 0 && v.heads[0].Size == v.tree.Size() {
		if v.heads[0].Root != v.tree.Root() {
			return v.fail(e.Position, fmt.Sprintf("tree of size %d differs from its signed head", v.tree.Size()))
		}
		v.report.HeadsChecked++
		v.heads = v.heads[1:]
	}
	return nil
}

// Events returns how many events have been checked.
func (v *Verifier) Events() int64 { return v.tree.Size() }

// Finish checks what remains (signed heads larger than the log mean events
// were removed) and returns the report, with an error wrapping ErrTampered
// if anything failed.
func (v *Verifier) Finish() (VerifyReport, error) {
	v.report.Root = v.tree.Root()
	if v.report.Problem == "" && len(v.heads) > 0 && v.heads[0].Size > 0 {
		v.report.FirstBad = eventstore.At(uint64(v.tree.Size()) + 1)
		v.report.Problem = fmt.Sprintf("signed head of size %d but the log holds %d events", v.heads[0].Size, v.tree.Size())
	}
	if v.report.Problem != "" {
		return v.report, fmt.Errorf("%w: %s", ErrTampered, v.report.Problem)
	}
	return v.report, nil
}

// Fail records a problem found by the caller (for example a gap in the
// positions) at position p.
func (v *Verifier) Fail(p eventstore.Position, problem string) error { return v.fail(p, problem) }

func (v *Verifier) fail(p eventstore.Position, problem string) error {
	if v.report.Problem == "" {
		v.report.FirstBad, v.report.Problem = p, problem
	}
	return fmt.Errorf("%w: %s", ErrTampered, v.report.Problem)
}

// SetReader replaces the reader of stored hashes, for a backend that reads
// them in a new transaction for each page of events.
func (v *Verifier) SetReader(r tlog.HashReader) { v.stored = r }
