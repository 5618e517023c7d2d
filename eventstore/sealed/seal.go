package sealed

import (
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// prefix opens every sealed value: a JSON string "ws1:<base64>" whose
// base64 holds a 12-byte nonce and the AES-GCM sealing of the value's JSON.
const prefix = `"ws1:`

var (
	prefixBytes = []byte(prefix)
	// escapedPrefix is how a literal "ws1: typed by a user is stored: the
	// same JSON string with its w escaped, so that only sealed values carry
	// the prefix byte for byte.
	escapedPrefix = []byte(`"\u0077s1:`)
	nullJSON      = []byte("null")
)

// span is the byte range of one JSON value inside a document.
type span struct{ start, end int }

// seal returns data with the values at paths (dotted JSON paths into
// objects) replaced by sealed strings under key, bound to the event id.
// Paths that are absent, or hold null, are left as they are.
func seal(data []byte, paths []string, key cipher.AEAD, id uuid.UUID) ([]byte, error) {
	spans := make([]span, 0, len(paths))
	for _, p := range paths {
		sp, ok, err := find(data, p)
		if err != nil {
			return nil, err
		}
		if ok && !bytes.Equal(data[sp.start:sp.end], nullJSON) {
			spans = append(spans, sp)
		}
	}
	if len(spans) == 0 {
		return data, nil
	}
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	var nonce [12]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(data)+len(spans)*64)
	last := 0
	var buf []byte
	for i, sp := range spans {
		if sp.start < last {
			return nil, errors.New("sealed: overlapping personal paths")
		}
		out = append(out, data[last:sp.start]...)
		n := nonce
		n[11] ^= byte(i)
		n[10] ^= byte(i >> 8)
		buf = append(buf[:0], n[:]...)
		buf = key.Seal(buf, n[:], data[sp.start:sp.end], id[:])
		out = append(out, prefix...)
		out = base64.RawStdEncoding.AppendEncode(out, buf)
		out = append(out, '"')
		last = sp.end
	}
	return append(out, data[last:]...), nil
}

// open returns data with every sealed value replaced by its plaintext
// JSON, or by null when key is nil (the key was destroyed). A sealed value
// that does not open under key is an error (the data or the key was
// altered).
func open(data []byte, key cipher.AEAD, id uuid.UUID) ([]byte, error) {
	out := make([]byte, 0, len(data))
	var raw []byte
	for {
		i := bytes.Index(data, prefixBytes)
		if i < 0 {
			return append(out, data...), nil
		}
		j := bytes.IndexByte(data[i+len(prefix):], '"')
		if j < 0 {
			return nil, errors.New("sealed: unterminated sealed value")
		}
		enc := data[i+len(prefix) : i+len(prefix)+j]
		out = append(out, data[:i]...)
		if key == nil {
			out = append(out, nullJSON...)
		} else {
			var err error
			raw, err = base64.RawStdEncoding.AppendDecode(raw[:0], enc)
			if err != nil || len(raw) < 12 {
				return nil, errors.New("sealed: malformed sealed value")
			}
			out, err = key.Open(out, raw[:12], raw[12:], id[:])
			if err != nil {
				return nil, errors.New("sealed: a sealed value does not open with its data key")
			}
		}
		data = data[i+len(prefix)+j+1:]
	}
}

// find returns the span of the value at the dotted path in the JSON object
// data, and whether it is there.
func find(data []byte, path string) (span, bool, error) {
	sp := span{0, len(data)}
	for part := range strings.SplitSeq(path, ".") {
		next, ok, err := member(data, sp, part)
		if err != nil || !ok {
			return span{}, false, err
		}
		sp = next
	}
	return sp, true, nil
}

// member returns the span of the value of key name in the object at sp.
func member(data []byte, sp span, name string) (span, bool, error) {
	i := skipSpace(data, sp.start)
	if i >= sp.end || data[i] != '{' {
		return span{}, false, nil
	}
	i++
	for {
		i = skipSpace(data, i)
		if i >= sp.end {
			return span{}, false, errMalformed
		}
		if data[i] == '}' {
			return span{}, false, nil
		}
		if data[i] == ',' {
			i++
			continue
		}
		if data[i] != '"' {
			return span{}, false, errMalformed
		}
		kEnd, err := skipString(data, i)
		if err != nil {
			return span{}, false, err
		}
		key := data[i+1 : kEnd-1]
		i = skipSpace(data, kEnd)
		if i >= sp.end || data[i] != ':' {
			return span{}, false, errMalformed
		}
		vStart := skipSpace(data, i+1)
		vEnd, err := skipValue(data, vStart)
		if err != nil {
			return span{}, false, err
		}
		if string(key) == name {
			return span{vStart, vEnd}, true, nil
		}
		i = vEnd
	}
}

var errMalformed = errors.New("sealed: event data is not a JSON object")

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string that starts at b[i].
func skipString(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errMalformed
}

// skipValue returns the index after the JSON value that starts at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errMalformed
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := skipString(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errMalformed
	}
	j := i
	for j < len(b) && !bytes.ContainsRune([]byte(",}] \n\t\r"), rune(b[j])) {
		j++
	}
	if j == i {
		return 0, fmt.Errorf("%w at byte %d", errMalformed, i)
	}
	return j, nil
}

func indexPrefix(b []byte) int { return bytes.Index(b, prefixBytes) }

// escape rewrites every literal "ws1: in data as "\u0077s1:, the same JSON,
// so that only sealed values carry the prefix.
func escape(data []byte) []byte { return bytes.ReplaceAll(data, prefixBytes, escapedPrefix) }
