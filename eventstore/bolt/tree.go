package bolt

import (
	"fmt"

	bbolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/tlog"
)

const hashSize = len(tlog.Hash{})

// treeStore reads and writes the stored Merkle hashes of one transaction.
// Each batch stores the hashes of its leaves as one value (they have
// consecutive storage indexes), keyed by the first index; hashes added in
// the current batch are served from memory until flush.
type treeStore struct {
	c          *bbolt.Cursor
	b          *bbolt.Bucket
	chunkStart int64
	chunk      []byte // the stored chunk read last, valid during the transaction
	pendStart  int64
	pending    []tlog.Hash
}

func newTreeStore(tx *bbolt.Tx) *treeStore {
	b := tx.Bucket(bucketTree)
	return &treeStore{b: b, c: b.Cursor(), chunkStart: -1}
}

// treeReader reads stored Merkle hashes from the tree bucket of tx.
func treeReader(tx *bbolt.Tx) tlog.HashReader { return newTreeStore(tx) }

// ReadHashes implements tlog.HashReader.
func (t *treeStore) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, idx := range indexes {
		h, err := t.hash(idx)
		if err != nil {
			return nil, err
		}
		out[i] = h
	}
	return out, nil
}

func (t *treeStore) hash(idx int64) (tlog.Hash, error) {
	var h tlog.Hash
	if t.pending != nil && idx >= t.pendStart {
		if i := idx - t.pendStart; i < int64(len(t.pending)) {
			return t.pending[i], nil
		}
		return h, fmt.Errorf("eventstore/bolt: tree hash %d missing", idx)
	}
	if t.chunkStart < 0 || idx < t.chunkStart || (idx-t.chunkStart+1)*int64(hashSize) > int64(len(t.chunk)) {
		k, v := t.c.Seek(u64(uint64(idx)))
		if k == nil || beUint64(k) != uint64(idx) {
			k, v = t.c.Prev()
		}
		if len(k) != 8 {
			return h, fmt.Errorf("eventstore/bolt: tree hash %d missing", idx)
		}
		t.chunkStart, t.chunk = int64(beUint64(k)), v
	}
	off := (idx - t.chunkStart) * int64(hashSize)
	if off < 0 || off+int64(hashSize) > int64(len(t.chunk)) {
		return h, fmt.Errorf("eventstore/bolt: tree hash %d missing", idx)
	}
	copy(h[:], t.chunk[off:])
	return h, nil
}

// add computes and keeps the hashes to store for leaf n with hash leaf.
func (t *treeStore) add(n int64, leaf tlog.Hash) error {
	hs, err := tlog.StoredHashesForRecordHash(n, leaf, t)
	if err != nil {
		return err
	}
	if t.pending == nil {
		t.pendStart = tlog.StoredHashIndex(0, n)
	}
	t.pending = append(t.pending, hs...)
	return nil
}

// flush stores the hashes added since the last flush as one value.
func (t *treeStore) flush() error {
	if len(t.pending) == 0 {
		return nil
	}
	v := make([]byte, 0, len(t.pending)*hashSize)
	for i := range t.pending {
		v = append(v, t.pending[i][:]...)
	}
	if err := t.b.Put(u64(uint64(t.pendStart)), v); err != nil {
		return err
	}
	t.pending = nil
	t.chunkStart = -1
	return nil
}
