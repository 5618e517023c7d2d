package console

import (
	"encoding/json"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
)

// A form is built from a domain command's Go type: every exported JSON
// field becomes an input of the kind its type asks for, named by its
// dotted JSON path, labelled from the catalogue (field.PATH), with the
// limits the domain's text kinds declare. A new step, or a new field of
// one, appears in the console with only its labels added.

// Input kinds.
const (
	inText     = "text"
	inTextarea = "textarea"
	inCheck    = "checkbox"
	inYesNo    = "yesno" // an optional bool: unset, yes or no
	inSelect   = "select"
	inDateTime = "datetime"
	inDate     = "date"
	inNumber   = "number"
	inLines    = "lines" // a list of strings, one per line
)

// field is one input of a form.
type field struct {
	Path      string   // the dotted JSON path, the input's name
	Key       string   // the catalogue key of its label
	Kind      string   // one of the input kinds
	Enum      string   // for a select: the catalogue prefix of its options
	Options   []string // for a select: its values
	MaxLength int      // for text: the most characters
	Value     string   // the value shown
	Error     string   // what the API said is wrong with it, translated
	Rule      string   // the rule the API named for it
}

// ID is the input's element ID.
func (f field) ID() string { return "f-" + strings.ReplaceAll(f.Path, ".", "-") }

// rowsOf is how many rows a form shows of a list of objects.
const rowsOf = 3

var (
	timeType  = reflect.TypeFor[time.Time]()
	dateType  = reflect.TypeFor[domain.Date]()
	uuidType  = reflect.TypeFor[uuid.UUID]()
	rawType   = reflect.TypeFor[json.RawMessage]()
	enumIface = reflect.TypeFor[domain.Enum]()
)

// hidden are the fields a form never shows: the case's station comes from
// the user's account; a correction's old value is read from the event.
var hidden = map[string]bool{"old": true, "event_id": true}

// trailing are the fields every step shares (domain.Common): a form shows
// them after the step's own.
var trailing = map[string]bool{"occurred_at": true, "legal_basis": true, "notes": true}

// fieldsOf returns the inputs of command type t: the step's own fields in
// declaration order, then those every step shares.
func fieldsOf(t reflect.Type) []field {
	var own, common []field
	walk(t, "", &own)
	own = slices.DeleteFunc(own, func(f field) bool {
		if trailing[f.Path] {
			common = append(common, f)
			return true
		}
		return false
	})
	return append(own, common...)
}

func walk(t reflect.Type, prefix string, out *[]field) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if sf.Anonymous && name == "" {
			walk(sf.Type, prefix, out)
			continue
		}
		if name == "" || name == "-" || hidden[prefix+name] {
			continue
		}
		path := prefix + name
		ft := sf.Type
		optional := ft.Kind() == reflect.Pointer
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		f := field{Path: path, Key: keyOf(path)}
		switch {
		case ft == timeType:
			f.Kind = inDateTime
		case ft == dateType:
			f.Kind = inDate
		case ft == uuidType || ft == rawType:
			f.Kind = inText
			f.MaxLength = 200
		case ft.Kind() == reflect.Struct:
			walk(ft, path+".", out)
			continue
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			for row := range rowsOf {
				walk(ft.Elem(), path+"."+strconv.Itoa(row)+".", out)
			}
			continue
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.String:
			f.Kind = inLines
			f.MaxLength = textKind(sf).Max
		case ft.Kind() == reflect.Bool && optional:
			f.Kind = inYesNo
		case ft.Kind() == reflect.Bool:
			f.Kind = inCheck
		case ft.Kind() == reflect.Int:
			f.Kind = inNumber
		case ft.Kind() == reflect.String && ft.Implements(enumIface):
			f.Kind = inSelect
			f.Options = reflect.Zero(ft).Interface().(domain.Enum).Values()
			f.Enum = "enum." + enumName(ft)
		case ft.Kind() == reflect.String:
			k := textKind(sf)
			f.Kind, f.MaxLength = inText, k.Max
			if k.Multiline || k.Max > 200 {
				f.Kind = inTextarea
			}
		default:
			continue
		}
		*out = append(*out, f)
	}
}

// group is a run of inputs of one object of the command: its legend's
// catalogue key ("" at the top) and, in a list, the row's number from 1.
type group struct {
	Legend string
	Row    int
	Nested bool
	Fields []field
}

// Filled reports whether any input of the group has a value.
func (g group) Filled() bool {
	for _, f := range g.Fields {
		if f.Value != "" {
			return true
		}
	}
	return false
}

