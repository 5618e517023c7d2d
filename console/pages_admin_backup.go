package console

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
)

// The backup: POST /v1/admin/backup streams a tar archive of the store,
// which the console passes to the browser as a download as it comes,
// never holding it whole (api.call reads an answer whole: a backup is the
// size of the store).

// backup streams the API's backup to the browser as a file download; a
// refusal before the first byte (a user who is not an admin, a store
// backed up elsewhere) is shown as the error page.
func (c *Console) backup(q *req) error {
	pt := &passThrough{w: q.w}
	c.api.stream(q.r, "POST", "/v1/admin/backup", pt)
	if pt.status >= 200 && pt.status <= 299 {
		return nil
	}
	p := &problem{Status: pt.status}
	_ = json.Unmarshal(pt.refusal.Bytes(), p)
	p.Status = pt.status
	return p
}

// stream sends method path without a body as r's user, exactly as call
// does (the same forwarded headers, address and TLS state), and lets the
// API's handler write its answer to w.
func (a api) stream(r *http.Request, method, path string, w http.ResponseWriter) {
	in := httptest.NewRequestWithContext(r.Context(), method, path, nil)
	in.Host = r.Host
	in.RemoteAddr = r.RemoteAddr
	in.TLS = r.TLS
	for _, h := range forwarded {
		if v := r.Header.Values(h); len(v) > 0 {
			in.Header[h] = v
		}
	}
	in.Header.Set("Accept", "application/json")
	a.h.ServeHTTP(w, in)
}

// passThrough is the ResponseWriter the API writes a download to: a 2xx
// answer goes on to the browser as it is written, with its media type and
// file name; any other answer is kept (it is a small problem document) to
// be shown as a page.
type passThrough struct {
	w       http.ResponseWriter
	header  http.Header
	status  int
	refusal bytes.Buffer
}

// passed are the API's headers a download keeps.
var passed = []string{"Content-Type", "Content-Disposition", "Content-Length"}

// maxRefusal bounds what is kept of a refusal's body.
const maxRefusal = 64 << 10

func (p *passThrough) Header() http.Header {
	if p.header == nil {
		p.header = http.Header{}
	}
	return p.header
}

func (p *passThrough) WriteHeader(status int) {
	if p.status != 0 {
		return
	}
	p.status = status
	if status < 200 || status > 299 {
		return
	}
	h := p.w.Header()
	for _, k := range passed {
		if v := p.Header().Get(k); v != "" {
			h.Set(k, v)
		}
	}
	if h.Get("Content-Disposition") == "" {
		h.Set("Content-Disposition", `attachment; filename="waystation-backup.tar"`)
	}
	h.Set("Cache-Control", "no-store")
	p.w.WriteHeader(status)
}

func (p *passThrough) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.WriteHeader(http.StatusOK)
	}
	if p.status < 200 || p.status > 299 {
		if p.refusal.Len()+len(b) <= maxRefusal {
			p.refusal.Write(b)
		}
		return len(b), nil
	}
	return p.w.Write(b)
}

// Flush sends what has been written on to the browser.
func (p *passThrough) Flush() {
	if p.status >= 200 && p.status <= 299 {
		_ = http.NewResponseController(p.w).Flush()
	}
}

// Unwrap lets the API reach the connection (a backup lifts its write
// deadline).
func (p *passThrough) Unwrap() http.ResponseWriter { return p.w }
