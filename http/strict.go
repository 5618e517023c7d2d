package http

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"waystation/domain"
)

// maxDepth is how deeply the objects and arrays of a request body may
// nest; the deepest request the API takes nests four levels.
const maxDepth = 32

// planKind is what a plan checks.
type planKind uint8

const (
	planAny    planKind = iota // any JSON value (raw JSON, interfaces)
	planLeaf                   // a scalar or a value with its own decoding (times, dates, IDs, enums)
	planText                   // a plain string field, cleaned as its text kind says
	planStruct                 // an object of known members
	planList                   // an array
	planMap                    // an object of any members
)

// plan is how the strict decoder checks and cleans one Go type of a
// request body; planOf builds it from the type's fields and their json,
// text and max tags.
type plan struct {
	kind   planKind
	fields map[string]*planField // planStruct: by exact JSON name
	folded map[string]string     // planStruct: JSON names by their lower case
	list   []*planField          // planStruct: every field, in order
	elem   *plan                 // planList, planMap: the elements' plan
	text   domain.TextKind       // planText
	max    int                   // planList: the most items, 0 for no limit
}

// planField is one JSON member of a struct.
type planField struct {
	name  string
	key   []byte // name, for paths
	index []int  // as reflect.Value.FieldByIndex takes it
	bit   int    // its place among the struct's fields, to see repeats
	plan  *plan
}

var (
	plans      sync.Map // reflect.Type -> *plan, for struct types
	plansBuild sync.Mutex
	stringType = reflect.TypeFor[string]()
)

// planOf returns the plan of the request body type t (a pointer to a
// struct, or a struct).
func planOf(t reflect.Type) *plan {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	plansBuild.Lock()
	defer plansBuild.Unlock()
	return buildPlan(t, reflect.StructTag(""), map[reflect.Type]*plan{})
}

// buildPlan returns the plan of a value of type t in a field with tag;
// building maps the struct plans under construction, for recursive types.
func buildPlan(t reflect.Type, tag reflect.StructTag, building map[reflect.Type]*plan) *plan {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	pt := reflect.PointerTo(t)
	switch {
	case t == rawMessage || t.Kind() == reflect.Interface:
		return &plan{kind: planAny}
	case pt.Implements(jsonUnmarshaler) || pt.Implements(textUnmarshaler):
		return &plan{kind: planLeaf}
	}
	switch t.Kind() {
	case reflect.String:
		if t != stringType {
			// A named string type is an enumeration, refused by its
			// command's Validate when not one of its values.
			return &plan{kind: planLeaf}
		}
		kind, ok := domain.TextKindOf(tag.Get("text"))
		if !ok {
			panic("http: unknown text kind " + strconv.Quote(tag.Get("text")))
		}
		return &plan{kind: planText, text: kind}
	case reflect.Slice, reflect.Array:
		p := &plan{kind: planList, elem: buildPlan(t.Elem(), tag, building)}
		if m := tag.Get("max"); m != "" {
			n, err := strconv.Atoi(m)
			if err != nil || n < 1 {
				panic("http: bad max tag " + strconv.Quote(m))
			}
			p.max = n
		}
		return p
	case reflect.Map:
		return &plan{kind: planMap, elem: buildPlan(t.Elem(), tag, building)}
	case reflect.Struct:
		if p, ok := plans.Load(t); ok {
			return p.(*plan)
		}
		if p := building[t]; p != nil {
			return p
		}
		p := &plan{kind: planStruct, fields: map[string]*planField{}, folded: map[string]string{}}
		building[t] = p
		addPlanFields(p, t, nil, building)
		plans.Store(t, p)
		return p
	}
	return &plan{kind: planLeaf}
}

// addPlanFields adds the JSON members of struct t, reached through index,
// to p as encoding/json sees them: a field's own members before those of
// the structs it embeds, which they hide.
func addPlanFields(p *plan, t reflect.Type, index []int, building map[reflect.Type]*plan) {
	var embedded []reflect.StructField
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			if et := f.Type; et.Kind() == reflect.Struct {
				embedded = append(embedded, f)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, ok := p.fields[name]; ok {
			continue
		}
		pf := &planField{
			name: name, key: []byte(name), index: append(append([]int(nil), index...), i),
			bit: len(p.list), plan: buildPlan(f.Type, f.Tag, building),
		}
		p.fields[name] = pf
		p.folded[strings.ToLower(name)] = name
		p.list = append(p.list, pf)
	}
	for _, f := range embedded {
		addPlanFields(p, f.Type, append(append([]int(nil), index...), f.Index...), building)
	}
}

// fieldPath is the dotted path of a place in a request body, built only
// when an error names it.
type fieldPath struct{ segs []pathSeg }

// pathSeg is one step of a path: an object member's name (raw JSON
// string content, unescaped) or an array index.
type pathSeg struct {
	key   []byte
	index int // -1 for a member
}

