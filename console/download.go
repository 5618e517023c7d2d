package console

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// download sends method path without a body as r's user, exactly as call
// does, and passes a 2xx answer on to w as the API writes it (a backup is
// the size of the store: it is never held whole), as an attachment named
// filename unless the API names it. Any other answer is returned as a
// *problem, and nothing is written to w.
func (a api) download(r *http.Request, w http.ResponseWriter, method, path, filename string) error {
	pt := &passThrough{w: w, filename: filename}
	a.h.ServeHTTP(pt, a.request(r.Context(), r, method, path, nil))
	if pt.status == 0 {
		pt.WriteHeader(http.StatusOK)
	}
	if pt.status >= 200 && pt.status <= 299 {
		return nil
	}
	p := &problem{}
	_ = json.Unmarshal(pt.refusal.Bytes(), p)
	p.Status = pt.status
	return p
}

// passThrough is the ResponseWriter the API writes a download to: a 2xx
// answer goes on to the browser as it is written, with its media type and
// file name; any other answer is kept (a small problem document) to be
// shown as a page.
type passThrough struct {
	w        http.ResponseWriter
	filename string
	header   http.Header
	status   int
	refusal  bytes.Buffer
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
	if h.Get("Content-Disposition") == "" && p.filename != "" {
		h.Set("Content-Disposition", `attachment; filename="`+p.filename+`"`)
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
