package console

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"waystation/domain"
	"waystation/eventstore"
)

// Live tells the console when the log has moved on, for the boards that
// update themselves; the projections runner is one.
type Live interface {
	// Position is the position the views have folded up to.
	Position() eventstore.Position
	// WaitFor blocks until the views have folded the event at pos, or ctx
	// is done.
	WaitFor(ctx context.Context, pos eventstore.Position) error
}

// Config is what a Console is built from. API is required.
type Config struct {
	// API is the JSON API's handler: every read and every step of the
	// console goes through it.
	API http.Handler
	// Live, when set, lets open boards update themselves.
	Live Live
	// Logger receives the console's internal errors; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Missing, when set, is told every catalogue key a page asked for and
	// the catalogue lacks (tests fail on any).
	Missing func(lang, key string)
}

// Console is the web console: server-rendered pages over the API.
type Console struct {
	cfg       Config
	api       api
	logger    *slog.Logger
	now       func() time.Time
	cats      map[string]catalogue
	pages     map[string]*template.Template
	mux       *http.ServeMux
	protected http.Handler
	// streams is cancelled by EndStreams: the live streams of open boards
	// end with it.
	streams    context.Context
	endStreams context.CancelFunc
}

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// New builds the console.
func New(cfg Config) (*Console, error) {
	if cfg.API == nil {
		return nil, errors.New("console: Config needs API")
	}
	c := &Console{cfg: cfg, api: api{h: cfg.API}, logger: cfg.Logger, now: cfg.Now}
	c.streams, c.endStreams = context.WithCancel(context.Background())
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	var err error
	if c.cats, err = loadCatalogues(); err != nil {
		return nil, err
	}
	if c.pages, err = parsePages(); err != nil {
		return nil, err
	}
	c.mux = http.NewServeMux()
	c.routes()
	c.protected = http.NewCrossOriginProtection().Handler(c.mux)
	return c, nil
}

// EndStreams ends the live streams of the open boards (their browsers
// reconnect, to this process or another): a graceful shutdown calls it so
// that they do not hold it up.
func (c *Console) EndStreams() { c.endStreams() }

// ServeHTTP serves the console's pages, with the security headers of
// every answer.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; "+
		"script-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	if l := r.URL.Query().Get("lang"); l != "" && l == chooseLanguage(r) {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	}
	c.protected.ServeHTTP(w, r)
}

func (c *Console) routes() {
	static, _ := fs.Sub(staticFiles, "static")
	files := http.FileServerFS(static)
	c.mux.Handle("GET /static/", http.StripPrefix("/static/", cacheFor(files)))
	c.mux.HandleFunc("GET /login", c.loginPage)
	c.mux.HandleFunc("POST /login", c.login)
	c.mux.HandleFunc("POST /logout", c.logout)
	c.mux.HandleFunc("GET /activate", c.activatePage)
	c.mux.HandleFunc("POST /activate", c.activate)
	c.mux.Handle("GET /enrol", c.user(c.enrolPage))
	c.mux.Handle("POST /enrol", c.user(c.enrol))
	c.mux.Handle("GET /{$}", c.user(c.home))
	c.mux.Handle("GET /board", c.user(c.boardFragment))
	c.mux.Handle("GET /live", c.user(c.live))
	c.mux.Handle("GET /worklist", c.user(c.worklist))
	c.mux.Handle("GET /safety", c.user(c.safety))
	c.mux.Handle("GET /cases", c.user(c.searchPage))
	c.mux.Handle("POST /cases", c.user(c.search))
	c.mux.Handle("GET /cases/new", c.user(c.intakePage))
	c.mux.Handle("POST /cases/new", c.user(c.intake))
	c.mux.Handle("GET /cases/{id}", c.user(c.casePage))
	c.mux.Handle("GET /cases/{id}/steps/{step}", c.user(c.stepPage))
	c.mux.Handle("POST /cases/{id}/steps/{step}", c.user(c.step))
	c.inspectRoutes()
	c.regionRoutes()
	c.statsRoutes()
	c.formsRoutes()
	c.adminRoutes()
	c.mux.HandleFunc("/", c.notFound)
}