func (p *fieldPath) pushKey(k []byte) { p.segs = append(p.segs, pathSeg{key: k, index: -1}) }
func (p *fieldPath) pushIndex(i int)  { p.segs = append(p.segs, pathSeg{index: i}) }
func (p *fieldPath) pop()             { p.segs = p.segs[:len(p.segs)-1] }

// String returns the path as errors name fields: person.contacts.1.name.
func (p *fieldPath) String() string {
	var b strings.Builder
	for i, s := range p.segs {
		if i > 0 {
			b.WriteByte('.')
		}
		if s.index >= 0 {
			b.WriteString(strconv.Itoa(s.index))
		} else {
			b.Write(s.key)
		}
	}
	return b.String()
}

// invalid returns an invalid error naming the path, with msg after it, or
// msg alone for the body as a whole.
func (p *fieldPath) invalid(msg string) error {
	f := p.String()
	if f == "" {
		return errorf(domain.CodeInvalid, "", "the body "+msg)
	}
	return errorf(domain.CodeInvalid, f, f+" "+msg)
}

// clean cleans the text of v, a value of p's type (or a pointer to one),
// in place, and checks the lengths of its lists.
func (p *plan) clean(v reflect.Value, path *fieldPath) error {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	switch p.kind {
	case planText:
		s := v.String()
		if s == "" {
			return nil
		}
		out, msg := p.text.CleanText(s)
		if msg != "" {
			return path.invalid(msg)
		}
		if out != s {
			v.SetString(out)
		}
	case planStruct:
		for _, f := range p.list {
			if f.plan.kind == planLeaf || f.plan.kind == planAny {
				continue
			}
			fv, err := v.FieldByIndexErr(f.index)
			if err != nil {
				continue
			}
			path.pushKey(f.key)
			err = f.plan.clean(fv, path)
			path.pop()
			if err != nil {
				return err
			}
		}
	case planList:
		if p.max > 0 && v.Len() > p.max {
			return path.invalid("has more than " + strconv.Itoa(p.max) + " items")
		}
		if p.elem.kind == planLeaf || p.elem.kind == planAny {
			return nil
		}
		for i := range v.Len() {
			path.pushIndex(i)
			err := p.elem.clean(v.Index(i), path)
			path.pop()
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// scanner reads a request body ahead of encoding/json, alongside the plan
// of the type it decodes into, for what encoding/json lets through:
// repeated members, members that match a field only regardless of case,
// invalid UTF-8 and lone surrogates (which it replaces with U+FFFD), and
// deep nesting. Anything malformed it leaves to encoding/json, which
// reports it: errSyntax stops the scan without an error of its own.
type scanner struct {
	b     []byte
	i     int
	depth int
	path  fieldPath
	buf   [8]pathSeg // room for path, to spare allocations
}

// errSyntax stops a scan at malformed JSON.
var errSyntax = errorf(domain.CodeInvalid, "", "malformed JSON")

// prescan scans s.b for what encoding/json lets through (see scanner).
func (s *scanner) prescan(p *plan) error {
	s.path.segs = s.buf[:0]
	if err := s.value(p); err != nil && err != errSyntax {
		return err
	}
	return nil
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// value scans one JSON value checked by p (nil: any value).
func (s *scanner) value(p *plan) error {
	s.space()
	if s.i >= len(s.b) {
		return errSyntax
	}
	switch s.b[s.i] {
	case '{':
		return s.object(p)
	case '[':
		return s.array(p)
	case '"':
		_, _, err := s.str(false)
		return err
	}
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ',', ']', '}', ' ', '\t', '\n', '\r':
			return nil
		case '"', '{', '[', ':':
			return errSyntax
		}
		s.i++
	}
	return nil
}

func (s *scanner) enter() error {
	s.depth++
	if s.depth > maxDepth {
		return s.path.invalid("nests objects and arrays more than " + strconv.Itoa(maxDepth) + " levels deep")
	}
	return nil
}

// object scans an object; p is a struct's plan, a map's, or any other
// (whose members are not known).
func (s *scanner) object(p *plan) error {
	if err := s.enter(); err != nil {
		return err
	}
	s.i++ // {
	var seenBits uint64
	var seenMany []bool
	var seenKeys map[string]bool
	var keys [][]byte
	for first := true; ; first = false {
		s.space()
		if s.i >= len(s.b) {
			return errSyntax
		}
		if s.b[s.i] == '}' && first {
			s.i++
			break
		}
		if s.b[s.i] != '"' {
			return errSyntax
		}
		key, escaped, err := s.str(true)
		if err != nil {
			return err
		}
		if escaped {
			var k string
			if json.Unmarshal(s.b[s.i-len(key)-2:s.i], &k) != nil {
				return errSyntax
			}
			key = []byte(k)
		}
		s.space()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return errSyntax
		}
		s.i++
		var elem *plan
		if p != nil && p.kind == planStruct {
			f := p.fields[string(key)]
			if f == nil && len(key) == 0 {
				// Named by the object it is in: an empty name cannot be.
				return s.path.invalid("has a member with an empty name, which is not a known field")
			}
			if f == nil {
				s.path.pushKey(key)
				if name, ok := p.folded[strings.ToLower(string(key))]; ok {
					return s.path.invalid("is not a known field: names are case-sensitive (" + name + ")")
				}
				return s.path.invalid("is not a known field")
			}
			if f.bit < 64 {
				if seenBits&(1<<f.bit) != 0 {
					s.path.pushKey(key)
					return s.path.invalid("is given more than once")
				}
				seenBits |= 1 << f.bit
			} else {
				if seenMany == nil {
					seenMany = make([]bool, len(p.list))
				}
				if seenMany[f.bit] {
					s.path.pushKey(key)
					return s.path.invalid("is given more than once")
				}
				seenMany[f.bit] = true
			}
			elem = f.plan
		} else {
			if p != nil && p.kind == planMap {
				elem = p.elem
			}
			if repeated(key, &keys, &seenKeys) {
				s.path.pushKey(key)
				return s.path.invalid("is given more than once")
			}
		}
		s.path.pushKey(key)
		if err := s.value(elem); err != nil {
			return err
		}
		s.path.pop()
		end, err := s.separator('}')
		if err != nil {
			return err
		}
		if end {
			break
		}
	}
	s.depth--
	return nil
}

// separator scans past a member's or an element's end: a comma, when more
// follow, or closer, which ends the object or array (end is true).
func (s *scanner) separator(closer byte) (end bool, err error) {
	s.space()
	if s.i >= len(s.b) {
		return false, errSyntax
	}
	switch s.b[s.i] {
	case ',':
		s.i++
		return false, nil
	case closer:
		s.i++
		return true, nil
	}
	return false, errSyntax
}

// repeated reports whether key is among the keys of the object seen so
// far, and adds it: a short list is searched, a long one kept in a set.
func repeated(key []byte, keys *[][]byte, set *map[string]bool) bool {
	if *set != nil {
		if (*set)[string(key)] {
			return true
		}
		(*set)[string(key)] = true
		return false
	}
	for _, k := range *keys {
		if string(k) == string(key) {
			return true
		}
	}
	*keys = append(*keys, key)
	if len(*keys) > 16 {
		*set = make(map[string]bool, 2*len(*keys))
		for _, k := range *keys {
			(*set)[string(k)] = true
		}
	}
	return false
}

// array scans an array; p is a list's plan or any other.
func (s *scanner) array(p *plan) error {
	if err := s.enter(); err != nil {
		return err
	}
	s.i++ // [
	var elem *plan
	if p != nil && p.kind == planList {
		elem = p.elem
	}
	for n := 0; ; n++ {
		s.space()
		if s.i >= len(s.b) {
			return errSyntax
		}
		if s.b[s.i] == ']' && n == 0 {
			s.i++
			break
		}
		s.path.pushIndex(n)
		if err := s.value(elem); err != nil {
			return err
		}
		s.path.pop()
		end, err := s.separator(']')
		if err != nil {
			return err
		}
		if end {
			break
		}
	}
	s.depth--
	return nil
}

// str scans the string at s.i (its opening quote) and returns its content
// between the quotes as written and whether it holds escapes. A string
// that is not valid UTF-8 text, or holds the \u escape of half a
// surrogate pair, is an error naming the path: the value's, or for a
// member's name (key), the object's.
func (s *scanner) str(key bool) ([]byte, bool, error) {
	badText := func(msg string) error {
		if key {
			return s.path.invalid("has a member whose name " + msg)
		}
		return s.path.invalid(msg)
	}
	s.i++ // "
	start := s.i
	escaped := false
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			content := s.b[start:s.i]
			s.i++
			return content, escaped, nil
		case c == '\\':
			escaped = true
			if s.i+1 >= len(s.b) {
				return nil, false, errSyntax
			}
			if s.b[s.i+1] != 'u' {
				s.i += 2
				continue
			}
			r, ok := hex4(s.b, s.i+2)
			if !ok {
				return nil, false, errSyntax
			}
			s.i += 6
			switch {
			case r >= 0xd800 && r < 0xdc00:
				// A high surrogate must be followed by the escape of a low one.
				if s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
					if lo, ok := hex4(s.b, s.i+2); ok && lo >= 0xdc00 && lo < 0xe000 {
						s.i += 6
						continue
					}
				}
				return nil, false, badText("holds half of a UTF-16 surrogate pair (\\ud800 to \\udbff without its low half)")
			case r >= 0xdc00 && r < 0xe000:
				return nil, false, badText("holds half of a UTF-16 surrogate pair (\\udc00 to \\udfff without its high half)")
			}
		case c < 0x20:
			return nil, false, errSyntax
		case c < utf8.RuneSelf:
			s.i++
		default:
			r, size := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && size <= 1 {
				return nil, false, badText("is not valid UTF-8 text")
			}
			s.i += size
		}
	}
	return nil, false, errSyntax
}

// hex4 reads the four hexadecimal digits at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
