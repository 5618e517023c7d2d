package esdb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	bbolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/tlog"

	"waystation/eventstore"
	"waystation/eventstore/audit"
)

// VerifierKey returns the public key that checks this replica's signed tree
// heads (the content of audit.PublicKeyFile), for an inspector to pin.
func (x *AuditIndex) VerifierKey() string { return x.signer.VerifierKey() }

// TreeHead returns the signed head of the tree over every event indexed so
// far. For an empty index it signs the empty tree.
func (x *AuditIndex) TreeHead(ctx context.Context) (audit.SignedTreeHead, error) {
	if err := x.check(ctx); err != nil {
		return audit.SignedTreeHead{}, err
	}
	var msg []byte
	var size uint64
	err := x.db.View(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(auditBucketMeta)
		msg = bytes.Clone(meta.Get(auditMetaLatestHead))
		size = auditU64(meta.Get(auditMetaSize))
		return nil
	})
	if err != nil {
		return audit.SignedTreeHead{}, fmt.Errorf("esdb: audit index: %w", err)
	}
	if size == 0 {
		return x.signer.Sign(tlog.Tree{})
	}
	if msg == nil {
		return audit.SignedTreeHead{}, fmt.Errorf(
			"esdb: audit index: %w: no signed tree head for %d events", audit.ErrTampered, size,
		)
	}
	h, err := audit.OpenTreeHead(msg, x.verifierKeys()...)
	if err != nil {
		return audit.SignedTreeHead{}, fmt.Errorf("esdb: audit index: %w", err)
	}
	if uint64(h.Size) != size {
		return audit.SignedTreeHead{}, fmt.Errorf(
			"esdb: audit index: %w: latest signed head has size %d but %d events are indexed", audit.ErrTampered, h.Size, size,
		)
	}
	return h, nil
}

// LeafIndex returns the leaf index of the event at position pos, which an
// inspector passes to audit.CheckInclusion. A position this index does not
// hold returns an error wrapping eventstore.ErrInvalid.
func (x *AuditIndex) LeafIndex(ctx context.Context, pos eventstore.Position) (int64, error) {
	if err := x.check(ctx); err != nil {
		return 0, err
	}
	var n int64 = -1
	err := x.db.View(func(tx *bbolt.Tx) error {
		if v := tx.Bucket(auditBucketLeaves).Get(auditPositionKey(pos)); len(v) == 8 {
			n = int64(auditU64(v))
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("esdb: audit index: %w", err)
	}
	if n < 0 {
		return 0, fmt.Errorf("%w: no event at position %s has been indexed", eventstore.ErrInvalid, pos)
	}
	return n, nil
}

// InclusionProof proves that the event at position pos is leaf
// LeafIndex(pos) of the tree of the first treeSize indexed events. Check it
// offline with audit.CheckInclusion. A position not indexed, or not in a
// tree of that size, returns an error wrapping eventstore.ErrInvalid.
func (x *AuditIndex) InclusionProof(
	ctx context.Context, pos eventstore.Position, treeSize int64,
) (tlog.RecordProof, error) {
	n, err := x.LeafIndex(ctx, pos)
	if err != nil {
		return nil, err
	}
	var proof tlog.RecordProof
	err = x.db.View(func(tx *bbolt.Tx) error {
		// The size is read in the transaction that proves, not from
		// Indexed, which Run updates only after its commit: a head that
		// TreeHead has just answered must be provable at once.
		size := int64(auditU64(tx.Bucket(auditBucketMeta).Get(auditMetaSize)))
		if n >= treeSize || treeSize > size {
			return fmt.Errorf(
				"%w: position %s (leaf %d) is not in a tree of size %d (%d events indexed)",
				eventstore.ErrInvalid, pos, n, treeSize, size,
			)
		}
		var err error
		proof, err = audit.InclusionProof(treeSize, n, auditTreeReader(tx))
		return err
	})
	if errors.Is(err, eventstore.ErrInvalid) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("esdb: audit index: %w", err)
	}
	return proof, nil
}

// ConsistencyProof proves that the tree of the first newSize indexed
// events extends the tree of the first oldSize. Check it offline with
// audit.CheckConsistency. Sizes out of order or beyond the index return an
// error wrapping eventstore.ErrInvalid.
func (x *AuditIndex) ConsistencyProof(ctx context.Context, oldSize, newSize int64) (tlog.TreeProof, error) {
	if err := x.check(ctx); err != nil {
		return nil, err
	}
	var proof tlog.TreeProof
	err := x.db.View(func(tx *bbolt.Tx) error {
		size := int64(auditU64(tx.Bucket(auditBucketMeta).Get(auditMetaSize))) // as in InclusionProof
		if oldSize < 0 || oldSize > newSize || newSize > size {
			return fmt.Errorf(
				"%w: no consistency proof from size %d to %d (%d events indexed)", eventstore.ErrInvalid, oldSize, newSize, size,
			)
		}
		var err error
		proof, err = audit.ConsistencyProof(oldSize, newSize, auditTreeReader(tx))
		return err
	})
	if errors.Is(err, eventstore.ErrInvalid) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("esdb: audit index: %w", err)
	}
	return proof, nil
}

// verifierKeys returns every key that signed heads in this index, the
// current one first.
func (x *AuditIndex) verifierKeys() []string {
	keys := []string{x.signer.VerifierKey()}
	_ = x.db.View(func(tx *bbolt.Tx) error {
		for _, k := range strings.Split(string(tx.Bucket(auditBucketMeta).Get(auditMetaVerifiers)), "\n") {
			if k != "" && k != keys[0] {
				keys = append(keys, k)
			}
		}
		return nil
	})
	return keys
}
