package http

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"waystation/domain"
)

// bareServer is a Server with only what serve and Error use: a logger
// writing to logs and unregistered metrics.
func bareServer(t *testing.T, logs *bytes.Buffer) *Server {
	t.Helper()
	m, err := newMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &Server{logger: slog.New(slog.NewTextHandler(logs, nil)), metrics: m}
}

// TestServeAnswersAnErrorOnlyBeforeTheAnswerBegan: an error a handler
// returns before writing is answered as a problem; one returned after the
// status is written (a stream under way) is logged and nothing more is
// written, whether or not the outer middleware serves the request.
func TestServeAnswersAnErrorOnlyBeforeTheAnswerBegan(t *testing.T) {
	for _, outer := range []bool{true, false} {
		name := "through the outer middleware"
		if !outer {
			name = "through serve alone"
		}
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			s := bareServer(t, &logs)
			serve := func(h handlerFunc) *httptest.ResponseRecorder {
				var handler http.Handler = s.serve(route{Public: true, handle: h})
				if outer {
					handler = s.outer(handler)
				}
				rec := httptest.NewRecorder()
				handler.ServeHTTP(rec, httptest.NewRequest("GET", "/stream", nil))
				return rec
			}

			rec := serve(func(w http.ResponseWriter, r *http.Request) error {
				return domain.NotFound("nothing here")
			})
			ct := rec.Header().Get("Content-Type")
			if rec.Code != 404 || ct != "application/problem+json" || !strings.Contains(rec.Body.String(), "nothing here") {
				t.Fatalf("an error before the answer: %d %q %s, want a 404 problem", rec.Code, ct, rec.Body)
			}

			rec = serve(func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Content-Type", "text/event-stream")
				w.WriteHeader(http.StatusOK)
				_, _ = w.Write([]byte("data: 1\n\n"))
				return errors.New("the subscription broke")
			})
			ct = rec.Header().Get("Content-Type")
			if rec.Code != 200 || rec.Body.String() != "data: 1\n\n" || ct != "text/event-stream" {
				t.Fatalf("an error after the answer began: %d %q %q, want the stream alone", rec.Code, ct, rec.Body)
			}
			l := logs.String()
			if !strings.Contains(l, "error after the answer began") || !strings.Contains(l, "the subscription broke") {
				t.Fatalf("the error after the answer began is not logged: %s", logs.String())
			}

			rec = serve(func(w http.ResponseWriter, r *http.Request) error {
				_, _ = w.Write([]byte("{}"))
				return errors.New("late")
			})
			if rec.Code != 200 || rec.Body.String() != "{}" {
				t.Fatalf("an error after an implicit 200: %d %q, want the body alone", rec.Code, rec.Body)
			}
		})
	}
}

// TestRefusalNamesTheRoles: the detail of a role refusal lists the route's
// roles in refusalOrder, whatever their order in the table.
func TestRefusalNamesTheRoles(t *testing.T) {
	for _, c := range []struct {
		roles []domain.Role
		want  string
	}{
		{admins, "this route is for admin tokens"},
		{logReaders, "this route is for admin or inspector tokens"},
		{[]domain.Role{domain.RoleAdmin, domain.RoleStaff}, "this route is for staff or admin tokens"},
		{stepRoles, "this route is for staff or coordinator or admin tokens"},
	} {
		if got := refusal(c.roles); got != c.want {
			t.Errorf("refusal(%v) = %q, want %q", c.roles, got, c.want)
		}
	}
}
