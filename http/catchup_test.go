package http_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"waystation/domain"
	"waystation/eventstore/bolt"
	wshttp "waystation/http"
	"waystation/projections"
)

func TestBoardsWaitForTheViewsToCatchUpAfterAStart(t *testing.T) {
	st, err := bolt.Open(t.TempDir(), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runner := projections.NewRunner(st, st, projections.Options{Logger: slog.New(slog.DiscardHandler)})
	reg := prometheus.NewRegistry()
	srv, err := wshttp.NewServer(wshttp.Config{
		Service: domain.NewService(st, nil), Views: wshttp.RunnerViews{Runner: runner}, Store: st,
		AdminToken: adminToken, Registerer: reg, Gatherer: reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	board := func(ctx context.Context) *httptest.ResponseRecorder {
		req := httptest.NewRequestWithContext(ctx, "GET", "/v1/safety", nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		return rec
	}

	// Given views that have not caught up with the log (the runner has
	// not folded it yet), when the board is asked for by a client that
	// will not wait long, then it answers 503 with Retry-After rather than
	// a board missing alerts.
	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	rec := board(short)
	expectProblem(t, rec, http.StatusServiceUnavailable, "unavailable", "")
	if rec.Header().Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}

	// When the views catch up, the same request is answered.
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = runner.Run(ctx) }()
	defer func() { stop(); <-done }()
	if rec := board(context.Background()); rec.Code != http.StatusOK {
		t.Fatalf("board after catch-up: %d %s", rec.Code, rec.Body)
	}
}
