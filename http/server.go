package http

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"

	"waystation/domain"
	"waystation/eventstore"
	"waystation/internal/credential"
)

// Config is what a Server is built from. Service, Views and Store are
// required; the rest have working defaults.
type Config struct {
	// Service records steps.
	Service Service
	// Views answers boards, listings and read-your-writes waits.
	Views Views
	// Store is the event store (the global log, the access stream, the
	// access log of case reads, case histories).
	Store eventstore.Store
	// Audit gives signed tree heads and proofs; nil answers 404 on the
	// audit routes.
	Audit Audit
	// Backup writes a consistent copy of the store; nil answers 404 on
	// POST /v1/admin/backup.
	Backup func(ctx context.Context, w io.Writer) (int64, error)
	// Privacy erases personal data and builds inspectors' exports; nil
	// answers 404 on POST /v1/people/{id}/erase, GET
	// /v1/people/due-for-erasure and GET /v1/cases/{id}/export.
	Privacy Privacy
	// AdminToken, when set, is accepted as an admin bearer token; only its
	// hash is kept.
	AdminToken string
	// Ready reports whether the store is open and the projections have
	// caught up; nil is always ready.
	Ready func() error
	// Logger receives one line per request (debug) and every internal
	// error; nil discards.
	Logger *slog.Logger
	// Registerer receives the HTTP metrics; nil registers nowhere.
	Registerer prometheus.Registerer
	// Gatherer is served at /metrics; nil serves prometheus.DefaultGatherer.
	Gatherer prometheus.Gatherer
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// ReadYourWritesTimeout bounds how long a write waits for the views to
	// reach it before answering; zero is 5 seconds.
	ReadYourWritesTimeout time.Duration
	// StreamsPerToken is how many live streams of the log one token (one
	// principal) may hold open at once on this server; one more is
	// answered 429. Zero is 4.
	StreamsPerToken int
	// StreamWriteTimeout bounds each write to a live stream of the log: a
	// client that has not taken a write in that time is dropped (it
	// reconnects with Last-Event-ID), so that a client that does not read
	// holds no more than one write's worth of the server. Zero is 10
	// seconds.
	StreamWriteTimeout time.Duration
	// SessionIdle ends a login's session after that long without use;
	// zero is 30 minutes.
	SessionIdle time.Duration
	// SessionAbsolute ends a session that long after the login whatever
	// its use; zero is 12 hours, and it is at most
	// domain.MaxSessionLifetime.
	SessionAbsolute time.Duration
	// RequireTOTP asks two-factor of every account; admins and inspectors
	// need it in any case.
	RequireTOTP bool
	// TOTPIssuer names the deployment in authenticator apps; empty is
	// "Waystation".
	TOTPIssuer string
	// PasswordParams are the Argon2id costs of new password hashes; zero
	// is credential.DefaultParams.
	PasswordParams credential.Params
	// SessionRecordEvery is how often the uses of sessions and the failed
	// logins are recorded on the sessions stream; zero is one minute.
	SessionRecordEvery time.Duration
	// Console, when set, builds the handler of every path outside the API
	// (/v1/..., /healthz, /readyz, /metrics, /openapi.json) from the API's
	// own handler, through which the console makes every read and step.
	Console func(api http.Handler) (http.Handler, error)
	// AccessLogWindow is how long a recorded read of a case stands for the
	// same reader's later reads of it through the same route (see
	// recordReads); zero is one hour.
	AccessLogWindow time.Duration
}

// The defaults of Config.
const (
	defaultStreamsPerToken    = 4
	defaultStreamWriteTimeout = 10 * time.Second
	defaultAccessLogWindow    = time.Hour
)

