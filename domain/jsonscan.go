package domain

import (
	"encoding/json"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

//go:generate go run ./internal/gendecode/cmd

// The fast decoders of decode_gen.go, generated from the struct declarations, read the
// documents that Encode writes (an object of known keys, each once, holding plain strings,
// booleans, integers, nested objects and arrays) with the primitives of this file, and
// report false for anything else: escapes, nulls, floats, unknown or differently cased
// keys, repeated keys, invalid UTF-8. The caller then decodes with encoding/json, whose
// result a fast decoder always equals when it reports true (FuzzFastDecodeEqualsEncodingJSON).

// decodeMetadata reads a metadata document: by the fast path when it takes the document,
// else by encoding/json.
func decodeMetadata(b []byte, m *Metadata) error {
	if fastMetadata(b, m) {
		return nil
	}
	*m = Metadata{}
	return json.Unmarshal(b, m)
}

// event returns e as an Event when ok, else nil.
func event[T Event](e T, ok bool) (Event, bool) {
	if !ok {
		return nil, false
	}
	return e, true
}

// scan reads one JSON document; i is the next byte to read.
type scan struct {
	b []byte
	i int
}

func (s *scan) space() { s.i = skipSpace(s.b, s.i) }

// end reports whether only white space is left.
func (s *scan) end() bool { return skipSpace(s.b, s.i) == len(s.b) }

// object walks the keys of one JSON object. Each call of next moves s to the next key's
// value (after the previous value was read), or past the closing brace, where ok reports a
// well-formed object. The reader of the value reports to set, and a value that did not
// read, or a key read twice, ends the walk with ok false.
type object struct {
	start, end int    // the key is s.b[start:end]
	seen       uint64 // the bits of set
	started    bool
	ok         bool
	failed     bool
}

// key returns the key whose value s is at.
func (o *object) key(s *scan) []byte { return s.b[o.start:o.end] }

// set records that the value of the key numbered bit (below 64) was read, and whether it
// read.
func (o *object) set(bit uint, ok bool) {
	if !ok || o.seen&(1<<bit) != 0 {
		o.failed = true
	}
	o.seen |= 1 << bit
}

func (o *object) next(s *scan) bool {
	if o.failed {
		return false
	}
	s.space()
	if !o.started {
		o.started = true
		if s.i >= len(s.b) || s.b[s.i] != '{' {
			return false
		}
		s.i++
		s.space()
		if s.i < len(s.b) && s.b[s.i] == '}' {
			s.i++
			o.ok = true
			return false
		}
	} else {
		if s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case '}':
			s.i++
			o.ok = true
			return false
		case ',':
			s.i++
			s.space()
		default:
			return false
		}
	}
	key, next, ok := plainString(s.b, s.i)
	if !ok {
		return false
	}
	o.start, o.end = s.i+1, s.i+1+len(key)
	s.i = skipSpace(s.b, next)
	if s.i >= len(s.b) || s.b[s.i] != ':' {
		return false
	}
	s.i = skipSpace(s.b, s.i+1)
	return true
}

// elements walks the elements of one JSON array like object walks keys; empty reports an
// empty array, for which encoding/json makes an empty, non-nil slice.
type elements struct {
	started bool
	ok      bool
	empty   bool
}

func (l *elements) next(s *scan) bool {
	s.space()
	if !l.started {
		l.started = true
		if s.i >= len(s.b) || s.b[s.i] != '[' {
			return false
		}
		s.i++
		s.space()
		if s.i < len(s.b) && s.b[s.i] == ']' {
			s.i++
			l.ok, l.empty = true, true
			return false
		}
		return true
	}
	if s.i >= len(s.b) {
		return false
	}
	switch s.b[s.i] {
	case ']':
		s.i++
		l.ok = true
		return false
	case ',':
		s.i++
		s.space()
		return true
	}
	return false
}

