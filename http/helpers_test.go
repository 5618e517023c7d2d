package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"waystation/domain"
	"waystation/eventstore"
	"waystation/eventstore/bolt"
	"waystation/eventstore/sealed"
	wshttp "waystation/http"
	"waystation/projections"
)

const adminToken = "bootstrap-admin-secret"

// testMasterKey is the master key of the sealed test stores.
var testMasterKey = bytes.Repeat([]byte{7}, 32)

// env is a server over a real store, domain service and projections in a
// temporary folder.
type env struct {
	t      testing.TB
	dir    string
	store  *bolt.Store
	srv    *wshttp.Server
	runner *projections.Runner
	stop   context.CancelFunc
	done   chan struct{}
	// wrap, when set, wraps the store the server is given as Config.Store.
	wrap func(eventstore.Store) eventstore.Store
	// now, when set, is the clock of the domain service, the projections
	// and the server.
	now func() time.Time
	// configure, when set, changes the server's Config before it is built.
	configure func(*wshttp.Config)
	// seal, when set, has the domain service, the projections and the
	// server read and write through a sealed store over store (data keys
	// in the same folder), as a deployment does; sealedStore is it.
	seal        bool
	sealedStore *sealed.Store
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvWrapping(t, nil)
}

// newEnvWrapping is newEnv whose server reads and writes its Config.Store
// through wrap (the domain service and the projections use the store
// itself).
func newEnvWrapping(t testing.TB, wrap func(eventstore.Store) eventstore.Store) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), wrap: wrap}
	e.open()
	t.Cleanup(e.close)
	return e
}

func (e *env) open() {
	e.t.Helper()
	st, err := bolt.Open(e.dir, bolt.Options{NoSync: true})
	if err != nil {
		e.t.Fatalf("open store: %v", err)
	}
	e.store = st
	var source eventstore.Store = st
	if e.seal {
		ks, err := sealed.OpenKeyStore(e.dir, testMasterKey)
		if err != nil {
			e.t.Fatalf("open key store: %v", err)
		}
		e.sealedStore = sealed.New(st, ks, domain.PersonalPaths, domain.DataSubject)
		source = e.sealedStore
	}
	e.runner = projections.NewRunner(source, st, projections.Options{Now: e.now, Logger: slog.New(slog.DiscardHandler)})
	ctx, stop := context.WithCancel(context.Background())
	e.stop, e.done = stop, make(chan struct{})
	go func() { defer close(e.done); _ = e.runner.Run(ctx) }()
	reg := prometheus.NewRegistry()
	store := source
	if e.wrap != nil {
		store = e.wrap(source)
	}
	cfg := wshttp.Config{
		Service: domain.NewService(source, e.now), Now: e.now, Views: wshttp.RunnerViews{Runner: e.runner}, Store: store, Audit: st, Backup: st.Backup,
		AdminToken: adminToken, Registerer: reg, Gatherer: reg,
		Ready: func() error {
			if !e.runner.Ready() {
				return errors.New("projections catching up")
			}
			return nil
		},
	}
	if e.configure != nil {
		e.configure(&cfg)
	}
	srv, err := wshttp.NewServer(cfg)
	if err != nil {
		e.t.Fatalf("NewServer: %v", err)
	}
	e.srv = srv
}

func (e *env) close() {
	if e.srv == nil {
		return
	}
	e.srv.Close()
	e.stop()
	<-e.done
	if e.sealedStore != nil {
		_ = e.sealedStore.Close() // and the store it wraps
	} else {
		_ = e.store.Close()
	}
	e.srv = nil
}

// reopen closes the server and store and opens new ones on the same data,
// as a restart does.
func (e *env) reopen() {
	e.t.Helper()
	e.close()
	e.open()
}

// call sends a request through the real router. body is JSON-encoded
// unless it is a string (sent as is) or nil; headers come in pairs.
func (e *env) call(token, method, path string, body any, headers ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	var rd *bytes.Reader
	switch b := body.(type) {
	case nil:
		rd = bytes.NewReader(nil)
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	return rec
}

// must calls and fails the test unless the status is want.
func (e *env) must(want int, token, method, path string, body any, headers ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	rec := e.call(token, method, path, body, headers...)
	if rec.Code != want {
		e.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, rec.Code, want, rec.Body.String())
	}
	return rec
}