// Server is the HTTP API. Build it with NewServer, serve Handler (or
// HTTPServer), and Close it to stop following the access stream.
type Server struct {
	cfg     Config
	logger  *slog.Logger
	metrics *metrics
	router  *mux.Router
	handler http.Handler
	routes  []route
	tokens  *tokens
	people  *people
	logins  *logins
	regions *regions
	// sessionPolicy is how long login sessions last.
	sessionPolicy  domain.SessionPolicy
	passwordParams credential.Params
	now            func() time.Time
	wait           time.Duration
	// accessLogBatch is the most access-log entries one append carries:
	// the constant accessLogBatch, lowered by tests.
	accessLogBatch int
	// reads remembers the reads recorded in the access log lately.
	reads *readMemory
	// sessions holds the live streams of the log of each principal.
	sessions    *sessions
	streamWrite time.Duration
	// console is the handler of the console's pages, when there is one.
	console http.Handler

	stop context.CancelFunc
	done sync.WaitGroup

	// streams ends every live stream of the log when cancelled (at the
	// start of a graceful shutdown, which would otherwise wait for them).
	streams    context.Context
	endStreams context.CancelFunc
}

// NewServer builds the router from the route table, registers the metrics
// and starts following the access stream; it returns once the token index
// holds every token issued so far.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Service == nil || cfg.Views == nil || cfg.Store == nil {
		return nil, errors.New("http: Config needs Service, Views and Store")
	}
	s := &Server{
		cfg: cfg, logger: cfg.Logger, now: cfg.Now, wait: cfg.ReadYourWritesTimeout,
		accessLogBatch: accessLogBatch,
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.wait == 0 {
		s.wait = 5 * time.Second
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	perToken := cfg.StreamsPerToken
	if perToken <= 0 {
		perToken = defaultStreamsPerToken
	}
	s.sessions = newSessions(perToken, func(d int) { m.streams.Add(float64(d)) })
	s.streamWrite = cfg.StreamWriteTimeout
	if s.streamWrite <= 0 {
		s.streamWrite = defaultStreamWriteTimeout
	}
	window := cfg.AccessLogWindow
	if window <= 0 {
		window = defaultAccessLogWindow
	}
	s.reads = newReadMemory(window, accessLogMemory)
	s.sessionPolicy = domain.DefaultSessionPolicy
	if cfg.SessionIdle > 0 {
		s.sessionPolicy.Idle = cfg.SessionIdle
	}
	if cfg.SessionAbsolute > 0 {
		s.sessionPolicy.Absolute = min(cfg.SessionAbsolute, domain.MaxSessionLifetime)
	}
	s.passwordParams = cfg.PasswordParams
	if s.passwordParams == (credential.Params{}) {
		s.passwordParams = credential.DefaultParams
	}
	s.logins = &logins{throttle: credential.NewThrottle(5, 15*time.Minute, s.now),
		hashing: make(chan struct{}, runtime.NumCPU()), pending: map[string]pendingTOTP{}}
	s.people = newPeople(s.sessionPolicy, s.now, func(id string) { s.sessions.end(id, errRevoked) })
	s.tokens = newTokens(cfg.AdminToken, func(id string) { s.sessions.end(id, errRevoked) })
	s.tokens.people = s.people
	s.regions = &regions{store: cfg.Store, byCode: map[string]string{}}

	ctx, stop := context.WithCancel(context.Background())
	s.stop = stop
	s.streams, s.endStreams = context.WithCancel(context.Background())
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		s.tokens.follow(ctx, cfg.Store, s.logger)
	}()
	if err := s.catchUp(domain.AccessStream, s.tokens.waitFor); err != nil {
		s.Close()
		return nil, err
	}
	recordEvery := cfg.SessionRecordEvery
	if recordEvery <= 0 {
		recordEvery = time.Minute
	}
	s.done.Add(2)
	go func() {
		defer s.done.Done()
		s.people.follow(ctx, cfg.Service, cfg.Store, s.logger)
	}()
	go func() {
		defer s.done.Done()
		s.people.keepRecording(ctx, cfg.Service, recordEvery, s.logger)
	}()
	if err := s.catchUp(domain.SessionsStream, s.people.waitFor); err != nil {
		s.Close()
		return nil, err
	}

	s.routes = s.routeTable()
	s.router = mux.NewRouter()
	s.router.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Error(w, r, domain.NotFound("no such route"))
	})
	s.router.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Error(w, r, errorf(CodeMethodNotAllowed, "", "this route does not take "+r.Method))
	})
	s.router.Use(routeName)
	for _, rt := range matchOrder(s.routes) {
		s.router.Handle(rt.Path, s.serve(rt)).Methods(rt.Method)
	}
	s.handler = s.outer(s.router)
	if cfg.Console != nil {
		h, err := cfg.Console(s.handler)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("http: building the console: %w", err)
		}
		s.console = h
		apiNotFound := s.router.NotFoundHandler
		s.router.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if apiPath(r.URL.Path) {
				apiNotFound.ServeHTTP(w, r)
				return
			}
			if in, ok := r.Context().Value(keyInfo).(*reqInfo); ok {
				in.route = "console"
			}
			h.ServeHTTP(w, r)
		})
	}
	return s, nil
}

