package http_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"waystation/eventstore/bolt"
)

// BenchmarkStreamsThatNeverRead measures what sockets that open the live
// log from the start and never read cost the server: it seeds 2,000 cases,
// opens 100 such sockets over real TCP (with one admin token, then with 25
// tokens of 4 sockets each), waits 8 seconds and reports the growth of the
// log (events), of the heap in use and of the resident set (MB), and the
// size of events.db (MB). It is a measurement, not a test: run it with
// -benchtime=1x.
func BenchmarkStreamsThatNeverRead(b *testing.B) {
	for _, tokens := range []int{1, 25} {
		b.Run(fmt.Sprintf("tokens=%d", tokens), func(b *testing.B) {
			for range b.N {
				measureStreamsThatNeverRead(b, 2000, 100, tokens, 8*time.Second)
			}
		})
	}
}

func measureStreamsThatNeverRead(b *testing.B, cases, sockets, tokens int, wait time.Duration) {
	b.StopTimer()
	srv, st, dir := benchServer(b, bolt.Options{NoSync: true})
	call := func(token, method, path string, body any, want int) []byte {
		raw, _ := json.Marshal(body)
		req := httptest.NewRequest(method, path, bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		if rec.Code != want {
			b.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body.String())
		}
		return rec.Body.Bytes()
	}
	call(adminToken, "POST", "/v1/stations", map[string]any{"code": "S01", "name": "Station S01", "region": "R1", "kind": "station",
		"zones": []map[string]any{{"zone": "adult_male", "beds": 3}}}, 201)
	var staff struct{ Token string }
	_ = json.Unmarshal(call(adminToken, "POST", "/v1/tokens", map[string]any{"role": "staff", "station": "S01"}, 201), &staff)
	for range cases {
		call(staff.Token, "POST", "/v1/cases", intakeBody("S01"), 201)
	}
	readers := []string{adminToken}
	for len(readers) < tokens {
		var tok struct{ Token string }
		_ = json.Unmarshal(call(adminToken, "POST", "/v1/tokens", map[string]any{"role": "admin"}, 201), &tok)
		readers = append(readers, tok.Token)
	}

	addr := serveOnLoopback(b, srv)

	headBefore := headCount(b, st)
	heapBefore, rssBefore := heapInUse(), residentSet()
	conns := make([]net.Conn, 0, sockets)
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	b.StartTimer()
	for i := range sockets {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, c)
		if _, err := fmt.Fprintf(c, "GET /v1/events/stream?after=0 HTTP/1.1\r\nHost: waystation\r\nAuthorization: Bearer %s\r\n\r\n", readers[i%len(readers)]); err != nil {
			b.Fatal(err)
		}
	}
	time.Sleep(wait)
	b.StopTimer()
	heapAfter, rssAfter := heapInUse(), residentSet()
	grown := headCount(b, st) - headBefore
	db, _ := os.Stat(filepath.Join(dir, "events.db"))
	b.ReportMetric(float64(grown), "log-events-added")
	b.ReportMetric(float64(heapAfter-heapBefore)/(1<<20), "heap-MB-added")
	b.ReportMetric(float64(rssAfter-rssBefore)/(1<<20), "rss-MB-added")
	if db != nil {
		b.ReportMetric(float64(db.Size())/(1<<20), "events.db-MB")
	}
	b.ReportMetric(float64(runtime.NumGoroutine()), "goroutines")
}

// heapInUse returns the bytes of heap in use after a collection.
func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

// residentSet returns the process's resident set in bytes, or 0 where
// /proc does not tell it.
func residentSet() int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(raw)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
