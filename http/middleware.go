package http

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"waystation/domain"
)

type ctxKey int

const (
	keyInfo ctxKey = iota
	keyActor
)

// reqInfo is what the outer middleware learns about a request while the
// router handles it.
type reqInfo struct {
	id    string
	route string // route template, set by the router's middleware
	// actor is the caller, once authenticated is set by the
	// authentication middleware.
	actor         domain.Actor
	authenticated bool
	// session is the digest of the session cookie's secret when the
	// request was authenticated by a session, else "".
	session string
	// rec is the response writer handed to the router; it lives here so
	// that a request costs one allocation for both.
	rec recorder
}

func requestIDOf(ctx context.Context) string {
	if in, ok := ctx.Value(keyInfo).(*reqInfo); ok {
		return in.id
	}
	return ""
}

// routeOf returns the route template that r matched, never the raw path,
// or "unmatched".
func routeOf(r *http.Request) string {
	if cr := mux.CurrentRoute(r); cr != nil {
		if t, err := cr.GetPathTemplate(); err == nil {
			return t
		}
	}
	if in, ok := r.Context().Value(keyInfo).(*reqInfo); ok && in.route != "" {
		return in.route
	}
	return "unmatched"
}

// recorder remembers the status written through it.
type recorder struct {
	http.ResponseWriter
	status int
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (flushes, write
// deadlines for the event stream).
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush sends buffered data to the client.
func (w *recorder) Flush() { _ = w.FlushError() }

// FlushError sends buffered data to the client and reports whether it
// could: http.ResponseController.Flush answers it, so that the event
// stream learns when a flush fails.
func (w *recorder) FlushError() error {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

func validRequestID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// outer wraps the router: it gives every request an ID (kept from a sane
// X-Request-ID header, else new), turns panics into 500 problem answers,
// measures the request by route template and logs one line per request.
func (s *Server) outer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		in := &reqInfo{id: r.Header.Get("X-Request-ID")}
		if !validRequestID(in.id) {
			in.id = newRequestID()
		}
		r = r.WithContext(context.WithValue(r.Context(), keyInfo, in))
		w.Header().Set("X-Request-ID", in.id)
		in.rec.ResponseWriter = w
		rec := &in.rec
		s.metrics.inFlight.Inc()
		defer func() {
			s.metrics.inFlight.Dec()
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.logger.ErrorContext(r.Context(), "panic answering a request", "request_id", in.id, "route", routeOf(r),
					"panic_type", fmt.Sprintf("%T", p), "stack", string(debug.Stack()))
				if rec.status == 0 {
					s.Error(rec, r, domain.Internal(fmt.Errorf("panic: %T", p), "panic"))
				}
			}
			route := in.route
			if route == "" {
				route = "unmatched"
			}
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			elapsed := time.Since(start)
			method := methodLabel(r.Method)
			s.metrics.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
			s.metrics.latency.WithLabelValues(route, method).Observe(elapsed.Seconds())
			if !s.logger.Enabled(r.Context(), slog.LevelDebug) {
				return
			}
			s.logger.DebugContext(r.Context(), "request", "request_id", in.id, "route", route, "method", r.Method,
				"status", status, "duration_ms", float64(elapsed.Microseconds())/1000)
		}()
		next.ServeHTTP(rec, r)
	})
}

// methodLabel bounds the method label to the standard methods, so that
// made-up methods cannot grow the metrics without limit.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch,
		http.MethodHead, http.MethodOptions:
		return m
	}
	return "other"
}

// routeName is the router's middleware: it records the matched route
// template for the outer middleware.
func routeName(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if in, ok := r.Context().Value(keyInfo).(*reqInfo); ok {
			in.route = routeOf(r)
		}
		next.ServeHTTP(w, r)
	})
}
