package ops

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/tlog"

	"waystation/domain"
	"waystation/eventstore"
	"waystation/eventstore/audit"
	"waystation/projections"
)

// Export is the inspector's bundle of one case that Main.Export returns.
type Export = audit.Bundle

// Export builds the inspector's bundle of case id (audit.NewBundle): the
// case's stream and the station events about it (from the history view),
// as stored, proven against the current signed tree head, and signed with
// the data folder's signing key.
func (m *Main) Export(ctx context.Context, id uuid.UUID) (Export, error) {
	src := m.proofs()
	if src == nil {
		return Export{}, domain.NotFound("this store keeps no Merkle tree")
	}
	head, err := src.TreeHead(ctx)
	if err != nil {
		return Export{}, domain.Internal(err, "no signed tree head")
	}
	recs, err := m.caseRecords(ctx, id)
	if err != nil {
		return Export{}, err
	}
	b, err := audit.NewBundle(ctx, id, m.Now(), head, src.VerifierKey(), recs, m.bundleSource(src))
	if err != nil {
		return Export{}, err
	}
	if err := b.Sign(m.Config.Data); err != nil {
		return Export{}, domain.Internal(err, "signing the export")
	}
	return b, nil
}

// caseRecords reads, as stored, the events of case id's stream and the
// station events about it that its history view lists.
func (m *Main) caseRecords(ctx context.Context, id uuid.UUID) ([]eventstore.RecordedEvent, error) {
	raw := m.rawStore()
	var recs []eventstore.RecordedEvent
	for rec, err := range raw.ReadStream(ctx, domain.CaseStream(id), eventstore.ReadStreamOptions{}) {
		if err != nil {
			if errors.Is(err, eventstore.ErrStreamNotFound) {
				return nil, domain.NotFound("no such case")
			}
			return nil, domain.Internal(err, "reading the case")
		}
		recs = append(recs, rec)
	}
	h, err := m.Views.History(id, projections.AsOf{}, 0)
	if err != nil {
		return recs, nil
	}
	for _, ev := range h.Events {
		if ev.Stream == domain.CaseStream(id) {
			continue
		}
		opts := eventstore.ReadStreamOptions{From: ev.Version - 1, Limit: 1}
		for rec, err := range raw.ReadStream(ctx, ev.Stream, opts) {
			if err != nil {
				return nil, domain.Internal(err, "reading a station event")
			}
			recs = append(recs, rec)
		}
	}
	return recs, nil
}

// proofSource is the tamper-evidence side of a backend.
type proofSource interface {
	TreeHead(ctx context.Context) (audit.SignedTreeHead, error)
	InclusionProof(ctx context.Context, pos eventstore.Position, treeSize int64) (tlog.RecordProof, error)
	VerifierKey() string
}

// proofs returns the tamper-evidence side of the backend in use, or nil
// when it keeps no Merkle tree.
func (m *Main) proofs() proofSource {
	switch {
	case m.Embedded != nil:
		return m.Embedded
	case m.AuditIndex != nil:
		return m.AuditIndex
	}
	return nil
}

// bundleSource proves events for a bundle through src and opens them for
// display; its errors are the API's.
func (m *Main) bundleSource(src proofSource) audit.BundleSource {
	return audit.BundleSource{
		LeafIndex: func(ctx context.Context, pos eventstore.Position) (int64, error) {
			if m.AuditIndex == nil {
				return int64(pos.Commit) - 1, nil
			}
			idx, err := m.AuditIndex.LeafIndex(ctx, pos)
			if err != nil {
				return 0, domain.Internal(err, "no leaf index")
			}
			return idx, nil
		},
		Proof: func(ctx context.Context, pos eventstore.Position, size int64) (tlog.RecordProof, error) {
			p, err := src.InclusionProof(ctx, pos, size)
			if err != nil {
				return nil, domain.Internal(err, "no inclusion proof")
			}
			return p, nil
		},
		Open: func(rec eventstore.RecordedEvent) ([]byte, error) {
			opened, err := m.openForDisplay(rec)
			if err != nil {
				return nil, domain.Internal(err, "opening an event for display")
			}
			return opened.Data, nil
		},
	}
}
