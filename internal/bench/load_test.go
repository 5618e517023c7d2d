package bench_test

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
	"waystation/internal/bench"
	"waystation/projections"
)

// adminToken is the admin token of the servers these tests start.
const adminToken = "bench-test-admin-token"

// serveAPI opens an embedded store with opts in a temporary folder,
// follows it with the projections and serves the API on them on a free
// loopback port until the test ends; it returns the base URL.
func serveAPI(tb testing.TB, opts bolt.Options) string {
	tb.Helper()
	st, err := bolt.Open(tb.TempDir(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	runner := projections.NewRunner(st, st, projections.Options{Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = runner.Run(ctx); close(done) }()
	tb.Cleanup(func() { cancel(); <-done })
	srv, err := wshttp.NewServer(wshttp.Config{
		Service: domain.NewService(st, nil), Views: wshttp.RunnerViews{Runner: runner}, Store: st,
		AdminToken: adminToken, Registerer: prometheus.NewRegistry(),
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { srv.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	hs := srv.HTTPServer(ln.Addr().String())
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			tb.Error(err)
		}
	}()
	tb.Cleanup(func() { hs.Close() })
	return "http://" + ln.Addr().String()
}

func TestRunLoadRecordsCasesWithoutFailures(t *testing.T) {
	base := serveAPI(t, bolt.Options{NoSync: true})
	rep, err := bench.RunLoad(context.Background(), bench.LoadConfig{
		BaseURL: base, AdminToken: adminToken, Writers: 2, Requests: 40,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Errors != 0 || rep.Requests != 40 {
		t.Fatalf("got %d requests with %d errors (first: %s), want 40 without errors",
			rep.Requests, rep.Errors, rep.FirstFailure)
	}
	if rep.P50Ms <= 0 || rep.P99Ms < rep.P50Ms || rep.MaxMs < rep.P99Ms {
		t.Errorf("got p50 %v, p99 %v, max %v ms, want 0 < p50 <= p99 <= max", rep.P50Ms, rep.P99Ms, rep.MaxMs)
	}
}

func TestRunLoadRefusesNoWork(t *testing.T) {
	for _, cfg := range []bench.LoadConfig{{Writers: 0, Requests: 1}, {Writers: 1, Requests: 0}} {
		if _, err := bench.RunLoad(context.Background(), cfg); err == nil {
			t.Errorf("writers %d, requests %d: no error", cfg.Writers, cfg.Requests)
		}
	}
}

// BenchmarkHTTPLoad starts the real server on a loopback port over the
// embedded store with fsync on, and drives it with 64 concurrent clients
// over real HTTP (intakes and later steps). It reports requests/s, p50 and
// p99 in ms.
func BenchmarkHTTPLoad(b *testing.B) {
	base := serveAPI(b, bolt.Options{})
	ctx := context.Background()
	b.ResetTimer()
	var last bench.LoadReport
	var err error
	for range b.N {
		last, err = bench.RunLoad(ctx, bench.LoadConfig{
			BaseURL: base, AdminToken: adminToken, Writers: 64, Requests: 20000,
		})
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
