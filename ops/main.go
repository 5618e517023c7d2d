package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	nethttp "net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"waystation/console"
	"waystation/domain"
	"waystation/eventstore"
	"waystation/eventstore/bolt"
	"waystation/eventstore/esdb"
	"waystation/eventstore/sealed"
	wshttp "waystation/http"
	"waystation/internal/credential"
	"waystation/projections"
)

// Main is one running Waystation: the store, the domain service, the
// projections and the HTTP server. Build it with NewMain, start it with
// Run, and Close it when Run returns.
type Main struct {
	Config Config
	Logger *slog.Logger
	Now    func() time.Time
	// NoSync makes the embedded store skip fsync on commit, for tests
	// only: an acknowledged write may be lost on power failure.
	NoSync bool
	// PasswordParams, when not zero, are the Argon2id costs of new
	// password hashes instead of credential.DefaultParams: tests lower
	// them.
	PasswordParams credential.Params
	// ConsoleMissing, when set, is told every catalogue key a console page
	// asked for and the catalogue lacks: tests fail on any.
	ConsoleMissing func(lang, key string)

	// Set by Open.
	Store       eventstore.Store
	Checkpoints eventstore.CheckpointStore
	Embedded    *bolt.Store      // nil on EventStoreDB
	AuditIndex  *esdb.AuditIndex // the local tamper-evidence index on EventStoreDB, else nil
	Sealed      *sealed.Store    // Store itself: seals personal values, holds the data keys
	Service     *domain.Service
	Views       *projections.Runner
	Server      *wshttp.Server
	Registry    *prometheus.Registry

	closeOnce sync.Once
	ready     chan struct{} // closed when the listener is open
	addr      string        // the listener's address, set before ready closes
}

// NewMain returns a Main for cfg that logs to logger.
func NewMain(cfg Config, logger *slog.Logger) *Main {
	return &Main{Config: cfg, Logger: logger, Now: time.Now, ready: make(chan struct{})}
}

// Open opens the store and builds the service, projections and HTTP
// server. Run calls it when it has not been called.
func (m *Main) Open(ctx context.Context) error {
	if m.Store != nil {
		return nil
	}
	m.Registry = newRegistry()
	if err := m.openStore(ctx); err != nil {
		return err
	}
	if err := m.sealStore(ctx); err != nil {
		if m.AuditIndex != nil {
			m.AuditIndex.Close()
		}
		m.Store.Close()
		m.Store = nil
		return err
	}
	m.Service = domain.NewService(m.Store, m.Now)
	m.Service.HospitalBedHold = m.Config.BedHold
	m.Views = projections.NewRunner(m.Store, m.Checkpoints, projections.Options{Now: m.Now, Logger: m.Logger})
	newViewMetrics(m.Registry, runnerSource{m})
	srv, err := wshttp.NewServer(wshttp.Config{
		Service:         m.Service,
		Views:           wshttp.RunnerViews{Runner: m.Views},
		Store:           m.Store,
		Audit:           m.auditSource(),
		Backup:          m.backupFunc(),
		Privacy:         privacy{m},
		AdminToken:      m.Config.AdminToken,
		Logger:          m.Logger,
		Registerer:      m.Registry,
		Gatherer:        m.Registry,
		Ready:           m.readyCheck,
		Now:             m.Now,
		SessionIdle:     m.Config.SessionIdle,
		SessionAbsolute: m.Config.SessionAbsolute,
		RequireTOTP:     m.Config.RequireTOTP,
		TOTPIssuer:      m.Config.TOTPIssuer,
		PasswordParams:  m.PasswordParams,
		Console: func(api nethttp.Handler) (nethttp.Handler, error) {
			return console.New(console.Config{API: api, Live: m.Views, Logger: m.Logger, Now: m.Now,
				Missing: m.ConsoleMissing})
		},
	})
	if err != nil {
		return err
	}
	m.Server = srv
	return nil
}

