package esdbtest

import (
	"encoding/json"
	"math"
	"time"

	"github.com/google/uuid"
)

// deletedStream is the $tb a soft delete writes: a real server replaces the
// stream's metadata with {"$tb": 9223372036854775807} (KurrentDB's
// StorageWriterService, SOFT DELETE: new StreamMetadata(truncateBefore:
// EventNumber.DeletedStream); esdbclient's tests/test_client.py
// test_stream_metadata_get_and_set: metadata["$tb"] == max_long after a
// delete).
const deletedStream = math.MaxInt64

// streamMeta is what a stream's latest $metadata event says that reads
// obey: $tb (truncate before), $maxCount and $maxAge (seconds), each nil
// when unset.
type streamMeta struct {
	truncateBefore *uint64
	maxCount       *uint64
	maxAge         *time.Duration
	raw            map[string]json.RawMessage
}

// parseMeta reads a $metadata event's JSON; what it cannot read counts as
// unset, as a real server treats metadata it cannot parse as empty.
func parseMeta(data []byte) streamMeta {
	var m streamMeta
	if json.Unmarshal(data, &m.raw) != nil {
		return streamMeta{}
	}
	num := func(key string) *uint64 {
		var n uint64
		if v, ok := m.raw[key]; !ok || json.Unmarshal(v, &n) != nil {
			return nil
		}
		return &n
	}
	m.truncateBefore, m.maxCount = num("$tb"), num("$maxCount")
	if secs := num("$maxAge"); secs != nil {
		d := time.Duration(*secs) * time.Second
		m.maxAge = &d
	}
	return m
}

// softDeleted reports whether the stream's metadata marks it deleted.
func (s *stream) softDeleted() bool {
	return s.meta.truncateBefore != nil && *s.meta.truncateBefore == deletedStream
}

// lastNumber is the revision of the stream's last event, deleted or not,
// -1 when it has none: what a real server's commit check compares an
// expected revision with (IndexWriter.CheckCommit: GetStreamLastEventNumber).
func (s *stream) lastNumber() int64 { return int64(len(s.records)) - 1 }

// firstLive returns the first revision a read may return at now: after
// $tb, within the last $maxCount events and younger than $maxAge.
func (s *stream) firstLive(now time.Time) uint64 {
	n := uint64(len(s.records))
	first := uint64(0)
	if tb := s.meta.truncateBefore; tb != nil {
		first = min(*tb, n)
	}
	if mc := s.meta.maxCount; mc != nil && n-first > *mc {
		first = n - *mc
	}
	if ma := s.meta.maxAge; ma != nil {
		for first < n && now.Sub(s.records[first].created) > *ma {
			first++
		}
	}
	return first
}

// live returns the events a read sees now: none for a soft-deleted stream.
func (s *stream) live() []*record {
	if s.softDeleted() {
		return nil
	}
	return s.records[s.firstLive(time.Now()):]
}

// decision is the outcome of a commit check.
type decision uint8

const (
	commitOK decision = iota
	commitIdempotent
	commitWrongVersion
	commitCorrupted // some, not all, of the IDs are stored: answered as a wrong version
	commitDeleted
)

// checkCommit decides an append (or a delete, with one fresh ID) as a real
// server's commit check does (KurrentDB's IndexWriter.CheckCommit): against
// the stream's last event number, deleted events included, so that
// NoStream and Any recreate a soft-deleted stream, an exact revision equal
// to its last deleted one does too, and StreamExists finds it deleted.
// For commitIdempotent it also returns the stored records. mu must be held.
func checkCommit(st *stream, exp expectation, ids []uuid.UUID) (decision, []*record) {
	if st.tombstoned {
		return commitDeleted, nil
	}
	cur := st.lastNumber()
	if cur < 0 && st.meta.raw == nil {
		// A stream that never existed (CheckCommitForNewStream).
		if exp.any || exp.noStream {
			return commitOK, nil
		}
		return commitWrongVersion, nil
	}
	if exp.exists {
		if st.softDeleted() {
			return commitDeleted, nil
		}
		if cur < 0 && st.meta.raw == nil {
			return commitWrongVersion, nil
		}
	}
	if exp.any || exp.exists {
		// Idempotency by event ID (the server's recent-commit cache; here
		// every ID the stream ever stored).
		start := -1
		for i, id := range ids {
			at, ok := st.index[id]
			if !ok || (i > 0 && at != start+i) {
				if i == 0 {
					return commitOK, nil
				}
				return commitCorrupted, nil
			}
			if i == 0 {
				start = at
			}
		}
		if len(ids) == 0 {
			return commitOK, nil
		}
		return commitIdempotent, st.records[start : start+len(ids)]
	}
	expected := int64(-1) // NoStream
	if !exp.noStream {
		expected = int64(exp.revision)
	}
	if expected < cur {
		n := expected
		for _, id := range ids {
			n++
			if n <= cur && st.records[n].id == id {
				continue
			}
			if n != expected+1 {
				return commitCorrupted, nil
			}
			if exp.noStream && st.softDeleted() {
				return commitOK, nil
			}
			return commitWrongVersion, nil
		}
		if n == expected {
			return commitWrongVersion, nil // no events
		}
		return commitIdempotent, st.records[expected+1 : n+1]
	}
	if expected > cur {
		return commitWrongVersion, nil
	}
	return commitOK, nil
}
