package http_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	wshttp "waystation/http"
)

// loginRoutes are the public and account bodies FuzzLoginBodies sends,
// picked by the first byte: each route, how it is authenticated and the
// request type whose members a refusal may name. New ones go at the end.
var loginRoutes = []struct {
	path string
	auth string // "", "admin" or "session"
	body any
}{
	{"/v1/session", "", wshttp.LoginRequest{}},
	{"/v1/accounts/activate", "", wshttp.ActivateRequest{}},
	{"/v1/session/totp/confirm", "session", wshttp.TOTPConfirm{}},
	{"/v1/accounts", "admin", wshttp.AccountRequest{}},
}

// members returns the JSON member names of the struct v.
func members(v any) map[string]bool {
	out := map[string]bool{}
	t := reflect.TypeOf(v)
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		out[name] = true
	}
	return out
}

// FuzzLoginBodies sends arbitrary bodies to the login, the activation,
// the TOTP confirmation and the account's creation through the real
// router and store. No body panics or answers 5xx; every answer of 400 to
// a body that is one JSON object names the member at fault (the field of
// the request, or the unknown member); any other 4xx is a problem with a
// code: the one answer to wrong credentials (401, naming otp only when
// the second factor is missing), a lock (429 with Retry-After), or a
// rule (409, 422).
func FuzzLoginBodies(f *testing.F) {
	f.Add(byte(0), []byte(`{"username":"li.wei","password":"trout lake in spring"}`))
	f.Add(byte(1), []byte(`{"username":"li.wei","activation_code":"ABCD-EFGH-JKLM-NPQR","password":"trout lake in spring"}`))
	f.Add(byte(2), []byte(`{"otp":"123456"}`))
	f.Add(byte(3), []byte(`{"username":"wang.fang","name":"王芳","role":"staff","station":"S01"}`))
	e, _ := newAccountsEnv(f)
	e.station("S01", "R1")
	e.account("li.wei", "staff", "S01", "trout lake in spring")
	cookie := e.login("li.wei", "trout lake in spring")
	f.Fuzz(func(t *testing.T, which byte, body []byte) {
		route := loginRoutes[int(which)%len(loginRoutes)]
		token, headers := "", []string{"Content-Type", "application/json"}
		switch route.auth {
		case "admin":
			token = adminToken
		case "session":
			// A secret on offer, so that a code is checked against it.
			offer := httptest.NewRequest("POST", "/v1/session/totp", nil)
			offer.Header.Set("Cookie", wshttp.SessionCookie+"="+cookie)
			rec := httptest.NewRecorder()
			if e.srv.Handler().ServeHTTP(rec, offer); rec.Code != 200 {
				t.Fatalf("POST /v1/session/totp: %d %s", rec.Code, rec.Body)
			}
			headers = append(headers, "Cookie", wshttp.SessionCookie+"="+cookie)
		}
		req := httptest.NewRequest("POST", route.path, bytes.NewReader(body))
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		e.srv.Handler().ServeHTTP(rec, req)
		checkLoginAnswer(t, route.path, members(route.body), body, rec)
	})
}

// checkLoginAnswer checks FuzzLoginBodies' property of one answer.
func checkLoginAnswer(t *testing.T, path string, fields map[string]bool, body []byte, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("POST %s %q: %d %s", path, body, rec.Code, rec.Body)
	}
	if rec.Code < 400 {
		return
	}
	var p problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Code == "" || p.Status != rec.Code {
		t.Fatalf("POST %s %q: %d answer is not a problem: %s", path, body, rec.Code, rec.Body)
	}
	field := ""
	if len(p.Errors) > 0 {
		field = p.Errors[0].Field
	}
	top, _, _ := strings.Cut(field, ".")
	switch rec.Code {
	case 400:
		given, ok := oneObject(body)
		if !ok {
			return // malformed JSON, or not one object: the body as a whole is refused
		}
		if field == "" || !given[field] && !fields[top] {
			t.Fatalf("POST %s %q: 400 names %q, not a member of the body or the request: %s", path, body, field, rec.Body)
		}
	case 401:
		if field != "" && field != "otp" {
			t.Fatalf("POST %s %q: 401 names %q: %s", path, body, field, rec.Body)
		}
	case 429:
		if rec.Header().Get("Retry-After") == "" {
			t.Fatalf("POST %s %q: 429 without Retry-After", path, body)
		}
	case 409, 422:
		if p.Rule == "" {
			t.Fatalf("POST %s %q: %d names no rule: %s", path, body, rec.Code, rec.Body)
		}
	default:
		t.Fatalf("POST %s %q: unexpected %d %s", path, body, rec.Code, rec.Body)
	}
}

// oneObject returns the names of the members of body, and whether it is
// one well-formed JSON object whose members' names can be named in an
// answer (not empty, and valid UTF-8), or blank (which reads as {}).
func oneObject(body []byte) (map[string]bool, bool) {
	names := map[string]bool{}
	b := bytes.TrimSpace(body)
	if len(b) == 0 {
		return names, true
	}
	if b[0] != '{' {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var v map[string]json.RawMessage
	if dec.Decode(&v) != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	for k := range v {
		if k == "" || strings.ContainsRune(k, utf8.RuneError) {
			return nil, false
		}
		names[k] = true
	}
	return names, true
}