// groups splits fields into runs that share their parent object.
func groups(fields []field) []group {
	var out []group
	parent := "\x00"
	for _, f := range fields {
		p := ""
		if i := strings.LastIndexByte(f.Path, '.'); i >= 0 {
			p = f.Path[:i]
		}
		if p != parent {
			g := group{Nested: p != ""}
			if p != "" {
				g.Legend = keyOf(p)
				if j := strings.LastIndexByte(p, '.'); j >= 0 {
					if n, err := strconv.Atoi(p[j+1:]); err == nil {
						g.Row = n + 1
					}
				}
			}
			out = append(out, g)
			parent = p
		}
		out[len(out)-1].Fields = append(out[len(out)-1].Fields, f)
	}
	return out
}

// textKind returns the text kind a field's tag names.
func textKind(sf reflect.StructField) domain.TextKind {
	k, ok := domain.TextKindOf(sf.Tag.Get("text"))
	if !ok {
		k, _ = domain.TextKindOf("")
	}
	return k
}

// enumName is the catalogue name of an enumerated type: its Go name in
// snake case (LegalBasis: legal_basis, IDType: id_type).
func enumName(t reflect.Type) string {
	rs := []rune(t.Name())
	var b strings.Builder
	for i, r := range rs {
		upper := r >= 'A' && r <= 'Z'
		if upper && i > 0 {
			prevLower := rs[i-1] >= 'a' && rs[i-1] <= 'z'
			nextLower := i+1 < len(rs) && rs[i+1] >= 'a' && rs[i+1] <= 'z'
			if prevLower || nextLower {
				b.WriteByte('_')
			}
		}
		if upper {
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// fill sets the inputs' values from a submitted form.
func fill(fields []field, v url.Values) {
	for i := range fields {
		fields[i].Value = v.Get(fields[i].Path)
	}
}

// bodyOf builds the JSON body of a command of type t from a submitted
// form: every non-empty input becomes its value at its path, typed as the
// command's field is. A value that cannot be typed (letters in a number)
// is an error naming the field, as the API's would be.
func bodyOf(t reflect.Type, fields []field, v url.Values) (map[string]any, error) {
	body := map[string]any{}
	for _, f := range fields {
		raw := strings.TrimSpace(v.Get(f.Path))
		if f.Kind == inTextarea || f.Kind == inLines {
			raw = v.Get(f.Path)
		}
		var val any
		switch f.Kind {
		case inCheck:
			if raw == "" {
				continue
			}
			val = true
		case inYesNo:
			switch raw {
			case "yes":
				val = true
			case "no":
				val = false
			default:
				continue
			}
		case inNumber:
			if raw == "" {
				continue
			}
			n, err := strconv.Atoi(raw)
			if err != nil {
				return nil, domain.Invalid(f.Path, "must be a whole number")
			}
			val = n
		case inDateTime:
			if raw == "" {
				continue
			}
			at, err := time.ParseInLocation("2006-01-02T15:04", raw, domain.CivilZone)
			if err != nil {
				return nil, domain.Invalid(f.Path, "must be a date and a time")
			}
			val = at.Format(time.RFC3339)
		case inLines:
			var lines []string
			for l := range strings.SplitSeq(strings.ReplaceAll(raw, "\r\n", "\n"), "\n") {
				if l = strings.TrimSpace(l); l != "" {
					lines = append(lines, l)
				}
			}
			if len(lines) == 0 {
				continue
			}
			val = lines
		default:
			if strings.TrimSpace(raw) == "" {
				continue
			}
			if f.Kind == inTextarea {
				raw = strings.ReplaceAll(raw, "\r\n", "\n")
			}
			val = raw
		}
		put(body, strings.Split(f.Path, "."), val)
	}
	return compactLists(body), nil
}

// put sets path in m to val, making the objects on the way; a numeric
// part makes a list's element (held as a map by index until compactLists).
func put(m map[string]any, path []string, val any) {
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[path[len(path)-1]] = val
}

// compactLists turns the maps keyed by row number into lists, in row
// order, leaving out the empty rows.
func compactLists(m map[string]any) map[string]any {
	for k, v := range m {
		sub, ok := v.(map[string]any)
		if !ok {
			continue
		}
		if rows, ok := asRows(sub); ok {
			m[k] = rows
			continue
		}
		m[k] = compactLists(sub)
	}
	return m
}

func asRows(m map[string]any) ([]any, bool) {
	if len(m) == 0 {
		return nil, false
	}
	for k := range m {
		if _, err := strconv.Atoi(k); err != nil {
			return nil, false
		}
	}
	out := make([]any, 0, len(m))
	for n := range rowsOf * 4 {
		if v, ok := m[strconv.Itoa(n)]; ok {
			if sub, ok := v.(map[string]any); ok {
				v = compactLists(sub)
			}
			out = append(out, v)
		}
	}
	return out, true
}
