package http_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pquerna/otp/totp"

	"waystation/domain"
	"waystation/eventstore"
	wshttp "waystation/http"
	"waystation/internal/credential"
)

// testClock is a clock the tests move.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newAccountsEnv is a server with a movable clock and cheap password
// hashes (the real cost is measured by credential's benchmark).
func newAccountsEnv(t testing.TB) (*env, *testClock) {
	t.Helper()
	return newAccountsEnvSealing(t, false)
}

// newAccountsEnvSealing is newAccountsEnv, through a sealed store when
// seal is set.
func newAccountsEnvSealing(t testing.TB, seal bool) (*env, *testClock) {
	t.Helper()
	clk := &testClock{t: time.Date(2026, 12, 2, 2, 0, 0, 0, time.UTC)}
	e := &env{t: t, dir: t.TempDir(), now: clk.Now, seal: seal, configure: func(c *wshttp.Config) {
		c.PasswordParams = credential.Params{Time: 1, Memory: 64, Threads: 1}
		c.SessionRecordEvery = time.Hour
	}}
	e.open()
	t.Cleanup(e.close)
	return e, clk
}

// cookieCall sends a request authenticated by the session cookie value.
func (e *env) cookieCall(cookie, method, path string, body any, headers ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	return e.call("", method, path, body, append([]string{"Cookie", wshttp.SessionCookie + "=" + cookie}, headers...)...)
}

// account creates an account as the admin and activates it with password.
func (e *env) account(username, role, station, password string) string {
	e.t.Helper()
	body := map[string]any{"username": username, "name": "李伟", "role": role}
	if station != "" {
		body["station"] = station
	}
	created := decodeAs[map[string]any](e.t, e.must(201, adminToken, "POST", "/v1/accounts", body))
	e.must(204, "", "POST", "/v1/accounts/activate", map[string]any{"username": username,
		"activation_code": created["activation_code"], "password": password})
	return created["id"].(string)
}

// login logs in and returns the session cookie's value.
func (e *env) login(username, password string, extra ...string) string {
	e.t.Helper()
	body := map[string]any{"username": username, "password": password}
	for i := 0; i+1 < len(extra); i += 2 {
		body[extra[i]] = extra[i+1]
	}
	rec := e.must(204, "", "POST", "/v1/session", body)
	for _, c := range rec.Result().Cookies() {
		if c.Name == wshttp.SessionCookie {
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
				e.t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/", c)
			}
			return c.Value
		}
	}
	e.t.Fatalf("no session cookie in %v", rec.Header())
	return ""
}

func TestAPersonActivatesLogsInAndRecordsUnderTheirName(t *testing.T) {
	e, _ := newAccountsEnv(t)
	e.station("S01", "R1")
	created := decodeAs[map[string]any](t, e.must(201, adminToken, "POST", "/v1/accounts",
		map[string]any{"username": "Li.Wei", "name": "李伟", "role": "staff", "station": "S01"}))
	code, _ := created["activation_code"].(string)
	if len(code) != 19 || created["username"] != "li.wei" {
		t.Fatalf("created %v", created)
	}
	// A common password is refused naming the field, and loses the code.
	expectProblem(t, e.call("", "POST", "/v1/accounts/activate",
		map[string]any{"username": "li.wei", "activation_code": code, "password": "1qaz2wsx3edc"}), 400, "invalid", "password")
	e.must(204, "", "POST", "/v1/accounts/activate",
		map[string]any{"username": "li.wei", "activation_code": strings.ToUpper(code), "password": "trout lake in spring"})
	// The code is spent.
	e.must(422, "", "POST", "/v1/accounts/activate",
		map[string]any{"username": "li.wei", "activation_code": code, "password": "another long password"})

	wrongPassword := e.call("", "POST", "/v1/session", map[string]any{"username": "li.wei", "password": "trout lake in autumn"})
	unknownUser := e.call("", "POST", "/v1/session", map[string]any{"username": "wang.fang", "password": "trout lake in spring"})
	detail := func(rec *httptest.ResponseRecorder) any { return decodeAs[map[string]any](t, rec)["detail"] }
	if wrongPassword.Code != 401 || unknownUser.Code != 401 || detail(wrongPassword) != detail(unknownUser) {
		t.Fatalf("a wrong password (%d %s) and an unknown username (%d %s) must answer alike",
			wrongPassword.Code, wrongPassword.Body, unknownUser.Code, unknownUser.Body)
	}
	cookie := e.login("LI.WEI", "trout lake in spring")
	me := decodeAs[map[string]any](t, e.must(200, "", "GET", "/v1/session", nil, "Cookie", wshttp.SessionCookie+"="+cookie))
	acc := me["account"].(map[string]any)
	if acc["username"] != "li.wei" || acc["role"] != "staff" || acc["station"] != "S01" || me["totp_required"] != false {
		t.Fatalf("GET /v1/session = %v", me)
	}
	// A step through the session names the account as its actor.
	rec := e.cookieCall(cookie, "POST", "/v1/cases", intakeBody("S01"))
	if rec.Code != 201 {
		t.Fatalf("intake through a session: %d %s", rec.Code, rec.Body)
	}
	id := decodeAs[map[string]any](t, rec)["id"].(string)
	h := decodeAs[map[string]any](t, e.must(200, adminToken, "GET", "/v1/cases/"+id+"/history", nil))
	ev := h["events"].([]any)[0].(map[string]any)
	if ev["actor"] != created["id"] {
		t.Fatalf("the intake's actor is %v; want the account %v", ev["actor"], created["id"])
	}
	who := decodeAs[map[string]any](t, e.must(200, "", "GET", "/v1/actors/"+created["id"].(string), nil,
		"Cookie", wshttp.SessionCookie+"="+cookie))
	if who["name"] != "李伟" || who["kind"] != "account" {
		t.Fatalf("GET /v1/actors = %v", who)
	}
	// Staff cannot manage accounts through their session.
	expectProblem(t, e.cookieCall(cookie, "GET", "/v1/accounts", nil), 403, "forbidden", "")
	// A state change from another origin is refused, even with the cookie.
	expectProblem(t, e.cookieCall(cookie, "POST", "/v1/cases", intakeBody("S01"), "Sec-Fetch-Site", "cross-site"),
		403, "forbidden", "")
	// Logout ends the session.
	e.must(204, "", "DELETE", "/v1/session", nil, "Cookie", wshttp.SessionCookie+"="+cookie)
	expectProblem(t, e.cookieCall(cookie, "GET", "/v1/session", nil), 401, "unauthorized", "")
}