func (m *Main) openStore(ctx context.Context) error {
	if m.Config.Store == "" {
		s, err := bolt.Open(m.Config.Data, bolt.Options{NoSync: m.NoSync, Now: m.Now, Observer: newStoreMetrics(m.Registry)})
		if err != nil {
			return err
		}
		m.Store, m.Checkpoints, m.Embedded = s, s, s
		return nil
	}
	s, err := esdb.Open(ctx, m.Config.Store, esdb.Options{Observer: newStoreMetrics(m.Registry)})
	if err != nil {
		return err
	}
	cps, err := esdb.OpenCheckpoints(filepath.Join(m.Config.Data, "checkpoints"))
	if err != nil {
		s.Close()
		return err
	}
	idx, err := esdb.OpenAuditIndex(m.Config.Data, s, esdb.AuditOptions{})
	if err != nil {
		s.Close()
		return err
	}
	m.Store, m.Checkpoints, m.AuditIndex = s, cps, idx
	return nil
}

// auditSource returns the tamper-evidence source of the backend in use, or
// nil when it has none.
func (m *Main) auditSource() wshttp.Audit {
	if m.Embedded != nil {
		return m.Embedded
	}
	return m.AuditIndex
}

// backupFunc returns the online backup of the backend in use, or nil.
func (m *Main) backupFunc() func(context.Context, io.Writer) (int64, error) {
	if m.Embedded != nil {
		return func(ctx context.Context, w io.Writer) (int64, error) {
			return writeArchive(ctx, m.Config.Data, m.Embedded, m.keys(), w)
		}
	}
	return nil
}

// readyCheck says whether the service can answer: the store is open and
// the projections have caught up.
func (m *Main) readyCheck() error {
	if _, err := m.Store.Head(context.Background()); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if !m.Views.Ready() {
		return errors.New("projections are catching up")
	}
	return nil
}

// Run serves until ctx is cancelled, then shuts down gracefully: it stops
// accepting, lets requests in flight finish (within ShutdownTimeout), stops
// the control socket, lets the audit index catch up, stops the projections
// at a checkpoint and returns. A failure of the projections or of the HTTP
// server ends the run early, the same way, with that error. Every
// goroutine Run starts has ended when it returns, unless the shutdown ran
// out of time, which Run reports. Close releases the store.
func (m *Main) Run(ctx context.Context) error {
	if err := m.Open(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", m.Config.Addr)
	if err != nil {
		return fmt.Errorf("addr: listening on %s: %w", m.Config.Addr, err)
	}
	ctl, err := m.startControl()
	if err != nil {
		ln.Close()
		return err
	}
	m.addr = ln.Addr().String()
	close(m.ready)
	m.Logger.Info("waystation serving", "addr", "http://"+m.addr, "data", m.dataDescription())
	if m.Config.AdminToken == "" {
		m.Logger.Warn("no admin token: set WAYSTATION_ADMIN_TOKEN to register stations and issue tokens")
	}

	// The views and the background work stop only when the shutdown says
	// so, after the requests, whatever ctx does.
	viewsCtx, stopViews := context.WithCancel(context.WithoutCancel(ctx))
	defer stopViews()
	// serving is the views and the HTTP server: the first of them to fail
	// cancels failed (with its error as the cause), which ends the run.
	serving, failed := errgroup.WithContext(context.Background())
	serving.Go(func() error {
		err := m.Views.Run(viewsCtx)
		switch {
		case err == nil && viewsCtx.Err() == nil:
			return errViewsEnded
		case err == nil, viewsCtx.Err() != nil && errors.Is(err, context.Canceled):
			return nil
		}
		return fmt.Errorf("projections: %w", err)
	})
	hs := m.Server.HTTPServer(m.addr)
	serving.Go(func() error {
		if err := hs.Serve(ln); !errors.Is(err, nethttp.ErrServerClosed) {
			return err
		}
		return nil // the shutdown closed it
	})
	// background is the work beside the views; its failures are logged
	// and do not end the run.
	var background errgroup.Group
	if m.AuditIndex != nil {
		background.Go(func() error {
			if err := m.AuditIndex.Run(viewsCtx); err != nil && !errors.Is(err, eventstore.ErrClosed) {
				m.Logger.Error("audit index stopped", "err", err)
			}
			return nil
		})
	}
	background.Go(func() error { m.reconcileWhenReady(viewsCtx); return nil })
	background.Go(func() error { m.runRetention(viewsCtx); return nil })

	var runErr error
	select {
	case <-ctx.Done():
	case <-failed.Done():
		if cause := context.Cause(failed); !errors.Is(cause, errViewsEnded) {
			runErr = cause
		}
	}

	m.Logger.Info("waystation shutting down")
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.Config.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(shutCtx); err != nil && runErr == nil {
		runErr = fmt.Errorf("draining requests: %w", err)
	}
	ctl.stop(shutCtx)
	if m.AuditIndex != nil {
		// No request writes any longer: index what this replica wrote
		// before the index stops with the views.
		if err := m.AuditIndex.CatchUp(shutCtx); err != nil {
			m.Logger.Warn("the audit index did not catch up before the shutdown", "err", err)
		}
	}
	stopViews()
	switch done, err := waitWithin(shutCtx, serving); {
	case !done && runErr == nil:
		runErr = errors.New("projections did not stop in time")
	case err != nil && !errors.Is(err, errViewsEnded) && runErr == nil:
		runErr = err
	}
	if done, _ := waitWithin(shutCtx, &background); !done && runErr == nil {
		runErr = errors.New("the audit index, bed reconciliation or retention job did not stop in time")
	}
	return runErr
}

// errViewsEnded is how Run's views goroutine says the projections returned
// before they were stopped, without an error: the run ends, cleanly.
var errViewsEnded = errors.New("the projections ended")

// waitWithin waits for g's goroutines until ctx ends. It returns true and
// g's first error once they have all returned, or false (they still run)
// when ctx ends first.
func waitWithin(ctx context.Context, g *errgroup.Group) (bool, error) {
	waited := make(chan error, 1)
	go func() { waited <- g.Wait() }()
	select {
	case err := <-waited:
		return true, err
	case <-ctx.Done():
		return false, nil
	}
}

// bedHoldCheck is how often, with a hospital bed hold configured, the
// beds of people whose hold has expired are freed.
const bedHoldCheck = time.Minute

// reconcileWhenReady waits for the views to catch up, then completes every
// station's half-done bed pairs (a bed still held by a case that left while
// the process died between the two writes). With a hospital bed hold, it
// then frees expired holds every bedHoldCheck, so occupancy shows those
// beds free without waiting for a zone to fill up.
func (m *Main) reconcileWhenReady(ctx context.Context) {
	if m.Views.WaitReady(ctx, 0) != nil {
		return
	}
	for {
		m.reconcileBeds(ctx)
		if m.Config.BedHold <= 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(bedHoldCheck):
		}
	}
}

