package http_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestBodyIsReadWhateverLengthIsDeclared sends the same intake with a
// Content-Length that is absent, too small, right and too large: the body
// is read to its end each time and the case is opened.
func TestBodyIsReadWhateverLengthIsDeclared(t *testing.T) {
	e := newEnv(t)
	e.station("S01", "R1")
	raw, err := json.Marshal(intakeBody("S01"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		declared int64
	}{
		{"unknown length", -1},
		{"length too small", 1},
		{"exact length", int64(len(raw))},
		{"length too large", int64(4 * len(raw))},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/v1/cases", io.NopCloser(bytes.NewReader(raw)))
			req.ContentLength = c.declared
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+adminToken)
			rec := httptest.NewRecorder()
			e.srv.Handler().ServeHTTP(rec, req)
			if rec.Code != http.StatusCreated {
				t.Fatalf("got status %d, want %d: %s", rec.Code, http.StatusCreated, rec.Body)
			}
		})
	}
}
