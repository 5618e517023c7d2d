package http_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"waystation/domain"
	"waystation/eventstore/bolt"
	wshttp "waystation/http"
	"waystation/projections"
)

// benchServer opens an embedded store with opts in a temporary folder,
// follows it with the projections and serves the API on them, until the
// benchmark ends; it returns the server, the store and the folder.
func benchServer(b *testing.B, opts bolt.Options) (*wshttp.Server, *bolt.Store, string) {
	b.Helper()
	dir := b.TempDir()
	st, err := bolt.Open(dir, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	runner := projections.NewRunner(st, st, projections.Options{Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	go func() { _ = runner.Run(ctx) }()
	srv, err := wshttp.NewServer(wshttp.Config{Service: domain.NewService(st, nil), Views: wshttp.RunnerViews{Runner: runner}, Store: st, AdminToken: adminToken, Registerer: prometheus.NewRegistry()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	return srv, st, dir
}

// serveOnLoopback serves srv on a free loopback port until the benchmark
// ends and returns the address.
func serveOnLoopback(b *testing.B, srv *wshttp.Server) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	hs := srv.HTTPServer(ln.Addr().String())
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			b.Error(err)
		}
	}()
	b.Cleanup(func() { hs.Close() })
	return ln.Addr().String()
}
