package http

import "net/http"

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