// endList ends the walk l of the elements read into p and reports whether the array was
// well formed.
func endList[T any](l *elements, p *[]T) bool {
	if l.empty {
		*p = []T{}
	}
	return l.ok
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// plainByte says which bytes a plain string holds: printable ASCII other than the quote
// and the backslash.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// plainString scans a JSON string at b[i] (the opening quote) that holds only printable
// ASCII without escapes and returns its contents and the index after the closing quote.
func plainString(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	j := i + 1
	for j < len(b) && plainByte[b[j]] {
		j++
	}
	if j < len(b) && b[j] == '"' {
		return b[i+1 : j], j + 1, true
	}
	return nil, 0, false
}

// text reads a string without escapes or control characters, in valid UTF-8, and returns
// its contents.
func (s *scan) text() ([]byte, bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	j := s.i + 1
	for j < len(s.b) && plainByte[s.b[j]] {
		j++
	}
	ascii := true
	for ; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			v := s.b[s.i+1 : j]
			if !ascii && !utf8.Valid(v) {
				return nil, false
			}
			s.i = j + 1
			return v, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= 0x80:
			ascii = false
		}
	}
	return nil, false
}

// str reads a string into p.
func str[T ~string](s *scan, p *T) bool {
	v, ok := s.text()
	if ok {
		*p = T(v)
	}
	return ok
}

// token reads a string into p that is one of few values shared by many events (an enum's
// value, a station code, a bed, an actor), keeping one copy of each. Free text and personal
// data never go through here: the table outlives erasure.
func token[T ~string](s *scan, p *T) bool {
	v, ok := s.text()
	if ok {
		*p = T(tokens.get(v))
	}
	return ok
}

// enum reads a string into p that is one of values, the constants of its type, or else
// a shared string (token).
func enum[T ~string](s *scan, p *T, values []T) bool {
	v, ok := s.text()
	if !ok {
		return false
	}
	for _, c := range values {
		if string(c) == string(v) {
			*p = c
			return true
		}
	}
	*p = T(tokens.get(v))
	return true
}

// tokens holds the shared strings of token, up to maxTokens of them.
var tokens tokenTable

const maxTokens = 4096

type tokenTable struct {
	mu sync.RWMutex
	m  map[string]string // guarded by mu
}

func (t *tokenTable) get(b []byte) string {
	t.mu.RLock()
	v, ok := t.m[string(b)]
	t.mu.RUnlock()
	if ok {
		return v
	}
	v = string(b)
	t.mu.Lock()
	if t.m == nil {
		t.m = map[string]string{}
	}
	if len(t.m) < maxTokens {
		t.m[v] = v
	}
	t.mu.Unlock()
	return v
}

// boolean reads true or false into p.
func boolean[T ~bool](s *scan, p *T) bool {
	switch {
	case len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "true":
		*p = true
		s.i += 4
	case len(s.b)-s.i >= 5 && string(s.b[s.i:s.i+5]) == "false":
		*p = false
		s.i += 5
	default:
		return false
	}
	return true
}

// integer reads a JSON number without fraction or exponent that fits an int into p.
func integer[T ~int](s *scan, p *T) bool {
	j := s.i
	if j < len(s.b) && s.b[j] == '-' {
		j++
	}
	start := j
	for j < len(s.b) && s.b[j] >= '0' && s.b[j] <= '9' {
		j++
	}
	if j == start || (s.b[start] == '0' && j-start > 1) {
		return false
	}
	if j < len(s.b) && (s.b[j] == '.' || s.b[j] == 'e' || s.b[j] == 'E') {
		return false
	}
	n, err := strconv.Atoi(string(s.b[s.i:j]))
	if err != nil {
		return false
	}
	*p = T(n)
	s.i = j
	return true
}

func (s *scan) id(p *uuid.UUID) bool {
	v, ok := s.text()
	if !ok {
		return false
	}
	id, err := uuid.ParseBytes(v)
	if err != nil {
		return false
	}
	*p = id
	return true
}

func (s *scan) time(p *time.Time) bool {
	v, ok := s.text()
	return ok && p.UnmarshalText(v) == nil
}

func (s *scan) date(p *Date) bool {
	v, ok := s.text()
	return ok && p.UnmarshalText(v) == nil
}
