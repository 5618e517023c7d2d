package sealed

import (
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"slices"
	"strconv"
	"sync"

	"github.com/google/uuid"
)

// prefix opens every sealed value. The first personal value of an event
// (in document order) becomes the JSON string "ws1:<base64>", whose base64
// holds the 8-byte number of the data key (big-endian), a 12-byte nonce
// and the AES-GCM sealing, bound to the event ID, of every personal value
// of the event in document order, each as its length (uvarint) and its
// JSON; each later personal
// value becomes "ws1:#<n>", a reference to the n-th element of that array.
// One nonce, one tag and one cipher call per event keep the stored events
// small and reads fast.
const prefix = `"ws1:`

var (
	prefixBytes = []byte(prefix)
	// escapedPrefix is how a literal "ws1: typed by a user is stored: the
	// same JSON string with its w escaped, so that only sealed values carry
	// the prefix byte for byte.
	escapedPrefix = []byte(`"\u0077s1:`)
	nullJSON      = []byte("null")
)

// seal returns data with the values at paths (dotted JSON paths into
// objects) sealed under key, bound to the event id. Paths that are absent,
// or hold null, are left as they are.
func seal(data []byte, paths *pathTree, keyID uint64, key cipher.AEAD, id uuid.UUID) ([]byte, error) {
	spans, err := collect(data, span{0, len(data)}, paths, nil)
	if err != nil {
		return nil, err
	}
	if len(spans) == 0 {
		return data, nil
	}
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	plain := make([]byte, 0, len(data))
	for i, sp := range spans {
		if i > 0 && sp.start < spans[i-1].end {
			return nil, errors.New("sealed: overlapping personal paths")
		}
		plain = binary.AppendUvarint(plain, uint64(sp.end-sp.start))
		plain = append(plain, data[sp.start:sp.end]...)
	}
	sealed := make([]byte, 8+12, 8+12+len(plain)+key.Overhead())
	binary.BigEndian.PutUint64(sealed, keyID)
	if _, err := rand.Read(sealed[8:]); err != nil {
		return nil, err
	}
	sealed = key.Seal(sealed, sealed[8:20], plain, id[:])
	out := make([]byte, 0, len(data)+base64.RawStdEncoding.EncodedLen(len(sealed))+len(spans)*10)
	last := 0
	for i, sp := range spans {
		out = append(out, data[last:sp.start]...)
		out = append(out, prefix...)
		if i == 0 {
			out = base64.RawStdEncoding.AppendEncode(out, sealed)
		} else {
			out = append(out, '#')
			out = strconv.AppendInt(out, int64(i), 10)
		}
		out = append(out, '"')
		last = sp.end
	}
	return append(out, data[last:]...), nil
}

// resolver returns the data key numbered id; a nil key with a nil error
// means the key was destroyed (the values read as null).
type resolver func(keyID uint64) (cipher.AEAD, error)

// sealedRef is one sealed value found in an event: the byte range of its
// JSON string and the element of the sealed array it stands for.
type sealedRef struct{ start, end, n int }

