package http_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"waystation/domain"
	"waystation/eventstore/bolt"
	wshttp "waystation/http"
	"waystation/projections"
)

// BenchmarkHTTPLoad starts the real server on a loopback port over the
// embedded store with fsync on, and drives it with 64 concurrent clients
// over real HTTP (intakes and later steps). It reports requests/s, p50 and
// p99 in ms.
func BenchmarkHTTPLoad(b *testing.B) {
	srv, _, _ := benchServer(b, bolt.Options{})
	ctx := context.Background()
	addr := serveOnLoopback(b, srv)
	b.ResetTimer()
	var last wshttp.LoadReport
	var err error
	for range b.N {
		last, err = wshttp.RunLoad(ctx, wshttp.LoadConfig{BaseURL: "http://" + addr, AdminToken: adminToken, Writers: 64, Requests: 20000})
		if err != nil {
			b.Fatal(err)
		}
		if last.Errors > 0 {
			b.Fatalf("%d requests failed, first: %s", last.Errors, last.FirstFailure)
		}
	}
	b.ReportMetric(last.RequestsPerSec, "req/s")
	b.ReportMetric(last.P50Ms, "p50_ms")
	b.ReportMetric(last.P99Ms, "p99_ms")
}

// BenchmarkDiskFsync measures this disk's fsync rate (4 KiB write and
// fsync), the bound that the HTTP figures are compared with.
func BenchmarkDiskFsync(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "sync"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	start := time.Now()
	for range b.N {
		if _, err := f.WriteAt(buf, 0); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "fsync/s")
}

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