// reconcileBeds frees, at every station, the beds held by cases that may no
// longer hold them.
func (m *Main) reconcileBeds(ctx context.Context) {
	for _, st := range m.Views.Stations() {
		n, err := m.Service.Reconcile(ctx, st.Code)
		switch {
		case err != nil && ctx.Err() == nil:
			m.Logger.Error("reconciling beds", "station", st.Code, "err", err)
		case n > 0:
			m.Logger.Info("freed beds no case may hold any longer", "station", st.Code, "beds", n)
		}
	}
}

// Addr waits until Run listens and returns the listener's address (useful
// with port 0), or "" when ctx ends first.
func (m *Main) Addr(ctx context.Context) string {
	select {
	case <-m.ready:
		return m.addr
	case <-ctx.Done():
		return ""
	}
}

func (m *Main) dataDescription() string {
	if m.Config.Store != "" {
		return "EventStoreDB " + redactURL(m.Config.Store) + ", local state in " + m.Config.Data
	}
	return m.Config.Data
}

// Close releases the store. It is safe to call more than once.
func (m *Main) Close() error {
	var err error
	m.closeOnce.Do(func() {
		if m.Server != nil {
			m.Server.Close()
		}
		if m.AuditIndex != nil {
			err = m.AuditIndex.Close()
		}
		if m.Store != nil {
			if cerr := m.Store.Close(); err == nil {
				err = cerr
			}
		}
	})
	return err
}

// runnerSource adapts the projections runner to viewMetrics.
type runnerSource struct{ m *Main }

// lagTimeout bounds the count of events behind at a scrape (on a remote
// cluster it reads them over the network).
const lagTimeout = 5 * time.Second

func (r runnerSource) progress() (float64, float64, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), lagTimeout)
	defer cancel()
	lag, err := r.m.Views.Lag(ctx)
	if err != nil {
		return float64(r.m.Views.Position().Commit), 0, false
	}
	return float64(lag.Position.Commit), float64(lag.Behind), lag.BehindAtLeast
}

func (r runnerSource) openAlerts() map[string]int { return r.m.Views.OpenAlertsByRule() }
