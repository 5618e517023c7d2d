package bolt

import (
	"bytes"
	"encoding/binary"

	bbolt "go.etcd.io/bbolt"
)

// A stream's revision → position map is a list of runs: one append puts
// its events at consecutive revisions and consecutive positions, so one run
// records a whole append. The latest runs live inside the stream's state
// (one small value per stream, so a batch touching many streams dirties few
// pages); when a stream holds 2×inlineRuns of them, the oldest inlineRuns
// move, packed, into bucketStreamRuns under the key (stream, 0x00, first
// revision).
const inlineRuns = 16

// run says that revisions rev … rev+n-1 are at positions pos … pos+n-1.
type run struct {
	rev, pos uint64
	n        uint32
}

const runSize = 8 + 8 + 4

// streamState is what the store knows about one stream.
type streamState struct {
	next       uint64 // revision the next appended event gets
	liveFrom   uint64 // first revision still readable (after a soft delete)
	tombstoned bool
	runs       []run // the latest runs, in revision order
}

// exists reports whether the stream has at least one live event.
func (s streamState) exists() bool { return !s.tombstoned && s.next > s.liveFrom }

// lastPosition returns the position of the stream's last event.
func (s streamState) lastPosition() uint64 {
	r := s.runs[len(s.runs)-1]
	return r.pos + uint64(r.n) - 1
}

// add records n events appended at revision s.next and position pos.
func (s *streamState) add(pos uint64, n int) {
	if k := len(s.runs); k > 0 {
		last := &s.runs[k-1]
		if last.rev+uint64(last.n) == s.next && last.pos+uint64(last.n) == pos {
			last.n += uint32(n)
			s.next += uint64(n)
			return
		}
	}
	s.runs = append(s.runs, run{rev: s.next, pos: pos, n: uint32(n)})
	s.next += uint64(n)
}

func encodeStream(s streamState) []byte {
	b := make([]byte, 0, 17+len(s.runs)*runSize)
	b = binary.BigEndian.AppendUint64(b, s.next)
	b = binary.BigEndian.AppendUint64(b, s.liveFrom)
	if s.tombstoned {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	return appendRuns(b, s.runs)
}

func appendRuns(b []byte, runs []run) []byte {
	for _, r := range runs {
		b = binary.BigEndian.AppendUint64(b, r.rev)
		b = binary.BigEndian.AppendUint64(b, r.pos)
		b = binary.BigEndian.AppendUint32(b, r.n)
	}
	return b
}

func decodeRuns(b []byte) ([]run, error) {
	if len(b)%runSize != 0 {
		return nil, errCorrupt
	}
	runs := make([]run, len(b)/runSize)
	for i := range runs {
		p := b[i*runSize:]
		runs[i] = run{rev: binary.BigEndian.Uint64(p), pos: binary.BigEndian.Uint64(p[8:]), n: binary.BigEndian.Uint32(p[16:])}
	}
	return runs, nil
}

func decodeStream(b []byte) (streamState, error) {
	if len(b) < 17 {
		return streamState{}, errCorrupt
	}
	runs, err := decodeRuns(b[17:])
	if err != nil {
		return streamState{}, err
	}
	return streamState{
		next:       binary.BigEndian.Uint64(b),
		liveFrom:   binary.BigEndian.Uint64(b[8:]),
		tombstoned: b[16] == 1,
		runs:       runs,
	}, nil
}

// runsKey is the key of a packed chunk of runs starting at revision rev.
func runsKey(stream string, rev uint64) []byte {
	b := make([]byte, 0, len(stream)+9)
	b = append(b, stream...)
	b = append(b, 0)
	return binary.BigEndian.AppendUint64(b, rev)
}

// saveStream writes st, first moving its oldest runs to bucketStreamRuns
// when it holds too many.
func saveStream(tx *bbolt.Tx, stream string, st streamState) error {
	if len(st.runs) >= 2*inlineRuns {
		old := st.runs[:inlineRuns]
		if err := tx.Bucket(bucketStreamRuns).Put(runsKey(stream, old[0].rev), appendRuns(nil, old)); err != nil {
			return err
		}
		st.runs = append([]run(nil), st.runs[inlineRuns:]...)
	}
	return tx.Bucket(bucketStreams).Put([]byte(stream), encodeStream(st))
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

// revPos is one revision of a stream and its position.
type revPos struct{ rev, pos uint64 }

// streamPositions returns up to n (revision, position) pairs of st's live
// events, starting at revision from (inclusive) and going forwards, or
// backwards when back is set.
func streamPositions(tx *bbolt.Tx, stream string, st streamState, from uint64, back bool, n int) ([]revPos, error) {
	var out []revPos
	// emit adds the revisions of r in the requested order and reports
	// whether the page is full.
	emit := func(r run) bool {
		lo, hi := max(r.rev, st.liveFrom), r.rev+uint64(r.n) // [lo, hi)
		if back {
			for rev := min(hi-1, from); rev >= lo && rev < hi; rev-- {
				if len(out) == n {
					return true
				}
				out = append(out, revPos{rev, r.pos + rev - r.rev})
				if rev == 0 {
					break
				}
			}
			return len(out) == n
		}
		for rev := max(lo, from); rev < hi; rev++ {
			if len(out) == n {
				return true
			}
			out = append(out, revPos{rev, r.pos + rev - r.rev})
		}
		return len(out) == n
	}
	inlineFrom := st.next
	if len(st.runs) > 0 {
		inlineFrom = st.runs[0].rev
	}
	prefix := append([]byte(stream), 0)
	chunks := func(at uint64, yield func([]run) bool) error {
		c := tx.Bucket(bucketStreamRuns).Cursor()
		ours := func(k []byte) bool { return k != nil && len(k) == len(prefix)+8 && bytes.HasPrefix(k, prefix) }
		key := runsKey(stream, at)
		k, v := c.Seek(key)
		if !bytes.Equal(k, key) {
			k, v = c.Prev() // the last chunk starting before from
			if !ours(k) && !back {
				k, v = c.Seek(prefix) // from is before the stream's first chunk
			}
		}
		for ours(k) {
			runs, err := decodeRuns(v)
			if err != nil {
				return err
			}
			if !yield(runs) {
				return nil
			}
			if back {
				k, v = c.Prev()
			} else {
				k, v = c.Next()
			}
		}
		return nil
	}
	if back {
		for i := len(st.runs) - 1; i >= 0; i-- {
			if emit(st.runs[i]) {
				return out, nil
			}
		}
		if inlineFrom > 0 && st.liveFrom < inlineFrom {
			err := chunks(min(from, inlineFrom-1), func(runs []run) bool {
				for i := len(runs) - 1; i >= 0; i-- {
					if emit(runs[i]) {
						return false
					}
				}
				return true
			})
			return out, err
		}
		return out, nil
	}
	if from < inlineFrom {
		full := false
		if err := chunks(from, func(runs []run) bool {
			for _, r := range runs {
				if emit(r) {
					full = true
					return false
				}
			}
			return true
		}); err != nil || full {
			return out, err
		}
	}
	for _, r := range st.runs {
		if emit(r) {
			break
		}
	}
	return out, nil
}
