package http

import (
	"net/http"
	"reflect"

	"waystation/domain"
)

// Test hooks for the external test package.

// TokenRequest is the body of POST /v1/tokens.
type TokenRequest = tokenRequest

// EraseBody is the body of POST /v1/people/{id}/erase.
type EraseBody = eraseBody

// RequestOptions reads Idempotency-Key and If-Match from r.
func RequestOptions(r *http.Request) (Options, error) { return requestOptions(r) }

// QueryParams reads every query parameter kind the routes take: a time
// with known, an integer, a log position.
func QueryParams(r *http.Request) error {
	if _, err := asOfParams(r, "at"); err != nil {
		return err
	}
	if _, err := uintParam(r, "limit", 50, 500); err != nil {
		return err
	}
	_, err := positionParam(r, "after")
	return err
}

// EnumValues returns the values the OpenAPI schemas list for each
// enumerated type of the HTTP layer's own table, by the type's name.
func EnumValues() map[string][]string {
	out := map[string][]string{}
	for t, vs := range enumValues {
		out[t.Name()] = vs
	}
	return out
}

// SetAccessLogBatch lowers the most access-log entries s writes in one
// append to n; call it before s serves a request.
func SetAccessLogBatch(s *Server, n int) { s.accessLogBatch = n }

// UndocumentedFields lists the struct fields, by Go type and field, that
// the schemas of s's routes show without a doc tag.
func UndocumentedFields(s *Server) []string {
	seen := map[reflect.Type]bool{}
	var out []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map || t.Kind() == reflect.Array {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] || t == timeType {
			return
		}
		if _, ok := enumOf(t); ok {
			return
		}
		if reflect.PointerTo(t).Implements(textMarshaler) || t.Implements(textMarshaler) {
			return
		}
		seen[t] = true
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Tag.Get("json") == "-" || !f.IsExported() && !f.Anonymous {
				continue
			}
			if f.Anonymous {
				walk(f.Type)
				continue
			}
			if f.Tag.Get("doc") == "" {
				out = append(out, t.PkgPath()+"."+t.Name()+"."+f.Name)
			}
			walk(f.Type)
		}
	}
	for _, rt := range s.routes {
		if rt.Body != nil {
			walk(rt.Body)
		}
		if rt.Reply != nil {
			walk(rt.Reply)
		}
	}
	walk(reflect.TypeFor[Problem]())
	return out
}

// RouteRoles is a route that needs a token and the roles its entry in the
// route table admits.
type RouteRoles struct {
	Method, Path string
	Roles        []domain.Role
}

// TokenRoutes lists every route of s that needs a token, in table order.
func TokenRoutes(s *Server) []RouteRoles {
	var out []RouteRoles
	for _, rt := range s.routes {
		if !rt.Public {
			out = append(out, RouteRoles{Method: rt.Method, Path: rt.Path, Roles: rt.Roles})
		}
	}
	return out
}

// LoginRequest is the body of POST /v1/session.
type LoginRequest = loginRequest

// ActivateRequest is the body of POST /v1/accounts/activate.
type ActivateRequest = activateRequest

// TOTPConfirm is the body of POST /v1/session/totp/confirm.
type TOTPConfirm = totpConfirm

// AccountRequest is the body of POST /v1/accounts.
type AccountRequest = accountRequest
