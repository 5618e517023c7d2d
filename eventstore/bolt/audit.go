package bolt

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	bbolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/tlog"

	"waystation/eventstore"
	"waystation/eventstore/audit"
)

// VerifyReport is the outcome of Verify.
type VerifyReport = audit.VerifyReport

// verifyPage is how many events Verify checks per read transaction.
const verifyPage = 4096

// VerifierKey returns the public key that checks this store's signed tree
// heads (the content of audit.PublicKeyFile), for an inspector to pin.
func (s *Store) VerifierKey() string { return s.signer.VerifierKey() }

// TreeHead returns the signed head of the tree over the whole log as last
// committed. For an empty log it signs the empty tree.
func (s *Store) TreeHead(ctx context.Context) (audit.SignedTreeHead, error) {
	if err := s.check(ctx); err != nil {
		return audit.SignedTreeHead{}, err
	}
	var msg []byte
	var size uint64
	if err := s.view(func(tx *bbolt.Tx) error {
		msg = bytes.Clone(tx.Bucket(bucketMeta).Get(metaLatestHead))
		size = readHead(tx)
		return nil
	}); err != nil {
		return audit.SignedTreeHead{}, err
	}
	if size == 0 {
		var empty audit.Range
		return s.signer.Sign(tlog.Tree{Hash: empty.Root()})
	}
	if msg == nil {
		return audit.SignedTreeHead{}, fmt.Errorf(
			"eventstore/bolt: %w: no signed tree head for %d events", audit.ErrTampered, size,
		)
	}
	return audit.OpenTreeHead(msg, s.verifierKeys()...)
}

// verifierKeys returns every key that signed heads in this store, the
// current one first.
func (s *Store) verifierKeys() []string {
	keys := []string{s.signer.VerifierKey()}
	_ = s.view(func(tx *bbolt.Tx) error {
		for _, k := range strings.Split(string(tx.Bucket(bucketMeta).Get(metaVerifiers)), "\n") {
			if k != "" && k != keys[0] {
				keys = append(keys, k)
			}
		}
		return nil
	})
	return keys
}

// InclusionProof proves that the event at position pos is leaf pos-1 of
// the tree of the first treeSize events. Check it offline with
// audit.CheckInclusion.
func (s *Store) InclusionProof(ctx context.Context, pos eventstore.Position, treeSize int64) (tlog.RecordProof, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if pos.Commit == 0 || int64(pos.Commit) > treeSize || uint64(treeSize) > s.head.Load() {
		return nil, fmt.Errorf(
			"%w: position %s is not in a tree of size %d (log holds %d events)", eventstore.ErrInvalid, pos,
			treeSize, s.head.Load(),
		)
	}
	var proof tlog.RecordProof
	err := s.view(func(tx *bbolt.Tx) error {
		var err error
		proof, err = audit.InclusionProof(treeSize, int64(pos.Commit-1), treeReader(tx))
		return err
	})
	return proof, err
}

// ConsistencyProof proves that the tree of the first newSize events
// extends the tree of the first oldSize. Check it offline with
// audit.CheckConsistency.
func (s *Store) ConsistencyProof(ctx context.Context, oldSize, newSize int64) (tlog.TreeProof, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	if oldSize < 0 || oldSize > newSize || uint64(newSize) > s.head.Load() {
		return nil, fmt.Errorf(
			"%w: no consistency proof from size %d to %d (log holds %d events)", eventstore.ErrInvalid,
			oldSize, newSize, s.head.Load(),
		)
	}
	var proof tlog.TreeProof
	err := s.view(func(tx *bbolt.Tx) error {
		var err error
		proof, err = audit.ConsistencyProof(oldSize, newSize, treeReader(tx))
		return err
	})
	return proof, err
}

// Verify recomputes every leaf from the stored events, checks it and every
// stored tree hash, checks that positions are dense, and checks the
// recomputed tree against every signed tree head kept in the store (each
// signature against the store's keys). It returns a report naming the
// first bad position, with an error wrapping audit.ErrTampered when the log
// does not verify. Appends may continue meanwhile; Verify checks the log as
// it stood when it began.
func (s *Store) Verify(ctx context.Context, pinned ...string) (VerifyReport, error) {
	keys := s.verifierKeys()
	if len(pinned) > 0 {
		keys = pinned
	}
	rep, err := s.verify(ctx, keys)
	rep.Keys, rep.Pinned = keys, len(pinned) > 0
	return rep, err
}

// verify is Verify against the verifier keys given.
func (s *Store) verify(ctx context.Context, keys []string) (VerifyReport, error) {
	if err := s.check(ctx); err != nil {
		return VerifyReport{}, err
	}
	var size uint64
	var heads []audit.SignedTreeHead
	var headErr error
	if err := s.view(func(tx *bbolt.Tx) error {
		size = readHead(tx)
		msgs := [][]byte{bytes.Clone(tx.Bucket(bucketMeta).Get(metaLatestHead))}
		_ = tx.Bucket(bucketTreeHeads).ForEach(func(k, v []byte) error {
			msgs = append(msgs, bytes.Clone(v))
			return nil
		})
		heads, headErr = audit.OpenTreeHeads(msgs, int64(size), keys...)
		return nil
	}); err != nil {
		return VerifyReport{}, err
	}
	if headErr != nil {
		return VerifyReport{Problem: headErr.Error()}, fmt.Errorf("eventstore/bolt: %w: %v", audit.ErrTampered, headErr)
	}
	if size > 0 && len(heads) == 0 {
		return VerifyReport{Problem: "no signed tree head"}, fmt.Errorf(
			"eventstore/bolt: %w: no signed tree head", audit.ErrTampered,
		)
	}
	var v *audit.Verifier
	for next := uint64(1); next <= size; {
		if err := s.check(ctx); err != nil {
			return VerifyReport{}, err
		}
		err := s.view(func(tx *bbolt.Tx) error {
			if v == nil {
				v = audit.NewVerifier(treeReader(tx), heads)
			}
			v.SetReader(treeReader(tx))
			c := tx.Bucket(bucketLog).Cursor()
			k, val := c.Seek(u64(next))
			for i := 0; i < verifyPage && next <= size; i++ {
				if k == nil || beUint64(k) != next {
					return v.Fail(eventstore.At(next), fmt.Sprintf("event at position %d is missing", next))
				}
				e, err := decodeRecord(next, val)
				if err != nil {
					return v.Fail(eventstore.At(next), fmt.Sprintf("event at position %d is unreadable", next))
				}
				if err := v.Add(e); err != nil {
					return err
				}
				next++
				k, val = c.Next()
			}
			return nil
		})
		if err != nil {
			rep, _ := v.Finish()
			return rep, fmt.Errorf("eventstore/bolt: %w", err)
		}
	}
	if v == nil {
		return VerifyReport{}, nil
	}
	rep, err := v.Finish()
	if err != nil {
		return rep, fmt.Errorf("eventstore/bolt: %w", err)
	}
	return rep, nil
}
