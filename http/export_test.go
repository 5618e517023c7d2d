package http

import "net/http"

// Test hooks for the external test package.

// TokenRequest is the body of POST /v1/tokens.
type TokenRequest = tokenRequest

// RequestOptions reads Idempotency-Key and If-Match from r.
func RequestOptions(r *http.Request) (Options, error) { return requestOptions(r) }
