package console

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
)

// inspectExport downloads the case's export bundle
// (GET /v1/cases/{id}/export) as a file, streamed from the API as it
// writes it.
func (c *Console) inspectExport(q *req) error {
	id, err := caseIDOf(q)
	if err != nil {
		return err
	}
	return c.api.stream(q.r, q.w, "/v1/cases/"+id.String()+"/export",
		"Content-Type", "Content-Disposition")
}

// stream sends GET path as r's user, exactly as call does (the same
// cookie, address and origin headers, so the same authorization and
// access log), and copies a 2xx answer to w as the API writes it, with
// only the answer's headers named in keep. Any other answer is returned as
// a *problem and nothing is written to w.
func (a api) stream(r *http.Request, w http.ResponseWriter, path string, keep ...string) error {
	in := httptest.NewRequestWithContext(r.Context(), http.MethodGet, path, nil)
	in.Host = r.Host
	in.RemoteAddr = r.RemoteAddr
	in.TLS = r.TLS
	for _, h := range forwarded {
		if v := r.Header.Values(h); len(v) > 0 {
			in.Header[h] = v
		}
	}
	in.Header.Set("Accept", "application/json")
	sw := &streamWriter{w: w, h: http.Header{}, keep: keep}
	a.h.ServeHTTP(sw, in)
	if sw.status == 0 {
		sw.WriteHeader(http.StatusOK)
	}
	if sw.status < 200 || sw.status > 299 {
		p := &problem{}
		_ = json.Unmarshal(sw.failed.Bytes(), p)
		p.Status = sw.status
		return p
	}
	return nil
}

// streamWriter passes a 2xx answer through to w and keeps any other in
// failed.
type streamWriter struct {
	w      http.ResponseWriter
	h      http.Header
	keep   []string
	status int
	failed bytes.Buffer
}

func (s *streamWriter) Header() http.Header { return s.h }

func (s *streamWriter) WriteHeader(status int) {
	if s.status != 0 {
		return
	}
	s.status = status
	if status < 200 || status > 299 {
		return
	}
	for _, k := range s.keep {
		if v := s.h.Get(k); v != "" {
			s.w.Header().Set(k, v)
		}
	}
	s.w.Header().Set("Cache-Control", "no-store")
	s.w.WriteHeader(status)
}

func (s *streamWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.WriteHeader(http.StatusOK)
	}
	if s.status < 200 || s.status > 299 {
		return s.failed.Write(b)
	}
	return s.w.Write(b)
}

// Flush passes the API's flushes on.
func (s *streamWriter) Flush() {
	if f, ok := s.w.(http.Flusher); ok && s.status >= 200 && s.status <= 299 {
		f.Flush()
	}
}
