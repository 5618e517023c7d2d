package http_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"waystation/domain"
)

// TestOpenAPIMatchesTheRouter fails when a route the router serves is
// missing from /openapi.json, or the description names a route the router
// does not serve.
func TestOpenAPIMatchesTheRouter(t *testing.T) {
	e := newEnv(t)
	served := map[string]bool{}
	err := e.srv.Router().Walk(func(r *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := r.GetPathTemplate()
		if err != nil {
			return err
		}
		methods, err := r.GetMethods()
		if err != nil {
			return err
		}
		for _, m := range methods {
			served[strings.ToLower(m)+" "+tpl] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := e.must(200, "", "GET", "/openapi.json", nil)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	described := map[string]bool{}
	for path, ops := range doc.Paths {
		for m := range ops {
			described[m+" "+path] = true
		}
	}
	for r := range served {
		if !described[r] {
			t.Errorf("served but not described: %s", r)
		}
	}
	for r := range described {
		if !served[r] {
			t.Errorf("described but not served: %s", r)
		}
	}
	// docs/api.md's routes are all there, every case step among them, and the
	// person index and zones routes.
	for _, r := range []string{"post /v1/cases", "get /v1/cases/{id}/history", "post /v1/tokens", "delete /v1/tokens/{id}",
		"get /v1/stations/{code}/occupancy", "get /v1/safety", "get /v1/regions/{region}/transfers", "get /v1/stats",
		"get /v1/events", "get /v1/events/stream", "get /v1/audit/checkpoint", "get /v1/audit/proof", "get /healthz", "get /readyz", "get /metrics",
		"get /v1/cases/{id}/person", "get /v1/repeat-visitors", "post /v1/stations/{code}/zones"} {
		if !served[r] {
			t.Errorf("documented route not served: %s", r)
		}
	}
	for _, step := range domain.CaseSteps() {
		if !served["post /v1/cases/{id}/"+string(step)] {
			t.Errorf("step %s not served", step)
		}
	}
	var bed struct {
		Post struct {
			RequestBody struct {
				Content map[string]struct {
					Schema struct {
						Properties map[string]any `json:"properties"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"post"`
	}
	if err := json.Unmarshal(mustJSON(t, doc.Paths["/v1/cases/{id}/bed"]), &bed); err != nil {
		t.Fatal(err)
	}
	props := bed.Post.RequestBody.Content["application/json"].Schema.Properties
	for _, f := range []string{"zone", "bed", "occurred_at", "notes"} {
		if _, ok := props[f]; !ok {
			t.Errorf("the bed step's schema lacks %q: %v", f, props)
		}
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHealthReadyMetrics(t *testing.T) {
	w := newWorld(t)
	w.must(200, "", "GET", "/healthz", nil)
	w.must(200, "", "GET", "/readyz", nil)
	id := w.intake(w.staff1, "S01")
	w.must(200, w.insp1, "GET", "/v1/cases/"+id, nil)
	w.call(w.staff1, "POST", "/v1/cases", `{"bad":`)
	w.call(w.staff1, "GET", "/v1/cases/"+id+"/no-such-thing", nil)
	w.call("", "BREW", "/coffee/"+id, nil)
	rec := w.must(200, "", "GET", "/metrics", nil)
	body := rec.Body.String()
	for _, want := range []string{
		`waystation_http_requests_total{code="201",method="POST",route="/v1/cases"}`,
		`waystation_http_errors_total{code="invalid",route="/v1/cases"}`,
		`waystation_http_request_duration_seconds_bucket{method="GET",route="/v1/cases/{id}"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if !strings.Contains(body, `waystation_http_requests_total{code="405",method="other",route="unmatched"}`) &&
		!strings.Contains(body, `waystation_http_requests_total{code="404",method="other",route="unmatched"}`) {
		t.Error("a made-up method is not counted as other on the unmatched route")
	}
	if strings.Contains(body, id) || strings.Contains(body, "张三") || strings.Contains(body, "no-such-thing") || strings.Contains(body, "BREW") {
		t.Error("metrics carry a case ID or personal data")
	}
	if rec.Header().Get("X-Request-ID") == "" {
		t.Error("no request ID on the answer")
	}
	rec = w.call("", "GET", "/healthz", nil, "X-Request-ID", "abc-123")
	if got := rec.Header().Get("X-Request-ID"); got != "abc-123" {
		t.Errorf("request ID %q, want the client's abc-123", got)
	}
	w.close()
}

func TestReadyzWhenStoreClosed(t *testing.T) {
	e := newEnv(t)
	_ = e.store.Close()
	expectProblem(t, e.call("", "GET", "/readyz", nil), http.StatusServiceUnavailable, "unavailable", "")
}

func TestEventsAuditAndBackup(t *testing.T) {
	w := newWorld(t)
	w.intake(w.staff1, "S01")
	page := decodeAs[struct {
		Items []struct {
			Position string
			Type     string
			Stream   string
		}
		Next string `json:"next_after"`
	}](t, w.must(200, w.inspAll, "GET", "/v1/events?limit=2", nil))
	if len(page.Items) != 2 || page.Items[0].Position != "1" || page.Items[0].Type != "station.registered" || page.Next != "2" {
		t.Fatalf("first page %+v", page)
	}
	next := decodeAs[struct{ Items []struct{ Position string } }](t, w.must(200, w.inspAll, "GET", "/v1/events?after="+page.Next+"&limit=1", nil))
	if len(next.Items) != 1 || next.Items[0].Position != "3" {
		t.Fatalf("second page %+v", next.Items)
	}
	cp := decodeAs[struct {
		Size        int64
		Root        string
		Note        string
		VerifierKey string `json:"verifier_key"`
	}](t, w.must(200, w.insp1, "GET", "/v1/audit/checkpoint", nil))
	if cp.Size < 3 || cp.Root == "" || !strings.Contains(cp.Note, "—") || cp.VerifierKey == "" {
		t.Fatalf("checkpoint %+v", cp)
	}
	proof := decodeAs[struct{ Proof []string }](t, w.must(200, w.insp1, "GET", "/v1/audit/proof?position=2&size=3", nil))
	if len(proof.Proof) == 0 {
		t.Fatal("empty inclusion proof for a tree of 3")
	}
	expectProblem(t, w.call(w.insp1, "GET", "/v1/audit/proof?position=2&size=100000", nil), 400, "invalid", "size")
	rec := w.must(200, adminToken, "POST", "/v1/admin/backup", nil)
	if rec.Body.Len() == 0 || rec.Header().Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("backup of %d bytes, type %q", rec.Body.Len(), rec.Header().Get("Content-Type"))
	}
}

// TestEventStream reads the live log over a real connection, then
// reconnects with Last-Event-ID and gets what followed, no duplicates.
func TestEventStream(t *testing.T) {
	w := newWorld(t)
	ts := httptest.NewServer(w.srv.Handler())
	t.Cleanup(ts.Close)
	head := headCount(t, w.store)

	open := func(lastID string) (*bufio.Reader, func()) {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/v1/events/stream", nil)
		req.Header.Set("Authorization", "Bearer "+w.inspAll)
		if lastID != "" {
			req.Header.Set("Last-Event-ID", lastID)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("stream answered %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		return bufio.NewReader(resp.Body), func() { cancel(); _ = resp.Body.Close() }
	}
	// next returns the next event's id and type, skipping comments and the
	// caught-up marker.
	next := func(r *bufio.Reader) (id, typ string) {
		t.Helper()
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("reading the stream: %v", err)
			}
			line = strings.TrimRight(line, "\n")
			switch {
			case strings.HasPrefix(line, "id: "):
				id = line[4:]
			case strings.HasPrefix(line, "event: "):
				typ = line[7:]
			case line == "" && id != "":
				return id, typ
			case line == "":
				id, typ = "", ""
			}
		}
	}
	r, stop := open("")
	for i := uint64(1); i <= head; i++ {
		if id, _ := next(r); id != uitoa(i) {
			t.Fatalf("event %d has id %s", i, id)
		}
	}
	w.intake(w.staff1, "S01") // live
	id, typ := next(r)
	if id != uitoa(head+1) || typ != "case.intake_registered" {
		t.Fatalf("live event %s %s, want %d case.intake_registered", id, typ, head+1)
	}
	stop()
	w.intake(w.staff1, "S01") // while disconnected
	r, stop = open(id)
	defer stop()
	if id2, _ := next(r); id2 != uitoa(head+2) {
		t.Fatalf("after reconnecting with Last-Event-ID %s the first event is %s, want %d", id, id2, head+2)
	}
}

func uitoa(n uint64) string { return strconv.FormatUint(n, 10) }

func TestHTTPServerHasTimeouts(t *testing.T) {
	e := newEnv(t)
	hs := e.srv.HTTPServer("127.0.0.1:0")
	if hs.ReadHeaderTimeout <= 0 || hs.ReadTimeout <= 0 || hs.WriteTimeout <= 0 || hs.IdleTimeout <= 0 {
		t.Fatalf("timeouts: header %v read %v write %v idle %v", hs.ReadHeaderTimeout, hs.ReadTimeout, hs.WriteTimeout, hs.IdleTimeout)
	}
	if hs.Handler == nil {
		t.Fatal("no handler")
	}
}

// TestEveryRouteAnswersItsOwnPaths fails when a route's paths are taken by
// another route that the router tries first, whatever order the router
// tries them in.
func TestEveryRouteAnswersItsOwnPaths(t *testing.T) {
	e := newEnv(t)
	for _, rt := range e.srv.Routes() {
		method, tpl := rt[0], rt[1]
		path := tpl
		for strings.Contains(path, "{") {
			i := strings.Index(path, "{")
			j := strings.Index(path[i:], "}")
			path = path[:i] + "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b" + path[i+j+1:]
		}
		req := httptest.NewRequest(method, path, nil)
		var m mux.RouteMatch
		if !e.srv.Router().Match(req, &m) || m.Route == nil {
			t.Errorf("%s %s: no route matches", method, path)
			continue
		}
		got, err := m.Route.GetPathTemplate()
		if err != nil {
			t.Fatal(err)
		}
		if got != tpl {
			t.Errorf("%s %s: answered by %s, want %s", method, path, got, tpl)
		}
	}
}

// TestReadsOfTheLogAreLogged checks that a page of the global log and a
// live stream of it, which show the cases' events with personal values
// opened, are logged as reads of those cases: a page once per case shown,
// a stream once per case per connection.
func TestReadsOfTheLogAreLogged(t *testing.T) {
	w := newWorld(t)
	a := w.intake(w.staff1, "S01")
	w.must(200, w.staff1, "POST", "/v1/cases/"+a+"/eligibility", map[string]any{"eligible": true})
	b := w.intake(w.staff2, "S02")

	w.must(200, w.inspAll, "GET", "/v1/events?limit=1000", nil)
	if got := accessLogOf(t, w, "/v1/events"); !slices.Equal(got, []string{a, b}) {
		t.Fatalf("a page of the log showing cases %s and %s logged %v, want each once", a, b, got)
	}

	ts := httptest.NewServer(w.srv.Handler())
	t.Cleanup(ts.Close)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/v1/events/stream", nil)
	req.Header.Set("Authorization", "Bearer "+w.inspAll)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the stream: %v", err)
		}
		if line == "event: caught_up\n" {
			break
		}
	}
	// A delivery's reads are recorded once it has been flushed, so the
	// client may read caught_up a moment before the last entries are
	// written: wait for them, bounded.
	got := accessLogOf(t, w, "/v1/events/stream")
	for deadline := time.Now().Add(5 * time.Second); len(got) < 2 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		got = accessLogOf(t, w, "/v1/events/stream")
	}
	if !slices.Equal(got, []string{a, b}) {
		t.Fatalf("a stream of the log showing cases %s and %s logged %v, want each once", a, b, got)
	}
}
