package bench

import (
	"context"
	"fmt"
	"runtime"
	"time"
)

// AdminToken is the admin token HTTP gives the service it starts.
const AdminToken = "bench-admin-token"

// Serve starts the whole service over the embedded store in dir, fsync on,
// on a loopback port with admin token, and returns its address (host:port)
// and stop, which shuts it down and returns once it has stopped.
type Serve func(ctx context.Context, dir, token string) (addr string, stop func(), err error)

// HTTP starts the service with serve in dir and drives it with clients
// concurrent clients over HTTP (RunLoad: intakes and later steps of the
// same cases) until requests requests have been answered. It reports
// requests per second, latency percentiles and the disk's own fsync rate
// measured in the same run.
func HTTP(ctx context.Context, dir string, clients, requests int, serve Serve) (Result, error) {
	fsyncRate, err := FsyncRate(dir, time.Second)
	if err != nil {
		return Result{}, err
	}
	addr, stop, err := serve(ctx, dir, AdminToken)
	if err != nil {
		return Result{}, err
	}
	defer stop()
	rep, err := RunLoad(ctx, LoadConfig{
		BaseURL: "http://" + addr, AdminToken: AdminToken, Writers: clients, Requests: requests,
	})
	if err != nil {
		return Result{}, err
	}
	if rep.Errors > 0 {
		return Result{}, fmt.Errorf("bench http: %d of %d requests failed, first: %s",
			rep.Errors, rep.Requests, rep.FirstFailure)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res := Result{
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
