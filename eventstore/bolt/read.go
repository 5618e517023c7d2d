package bolt

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"

	bbolt "go.etcd.io/bbolt"

	"waystation/eventstore"
)

// pageSize is how many events one read transaction collects. Reads never
// yield while a transaction is open, so a slow consumer cannot hold back
// the writer.
const pageSize = 512

// errEndOfStream ends a stream read quietly when the stream disappears
// between pages.
var errEndOfStream = errors.New("end of stream")

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(
	ctx context.Context, stream string, opts eventstore.ReadStreamOptions,
) iter.Seq2[eventstore.RecordedEvent, error] {
	return func(yield func(eventstore.RecordedEvent, error) bool) {
		if err := validateStream(stream); err != nil {
			yield(eventstore.RecordedEvent{}, err)
			return
		}
		next, remaining := opts.From, opts.Limit
		for first := true; ; first = false {
			if err := s.check(ctx); err != nil {
				yield(eventstore.RecordedEvent{}, err)
				return
			}
			n := pageSize
			if opts.Limit > 0 && remaining < n {
				n = remaining
			}
			page, more, err := s.streamPage(stream, next, opts.Direction, n, first)
			if errors.Is(err, errEndOfStream) {
				return
			}
			if err != nil {
				yield(eventstore.RecordedEvent{}, err)
				return
			}
			for _, e := range page {
				if !yield(e, nil) {
					return
				}
			}
			remaining -= len(page)
			if !more || len(page) == 0 || (opts.Limit > 0 && remaining <= 0) {
				return
			}
			last := page[len(page)-1].Revision
			if opts.Direction == eventstore.Backwards {
				next = last - 1
			} else {
				next = last + 1
			}
		}
	}
}

// streamPage reads up to n events of stream starting at revision from
// (inclusive) in direction dir. more reports whether events may follow.
// A missing stream is ErrStreamNotFound on the first page and
// errEndOfStream after.
func (s *Store) streamPage(
	stream string, from uint64, dir eventstore.Direction, n int, first bool,
) (page []eventstore.RecordedEvent, more bool, err error) {
	err = s.view(func(tx *bbolt.Tx) error {
		st, err := loadStream(tx, stream)
		if err != nil {
			return err
		}
		switch {
		case st.tombstoned:
			return fmt.Errorf("%w: %s", eventstore.ErrStreamDeleted, stream)
		case !st.exists() && first:
			return fmt.Errorf("%w: %s", eventstore.ErrStreamNotFound, stream)
		case !st.exists():
			return errEndOfStream
		}
		back := dir == eventstore.Backwards
		// One more than asked tells whether events follow.
		refs, err := streamPositions(tx, stream, st, from, back, n+1)
		if err != nil {
			return err
		}
		more = len(refs) > n
		refs = refs[:min(n, len(refs))]
		logB := tx.Bucket(bucketLog)
		page = make([]eventstore.RecordedEvent, 0, len(refs))
		for _, r := range refs {
			e, err := decodeRecord(r.pos, logB.Get(u64(r.pos)))
			if err != nil {
				return err
			}
			page = append(page, e)
		}
		return nil
	})
	return page, more, err
}

// ReadAll implements eventstore.Store.
func (s *Store) ReadAll(
	ctx context.Context, opts eventstore.ReadAllOptions,
) iter.Seq2[eventstore.RecordedEvent, error] {
	return func(yield func(eventstore.RecordedEvent, error) bool) {
		after, remaining := opts.From.Commit, opts.Limit
		// Events are yielded by value, so one page's slice serves them all.
		var page []eventstore.RecordedEvent
		for {
			if err := s.check(ctx); err != nil {
				yield(eventstore.RecordedEvent{}, err)
				return
			}
			n := pageSize
			if opts.Limit > 0 && remaining < n {
				n = remaining
			}
			var err error
			page, err = s.allPage(page[:0], after, opts.Direction, n)
			if err != nil {
				yield(eventstore.RecordedEvent{}, err)
				return
			}
			for _, e := range page {
				if !yield(e, nil) {
					return
				}
			}
			remaining -= len(page)
			if len(page) < n || (opts.Limit > 0 && remaining <= 0) {
				return
			}
			after = page[len(page)-1].Position.Commit
		}
	}
}

// allPage appends to page up to n events of the global log after position
// after (exclusive) in direction dir. The page grows as events are found
// rather than up front: a live subscription wakes for one or a few events.
func (s *Store) allPage(
	page []eventstore.RecordedEvent, after uint64, dir eventstore.Direction, n int,
) ([]eventstore.RecordedEvent, error) {
	var pr pageReader
	err := s.view(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketLog).Cursor()
		var k, v []byte
		if dir == eventstore.Backwards {
			if after == 0 {
				return nil
			}
			k, v = c.Seek(u64(after - 1))
			if k == nil || beUint64(k) > after-1 {
				k, v = c.Prev()
			}
			for ; k != nil && len(page) < n; k, v = c.Prev() {
				e, err := pr.decode(beUint64(k), v)
				if err != nil {
					return err
				}
				page = append(page, e)
			}
			return nil
		}
		if after == ^uint64(0) {
			return nil
		}
		for k, v = c.Seek(u64(after + 1)); k != nil && len(page) < n; k, v = c.Next() {
			e, err := pr.decode(beUint64(k), v)
			if err != nil {
				return err
			}
			page = append(page, e)
		}
		return nil
	})
	return page, err
}

// The blocks that a page's payloads and metadata are copied into start at
// minArena bytes and double up to maxArena, so a page of one event does not
// pay for a page of hundreds.
const (
	minArena = 4 << 10
	maxArena = 64 << 10
)

// pageReader decodes the records of one page of the global log like
// decodeRecord (the same splitRecord, every byte copied out of bbolt's memory), but
// copies the data and metadata of many events into one block and shares
// the type names, instead of three allocations per event. Each event's
// Data and Metadata have their own capacity, so appending to one never
// writes into another.
type pageReader struct {
	arena []byte
}

func (p *pageReader) decode(pos uint64, b []byte) (eventstore.RecordedEvent, error) {
	e, parts, err := splitRecord(pos, b)
	if err != nil {
		return e, err
	}
	e.Stream = string(parts[0])
	e.Type = typeName(parts[1])
	e.Data = p.copy(parts[2])
	e.Metadata = p.copy(parts[3])
	return e, nil
}

// copy returns a copy of b in the arena, with no spare capacity; nil for
// an empty b, as decodeRecord returns.
func (p *pageReader) copy(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	if len(b) > cap(p.arena)-len(p.arena) {
		p.arena = make([]byte, 0, max(min(2*cap(p.arena), maxArena), minArena, len(b)))
	}
	start := len(p.arena)
	p.arena = append(p.arena, b...)
	return p.arena[start:len(p.arena):len(p.arena)]
}

// typeNames shares the strings of event type names between reads; it
// stops growing at maxTypeNames (a log has a few dozen types).
var typeNames struct {
	sync.RWMutex
	m map[string]string
}

const maxTypeNames = 1024

func typeName(b []byte) string {
	typeNames.RLock()
	s, ok := typeNames.m[string(b)]
	typeNames.RUnlock()
	if ok {
		return s
	}
	s = string(b)
	typeNames.Lock()
	if typeNames.m == nil {
		typeNames.m = map[string]string{}
	}
	if len(typeNames.m) < maxTypeNames {
		typeNames.m[s] = s
	}
	typeNames.Unlock()
	return s
}
