package domain

import (
	"encoding"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"time"
)

// OccurredAtField is the field a correction names to change when an event's
// step happened (its metadata's occurred_at).
const OccurredAtField = "occurred_at"

// eventFields is what an event type's struct tags declare about its
// fields, computed once when the type is registered. Paths are dotted JSON
// paths of the payload: nested objects are walked and embedded structs
// flattened; arrays, dates, times and IDs are whole values.
//
// A field tagged personal:"true" is personal data (a whole value, sealed
// with the data key of its stream's subject, DataSubject: the case's, or
// the access stream's for a TOTP secret; docs/privacy.md). A field tagged
// correctable:"false" is never corrected, nor is anything below it: the
// case's identity and station, and the facts that decided the course of
// the case (a wrong course is fixed by the next step). The personal tags
// are a stored contract: removing one only stops new events from being
// sealed.
type eventFields struct {
	// personal is the personal paths, in the order of the struct's fields.
	personal []string
	// correctable is the Go type of every field a correction may name:
	// each leaf path that is correctable, and occurred_at. It is nil for
	// a type that is not corrected.
	correctable map[string]reflect.Type
	// texts is the text kind (from the field's text tag) of each
	// correctable string or list of strings, with which a correction's new
	// value is cleaned as the step's own value was.
	texts map[string]TextKind
}

// correctedType reports whether events of stored type name are corrected:
// case events other than corrections and erasures.
func correctedType(name string) bool {
	return strings.HasPrefix(name, "case.") && name != TypeCorrected && name != TypePersonalDataErased
}

// fieldsOf returns what the tags of struct type t declare, for an event of
// stored type name.
func fieldsOf(name string, t reflect.Type) eventFields {
	var f eventFields
	corrected := correctedType(name)
	if corrected {
		f.correctable = map[string]reflect.Type{OccurredAtField: reflect.TypeFor[time.Time]()}
		f.texts = map[string]TextKind{}
	}
	walkFields(t, "", fieldTags{correctable: corrected}, func(l leafField) {
		if l.personal != "" && !slices.Contains(f.personal, l.personal) {
			f.personal = append(f.personal, l.personal)
		}
		if !l.correctable {
			return
		}
		f.correctable[l.path] = l.typ
		if l.typ == reflect.TypeFor[string]() || l.typ == reflect.TypeFor[[]string]() {
			if k, ok := TextKindOf(l.text); ok {
				f.texts[l.path] = k
			}
		}
	})
	return f
}

// fieldTags is what a leaf inherits from the fields above it.
type fieldTags struct {
	personal    string // the path of the personal value it is in, if any
	correctable bool
}

// leafField is one leaf of an event's payload.
type leafField struct {
	fieldTags
	path string
	typ  reflect.Type
	text string // its text tag
}

var (
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
)

// walkFields calls leaf for every leaf field of struct type t below prefix.
func walkFields(t reflect.Type, prefix string, in fieldTags, leaf func(leafField)) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		ft := f.Type
		whole := ft.Kind() != reflect.Struct || ft.Implements(textMarshaler) || ft.Implements(jsonMarshaler)
		flat := f.Anonymous && name == "" && !whole
		if name == "" {
			name = f.Name
		}
		path := prefix + name
		if flat {
			path = strings.TrimSuffix(prefix, ".")
		}
		tags := in
		if tags.personal == "" && f.Tag.Get("personal") == "true" {
			tags.personal = path
		}
		if f.Tag.Get("correctable") == "false" {
			tags.correctable = false
		}
		switch {
		case flat:
			walkFields(ft, prefix, tags, leaf)
		case !whole:
			walkFields(ft, path+".", tags, leaf)
		default:
			leaf(leafField{fieldTags: tags, path: path, typ: ft, text: f.Tag.Get("text")})
		}
	}
}

// CorrectableFields returns every field a correction may name, sorted: the
// union over case event types of their correctable fields.
func CorrectableFields() []string {
	var out []string
	for _, t := range Events.types {
		for f := range t.fields.correctable {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// CorrectableFieldsOf returns the fields a correction of an event of stored
// type eventType may name, sorted (none for a type that is not corrected).
func CorrectableFieldsOf(eventType string) []string {
	fields := Events.types[eventType].fields.correctable
	out := make([]string, 0, len(fields))
	for f := range fields {
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

// correctableAnywhere reports whether some case event type has field.
func correctableAnywhere(field string) bool {
	for _, t := range Events.types {
		if _, ok := t.fields.correctable[field]; ok {
			return true
		}
	}
	return false
}
