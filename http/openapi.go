package http

import (
	"encoding"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
)

// OpenAPI returns the OpenAPI 3.1 description of every route in the route
// table, with request and answer schemas generated from the Go types the
// handlers decode and encode.
func (s *Server) OpenAPI() map[string]any {
	paths := map[string]map[string]any{}
	for _, rt := range s.routes {
		op := map[string]any{"operationId": rt.ID, "summary": rt.Summary}
		if rt.Public {
			op["security"] = []any{}
		} else {
			roles := make([]string, len(rt.Roles))
			for i, r := range rt.Roles {
				roles[i] = string(r)
			}
			op["description"] = "Roles: " + strings.Join(roles, ", ") + "."
		}
		var params []any
		for _, p := range rt.Params {
			params = append(params, map[string]any{
				"name": p.Name, "in": p.In, "required": p.In == "path", "description": p.Desc, "schema": paramSchema(p),
			})
		}
		if rt.Idempotent {
			params = append(params, map[string]any{
				"name": "Idempotency-Key", "in": "header", "schema": map[string]any{"type": "string", "maxLength": 200},
				"description": "The same request again returns the first answer and writes nothing; " +
					"the same key with another body is 422.",
			})
			switch {
			case strings.HasPrefix(rt.Path, "/v1/cases/{id}/"):
				params = append(params, map[string]any{
					"name": "If-Match", "in": "header", "schema": map[string]any{"type": "string"},
					"description": `The case version the client saw ("3"); 412 when the case has moved on.`,
				})
			case strings.HasPrefix(rt.Path, "/v1/stations/{code}/"):
				params = append(params, map[string]any{
					"name": "If-Match", "in": "header", "schema": map[string]any{"type": "string"},
					"description": `The station version the client saw ("3"); 412 when the station has changed since.`,
				})
			}
		}
		if params != nil {
			op["parameters"] = params
		}
		if rt.Body != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": requestSchema(rt.Body)}}}
		}
		if rt.BodyMedia != "" {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				rt.BodyMedia: map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}}
		}
		media := rt.ReplyMedia
		if media == "" {
			media = "application/json"
		}
		var schema any = map[string]any{"type": "object"}
		if media != "application/json" {
			schema = map[string]any{"type": "string"}
		}
		switch {
		case rt.Reply != nil:
			schema = replySchema(rt.Reply)
		case rt.ReplySchema != nil:
			schema = rt.ReplySchema()
		}
		content := map[string]any{media: map[string]any{"schema": schema}}
		for _, alt := range rt.AltMedia {
			content[alt] = map[string]any{"schema": map[string]any{"type": "string"}}
		}
		ok := map[string]any{"description": http.StatusText(rt.Status), "content": content}
		if rt.Status == http.StatusNoContent {
			delete(ok, "content")
		}
		if rt.Idempotent || rt.Path == "/v1/cases/{id}" {
			ok["headers"] = map[string]any{"ETag": map[string]any{"schema": map[string]any{"type": "string"}}}
		}
		responses := map[string]any{strconv.Itoa(rt.Status): ok}
		problem := map[string]any{"$ref": "#/components/responses/Problem"}
		for _, code := range []string{"400", "401", "403", "404", "405", "409", "412", "413", "415", "422", "500", "503"} {
			responses[code] = problem
		}
		if rt.ID == "streamEvents" {
			responses["429"] = problem // past the token's limit of open streams
		}
		op["responses"] = responses
		if paths[rt.Path] == nil {
			paths[rt.Path] = map[string]any{}
		}
		paths[rt.Path][strings.ToLower(rt.Method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title": "Waystation", "version": "1",
			"description": "Case management for assistance stations (docs/api.md).",
		},
		"paths":    paths,
		"security": []any{map[string]any{"bearer": []any{}}},
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
			"responses": map[string]any{"Problem": map[string]any{
				"description": "A problem document.",
				"content": map[string]any{
					"application/problem+json": map[string]any{"schema": replySchema(reflect.TypeFor[Problem]())},
				},
			}},
		},
	}
}

