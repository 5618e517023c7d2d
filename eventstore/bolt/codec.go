package bolt

import (
	"encoding/binary"
	"errors"
	"time"

	"waystation/eventstore"
)

// Bucket names. Persisted: never rename or reuse.
var (
	bucketLog         = []byte("log")         // position (8, BE) → event record
	bucketStreams     = []byte("streams")     // stream name → stream state
	bucketStreamRuns  = []byte("stream_runs") // stream name, 0x00, first revision (8, BE) → runs, see streams.go
	bucketEventIDs    = []byte("event_ids")   // event ID (16) → position (8, BE)
	bucketTree        = []byte("tree")        // first tlog storage index of a batch (8, BE) → its hashes, 32 bytes each
	bucketTreeHeads   = []byte("tree_heads")  // tree size (8, BE) → signed note
	bucketCheckpoints = []byte("checkpoints") // projection name → commit (8, BE), prepare (8, BE)
	bucketMeta        = []byte("meta")        // see keys below
	allBuckets        = [][]byte{
		bucketLog,
		bucketStreams,
		bucketStreamRuns,
		bucketEventIDs,
		bucketTree,
		bucketTreeHeads,
		bucketCheckpoints,
		bucketMeta,
	}
)

// Keys of bucketMeta. Persisted: never rename or reuse.
var (
	metaHead       = []byte("head")        // last position (8, BE)
	metaLatestHead = []byte("latest_head") // signed note of the latest tree head
	metaVerifiers  = []byte("verifiers")   // newline-separated verifier keys that ever signed heads here
)

// recordVersion opens every stored event record; a new layout gets a new
// number and never reuses this one.
const recordVersion = 1

var errCorrupt = errors.New("eventstore/bolt: corrupt record")

func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// Offsets in an event record of the fields the writer fills in.
const (
	offRevision   = 1
	offRecordedAt = 25
	offPrevious   = 33
	headerSize    = 41
)

// encodeRecord lays out an event as: version (1), revision (8), ID (16),
// recorded time in Unix nanoseconds (8), the position of the stream's
// previous event or 0 (8), then stream, type, data and metadata, each
// prefixed by its 32-bit length. previous links a stream's latest events
// (see streams.go).
func encodeRecord(e *eventstore.RecordedEvent) []byte {
	b := make([]byte, 0, headerSize+4*4+len(e.Stream)+len(e.Type)+len(e.Data)+len(e.Metadata))
	b = append(b, recordVersion)
	b = binary.BigEndian.AppendUint64(b, e.Revision)
	b = append(b, e.ID[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(e.RecordedAt.UnixNano()))
	b = binary.BigEndian.AppendUint64(b, 0)
	for _, s := range [][]byte{[]byte(e.Stream), []byte(e.Type), e.Data, e.Metadata} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	return b
}

// decodeRecord reads what encodeRecord wrote, copying every byte out of b
// (which bbolt owns).
func decodeRecord(pos uint64, b []byte) (eventstore.RecordedEvent, error) {
	e, parts, err := splitRecord(pos, b)
	if err != nil {
		return e, err
	}
	e.Stream = string(parts[0])
	e.Type = string(parts[1])
	e.Data = append([]byte(nil), parts[2]...)
	e.Metadata = append([]byte(nil), parts[3]...)
	return e, nil
}

// splitRecord checks the layout of a record that encodeRecord wrote and
// returns the event at pos with its fixed-size fields filled in, and its
// stream, type, data and metadata as slices of b, for the caller to copy
// out of bbolt's memory. It returns errCorrupt when b is not such a record.
func splitRecord(pos uint64, b []byte) (e eventstore.RecordedEvent, parts [4][]byte, err error) {
	if len(b) < headerSize || b[0] != recordVersion {
		return e, parts, errCorrupt
	}
	e.Position = eventstore.At(pos)
	e.Revision = binary.BigEndian.Uint64(b[offRevision:])
	copy(e.ID[:], b[offRevision+8:offRecordedAt])
	e.RecordedAt = time.Unix(0, int64(binary.BigEndian.Uint64(b[offRecordedAt:]))).UTC()
	rest := b[headerSize:]
	for i := range parts {
		if len(rest) < 4 {
			return e, parts, errCorrupt
		}
		n := binary.BigEndian.Uint32(rest)
		rest = rest[4:]
		if uint64(len(rest)) < uint64(n) {
			return e, parts, errCorrupt
		}
		parts[i] = rest[:n]
		rest = rest[n:]
	}
	if len(rest) != 0 {
		return e, parts, errCorrupt
	}
	return e, parts, nil
}

func encodePosition(p eventstore.Position) []byte {
	return binary.BigEndian.AppendUint64(u64(p.Commit), p.Prepare)
}

func decodePosition(b []byte) (eventstore.Position, error) {
	if len(b) != 16 {
		return eventstore.Position{}, errCorrupt
	}
	return eventstore.Position{Commit: binary.BigEndian.Uint64(b), Prepare: binary.BigEndian.Uint64(b[8:])}, nil
}

// recordLinks reads the revision and the previous-event position of a
// stored record without decoding the rest.
func recordLinks(b []byte) (rev, previous uint64, err error) {
	if len(b) < headerSize || b[0] != recordVersion {
		return 0, 0, errCorrupt
	}
	return binary.BigEndian.Uint64(b[offRevision:]), binary.BigEndian.Uint64(b[offPrevious:]), nil
}
