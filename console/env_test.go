package console_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"waystation/internal/credential"
	"waystation/ops"
)

const adminToken = "bootstrap-admin-secret"

// env is the whole service as the binary runs it (ops.Main: the sealed
// embedded store, the domain service, the projections, the API with its
// export, backup and erasure, and the console), on a fresh data folder,
// served on a loopback port.
type env struct {
	t    testing.TB
	m    *ops.Main
	http *httptest.Server
	// missing are the catalogue keys a page asked for and lacked.
	mu      sync.Mutex
	missing map[string]bool
}

// envOptions change the service a test runs.
type envOptions struct {
	// now is the service's clock; nil is time.Now.
	now func() time.Time
	// retention is how long closed cases are kept before they are due
	// for erasure; zero is the default.
	retention time.Duration
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvWith(t, envOptions{})
}

func newEnvWith(t testing.TB, o envOptions) *env {
	t.Helper()
	e := &env{t: t, missing: map[string]bool{}}
	cfg := ops.DefaultConfig()
	cfg.Data = t.TempDir()
	cfg.Addr = "127.0.0.1:0"
	cfg.AdminToken = adminToken
	cfg.MasterKey = strings.Repeat("5a", 32)
	cfg.ShutdownTimeout = 10 * time.Second
	cfg.SessionIdle = 24 * time.Hour
	if o.retention > 0 {
		cfg.Retention = o.retention
	}
	e.m = ops.NewMain(cfg, slog.New(slog.DiscardHandler))
	e.m.NoSync = true
	if o.now != nil {
		e.m.Now = o.now
	}
	e.m.PasswordParams = credential.Params{Time: 1, Memory: 64, Threads: 1}
	e.m.ConsoleMissing = func(lang, key string) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.missing[lang+": "+key] = true
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		err := e.m.Run(ctx)
		if cerr := e.m.Close(); err == nil {
			err = cerr
		}
		done <- err
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Main.Run: %v", err)
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		for k := range e.missing {
			t.Errorf("a page asked the catalogue for a key it lacks: %s", k)
		}
	})
	waitCtx, waitCancel := context.WithTimeout(ctx, 30*time.Second)
	defer waitCancel()
	addr := e.m.Addr(waitCtx)
	if addr == "" {
		t.Fatal("the service did not start listening")
	}
	if err := e.m.Views.WaitReady(waitCtx, 0); err != nil {
		t.Fatalf("the views did not catch up: %v", err)
	}
	e.http = &httptest.Server{URL: "http://" + addr}
	return e
}

// api calls the JSON API with the bootstrap admin token and decodes the
// answer into out (when not nil); the status must be want.
func (e *env) api(method, path string, body any, want int, out any) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, e.http.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, res.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatal(err)
		}
	}
}

// station registers a station with a few beds in four zones.
func (e *env) station(code, region string) {
	e.t.Helper()
	e.api("POST", "/v1/stations", map[string]any{
		"code": code, "name": "救助站 " + code, "region": region, "kind": "station",
		"zones": []map[string]any{{"zone": "adult_male", "beds": 3}, {"zone": "adult_female", "beds": 2},
			{"zone": "minors", "beds": 2}, {"zone": "isolation", "beds": 1}},
	}, 201, nil)
}

// account creates an account as the admin and returns its activation
// code.
func (e *env) account(username, name, role, station, region string) string {
	e.t.Helper()
	body := map[string]any{"username": username, "name": name, "role": role}
	if station != "" {
		body["station"] = station
	}
	if region != "" {
		body["region"] = region
	}
	var out struct {
		Code string `json:"activation_code"`
	}
	e.api("POST", "/v1/accounts", body, 201, &out)
	return out.Code
}

// browser is one person's browser: its own cookies, following redirects.
type browser struct {
	e      *env
	t      testing.TB
	c      *http.Client
	lang   string
	header http.Header // sent with every request
}

func (e *env) browser() *browser {
	return &browser{e: e, t: e.t, c: &http.Client{Jar: &jar{cookies: map[string]*http.Cookie{}}}, header: http.Header{}}
}

// jar keeps one server's cookies as a browser whose clock is the
// server's would: a test's server may run on a clock of its own, so a
// cookie's expiry is left to the server (which refuses an ended session)
// and only a cookie the server clears is dropped.
type jar struct {
	mu      sync.Mutex
	cookies map[string]*http.Cookie
}

