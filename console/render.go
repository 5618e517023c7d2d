package console

import (
	"bytes"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"
)

// page is what every template receives.
type page struct {
	T     tr
	Title string
	User  *account
	// Path is the page's own path; Switch is it in the other language.
	Path   string
	Switch string
	Data   any
}

// Lang is the page's language attribute.
func (p page) Lang() string { return p.T.htmlLang() }

// Other is the language the switch offers.
func (p page) Other() string { return p.T.other() }

// Is reports whether the user has one of roles.
func (p page) Is(roles ...string) bool {
	if p.User == nil {
		return false
	}
	for _, r := range roles {
		if string(p.User.Role) == r {
			return true
		}
	}
	return false
}

var funcs = template.FuncMap{
	"join":   strings.Join,
	"groups": groups,
	"since": func(now, t time.Time) time.Duration {
		return now.Sub(t)
	},
	"add": func(a, b int) int { return a + b },
	"n": func(p *int) int {
		if p == nil {
			return 0
		}
		return *p
	},
	"pct": func(part, whole int) int {
		if whole == 0 {
			return 0
		}
		return part * 100 / whole
	},
	"seq": func(n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	},
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
}

// parsePages parses every page template with the layout and the shared
// partials: one template set per page, named by its file.
func parsePages() (map[string]*template.Template, error) {
	base, err := template.New("base").Funcs(funcs).ParseFS(templateFiles, "templates/_*.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFiles, "templates/[a-z]*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		t, err := template.Must(base.Clone()).ParseFS(templateFiles, n)
		if err != nil {
			return nil, err
		}
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		out[name] = t
	}
	return out, nil
}

// render writes page name with data, titled by the catalogue's titleKey.
// A template that fails is an internal error, and nothing half-written
// reaches the browser.
func (c *Console) render(q *req, status int, name, titleKey string, data any) {
	c.renderTemplate(q, status, name, "layout", titleKey, data)
}

// renderFragment writes one named template of page name without the
// layout (the parts a live board swaps in).
func (c *Console) renderFragment(q *req, name, fragment string, data any) {
	c.renderTemplate(q, http.StatusOK, name, fragment, "", data)
}

func (c *Console) renderTemplate(q *req, status int, name, tmpl, titleKey string, data any) {
	t, ok := c.pages[name]
	if !ok {
		c.logger.Error("console: no such page template", "page", name)
		http.Error(q.w, "internal error", http.StatusInternalServerError)
		return
	}
	p := page{T: q.t, User: q.user, Path: q.r.URL.Path, Data: data}
	u := *q.r.URL
	qs := u.Query()
	qs.Set("lang", q.t.other())
	u.RawQuery = qs.Encode()
	p.Switch = u.RequestURI()
	if titleKey != "" {
		p.Title = q.t.T(titleKey)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, tmpl, p); err != nil {
		c.logger.Error("console: rendering a page", "page", name, "err", err)
		http.Error(q.w, "internal error", http.StatusInternalServerError)
		return
	}
	h := q.w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", q.t.lang)
	h.Set("Vary", "Cookie, Accept-Language")
	q.w.WriteHeader(status)
	_, _ = q.w.Write(buf.Bytes())
}