func decodeAs[T any](t testing.TB, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %q: %v", rec.Body.String(), err)
	}
	return v
}

// problem is the problem document as a client reads it.
type problem struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
	Rule   string `json:"rule"`
	Detail string `json:"detail"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

// expectProblem checks status, content type, code and (when given) the
// rule or field of a problem answer.
func expectProblem(t testing.TB, rec *httptest.ResponseRecorder, status int, code, ruleOrField string) problem {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d; body %s", rec.Code, status, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, want application/problem+json", ct)
	}
	p := decodeAs[problem](t, rec)
	if p.Code != code || p.Status != status {
		t.Fatalf("problem code %q status %d, want %q %d; body %s", p.Code, p.Status, code, status, rec.Body.String())
	}
	if ruleOrField != "" {
		got := p.Rule
		if len(p.Errors) > 0 {
			got = p.Errors[0].Field
		}
		if got != ruleOrField {
			t.Fatalf("rule or field %q, want %q; body %s", got, ruleOrField, rec.Body.String())
		}
	}
	return p
}

// token issues a token with the bootstrap admin and returns it.
func (e *env) token(role domain.Role, station, region string) string {
	e.t.Helper()
	body := map[string]any{"role": role, "name": "t"}
	if station != "" {
		body["station"] = station
	}
	if region != "" {
		body["region"] = region
	}
	rec := e.must(http.StatusCreated, adminToken, "POST", "/v1/tokens", body)
	return decodeAs[struct{ Token string }](e.t, rec).Token
}

// station registers a station with every zone.
func (e *env) station(code, region string) {
	e.t.Helper()
	e.must(http.StatusCreated, adminToken, "POST", "/v1/stations", map[string]any{
		"code": code, "name": "Station " + code, "region": region, "kind": "station",
		"zones": []map[string]any{{"zone": "adult_male", "beds": 3}, {"zone": "adult_female", "beds": 2}, {"zone": "minors", "beds": 2}, {"zone": "isolation", "beds": 1}},
	})
}

// intakeBody is a valid intake of an adult man at station.
func intakeBody(station string) map[string]any {
	return map[string]any{
		"station":  station,
		"referral": map[string]any{"source": "walk_in"},
		"person":   map[string]any{"name": "张三", "sex": "male", "birth_date": "1980-05-06"},
	}
}

// intake opens a case and returns its ID.
func (e *env) intake(token, station string) string {
	e.t.Helper()
	rec := e.must(http.StatusCreated, token, "POST", "/v1/cases", intakeBody(station))
	return decodeAs[struct{ ID string }](e.t, rec).ID
}

// world is a region R1 with stations S01 and S02, R2 with S03, and a token
// of every kind.
type world struct {
	*env
	staff1, staff2, staff3, coord1, coord2, insp1, inspAll string
}

func newWorld(t testing.TB) *world {
	t.Helper()
	return worldOf(newEnv(t))
}

// newWorldAt is newWorld on the clock now.
func newWorldAt(t testing.TB, now func() time.Time) *world {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), now: now}
	e.open()
	t.Cleanup(e.close)
	return worldOf(e)
}

// worldOf registers the world's stations and tokens in e.
func worldOf(e *env) *world {
	e.t.Helper()
	e.station("S01", "R1")
	e.station("S02", "R1")
	e.station("S03", "R2")
	return &world{env: e,
		staff1: e.token(domain.RoleStaff, "S01", ""), staff2: e.token(domain.RoleStaff, "S02", ""),
		staff3: e.token(domain.RoleStaff, "S03", ""),
		coord1: e.token(domain.RoleCoordinator, "", "R1"), coord2: e.token(domain.RoleCoordinator, "", "R2"),
		insp1: e.token(domain.RoleInspector, "", "R1"), inspAll: e.token(domain.RoleInspector, "", ""),
	}
}

func headCount(t testing.TB, st eventstore.Store) uint64 {
	t.Helper()
	p, err := st.Head(context.Background())
	if err != nil {
		t.Fatalf("head: %v", err)
	}
	return p.Commit
}