// openAPIDocumentSchema is the schema of the answer of GET /openapi.json:
// the outline of an OpenAPI 3.1 description, written here rather than
// referred to, so that the description holds no reference outside itself
// (tools on a network without internet access refuse those).
func openAPIDocumentSchema() map[string]any {
	object := func(desc string) map[string]any {
		return map[string]any{"type": "object", "description": desc}
	}
	return map[string]any{
		"type": "object", "description": "An OpenAPI 3.1 description of this API.",
		"required": []string{"openapi", "info", "paths"},
		"properties": map[string]any{
			"openapi": map[string]any{
				"type": "string", "pattern": `^3\.1\.[0-9]+$`,
				"description": "The version of OpenAPI the description follows.",
			},
			"info":  object("The API's title, version and summary."),
			"paths": object("Every route, by path and method."),
			"security": map[string]any{
				"type": "array", "description": "The authentication the routes need unless they say otherwise.",
			},
			"components": object("The problem answer and the security scheme the routes share."),
		},
	}
}

// openAPI serves the description: GET /openapi.json.
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	s.writeJSON(w, r, http.StatusOK, s.OpenAPI())
	return nil
}

func paramSchema(p param) map[string]any {
	m := map[string]any{"type": "string"}
	switch p.Format {
	case "integer":
		m = map[string]any{"type": "integer", "minimum": 0}
	case "boolean":
		m = map[string]any{"type": "boolean"}
	case "":
	default:
		m["format"] = p.Format
	}
	if len(p.Enum) > 0 {
		m["enum"] = p.Enum
	}
	return m
}

var (
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	rawMessage    = reflect.TypeFor[json.RawMessage]()
)

// Schemas are generated from Go types as encoding/json reads and writes
// them, with two conventions:
//
//   - required: a struct field is required when its json tag has neither
//     omitempty nor omitzero. encoding/json always writes such a field, so
//     in an answer it is always there; the domain's commands follow the
//     same convention, tagging omitempty or omitzero the fields a request
//     may leave out. In a request body, a field whose own schema is an
//     object with no required member is optional all the same: leaving it
//     out is the same as sending {}.
//   - null: an answer's field that encoding/json may write as null (a
//     pointer, slice, map or interface it does not leave out when empty)
//     says so: its type is a list with "null" (OpenAPI 3.1), and an
//     enumeration lists null among its values. A request may leave out
//     such a field; it is not described as taking null.
//   - enum: a field of one of the domain's enumerated types lists the
//     type's values (domain.Enum; enumValues for the HTTP layer's error
//     codes), and a string field known to take values from a declared
//     list lists them (fieldEnums).
type schemaGen struct {
	request bool // a request body, not an answer
	seen    map[reflect.Type]bool
}

// requestSchema returns the JSON Schema of a request body of type t.
func requestSchema(t reflect.Type) map[string]any {
	return (&schemaGen{request: true, seen: map[reflect.Type]bool{}}).of(t)
}

// replySchema returns the JSON Schema of an answer of type t.
func replySchema(t reflect.Type) map[string]any {
	return (&schemaGen{seen: map[reflect.Type]bool{}}).of(t)
}

// of returns the JSON Schema of Go type t.
func (g *schemaGen) of(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case reflect.TypeFor[time.Time]():
		return map[string]any{"type": "string", "format": "date-time"}
	case reflect.TypeFor[uuid.UUID]():
		return map[string]any{"type": "string", "format": "uuid"}
	case reflect.TypeFor[domain.Date]():
		return map[string]any{"type": "string", "format": "date"}
	case reflect.TypeFor[eventstore.Position]():
		return map[string]any{"type": "string", "pattern": `^[0-9]+(/[0-9]+)?$`, "description": "a log position"}
	case rawMessage:
		return map[string]any{}
	}
	if vs, ok := enumOf(t); ok {
		return map[string]any{"type": "string", "enum": vs}
	}
	if t.Implements(textMarshaler) || reflect.PointerTo(t).Implements(textMarshaler) {
		return map[string]any{"type": "string"}
	}
	switch t.Kind() {
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": g.of(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.of(t.Elem())}
	case reflect.Struct:
		if g.seen[t] {
			return map[string]any{"type": "object"}
		}
		g.seen[t] = true
		defer delete(g.seen, t)
		props := map[string]any{}
		var required []string
		g.addFields(t, props, &required)
		out := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if len(required) > 0 {
			slices.Sort(required)
			out["required"] = required
		}
		return out
	}
	return map[string]any{}
}

