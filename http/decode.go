package http

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"waystation/domain"
)

// MaxBody is the largest request body accepted; larger ones answer 413.
const MaxBody = 1 << 20

// readBody reads r's JSON body, at most MaxBody bytes. An empty body reads
// as "{}" whatever the content type; any other body must be
// application/json (415 otherwise).
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := readAll(http.MaxBytesReader(w, r.Body, MaxBody), r.ContentLength)
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, errorf(CodePayloadTooLarge, "", "the body is larger than 1 MiB")
		}
		return nil, errorf(domain.CodeInvalid, "", "the body could not be read")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return []byte("{}"), nil
	}
	ct := r.Header.Get("Content-Type")
	if ct == "application/json" {
		// What clients send nearly always; ParseMediaType would agree.
		return body, nil
	}
	mt, _, perr := mime.ParseMediaType(ct)
	if ct == "" || perr != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return nil, errorf(CodeUnsupportedMediaType, "", "the body must be sent as application/json")
	}
	return body, nil
}

// readAll reads rd to its end into a buffer sized for the declared length
// (one byte more, to see the end without growing), so that a body of known
// length is read with one allocation; a length that is unknown, wrong or
// above MaxBody only costs the buffer's growth.
func readAll(rd io.Reader, declared int64) ([]byte, error) {
	n := 512
	if declared > 0 && declared < MaxBody {
		n = int(declared) + 1
	}
	b := make([]byte, 0, n)
	for {
		m, err := rd.Read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// DecodeStrict decodes body, one JSON object, into v (a pointer to a
// struct). It refuses, with an invalid *domain.Error whose Field is the
// dotted path of the offending input (array elements by index from 0:
// person.contacts.1.name):
//
//   - a member given twice in one object, and a member whose name matches
//     a field only when case is ignored ({"ELIGIBLE":true}): encoding/json
//     would keep the last one, or match it regardless of case;
//   - text that is not valid UTF-8, and a \u escape of half a UTF-16
//     surrogate pair, anywhere in the body: encoding/json would replace
//     them with U+FFFD without a word;
//   - unknown fields, wrong types, malformed values (times, dates, enums
//     with their own decoding), trailing data, and nesting deeper than
//     maxDepth;
//   - a string field whose text its kind refuses (domain.TextKind, named
//     by the field's text tag: too long, control characters, a line break
//     in a one-line field...), and a list longer than its max tag allows.
//
// The text it keeps is cleaned as its kind says (NFC, trimmed). The
// messages never repeat the input's values.
func DecodeStrict(body []byte, v any) error {
	t := reflect.TypeOf(v)
	p := planOf(t)
	s := scanner{b: body}
	if err := s.prescan(p); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(body, t, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errorf(domain.CodeInvalid, "", "the body must hold exactly one JSON object")
	}
	s.path.segs = s.buf[:0]
	return p.clean(reflect.ValueOf(v), &s.path)
}

func decodeError(body []byte, t reflect.Type, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return errorf(domain.CodeInvalid, "", "malformed JSON at byte "+strconv.FormatInt(syn.Offset, 10))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return errorf(domain.CodeInvalid, "", "malformed JSON: the body ends early")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return errorf(domain.CodeInvalid, "", "the body must be a JSON object")
		}
		// encoding/json names the field without the index of the array
		// element it is in; locate finds the element too.
		if path, msg, ok := locate(body, t, ""); ok && path != "" {
			return errorf(domain.CodeInvalid, path, path+" "+msg)
		}
		return errorf(domain.CodeInvalid, field, field+" must be "+kindName(typ.Type))
	}
	if path, msg, ok := locate(body, t, ""); ok {
		if path == "" {
			return errorf(domain.CodeInvalid, "", msg)
		}
		return errorf(domain.CodeInvalid, path, path+" "+msg)
	}
	return errorf(domain.CodeInvalid, "", "the body does not match the request's shape")
}

func kindName(t reflect.Type) string {
	if t == nil {
		return "of another type"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "of another type"
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	timeType        = reflect.TypeFor[time.Time]()
)

// locate walks raw alongside the Go type t and returns the dotted path of
// the first value that does not decode into its field (array elements by
// index from 0, as the domain names them: zones.1.beds), with a message
// that says what was expected.
func locate(raw []byte, t reflect.Type, path string) (string, string, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return "", "", false
	}
	pt := reflect.PointerTo(t)
	if pt.Implements(jsonUnmarshaler) || pt.Implements(textUnmarshaler) {
		if err := json.Unmarshal(raw, reflect.New(t).Interface()); err != nil {
			if t == timeType {
				return path, "must be an RFC 3339 time with a zone", true
			}
			if t == reflect.TypeFor[domain.Date]() {
				return path, "must be a date YYYY-MM-DD", true
			}
			return path, "has an invalid value", true
		}
		return "", "", false
	}
	join := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	switch t.Kind() {
	case reflect.Struct:
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return path, "must be an object", true
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			v := m[k]
			ft, ok := fieldByJSONName(t, k)
			if !ok {
				return join(k), "is not a known field", true
			}
			if p, msg, bad := locate(v, ft, join(k)); bad {
				return p, msg, true
			}
		}
	case reflect.Slice, reflect.Array:
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return path, "must be an array", true
		}
		for i, v := range items {
			if p, msg, bad := locate(v, t.Elem(), join(strconv.Itoa(i))); bad {
				return p, msg, true
			}
		}
	case reflect.Map:
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return path, "must be an object", true
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if p, msg, bad := locate(m[k], t.Elem(), join(k)); bad {
				return p, msg, true
			}
		}
	case reflect.Interface:
	default:
		if err := json.Unmarshal(raw, reflect.New(t).Interface()); err != nil {
			return path, "must be " + kindName(t), true
		}
	}
	return "", "", false
}

// fieldByJSONName finds the type of the field of struct t that JSON key k
// decodes into, looking through embedded structs the way encoding/json does.
func fieldByJSONName(t reflect.Type, k string) (reflect.Type, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				if ft, ok := fieldByJSONName(et, k); ok {
					return ft, true
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if strings.EqualFold(name, k) {
			return f.Type, true
		}
	}
	return nil, false
}
