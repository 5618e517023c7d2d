package http_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"waystation/domain"
	wshttp "waystation/http"
	"waystation/projections"
)

// panickyViews is the real views except that listing stations panics with
// a message holding personal data.
type panickyViews struct{ wshttp.RunnerViews }

func (panickyViews) Stations(context.Context) ([]projections.StationInfo, error) {
	panic("secret 张三 110101199003074514")
}

func TestPanicIsA500WithNothingLeaked(t *testing.T) {
	e := newEnv(t)
	var logs bytes.Buffer
	srv, err := wshttp.NewServer(wshttp.Config{
		Service: domain.NewService(e.store, nil), Views: panickyViews{wshttp.RunnerViews{Runner: e.runner}}, Store: e.store,
		AdminToken: adminToken, Registerer: prometheus.NewRegistry(),
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	req := httptest.NewRequest("GET", "/v1/stations", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	p := expectProblem(t, rec, 500, "internal", "")
	if p.Detail != "" || strings.Contains(rec.Body.String(), "secret") {
		t.Fatalf("the 500 leaks: %s", rec.Body.String())
	}
	id := rec.Header().Get("X-Request-ID")
	if id == "" || !strings.Contains(logs.String(), id) {
		t.Fatalf("the panic's log line does not carry the request ID %q", id)
	}
	if strings.Contains(logs.String(), "张三") || strings.Contains(logs.String(), "110101199003074514") {
		t.Fatal("the log holds the panic's personal data")
	}
	// The server keeps serving.
	rec = httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != 200 {
		t.Fatalf("after a panic /healthz answered %d", rec.Code)
	}
}