// open returns data with every sealed value replaced by its plaintext
// JSON, or by null when the key was destroyed. A sealed value that does
// not open under its key is an error (the data or the key was altered).
// With inPlace the result is written over data itself (the opened form is
// never longer) and data must be the caller's to overwrite; otherwise data
// is left as it is. Every check is made before the first byte is written,
// so on error data is unchanged either way.
func open(data []byte, resolve resolver, id uuid.UUID, inPlace bool) ([]byte, error) {
	var refsArr [16]sealedRef
	refs := refsArr[:0]
	var body []byte
	for off := 0; ; {
		i := indexPrefix(data[off:])
		if i < 0 {
			break
		}
		i += off
		j := bytes.IndexByte(data[i+len(prefix):], '"')
		if j < 0 {
			return nil, errors.New("sealed: unterminated sealed value")
		}
		b := data[i+len(prefix) : i+len(prefix)+j]
		ref := sealedRef{start: i, end: i + len(prefix) + j + 1}
		if len(refs) == 0 {
			body = b
		} else {
			n, ok := atoiRef(b)
			if !ok {
				return nil, errors.New("sealed: malformed sealed value")
			}
			ref.n = n
		}
		refs = append(refs, ref)
		off = ref.end
	}
	if len(refs) == 0 {
		return data, nil
	}
	scratch := scratchPool.Get().(*[]byte)
	defer scratchPool.Put(scratch)
	raw, err := base64.RawStdEncoding.AppendDecode((*scratch)[:0], body)
	*scratch = raw[:0]
	if err != nil || len(raw) < 8+12 {
		return nil, errors.New("sealed: malformed sealed value")
	}
	key, err := resolve(binary.BigEndian.Uint64(raw))
	if err != nil {
		return nil, err
	}
	var valuesArr [16][]byte
	values := valuesArr[:0]
	if key != nil {
		if values, err = openValues(values, raw[8:], key, id); err != nil {
			return nil, err
		}
	}
	// Check every reference and size the result before writing. In place,
	// a value must never end past the end of the sealed value it replaces
	// plus what earlier ones freed (grow stays at most zero), or it would
	// overwrite bytes not read yet. Stored as seal writes it, that always
	// holds: the first sealed value, base64 of every value and more, frees
	// more than all the values take.
	size, grow, fits := len(data), 0, true
	for _, r := range refs {
		v := nullJSON
		if key != nil {
			if r.n >= len(values) {
				return nil, errors.New("sealed: a sealed value refers to nothing")
			}
			v = values[r.n]
		}
		grow += len(v) - (r.end - r.start)
		fits = fits && grow <= 0
	}
	size += grow
	var out []byte
	if inPlace && fits {
		out = data[:0]
	} else {
		out = make([]byte, 0, size)
	}
	last := 0
	for _, r := range refs {
		out = append(out, data[last:r.start]...)
		if key == nil {
			out = append(out, nullJSON...)
		} else {
			out = append(out, values[r.n]...)
		}
		last = r.end
	}
	return append(out, data[last:]...), nil
}

// atoiRef reads the "#<n>" of a later sealed value; n is at least 1.
func atoiRef(b []byte) (int, bool) {
	if len(b) < 2 || len(b) > 8 || b[0] != '#' {
		return 0, false
	}
	n := 0
	for _, c := range b[1:] {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n > 0
}

// scratchPool holds the buffers open decodes sealed values into.
var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// keyIDOf returns the number of the data key that sealed data, and whether
// data holds a sealed value.
func keyIDOf(data []byte) (uint64, bool) {
	i := indexPrefix(data)
	if i < 0 {
		return 0, false
	}
	body := data[i+len(prefix):]
	if len(body) < 11 {
		return 0, false
	}
	raw, err := base64.RawStdEncoding.AppendDecode(nil, body[:11])
	if err != nil || len(raw) < 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(raw), true
}

// openValues opens the sealed personal values of an event (nonce then
// ciphertext) and splits them; the values point into raw.
func openValues(values [][]byte, raw []byte, key cipher.AEAD, id uuid.UUID) ([][]byte, error) {
	plain, err := key.Open(raw[12:12], raw[:12], raw[12:], id[:])
	if err != nil {
		return nil, errors.New("sealed: a sealed value does not open with its data key")
	}
	for len(plain) > 0 {
		n, k := binary.Uvarint(plain)
		if k <= 0 || n == 0 || n > uint64(len(plain)-k) {
			return nil, errors.New("sealed: malformed sealed value")
		}
		values = append(values, plain[k:k+int(n)])
		plain = plain[k+int(n):]
	}
	if len(values) == 0 {
		return nil, errors.New("sealed: malformed sealed value")
	}
	return values, nil
}

// escape rewrites every literal "ws1: in data as "\u0077s1:, the same JSON,
// so that only sealed values carry the prefix.
func escape(data []byte) []byte { return bytes.ReplaceAll(data, prefixBytes, escapedPrefix) }