func TestFailedLoginsLockTheUsernameAndTheAddress(t *testing.T) {
	e, clk := newAccountsEnv(t)
	e.station("S01", "R1")
	e.account("li.wei", "staff", "S01", "trout lake in spring")
	for i := 1; i <= 5; i++ {
		rec := e.call("", "POST", "/v1/session", map[string]any{"username": "li.wei", "password": "guess number " + string(rune('0'+i))})
		want := 401
		if i == 5 {
			want = 429
		}
		if rec.Code != want {
			t.Fatalf("failure %d: status %d, want %d", i, rec.Code, want)
		}
	}
	locked := e.call("", "POST", "/v1/session", map[string]any{"username": "li.wei", "password": "trout lake in spring"})
	if locked.Code != 429 || locked.Header().Get("Retry-After") == "" {
		t.Fatalf("the right password during the lock: %d, Retry-After %q; want 429 with Retry-After",
			locked.Code, locked.Header().Get("Retry-After"))
	}
	clk.Advance(2 * time.Minute)
	e.login("li.wei", "trout lake in spring")

	// One address trying many usernames is locked too.
	e2, _ := newAccountsEnv(t)
	for i := range 5 {
		e2.call("", "POST", "/v1/session", map[string]any{"username": "user" + string(rune('a'+i)), "password": "whatever it is"})
	}
	if rec := e2.call("", "POST", "/v1/session", map[string]any{"username": "userz", "password": "whatever it is"}); rec.Code != 429 {
		t.Fatalf("a sixth username from one address: %d; want 429", rec.Code)
	}
}

func TestSessionsEndWhenIdleAndWhenDisabledAndSurviveARestart(t *testing.T) {
	e, clk := newAccountsEnv(t)
	e.station("S01", "R1")
	id := e.account("li.wei", "staff", "S01", "trout lake in spring")
	cookie := e.login("li.wei", "trout lake in spring")
	clk.Advance(20 * time.Minute)
	e.must(200, "", "GET", "/v1/session", nil, "Cookie", wshttp.SessionCookie+"="+cookie)
	// A restart keeps the session and its last use.
	e.reopen()
	clk.Advance(20 * time.Minute)
	e.must(200, "", "GET", "/v1/session", nil, "Cookie", wshttp.SessionCookie+"="+cookie)
	clk.Advance(31 * time.Minute)
	expectProblem(t, e.cookieCall(cookie, "GET", "/v1/session", nil), 401, "unauthorized", "")

	cookie = e.login("li.wei", "trout lake in spring")
	e.must(200, adminToken, "DELETE", "/v1/accounts/"+id, nil)
	expectProblem(t, e.cookieCall(cookie, "GET", "/v1/session", nil), 401, "unauthorized", "")
	e.must(401, "", "POST", "/v1/session", map[string]any{"username": "li.wei", "password": "trout lake in spring"})
}

