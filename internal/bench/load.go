package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	wshttp "waystation/http"
)

// LoadConfig says how to drive a running server for `waystation bench
// http`: where it is, an admin token, how many concurrent clients and how
// many requests in all.
type LoadConfig struct {
	BaseURL    string
	AdminToken string
	Writers    int
	Requests   int
	// Client is the HTTP client; nil uses one with keep-alive connections
	// enough for every writer.
	Client *http.Client
}

// LoadReport is what a load run measured, in the JSON shape the bench
// command prints.
type LoadReport struct {
	Writers        int     `json:"writers"`
	Events         int     `json:"events"`
	Requests       int     `json:"requests"`
	Errors         int     `json:"errors"`
	Seconds        float64 `json:"seconds"`
	RequestsPerSec float64 `json:"requests_per_sec"`
	P50Ms          float64 `json:"p50_ms"`
	P99Ms          float64 `json:"p99_ms"`
	MaxMs          float64 `json:"max_ms"`
	// FirstFailure is the route and problem code of the first failed
	// request, when any failed.
	FirstFailure string `json:"first_failure,omitempty"`
}

// caseRound is the mix each client repeats: an intake, then later steps of
// the same case.
var caseRound = []struct {
	step string
	body string
}{
	{"", ""},
	{"eligibility", `{"eligible":true}`},
	{"security-check", `{"checked_by":{"staff_id":"bench-1","sex":"male"}}`},
	{"identity-query", `{"channel":"police","result":"no_match"}`},
	{"family-search-notice", `{"channel":"toutiao"}`},
}

// RunLoad registers a station and a staff token, then has cfg.Writers
// clients record cases over real HTTP (intakes and later steps, each
// request checked for its status) until cfg.Requests requests are done,
// and reports throughput and latency. A request that fails counts as an
// error; the run stops at the first transport failure.
func RunLoad(ctx context.Context, cfg LoadConfig) (LoadReport, error) {
	if cfg.Writers < 1 || cfg.Requests < 1 {
		return LoadReport{}, errors.New("bench: load needs at least one writer and one request")
	}
	client := cfg.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			MaxIdleConns: cfg.Writers * 2, MaxIdleConnsPerHost: cfg.Writers * 2, IdleConnTimeout: time.Minute,
		}}
	}
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	code := "B" + strings.ToUpper(hex.EncodeToString(suffix[:]))
	api := &wshttp.Client{BaseURL: cfg.BaseURL, HTTP: client}
	do := func(token, path, body string, want int) ([]byte, error) {
		return api.Do(ctx, token, http.MethodPost, path, []byte(body), want)
	}
	station := fmt.Sprintf(`{"code":%q,"name":"bench","region":"BENCH","kind":"station","zones":[{"zone":"adult_male","beds":100}]}`, code)
	if _, err := do(cfg.AdminToken, "/v1/stations", station, http.StatusCreated); err != nil {
		return LoadReport{}, fmt.Errorf("bench: load setup: %w", err)
	}
	b, err := do(cfg.AdminToken, "/v1/tokens", fmt.Sprintf(`{"name":"bench","role":"staff","station":%q}`, code), http.StatusCreated)
	if err != nil {
		return LoadReport{}, fmt.Errorf("bench: load setup: %w", err)
	}
	var tok struct{ Token string }
	if err := json.Unmarshal(b, &tok); err != nil {
		return LoadReport{}, fmt.Errorf("bench: load setup: %w", err)
	}
	intake := fmt.Sprintf(`{"station":%q,"referral":{"source":"walk_in"},"person":{"sex":"male","estimated_age":40}}`, code)

	var (
		left         atomic.Int64
		failures     atomic.Int64
		mu           sync.Mutex
		latencies    = make([]time.Duration, 0, cfg.Requests)
		firstErr     error
		firstFailure string
		wg           sync.WaitGroup
	)
	left.Store(int64(cfg.Requests))
	start := time.Now()
	for range cfg.Writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]time.Duration, 0, cfg.Requests/cfg.Writers+1)
			defer func() { mu.Lock(); latencies = append(latencies, mine...); mu.Unlock() }()
			var caseID string
			for i := 0; ; i++ {
				if left.Add(-1) < 0 || ctx.Err() != nil {
					return
				}
				r := caseRound[i%len(caseRound)]
				path, body, want := "/v1/cases", intake, http.StatusCreated
				if r.step != "" {
					path, body, want = "/v1/cases/"+caseID+"/"+r.step, r.body, http.StatusOK
				}
				t0 := time.Now()
				b, err := do(tok.Token, path, body, want)
				mine = append(mine, time.Since(t0))
				if err != nil {
					failures.Add(1)
					var refused *wshttp.ClientError
					if !errors.As(err, &refused) { // transport failure: stop the run
						mu.Lock()
						if firstErr == nil {
							firstErr = err
						}
						mu.Unlock()
						left.Store(0)
						return
					}
					mu.Lock()
					if firstFailure == "" {
						firstFailure = r.step + ": " + string(refused.Problem.Code) + " " + refused.Problem.Rule
					}
					mu.Unlock()
					i = len(caseRound) - 1 // start a fresh case
					continue
				}
				if r.step == "" {
					var a struct{ ID string }
					if err := json.Unmarshal(b, &a); err != nil {
						failures.Add(1)
						i = len(caseRound) - 1
						continue
					}
					caseID = a.ID
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return LoadReport{}, fmt.Errorf("bench: load: %w", firstErr)
	}
	lat := SummarizeLatencies(latencies)
	return LoadReport{
		Writers: cfg.Writers, Events: cfg.Requests, Requests: len(latencies), Errors: int(failures.Load()),
		Seconds:        elapsed.Seconds(),
		RequestsPerSec: float64(len(latencies)) / elapsed.Seconds(),
		P50Ms:          lat.P50Ms, P99Ms: lat.P99Ms, MaxMs: lat.MaxMs, FirstFailure: firstFailure,
	}, nil
}
