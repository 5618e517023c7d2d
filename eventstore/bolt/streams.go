package bolt

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bbolt "go.etcd.io/bbolt"
)

// How a stream's revisions map to positions. Every event record holds the
// position of its stream's previous event, so a stream's latest events form
// a chain from its last position backwards. Older revisions are packed
// into chunks of chunkSize positions in bucketStreamRuns, keyed by (stream,
// 0x00, first revision); a chunk is written as soon as the chain holds
// chunkSize events beyond the chunks. The stream's state stays a small
// fixed-size value, so a batch that touches many streams dirties few pages,
// and reading any revision costs at most one chunk lookup plus a walk of
// fewer than chunkSize links.
const chunkSize = 64

// streamState is what the store knows about one stream.
type streamState struct {
	next       uint64 // revision the next appended event gets
	liveFrom   uint64 // first revision still readable (after a soft delete)
	tombstoned bool
	last       uint64 // position of the stream's last event (0: none)
	chunked    uint64 // revisions below this are in chunks
}

const streamStateSize = 8 + 8 + 1 + 8 + 8

// exists reports whether the stream has at least one live event.
func (s streamState) exists() bool { return !s.tombstoned && s.next > s.liveFrom }

func encodeStream(s streamState) []byte {
	b := make([]byte, 0, streamStateSize)
	b = binary.BigEndian.AppendUint64(b, s.next)
	b = binary.BigEndian.AppendUint64(b, s.liveFrom)
	if s.tombstoned {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.BigEndian.AppendUint64(b, s.last)
	return binary.BigEndian.AppendUint64(b, s.chunked)
}

func decodeStream(b []byte) (streamState, error) {
	if len(b) != streamStateSize {
		return streamState{}, errCorrupt
	}
	return streamState{
		next:       binary.BigEndian.Uint64(b),
		liveFrom:   binary.BigEndian.Uint64(b[8:]),
		tombstoned: b[16] == 1,
		last:       binary.BigEndian.Uint64(b[17:]),
		chunked:    binary.BigEndian.Uint64(b[25:]),
	}, nil
}

// chunkKey is the key of the chunk of stream starting at revision rev.
func chunkKey(stream string, rev uint64) []byte {
	b := make([]byte, 0, len(stream)+9)
	b = append(b, stream...)
	b = append(b, 0)
	return binary.BigEndian.AppendUint64(b, rev)
}

// loadStream reads a stream's state; a stream never written is the zero
// state.
func loadStream(tx *bbolt.Tx, stream string) (streamState, error) {
	v := tx.Bucket(bucketStreams).Get([]byte(stream))
	if v == nil {
		return streamState{}, nil
	}
	return decodeStream(v)
}

// tailCache remembers, for streams the writer appended to lately, the
// positions of the revisions not yet packed into chunks (st.chunked …
// st.next-1), so that packing a chunk need not walk the chain. It belongs
// to the writer goroutine; an entry is used only when its length matches
// the stored state, and the whole cache is dropped when a batch rolls back.
type tailCache map[string][]uint64

// maxCachedTails bounds the cache; past it the cache starts again empty.
const maxCachedTails = 4096

// appended notes that n events were appended at positions pos … pos+n-1 to
// stream, whose state before the append was st.
func (c tailCache) appended(stream string, st streamState, pos uint64, n int) {
	tail, ok := c[stream]
	if !ok {
		return
	}
	if uint64(len(tail)) != st.next-st.chunked {
		delete(c, stream)
		return
	}
	for i := range uint64(n) {
		tail = append(tail, pos+i)
	}
	c[stream] = tail
}

// saveStream writes st, first packing the oldest links of its chain into
// chunks when the chain has grown long enough.
func saveStream(tx *bbolt.Tx, stream string, st streamState, tails tailCache) error {
	if st.next-st.chunked >= chunkSize {
		tail, ok := tails[stream]
		if !ok || uint64(len(tail)) != st.next-st.chunked {
			var err error
			if tail, err = chainPositions(tx, st); err != nil {
				return err
			}
		}
		// One append can carry many events: pack every full chunk.
		for len(tail) >= chunkSize {
			v := make([]byte, 0, chunkSize*8)
			for _, p := range tail[:chunkSize] {
				v = binary.BigEndian.AppendUint64(v, p)
			}
			if err := tx.Bucket(bucketStreamRuns).Put(chunkKey(stream, st.chunked), v); err != nil {
				return err
			}
			st.chunked += chunkSize
			tail = tail[chunkSize:]
		}
		if tails != nil {
			if len(tails) >= maxCachedTails {
				clear(tails)
			}
			tails[stream] = append(make([]uint64, 0, chunkSize), tail...)
		}
	}
	return tx.Bucket(bucketStreams).Put([]byte(stream), encodeStream(st))
}

// chainPositions returns the positions of revisions st.chunked … st.next-1,
// in revision order, by walking the chain back from the last event.
func chainPositions(tx *bbolt.Tx, st streamState) ([]uint64, error) {
	n := st.next - st.chunked
	out := make([]uint64, n)
	logB := tx.Bucket(bucketLog)
	pos := st.last
	for i := int(n) - 1; i >= 0; i-- {
		rev, prev, err := recordLinks(logB.Get(u64(pos)))
		if err != nil || rev != st.chunked+uint64(i) {
			return nil, fmt.Errorf("%w: stream chain broken at position %d", errCorrupt, pos)
		}
		out[i] = pos
		pos = prev
	}
	return out, nil
}

// revPos is one revision of a stream and its position.
type revPos struct{ rev, pos uint64 }

// streamPositions returns up to n (revision, position) pairs of st's live
// events, starting at revision from (inclusive) and going forwards, or
// backwards when back is set.
func streamPositions(tx *bbolt.Tx, stream string, st streamState, from uint64, back bool, n int) ([]revPos, error) {
	if !st.exists() {
		return nil, nil
	}
	if back {
		from = min(from, st.next-1)
		if from < st.liveFrom {
			return nil, nil
		}
	} else {
		from = max(from, st.liveFrom)
		if from >= st.next {
			return nil, nil
		}
	}
	var out []revPos
	full := func() bool { return len(out) == n }
	tail := func() error {
		chain, err := chainPositions(tx, st)
		if err != nil {
			return err
		}
		if back {
			for rev := from; rev >= st.chunked && rev >= st.liveFrom && !full(); rev-- {
				out = append(out, revPos{rev, chain[rev-st.chunked]})
				if rev == 0 {
					break
				}
			}
			return nil
		}
		for rev := max(from, st.chunked); rev < st.next && !full(); rev++ {
			out = append(out, revPos{rev, chain[rev-st.chunked]})
		}
		return nil
	}
	// chunks collects from the chunk holding revision at onwards (or
	// backwards), live revisions only: forwards, at is live already;
	// backwards, the walk ends at the chunk holding st.liveFrom.
	chunks := func(at uint64) error {
		prefix := append([]byte(stream), 0)
		c := tx.Bucket(bucketStreamRuns).Cursor()
		start := at - at%chunkSize
		k, v := c.Seek(chunkKey(stream, start))
		if !bytes.Equal(k, chunkKey(stream, start)) {
			return fmt.Errorf("%w: chunk of revision %d missing", errCorrupt, at)
		}
		for k != nil && len(k) == len(prefix)+8 && bytes.HasPrefix(k, prefix) {
			first := binary.BigEndian.Uint64(k[len(prefix):])
			if len(v) != chunkSize*8 {
				return errCorrupt
			}
			// The revisions of this chunk that the read covers.
			lo, hi := max(first, at), first+chunkSize-1
			if back {
				lo, hi = max(first, st.liveFrom), min(hi, at)
			}
			for i := range (hi + 1) - min(lo, hi+1) {
				rev := lo + i
				if back {
					rev = hi - i
				}
				if full() {
					return nil
				}
				out = append(out, revPos{rev, binary.BigEndian.Uint64(v[(rev-first)*8:])})
			}
			if back {
				if first <= st.liveFrom {
					return nil // every earlier chunk was deleted
				}
				k, v = c.Prev()
			} else {
				k, v = c.Next()
			}
		}
		return nil
	}
	if back {
		if from >= st.chunked {
			if err := tail(); err != nil || full() || st.chunked == 0 || st.liveFrom >= st.chunked {
				return out, err
			}
			return out, chunks(st.chunked - 1)
		}
		return out, chunks(from)
	}
	if from < st.chunked {
		if err := chunks(from); err != nil || full() {
			return out, err
		}
	}
	return out, tail()
}