func TestAnAdminMustEnrolTwoFactorAndThenUsesItOnce(t *testing.T) {
	e, clk := newAccountsEnv(t)
	e.account("zhang.min", "admin", "", "trout lake in spring")
	cookie := e.login("zhang.min", "trout lake in spring")
	expectProblem(t, e.cookieCall(cookie, "GET", "/v1/accounts", nil), 403, "forbidden", wshttp.RuleTOTPEnrolmentRequired)
	offer := decodeAs[map[string]any](t, e.must(200, "", "POST", "/v1/session/totp", nil, "Cookie", wshttp.SessionCookie+"="+cookie))
	secret := offer["secret"].(string)
	expectProblem(t, e.cookieCall(cookie, "POST", "/v1/session/totp/confirm", map[string]any{"otp": "000000"}), 400, "invalid", "otp")
	code, _ := totp.GenerateCode(secret, clk.Now())
	codes := decodeAs[map[string][]string](t, e.must(200, "", "POST", "/v1/session/totp/confirm", map[string]any{"otp": code},
		"Cookie", wshttp.SessionCookie+"="+cookie))["recovery_codes"]
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes; want 10", len(codes))
	}
	e.must(200, "", "GET", "/v1/accounts", nil, "Cookie", wshttp.SessionCookie+"="+cookie)

	// Login now needs the code; the confirming code cannot be used again.
	expectProblem(t, e.call("", "POST", "/v1/session", map[string]any{"username": "zhang.min", "password": "trout lake in spring"}),
		401, "unauthorized", "otp")
	e.must(401, "", "POST", "/v1/session", map[string]any{"username": "zhang.min", "password": "trout lake in spring", "otp": code})
	clk.Advance(30 * time.Second)
	next, _ := totp.GenerateCode(secret, clk.Now())
	e.login("zhang.min", "trout lake in spring", "otp", next)
	e.must(401, "", "POST", "/v1/session", map[string]any{"username": "zhang.min", "password": "trout lake in spring", "otp": next})
	// A recovery code works once.
	e.login("zhang.min", "trout lake in spring", "recovery_code", codes[0])
	e.must(401, "", "POST", "/v1/session", map[string]any{"username": "zhang.min", "password": "trout lake in spring",
		"recovery_code": codes[0]})
}

// enrolTOTP enrols two-factor for the session's account and returns the
// secret.
func (e *env) enrolTOTP(cookie string, clk *testClock) string {
	e.t.Helper()
	offer := decodeAs[map[string]any](e.t, e.must(200, "", "POST", "/v1/session/totp", nil, "Cookie", wshttp.SessionCookie+"="+cookie))
	secret := offer["secret"].(string)
	code, _ := totp.GenerateCode(secret, clk.Now())
	e.must(200, "", "POST", "/v1/session/totp/confirm", map[string]any{"otp": code}, "Cookie", wshttp.SessionCookie+"="+cookie)
	return secret
}

// storedBytesHold reports whether any event of the store, as stored,
// holds text in its data or metadata.
func (e *env) storedBytesHold(text string) bool {
	e.t.Helper()
	for rec, err := range e.store.ReadAll(context.Background(), eventstore.ReadAllOptions{}) {
		if err != nil {
			e.t.Fatalf("read the stored log: %v", err)
		}
		if bytes.Contains(rec.Data, []byte(text)) || bytes.Contains(rec.Metadata, []byte(text)) {
			return true
		}
	}
	return false
}

func TestTheTOTPSecretIsSealedAtRestAndStillChecksCodesAfterARestart(t *testing.T) {
	e, clk := newAccountsEnvSealing(t, true)
	e.account("zhang.min", "admin", "", "trout lake in spring")
	secret := e.enrolTOTP(e.login("zhang.min", "trout lake in spring"), clk)
	if e.storedBytesHold(secret) {
		t.Fatal("the stored events hold the TOTP secret in clear")
	}
	// The secret is there, sealed: the sealed store opens it.
	opened := false
	for rec, err := range e.sealedStore.ReadStream(context.Background(), domain.AccessStream, eventstore.ReadStreamOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		opened = opened || rec.Type == domain.TypeTOTPEnrolled && bytes.Contains(rec.Data, []byte(secret))
	}
	if !opened {
		t.Fatal("no enrolment opens to the secret")
	}

	e.reopen()
	clk.Advance(30 * time.Second)
	code, _ := totp.GenerateCode(secret, clk.Now())
	e.login("zhang.min", "trout lake in spring", "otp", code)
	clk.Advance(30 * time.Second)
	wrong, _ := totp.GenerateCode(secret, clk.Now().Add(time.Hour))
	e.must(401, "", "POST", "/v1/session", map[string]any{"username": "zhang.min", "password": "trout lake in spring", "otp": wrong})
}

func TestAnEnrolmentStoredBeforeSealingStillReplays(t *testing.T) {
	e, clk := newAccountsEnvSealing(t, true)
	id := e.account("li.wei", "admin", "", "trout lake in spring")
	// An enrolment as it was stored before the secret was sealed: in
	// clear, written past the sealed store.
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	data, err := domain.Encode(uuid.Must(uuid.NewV7()), domain.TOTPEnrolled{ID: id, Secret: secret, Step: 1},
		domain.Metadata{SchemaVersion: 1, OccurredAt: clk.Now(), RecordedAt: clk.Now(), Actor: id, Role: domain.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Append(context.Background(), domain.AccessStream, eventstore.Any, data); err != nil {
		t.Fatal(err)
	}
	if !e.storedBytesHold(secret) {
		t.Fatal("the old enrolment was not stored in clear")
	}
	e.reopen()
	expectProblem(t, e.call("", "POST", "/v1/session", map[string]any{"username": "li.wei", "password": "trout lake in spring"}),
		401, "unauthorized", "otp")
	code, _ := totp.GenerateCode(secret, clk.Now())
	e.login("li.wei", "trout lake in spring", "otp", code)
}
