package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"waystation/domain"
)

// problem is the API's problem document, as far as the console reads it.
type problem struct {
	Status int         `json:"status"`
	Code   domain.Code `json:"code"`
	Rule   string      `json:"rule"`
	Detail string      `json:"detail"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
	RequestID  string `json:"request_id"`
	retryAfter string
}

// Error names the status, code and rule: never a value of the request.
func (p *problem) Error() string {
	return fmt.Sprintf("api: status %d %s %s", p.Status, p.Code, p.Rule)
}

// field returns the first offending field the API named, or "".
func (p *problem) field() string {
	if len(p.Errors) == 0 {
		return ""
	}
	return p.Errors[0].Field
}

// problemOf returns the API's problem in err, if it is one.
func problemOf(err error) (*problem, bool) {
	var p *problem
	ok := errors.As(err, &p)
	return p, ok
}

// api makes the console's reads and steps through the API's own handler,
// as the browser's user: their session cookie, their address and the
// browser's origin headers go with every call, so that the API's
// authentication, authorization, cross-origin refusal, throttles and
// access log apply to the console exactly as to any client.
type api struct {
	h http.Handler
}

// forwarded are the headers of the browser's request that every API call
// carries.
var forwarded = []string{"Cookie", "Origin", "Sec-Fetch-Site", "X-Request-ID", "User-Agent"}

// call sends method path (with query, when not nil) and body (JSON-encoded
// when not nil) as r's user and decodes a 2xx answer's body into out (when
// not nil). Any other answer is a *problem. The answer's headers are
// returned for the callers that need them (Set-Cookie on login).
func (a api) call(r *http.Request, method, path string, query url.Values, body, out any) (http.Header, error) {
	return a.callWith(r.Context(), r, nil, method, path, query, body, out)
}

// callWith is call with a context and extra request headers (an
// Idempotency-Key).
func (a api) callWith(ctx context.Context, r *http.Request, hdr http.Header, method, path string, query url.Values, body, out any) (http.Header, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	target := path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	in := a.request(ctx, r, method, target, rd)
	for k, v := range hdr {
		in.Header[k] = v
	}
	if body != nil {
		in.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	a.h.ServeHTTP(rec, in)
	res := rec.Result()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		p := &problem{Status: res.StatusCode}
		_ = json.Unmarshal(b, p)
		p.Status = res.StatusCode
		p.retryAfter = res.Header.Get("Retry-After")
		return res.Header, p
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return res.Header, fmt.Errorf("api: decoding %s %s: %w", method, path, err)
		}
	}
	return res.Header, nil
}

// request is the API request of method target (with body) made for the
// browser's request r: its user's cookie, address, TLS state and origin
// headers go with it.
func (a api) request(ctx context.Context, r *http.Request, method, target string, body io.Reader) *http.Request {
	in := httptest.NewRequestWithContext(ctx, method, target, body)
	in.Host = r.Host
	in.RemoteAddr = r.RemoteAddr
	in.TLS = r.TLS
	for _, h := range forwarded {
		if v := r.Header.Values(h); len(v) > 0 {
			in.Header[h] = v
		}
	}
	in.Header.Set("Accept", "application/json")
	return in
}

// idempotencyKey returns a fresh key for a step sent from a form; the form
// carries it, so that a second submission of the same form (a double
// click, a retry after a timeout) records the step once.
func idempotencyKey() string {
	return fmt.Sprintf("console-%d-%s", time.Now().UnixNano(), randomToken(8))
}
