package esdb

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"waystation/eventstore"
	"waystation/eventstore/audit"
)

// auditVerifyPage is how many events Verify reads from the cluster before
// checking them in one read transaction of the index.
const auditVerifyPage = 4096

// Verify re-reads $all from the cluster and checks, for every indexed
// event, that it is still at the position the index recorded for its leaf,
// that its recomputed leaf and every tree hash stored with it match the
// index, and that the recomputed tree matches every signed tree head kept
// (each signature against this replica's keys). It returns a report naming
// the first bad position, with an error wrapping audit.ErrTampered when
// the log and the index disagree. Run may continue meanwhile; Verify
// checks the events indexed when it began.
func (x *AuditIndex) Verify(ctx context.Context, pinned ...string) (audit.VerifyReport, error) {
	keys := x.verifierKeys()
	if len(pinned) > 0 {
		keys = pinned
	}
	rep, err := x.verify(ctx, keys)
	rep.Keys, rep.Pinned = keys, len(pinned) > 0
	return rep, err
}

// verify is Verify against the verifier keys given.
func (x *AuditIndex) verify(ctx context.Context, keys []string) (audit.VerifyReport, error) {
	if err := x.check(ctx); err != nil {
		return audit.VerifyReport{}, err
	}
	var size int64
	var heads []audit.SignedTreeHead
	var headErr error
	err := x.db.View(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(auditBucketMeta)
		size = int64(auditU64(meta.Get(auditMetaSize)))
		msgs := [][]byte{bytes.Clone(meta.Get(auditMetaLatestHead))}
		_ = tx.Bucket(auditBucketHeads).ForEach(func(_, v []byte) error {
			msgs = append(msgs, bytes.Clone(v))
			return nil
		})
		heads, headErr = audit.OpenTreeHeads(msgs, size, keys...)
		return nil
	})
	if err != nil {
		return audit.VerifyReport{}, fmt.Errorf("esdb: audit index: %w", err)
	}
	if headErr != nil {
		return audit.VerifyReport{Problem: headErr.Error()}, fmt.Errorf(
			"esdb: audit index: %w: %v", audit.ErrTampered, headErr,
		)
	}
	if size > 0 && len(heads) == 0 {
		return audit.VerifyReport{Problem: "no signed tree head"}, fmt.Errorf(
			"esdb: audit index: %w: no signed tree head", audit.ErrTampered,
		)
	}
	v := audit.NewVerifier(nil, heads)
	page := make([]eventstore.RecordedEvent, 0, auditVerifyPage)
	// check compares one page of cluster events with the index.
	check := func() error {
		return x.db.View(func(tx *bbolt.Tx) error {
			v.SetReader(auditTreeReader(tx))
			positionsB := tx.Bucket(auditBucketPositions)
			for _, e := range page {
				n := v.Events()
				want := auditPosition(positionsB.Get(auditKey(uint64(n))))
				if want != e.Position {
					at := e.Position
					if want.Before(at) && !want.IsZero() {
						at = want // the indexed event is gone from $all
					}
					return v.Fail(
						at, fmt.Sprintf("leaf %d was indexed at position %s but $all holds position %s there", n, want, e.Position),
					)
				}
				if err := v.Add(e); err != nil {
					return err
				}
			}
			return nil
		})
	}
	var failed error
	if size > 0 {
		for e, err := range x.store.ReadAll(ctx, eventstore.ReadAllOptions{}) {
			if err != nil {
				return audit.VerifyReport{}, fmt.Errorf("esdb: audit index: reading $all: %w", err)
			}
			if !audited(&e) {
				continue
			}
			page = append(page, e)
			if int64(len(page))+v.Events() == size || len(page) == cap(page) {
				if failed = check(); failed != nil {
					break
				}
				page = page[:0]
			}
			if v.Events() == size {
				break
			}
		}
	}
	if failed == nil && len(page) > 0 {
		failed = check()
	}
	if failed == nil && v.Events() < size {
		err := x.db.View(func(tx *bbolt.Tx) error {
			n := v.Events()
			at := auditPosition(tx.Bucket(auditBucketPositions).Get(auditKey(uint64(n))))
			return v.Fail(at, fmt.Sprintf("leaf %d was indexed at position %s but $all ends before it", n, at))
		})
		if !errors.Is(err, audit.ErrTampered) {
			return audit.VerifyReport{}, fmt.Errorf("esdb: audit index: %w", err)
		}
	}
	rep, err := v.Finish()
	if err != nil {
		return rep, fmt.Errorf("esdb: audit index: %w", err)
	}
	return rep, nil
}