// apiPath reports whether path belongs to the API rather than to the
// console: everything under /v1 and the operational routes.
func apiPath(path string) bool {
	switch path {
	case "/v1", "/healthz", "/readyz", "/metrics", "/openapi.json":
		return true
	}
	return strings.HasPrefix(path, "/v1/")
}

// catchUp waits, at most 30 seconds, until an index of stream has folded
// every event the stream holds now: the tokens and accounts of the access
// stream, the sessions of the sessions stream (so that a session survives
// a restart from the first request on).
func (s *Server) catchUp(stream string, waitFor func(context.Context, uint64) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var want uint64
	last := eventstore.ReadStreamOptions{Direction: eventstore.Backwards, From: eventstore.StreamEnd, Limit: 1}
	for rec, err := range s.cfg.Store.ReadStream(ctx, stream, last) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("http: reading the %s stream: %w", stream, err)
		}
		want = rec.Revision + 1
	}
	if err := waitFor(ctx, want); err != nil {
		return fmt.Errorf("http: loading the %s stream: %w", stream, err)
	}
	return nil
}

// Handler returns the router wrapped in the request-ID, recovery, metrics
// and logging middleware.
func (s *Server) Handler() http.Handler { return s.handler }

// HTTPServer returns an *http.Server for addr serving Handler, with
// timeouts on reading the header (5 s), reading the request (30 s), writing
// the answer (60 s; the event stream extends its own deadline) and idle
// connections (120 s).
//
// Its graceful Shutdown ends the live streams of the log at once (clients
// reconnect with Last-Event-ID, to this process or another), so that they
// do not hold it up; every other request in flight is let finish.
func (s *Server) HTTPServer(addr string) *http.Server {
	hs := &http.Server{
		Addr:              addr,
		Handler:           s.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	hs.RegisterOnShutdown(s.endStreams)
	if c, ok := s.console.(interface{ EndStreams() }); ok {
		hs.RegisterOnShutdown(c.EndStreams)
	}
	return hs
}

// Close stops following the access stream. It does not close the store.
func (s *Server) Close() {
	s.endStreams()
	s.stop()
	s.done.Wait()
}

// matchOrder returns routes in the order the router tries them: the case
// routes, which carry nearly every request, first, the others after them,
// each group in table order. The router runs each route's path pattern in
// turn until one matches, so a case step does not pay for the patterns of
// the health, token and station routes. No two routes match the same method
// and path, so the order changes no answer.
func matchOrder(routes []route) []route {
	isCase := func(rt route) bool { return strings.HasPrefix(rt.Path, "/v1/cases") }
	out := make([]route, 0, len(routes))
	for _, rt := range routes {
		if isCase(rt) {
			out = append(out, rt)
		}
	}
	for _, rt := range routes {
		if !isCase(rt) {
			out = append(out, rt)
		}
	}
	return out
}

// Routes lists the method and path template of every registered route, as
// the router matches them and the OpenAPI description names them.
func (s *Server) Routes() [][2]string {
	out := make([][2]string, 0, len(s.routes))
	for _, rt := range s.routes {
		out = append(out, [2]string{rt.Method, rt.Path})
	}
	return out
}

// Router returns the gorilla/mux router, for walking the routes it really
// serves.
func (s *Server) Router() *mux.Router { return s.router }
