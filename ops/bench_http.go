package ops

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"time"

	wshttp "waystation/http"
)

// BenchHTTP starts the real service (embedded store in dir, fsync on) on a
// loopback port and drives it with clients concurrent clients over HTTP
// (http.RunLoad: intakes and later steps of the same cases) until requests
// requests have been answered. It reports requests per second, latency
// percentiles and the disk's own fsync rate measured in the same run.
func BenchHTTP(ctx context.Context, dir string, clients, requests int) (BenchResult, error) {
	fsyncRate, err := FsyncRate(dir, time.Second)
	if err != nil {
		return BenchResult{}, err
	}
	cfg := DefaultConfig()
	cfg.Data = dir
	cfg.Addr = "127.0.0.1:0"
	cfg.AdminToken = "bench-admin-token"
	m := NewMain(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- serve(runCtx, m) }()
	defer func() { stop(); <-done }()
	addr := m.Addr(ctx)
	if addr == "" {
		return BenchResult{}, ctx.Err()
	}
	rep, err := wshttp.RunLoad(ctx, wshttp.LoadConfig{BaseURL: "http://" + addr, AdminToken: cfg.AdminToken, Writers: clients, Requests: requests})
	if err != nil {
		return BenchResult{}, err
	}
	if rep.Errors > 0 {
		return BenchResult{}, fmt.Errorf("bench http: %d of %d requests failed, first: %s", rep.Errors, rep.Requests, rep.FirstFailure)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res := BenchResult{
		Writers:        clients,
		Events:         rep.Events,
		Seconds:        rep.Seconds,
		RequestsPerSec: rep.RequestsPerSec,
		P50Ms:          rep.P50Ms,
		P99Ms:          rep.P99Ms,
		MaxMs:          rep.MaxMs,
		FsyncPerSec:    fsyncRate,
		HeapMB:         float64(ms.HeapInuse) / (1 << 20),
	}
	if fsyncRate > 0 {
		res.RatioToFsync = rep.RequestsPerSec / fsyncRate
	}
	return res, nil
}