// cacheFor lets browsers keep the static files for an hour.
func cacheFor(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// account is the logged-in user, as GET /v1/session answers.
type account struct {
	ID       string      `json:"id"`
	Username string      `json:"username"`
	Name     string      `json:"name"`
	Role     domain.Role `json:"role"`
	Station  string      `json:"station"`
	Region   string      `json:"region"`
	TOTP     bool        `json:"totp"`
}

type sessionInfo struct {
	Account      account `json:"account"`
	TOTPRequired bool    `json:"totp_required"`
}

// req is one request with its user and language.
type req struct {
	r    *http.Request
	w    http.ResponseWriter
	t    tr
	user *account
}

// handler is a page's handler: an error is shown as the page's problem.
type handler func(q *req) error

// user serves h to a logged-in user; anyone else is sent to the login.
// An account that must enrol two-factor first is sent to the enrolment.
func (c *Console) user(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := c.request(w, r)
		var s sessionInfo
		if _, err := c.api.call(r, "GET", "/v1/session", nil, nil, &s); err != nil {
			if p, ok := problemOf(err); ok && p.Status == http.StatusUnauthorized {
				c.toLogin(w, r)
				return
			}
			c.fail(q, err)
			return
		}
		q.user = &s.Account
		if s.TOTPRequired && !s.Account.TOTP && r.URL.Path != "/enrol" {
			http.Redirect(w, r, "/enrol", http.StatusSeeOther)
			return
		}
		if err := h(q); err != nil {
			c.fail(q, err)
		}
	})
}

func (c *Console) request(w http.ResponseWriter, r *http.Request) *req {
	lang := chooseLanguage(r)
	t := tr{lang: lang, c: c.cats[lang]}
	if c.cfg.Missing != nil {
		t.missing = func(key string) { c.cfg.Missing(lang, key) }
	}
	return &req{r: r, w: w, t: t}
}

// toLogin sends the browser to the login page, to come back to the page
// it asked for (a GET's path only: never a query).
func (c *Console) toLogin(w http.ResponseWriter, r *http.Request) {
	next := "/"
	if r.Method == http.MethodGet && r.URL.Path != "/live" && r.URL.Path != "/board" {
		next = r.URL.Path
	}
	if r.Header.Get("Accept") == "text/event-stream" || r.URL.Path == "/board" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	http.Redirect(w, r, "/login?next="+url.QueryEscape(next), http.StatusSeeOther)
}

// fail shows err: a refused or missing thing as a page saying so, any
// other error as an internal error with the request's ID.
func (c *Console) fail(q *req, err error) {
	p, ok := problemOf(err)
	if !ok {
		var de *domain.Error
		if errors.As(err, &de) {
			p = &problem{Status: statusOf(de.Code), Code: de.Code, Rule: de.Rule}
		} else {
			c.logger.Error("console page failed", "route", q.r.Pattern, "err", err)
			p = &problem{Status: http.StatusInternalServerError, Code: domain.CodeInternal}
		}
	}
	if p.Status == http.StatusUnauthorized {
		c.toLogin(q.w, q.r)
		return
	}
	c.render(q, p.Status, "error", "error.title", errorPage{Problem: p, Message: explain(q.t, p)})
}

type errorPage struct {
	Problem *problem
	Message string
}

// statusOf is the status a page answers for a refusal of the console's
// own (an unreadable form, an unknown page), as the API answers it.
func statusOf(code domain.Code) int {
	switch code {
	case domain.CodeNotFound:
		return http.StatusNotFound
	case domain.CodeForbidden:
		return http.StatusForbidden
	case domain.CodeUnauthorized:
		return http.StatusUnauthorized
	case domain.CodeConflict:
		return http.StatusConflict
	case domain.CodeRuleViolation:
		return http.StatusUnprocessableEntity
	case domain.CodeInternal:
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// explain says in the user's language what p means: its rule's message,
// else its code's.
func explain(t tr, p *problem) string {
	if p.Rule != "" && t.Has("rule."+p.Rule) {
		return t.T("rule." + p.Rule)
	}
	return t.T("code." + string(p.Code))
}

func (c *Console) notFound(w http.ResponseWriter, r *http.Request) {
	q := c.request(w, r)
	c.render(q, http.StatusNotFound, "error", "error.title",
		errorPage{Problem: &problem{Status: 404, Code: domain.CodeNotFound}, Message: q.t.T("code.not_found")})
}

// randomToken returns n random bytes in hex.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// safeNext returns next when it is a path of this console, else "/": a
// slash, then only letters, digits and the path characters - _ . / (no
// second slash at the start, no control character, no escape, no query),
// so that no browser can read it as another site's address.
func safeNext(next string) string {
	if len(next) == 0 || len(next) > 512 || next[0] != '/' || strings.HasPrefix(next, "//") {
		return "/"
	}
	for _, r := range next {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./", r)
		if !ok {
			return "/"
		}
	}
	return next
}