// addFields adds the fields of struct t, embedded structs' included, to
// props, and the names of the required ones to required.
func (g *schemaGen) addFields(t reflect.Type, props map[string]any, required *[]string) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				g.addFields(et, props, required)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		schema := g.of(f.Type)
		if g.request {
			limitText(schema, f)
		}
		if vs, ok := fieldEnums[fieldKey{t, f.Name}]; ok {
			if items, ok := schema["items"].(map[string]any); ok {
				items["enum"] = vs // a list's values
			} else {
				schema["enum"] = vs
			}
		}
		if !g.request && mayBeNull(f.Type, opts) {
			nullable(schema)
		}
		if d := f.Tag.Get("doc"); d != "" {
			schema["description"] = d
		}
		props[name] = schema
		if optional(opts) || g.request && emptyObject(schema) {
			continue
		}
		*required = append(*required, name)
	}
}

// limitText adds to the request schema of field f the limits the strict
// decoder enforces: the maxLength of a plain string's text kind (its text
// tag, domain.TextKinds), for the field or a list's items, and the
// maxItems of a list (its max tag).
func limitText(schema map[string]any, f reflect.StructField) {
	t := f.Type
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	target := schema
	if t.Kind() == reflect.Slice {
		if m := f.Tag.Get("max"); m != "" {
			n, _ := strconv.Atoi(m)
			schema["maxItems"] = n
		}
		t = t.Elem()
		target, _ = schema["items"].(map[string]any)
	}
	if t != stringType || target == nil {
		return
	}
	if kind, ok := domain.TextKindOf(f.Tag.Get("text")); ok {
		target["maxLength"] = kind.Max
	}
}

// mayBeNull reports whether encoding/json may write a field of type t
// with json tag options opts as null: a nil pointer, slice, map or
// interface that the options do not leave out. A type with its own
// encoding (a time, a date, an ID) or raw JSON decides for itself: raw
// JSON's schema takes any value already.
func mayBeNull(t reflect.Type, opts string) bool {
	if optional(opts) || t == rawMessage {
		return false
	}
	switch t.Kind() {
	case reflect.Pointer:
		return true
	case reflect.Slice, reflect.Map, reflect.Interface:
		return !t.Implements(jsonMarshaler) && !t.Implements(textMarshaler)
	}
	return false
}

// nullable makes schema take null as well.
func nullable(schema map[string]any) {
	switch typ := schema["type"].(type) {
	case string:
		schema["type"] = []any{typ, "null"}
	case nil:
		return // any value
	}
	if enum, ok := schema["enum"].([]string); ok {
		vs := make([]any, 0, len(enum)+1)
		for _, v := range enum {
			vs = append(vs, v)
		}
		schema["enum"] = append(vs, nil)
	}
}

// optional reports whether json tag options let encoding/json leave the
// field out.
func optional(opts string) bool {
	for o := range strings.SplitSeq(opts, ",") {
		if o == "omitempty" || o == "omitzero" {
			return true
		}
	}
	return false
}

// emptyObject reports whether schema is an object none of whose members
// is required, so that {} is a valid value of it.
func emptyObject(schema map[string]any) bool {
	_, props := schema["properties"]
	_, req := schema["required"]
	return schema["type"] == "object" && props && !req
}
