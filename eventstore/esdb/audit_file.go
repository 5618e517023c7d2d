package esdb

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bbolt "go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/tlog"

	"waystation/eventstore"
)

// Bucket and key names of the index file. Never reorder, rename or reuse.
var (
	auditBucketTree      = []byte("tree")      // storage index (8 bytes) -> tlog hash
	auditBucketLeaves    = []byte("leaves")    // position (16 bytes) -> leaf index (8 bytes)
	auditBucketPositions = []byte("positions") // leaf index (8 bytes) -> position (16 bytes)
	auditBucketHeads     = []byte("heads")     // tree size (8 bytes) -> signed note
	auditBucketMeta      = []byte("meta")

	auditMetaSize       = []byte("size")        // number of leaves
	auditMetaLast       = []byte("last")        // position of the last leaf
	auditMetaLatestHead = []byte("latest-head") // signed note over the whole index
	auditMetaVerifiers  = []byte("verifiers")   // every key that signed here, one a line
)

// registerAuditVerifier records vkey among the keys that signed heads here.
func registerAuditVerifier(tx *bbolt.Tx, vkey string) error {
	b := tx.Bucket(auditBucketMeta)
	list := b.Get(auditMetaVerifiers)
	for _, line := range bytes.Split(list, []byte("\n")) {
		if string(line) == vkey {
			return nil
		}
	}
	next := append(append([]byte(nil), list...), vkey...)
	return b.Put(auditMetaVerifiers, append(next, '\n'))
}

// auditTreeReader reads stored Merkle hashes from the tree bucket of tx.
func auditTreeReader(tx *bbolt.Tx) tlog.HashReader {
	b := tx.Bucket(auditBucketTree)
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, idx := range indexes {
			v := b.Get(auditKey(uint64(idx)))
			if len(v) != len(tlog.Hash{}) {
				return nil, fmt.Errorf("tree hash %d missing", idx)
			}
			copy(out[i][:], v)
		}
		return out, nil
	})
}

func auditKey(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func auditU64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// auditPositionKey encodes p so that byte order is log order.
func auditPositionKey(p eventstore.Position) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, p.Commit), p.Prepare)
}

func auditPosition(b []byte) eventstore.Position {
	if len(b) != 16 {
		return eventstore.Start
	}
	return eventstore.Position{Commit: binary.BigEndian.Uint64(b), Prepare: binary.BigEndian.Uint64(b[8:])}
}