func (j *jar) SetCookies(_ *url.URL, cs []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, c := range cs {
		if c.MaxAge < 0 || c.Value == "" {
			delete(j.cookies, c.Name)
			continue
		}
		j.cookies[c.Name] = &http.Cookie{Name: c.Name, Value: c.Value}
	}
}

func (j *jar) Cookies(*url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]*http.Cookie, 0, len(j.cookies))
	for _, c := range j.cookies {
		out = append(out, c)
	}
	return out
}

// page is an answer the browser got.
type page struct {
	Status int
	URL    *url.URL
	Header http.Header
	Body   string
}

func (b *browser) do(method, path string, form url.Values) page {
	b.t.Helper()
	var rd io.Reader
	if form != nil {
		rd = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.e.http.URL+path, rd)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range b.header {
		req.Header[k] = v
	}
	if b.lang != "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return page{Status: res.StatusCode, URL: res.Request.URL, Header: res.Header, Body: string(body)}
}

func (b *browser) get(path string) page { b.t.Helper(); return b.do("GET", path, nil) }

func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	return b.do("POST", path, form)
}

// activate sets the account's password through the activation page.
func (b *browser) activate(username, code, password string) page {
	b.t.Helper()
	return b.post("/activate", url.Values{"username": {username}, "activation_code": {code},
		"password": {password}, "password2": {password}})
}

// login logs in through the login page.
func (b *browser) login(username, password string) page {
	b.t.Helper()
	return b.post("/login", url.Values{"username": {username}, "password": {password}, "next": {"/"}})
}

// staff is a logged-in browser of a staff account at station.
func (e *env) staff(username, station string) *browser {
	e.t.Helper()
	code := e.account(username, "李伟", "staff", station, "")
	b := e.browser()
	if p := b.activate(username, code, "correct horse battery"); p.Status != 200 {
		e.t.Fatalf("activation: status %d: %s", p.Status, p.Body)
	}
	if p := b.login(username, "correct horse battery"); p.Status != 200 || p.URL.Path != "/" {
		e.t.Fatalf("login: status %d at %s: %s", p.Status, p.URL, p.Body)
	}
	return b
}

// secretShown finds the two-factor secret on the enrolment page.
var secretShown = regexp.MustCompile(`<code class="secret">([A-Z2-7=]+)</code>`)

// person is a logged-in browser of a new account of role, at station or
// in region as the role asks, activated and logged in through the console's
// pages; an account that must use two-factor (admins, inspectors) is
// enrolled through /enrol with codes of the moment now.
func (e *env) person(username, name, role, station, region string, now time.Time) *browser {
	e.t.Helper()
	code := e.account(username, name, role, station, region)
	b := e.browser()
	if p := b.activate(username, code, "correct horse battery"); p.Status != 200 {
		e.t.Fatalf("activation: status %d: %s", p.Status, p.Body)
	}
	p := b.login(username, "correct horse battery")
	if p.Status != 200 {
		e.t.Fatalf("login: status %d at %s: %s", p.Status, p.URL, p.Body)
	}
	if p.URL.Path == "/enrol" {
		e.enrol(b, now)
	}
	return b
}

// enrol enrols b's account in two-factor through the /enrol pages, as a
// person does with an authenticator app, at the moment now.
func (e *env) enrol(b *browser, now time.Time) {
	e.t.Helper()
	p := b.post("/enrol", url.Values{"action": {"offer"}})
	m := secretShown.FindStringSubmatch(p.Body)
	if m == nil {
		e.t.Fatalf("no secret on the enrolment page: status %d\n%s", p.Status, p.Body)
	}
	otp, err := totp.GenerateCode(m[1], now)
	if err != nil {
		e.t.Fatal(err)
	}
	if p := b.post("/enrol", url.Values{"action": {"confirm"}, "otp": {otp}}); p.Status != 200 {
		e.t.Fatalf("confirming two-factor: status %d: %s", p.Status, p.Body)
	}
}

// caseIDIn reads the case ID of a case page's URL.
var casePath = regexp.MustCompile(`^/cases/([0-9a-f-]{36})$`)

func caseIDOf(t testing.TB, p page) string {
	t.Helper()
	m := casePath.FindStringSubmatch(p.URL.Path)
	if m == nil {
		t.Fatalf("not a case page: %s (status %d)\n%s", p.URL, p.Status, p.Body)
	}
	return m[1]
}
