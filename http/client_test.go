package http_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"waystation/domain"
	wshttp "waystation/http"
)

// serveEnv serves e's router on a loopback port for the duration of the
// test and returns a client of it.
func serveEnv(t testing.TB, e *env) *wshttp.Client {
	t.Helper()
	hs := httptest.NewServer(e.srv.Handler())
	t.Cleanup(hs.Close)
	return &wshttp.Client{BaseURL: hs.URL}
}

func TestClientAnswersTheBodyOrTheProblem(t *testing.T) {
	e := newEnv(t)
	e.station("S01", "R1")
	c := serveEnv(t, e)
	ctx := context.Background()
	staff := e.token(domain.RoleStaff, "S01", "")

	intake, err := json.Marshal(intakeBody("S01"))
	if err != nil {
		t.Fatal(err)
	}
	body, err := c.Do(ctx, staff, http.MethodPost, "/v1/cases", intake, http.StatusCreated)
	if err != nil {
		t.Fatalf("intake: %v", err)
	}
	var created struct{ ID string }
	if err := json.Unmarshal(body, &created); err != nil || created.ID == "" {
		t.Fatalf("intake answered %s, want the new case's id", body)
	}

	t.Run("a refused step is a ClientError carrying the problem", func(t *testing.T) {
		_, err := c.Do(ctx, staff, http.MethodPost, "/v1/cases/"+created.ID+"/voluntary-leave", []byte(`{"cash_yuan":500}`), http.StatusOK)
		var ce *wshttp.ClientError
		if !errors.As(err, &ce) {
			t.Fatalf("got %v, want a *ClientError", err)
		}
		if ce.Status != http.StatusUnprocessableEntity && ce.Status != http.StatusBadRequest {
			t.Errorf("got status %d, want 400 or 422", ce.Status)
		}
		if ce.Problem.Code == "" || !strings.Contains(err.Error(), string(ce.Problem.Code)) {
			t.Errorf("got %q with problem %+v, want the problem's code in both", err, ce.Problem)
		}
	})
	t.Run("an unknown token is a ClientError with status 401", func(t *testing.T) {
		_, err := c.Do(ctx, "no-such-token", http.MethodGet, "/v1/stations", nil, http.StatusOK)
		var ce *wshttp.ClientError
		if !errors.As(err, &ce) || ce.Status != http.StatusUnauthorized || ce.Problem.Code != domain.CodeUnauthorized {
			t.Fatalf("got %v, want a 401 ClientError with code unauthorized", err)
		}
	})
	t.Run("an unreachable server is not a ClientError", func(t *testing.T) {
		dead := &wshttp.Client{BaseURL: "http://127.0.0.1:1"}
		b, err := dead.Do(ctx, staff, http.MethodGet, "/v1/stations", nil, http.StatusOK)
		var ce *wshttp.ClientError
		if err == nil || errors.As(err, &ce) || b != nil {
			t.Fatalf("got body %q and error %v, want a transport error and no body", b, err)
		}
	})
}
