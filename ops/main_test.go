package ops_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	nethttp "net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"waystation/eventstore/audit"
	"waystation/ops"
)

const adminToken = "test-admin-token"

// running is a whole Waystation started with ops.Main on port 0.
type running struct {
	main *ops.Main
	base string
	logs *syncBuffer
	stop func() error
}

// start runs Main on a loopback port with data in dir until the test ends.
func start(t testing.TB, dir string) *running {
	t.Helper()
	return startOn(t, dir, "")
}

// startOn is start on the given store: "" for the embedded store in dir, or
// an esdb:// URL, with dir holding this replica's local state and the
// master key every replica of the cluster shares (clusterMasterKey).
func startOn(t testing.TB, dir, store string) *running {
	t.Helper()
	return startWith(t, dir, func(c *ops.Config) {
		c.Store = store
		if store != "" {
			c.MasterKey = clusterMasterKey
		}
	})
}

// clusterMasterKey is the master key the test replicas of a cluster share.
var clusterMasterKey = strings.Repeat("5a", 32)

// startWith is start with the configuration changed by tweak (when not
// nil); the logs, in JSON, are kept at the configuration's level.
func startWith(t testing.TB, dir string, tweak func(*ops.Config)) *running {
	t.Helper()
	return startMain(t, dir, tweak, nil)
}

// startAt is start on a clock that reads now when the service starts and
// runs on from there, with a store that skips fsync (for tests that write
// much and never lose power).
func startAt(t testing.TB, dir string, now time.Time) *running {
	t.Helper()
	began := time.Now()
	return startMain(t, dir, nil, func(m *ops.Main) {
		m.Now = func() time.Time { return now.Add(time.Since(began)) }
		m.NoSync = true
	})
}

// testMain is the Main that start runs: on port 0 with data in dir, the
// test's admin token, and the configuration changed by tweak (when not
// nil); its logs, in JSON, go to logs.
func testMain(dir string, tweak func(*ops.Config), logs io.Writer) *ops.Main {
	cfg := ops.DefaultConfig()
	cfg.Data = dir
	cfg.Addr = "127.0.0.1:0"
	cfg.AdminToken = adminToken
	cfg.ShutdownTimeout = 10 * time.Second
	if tweak != nil {
		tweak(&cfg)
	}
	return ops.NewMain(cfg, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: cfg.LogLevel})))
}

// startMain is startWith with the Main changed by tweakMain (when not
// nil) before it runs.
func startMain(t testing.TB, dir string, tweak func(*ops.Config), tweakMain func(*ops.Main)) *running {
	t.Helper()
	logs := &syncBuffer{}
	m := testMain(dir, tweak, logs)
	if tweakMain != nil {
		tweakMain(m)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		err := m.Run(ctx)
		if cerr := m.Close(); err == nil {
			err = cerr
		}
		done <- err
	}()
	waitCtx, waitCancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer waitCancel()
	addr := m.Addr(waitCtx)
	if addr == "" {
		cancel()
		t.Fatalf("Main did not start listening: %v", <-done)
	}
	var once sync.Once
	var stopErr error
	r := &running{main: m, base: "http://" + addr, logs: logs}
	r.stop = func() error {
		once.Do(func() { cancel(); stopErr = <-done })
		return stopErr
	}
	t.Cleanup(func() {
		if err := r.stop(); err != nil {
			t.Errorf("Main.Run ended with %v", err)
		}
	})
	r.waitReady(t)
	return r
}

func (r *running) waitReady(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := nethttp.Get(r.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == nethttp.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("service never became ready")
}

// call sends a JSON request and decodes the JSON answer.
func (r *running) call(t testing.TB, token, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := nethttp.NewRequest(method, r.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := nethttp.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if len(raw) > 0 && strings.Contains(resp.Header.Get("Content-Type"), "json") {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %v: %s", method, path, err, raw)
		}
	}
	return resp.StatusCode, out
}

// must is call that fails the test unless the status is want.
func (r *running) must(t testing.TB, want int, token, method, path string, body any) map[string]any {
	t.Helper()
	got, out := r.call(t, token, method, path, body)
	if got != want {
		t.Fatalf("%s %s: got status %d, want %d: %v", method, path, got, want, out)
	}
	return out
}

// seed registers station S01 in region R1 and returns a staff token for it.
func (r *running) seed(t testing.TB) string {
	t.Helper()
	r.must(t, 201, adminToken, "POST", "/v1/stations", map[string]any{
		"code": "S01", "name": "First station", "region": "R1", "kind": "station",
		"zones": []map[string]any{{"zone": "adult_male", "beds": 4}, {"zone": "adult_female", "beds": 4}, {"zone": "minors", "beds": 2}},
	})
	out := r.must(t, 201, adminToken, "POST", "/v1/tokens", map[string]any{"name": "desk", "role": "staff", "station": "S01"})
	return out["token"].(string)
}

func intake(name string, occurred time.Time) map[string]any {
	return map[string]any{
		"station":     "S01",
		"occurred_at": occurred.UTC().Format(time.RFC3339),
		"referral":    map[string]any{"source": "walk_in"},
		"person":      map[string]any{"name": name, "sex": "female", "birth_date": "1949-12-31", "id_number": "11010519491231002X"},
	}
}

func TestACaseThroughTheWholeServiceEndToEnd(t *testing.T) {
	r := start(t, t.TempDir())
	staff := r.seed(t)
	arrived := time.Now().Add(-2 * time.Hour)

	created := r.must(t, 201, staff, "POST", "/v1/cases", intake("Zhang Testname", arrived))
	id := created["id"].(string)
	path := "/v1/cases/" + id
	r.must(t, 200, staff, "POST", path+"/eligibility", map[string]any{"eligible": true})
	r.must(t, 200, staff, "POST", path+"/security-check", map[string]any{"checked_by": map[string]any{"staff_id": "s-7", "sex": "female"}})
	r.must(t, 200, staff, "POST", path+"/bed", map[string]any{"zone": "adult_female"})

	occ := r.must(t, 200, staff, "GET", "/v1/stations/S01/occupancy", nil)
	if !strings.Contains(fmt.Sprint(occ["residents"]), id) {
		t.Errorf("occupancy residents %v do not list the placed case %s", occ["residents"], id)
	}
	r.must(t, 200, staff, "POST", path+"/voluntary-leave", map[string]any{"declaration_ref": "D-1", "cash_yuan": 10, "receipt_ref": "R-1"})
	state := r.must(t, 200, staff, "GET", path, nil)
	if state["status"] != "exited" || state["bed"] != nil {
		t.Errorf("after voluntary leave: status %v, bed %v; want exited and no bed", state["status"], state["bed"])
	}
	occ = r.must(t, 200, staff, "GET", "/v1/stations/S01/occupancy", nil)
	if strings.Contains(fmt.Sprint(occ["residents"]), id) {
		t.Errorf("the case that left still holds a bed: %v", occ["residents"])
	}
	hist := r.must(t, 200, adminToken, "GET", path+"/history", nil)
	if events, _ := hist["events"].([]any); len(events) < 5 {
		t.Errorf("history has %d events, want at least 5 (intake, eligibility, check, bed, leave)", len(events))
	}

	metrics := r.get(t, "/metrics")
	for _, want := range []string{"waystation_store_events_appended_total", "waystation_projections_position", "waystation_projections_lag ", "waystation_projections_lag_capped 0", "waystation_http_"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, secret := range []string{"Zhang Testname", "11010519491231002X", "1949-12-31"} {
		if strings.Contains(metrics, secret) || strings.Contains(r.logs.String(), secret) {
			t.Errorf("personal data %q appears in metrics or logs", secret)
		}
	}
}

func (r *running) get(t testing.TB, path string) string {
	t.Helper()
	resp, err := nethttp.Get(r.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestShutdownLetsRequestsInFlightFinishAndLosesNothingAcknowledged(t *testing.T) {
	dir := t.TempDir()
	r := start(t, dir)
	staff := r.seed(t)

	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	stopWriting := make(chan struct{})
	for w := range 8 {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stopWriting:
					return
				default:
				}
				code, out := r.tryCall(staff, "POST", "/v1/cases", intake(fmt.Sprintf("Writer %d-%d", w, n), time.Now().Add(-time.Minute)))
				if code == 201 {
					mu.Lock()
					acked = append(acked, out["id"].(string))
					mu.Unlock()
				}
			}
		})
	}
	// Shut down while the writers are busy, once some writes have been
	// acknowledged (however slow the machine).
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 16 {
			break
		}
	}
	if err := r.stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	close(stopWriting)
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged before shutdown; the test proves nothing")
	}

	again := start(t, dir)
	for _, id := range acked {
		if code, _ := again.call(t, adminToken, "GET", "/v1/cases/"+id, nil); code != 200 {
			t.Errorf("acknowledged case %s: got %d after restart, want 200", id, code)
		}
	}
}

// tryCall is call for goroutines: it reports failures as status 0.
func (r *running) tryCall(token, method, path string, body any) (int, map[string]any) {
	b, _ := json.Marshal(body)
	req, _ := nethttp.NewRequest(method, r.base+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := nethttp.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestBackupWhileWritingRestoresToAStoreThatVerifies(t *testing.T) {
	for _, how := range []string{"through the API (--url)", "through the data folder (--data only)"} {
		t.Run(how, func(t *testing.T) {
			backupWhileWriting(t, strings.Contains(how, "--url"))
		})
	}
}

// backupWhileWriting backs a running service up while a client writes,
// through its API when overAPI, else by naming its data folder only, then
// restores the backup and verifies it.
func backupWhileWriting(t *testing.T, overAPI bool) {
	dir := t.TempDir()
	r := start(t, dir)
	staff := r.seed(t)
	stopWriting := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for n := 0; ; n++ {
			select {
			case <-stopWriting:
				return
			default:
				r.tryCall(staff, "POST", "/v1/cases", intake(fmt.Sprintf("Backup %d", n), time.Now().Add(-time.Minute)))
			}
		}
	})
	backup := filepath.Join(t.TempDir(), "backup.db")
	var out, errOut bytes.Buffer
	args := []string{"backup", "--data", dir, "--out", backup}
	if overAPI {
		t.Setenv("WAYSTATION_ADMIN_TOKEN", adminToken)
		args = append(args, "--url", r.base)
	}
	err := ops.RunCommand(context.Background(), args, &out, &errOut)
	close(stopWriting)
	wg.Wait()
	if err != nil {
		t.Fatalf("online backup: %v (%s)", err, errOut.String())
	}

	restored := filepath.Join(t.TempDir(), "restored")
	if err := ops.RunCommand(context.Background(), []string{"restore", "--data", restored, "--from", backup}, &out, &errOut); err != nil {
		t.Fatalf("restore: %v", err)
	}
	out.Reset()
	if err := ops.RunCommand(context.Background(), []string{"verify", "--data", restored}, &out, &errOut); err != nil {
		t.Fatalf("verify of the restored store: %v: %s", err, out.String())
	}
	if !strings.HasPrefix(out.String(), "intact") {
		t.Errorf("verify said %q, want intact", out.String())
	}
	if err := ops.RunCommand(context.Background(), []string{"restore", "--data", restored, "--from", backup}, &out, &errOut); err == nil {
		t.Error("restore over a non-empty data folder without --force succeeded")
	}
}

func TestVerifyBackupAndRebuildWhileServingAskTheServingProcess(t *testing.T) {
	// A data folder whose path is longer than a Unix socket address may
	// be, as deep deployment paths are.
	dir := filepath.Join(t.TempDir(), strings.Repeat("deeply-nested-folder/", 5), "data")
	r := start(t, dir)
	staff := r.seed(t)
	r.must(t, 201, staff, "POST", "/v1/cases", intake("Verify While Serving", time.Now().Add(-time.Minute)))

	var out, errOut bytes.Buffer
	if err := ops.RunCommand(context.Background(), []string{"verify", "--data", dir}, &out, &errOut); err != nil {
		t.Fatalf("verify --data while serving: %v (%s)", err, out.String())
	}
	// The station, the token and the intake with its case number.
	if !strings.HasPrefix(out.String(), "intact: 4 events") {
		t.Errorf("verify said %q, want intact with the 4 events written", out.String())
	}
	backup := filepath.Join(t.TempDir(), "backup.tar")
	if err := ops.RunCommand(context.Background(), []string{"backup", "--data", dir, "--out", backup}, &out, &errOut); err != nil {
		t.Fatalf("backup --data while serving: %v", err)
	}
	out.Reset()
	if err := ops.RunCommand(context.Background(), []string{"rebuild", "--data", dir}, &out, &errOut); err != nil {
		t.Fatalf("rebuild --data while serving: %v (%s)", err, errOut.String())
	}
	if want := fmt.Sprintf("rebuilt every view up to position %s", r.main.Views.Position()); !strings.HasPrefix(out.String(), want) {
		t.Errorf("rebuild said %q, want it to start %q", out.String(), want)
	}
	// The service still answers from the rebuilt views.
	if got := r.must(t, 200, staff, "GET", "/v1/cases?station=S01", nil); len(got["items"].([]any)) != 1 {
		t.Errorf("after the rebuild the search shows %v, want the one case", got["items"])
	}

	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, ops.ControlSocket)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the control socket is still in the data folder after the service stopped (%v)", err)
	}
	out.Reset()
	if err := ops.RunCommand(context.Background(), []string{"verify", "--data", dir}, &out, &errOut); err != nil {
		t.Fatalf("verify --data after the service stopped: %v (%s)", err, out.String())
	}
}

func TestVerifyFailsOnAStoreWithOneChangedByte(t *testing.T) {
	dir := t.TempDir()
	r := start(t, dir)
	staff := r.seed(t)
	const marker = "Tamperable Name"
	r.must(t, 201, staff, "POST", "/v1/cases", intake(marker, time.Now().Add(-time.Minute)))
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}

	file := filepath.Join(dir, "events.db")
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// bbolt copies pages on write, so the file can also hold stale copies of
	// a record in freed pages; change every copy so the live one changes too.
	name := []byte("station.registered")
	if !bytes.Contains(raw, name) {
		t.Fatal("could not find a stored event to change")
	}
	raw = bytes.ReplaceAll(raw, name, []byte("Station.registered"))
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	err = ops.RunCommand(context.Background(), []string{"verify", "--data", dir}, &out, &errOut)
	if err == nil {
		t.Fatalf("verify passed on a changed store: %s", out.String())
	}
	if !strings.Contains(out.String(), "first bad position 1:") {
		t.Errorf("verify said %q (%v), want it to name position 1, the changed event", out.String(), err)
	}
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestRebuildFoldsTheWholeLogOffline(t *testing.T) {
	dir := t.TempDir()
	r := start(t, dir)
	staff := r.seed(t)
	r.must(t, 201, staff, "POST", "/v1/cases", intake("Rebuild Person", time.Now().Add(-time.Hour)))
	head := r.main.Views.Position()
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := ops.RunCommand(context.Background(), []string{"rebuild", "--data", dir}, &out, &errOut); err != nil {
		t.Fatalf("rebuild: %v: %s", err, errOut.String())
	}
	if want := "up to position " + head.String() + " "; !strings.Contains(out.String(), want) {
		t.Errorf("rebuild said %q, want it to reach the last event (%q)", out.String(), want)
	}
	if err := ops.RunCommand(context.Background(), []string{"rebuild", "--data", t.TempDir()}, &out, &errOut); err == nil {
		t.Error("rebuild of a folder with no store succeeded")
	}
}

func TestVerifyWithThePublishedKeyTrustsNoOtherSigner(t *testing.T) {
	dir := t.TempDir()
	r := start(t, dir)
	staff := r.seed(t)
	r.must(t, 201, staff, "POST", "/v1/cases", intake("Pinned Key", time.Now().Add(-time.Minute)))
	published, err := os.ReadFile(filepath.Join(dir, audit.PublicKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := audit.LoadOrCreateSigner(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	verify := func(key string) (string, error) {
		var out, errOut bytes.Buffer
		err := ops.RunCommand(context.Background(), []string{"verify", "--data", dir, "--key", key}, &out, &errOut)
		return out.String(), err
	}
	for _, serving := range []bool{true, false} {
		if !serving {
			if err := r.stop(); err != nil {
				t.Fatal(err)
			}
		}
		if out, err := verify(string(published)); err != nil || !strings.HasPrefix(out, "intact") || strings.Contains(out, "--key") {
			t.Errorf("serving %v: verify --key <published key> said %q (%v), want intact with no advice to pin a key", serving, out, err)
		}
		if out, err := verify(filepath.Join(dir, audit.PublicKeyFile)); err != nil || !strings.HasPrefix(out, "intact") {
			t.Errorf("serving %v: verify --key <file of the published key> said %q (%v), want intact", serving, out, err)
		}
		if out, err := verify(stranger.VerifierKey()); err == nil || !strings.Contains(out, "NOT INTACT") {
			t.Errorf("serving %v: verify --key <another signer's key> said %q (%v), want NOT INTACT", serving, out, err)
		}
	}
	var out, errOut bytes.Buffer
	if err := ops.RunCommand(context.Background(), []string{"verify", "--data", dir, "--key", "not-a-key"}, &out, &errOut); !errors.Is(err, ops.ErrUsage) {
		t.Errorf("verify --key not-a-key: %v, want a usage error", err)
	}
}

func TestShutdownFinishesARequestCaughtHalfwayThrough(t *testing.T) {
	dir := t.TempDir()
	r := start(t, dir)
	staff := r.seed(t)
	body, err := json.Marshal(intake("Halfway Through", time.Now().Add(-time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	// Given an intake whose headers and half of whose body have reached
	// the service (written by hand, so nothing waits in a client's buffer),
	conn, err := net.Dial("tcp", strings.TrimPrefix(r.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	head := fmt.Sprintf("POST /v1/cases HTTP/1.1\r\nHost: waystation\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", staff, len(body))
	if _, err := conn.Write(append([]byte(head), body[:len(body)/2]...)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // let the service start reading it
	// when the service is told to stop,
	stopped := make(chan error, 1)
	go func() { stopped <- r.stop() }()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(r.logs.String(), "waystation shutting down"); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the service did not start shutting down")
		}
	}
	time.Sleep(50 * time.Millisecond) // let the drain begin
	// then the rest of the body is still read, the intake recorded and
	// acknowledged, and the service stops cleanly;
	if _, err := conn.Write(body[len(body)/2:]); err != nil {
		t.Fatalf("the service stopped reading a request in flight: %v", err)
	}
	resp, err := nethttp.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to the request in flight at shutdown: %v", err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != 201 {
		t.Fatalf("request in flight at shutdown: %d %v, want 201", resp.StatusCode, out)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	// and after a restart the case is there.
	again := start(t, dir)
	again.must(t, 200, adminToken, "GET", "/v1/cases/"+out["id"].(string), nil)
}

func TestShutdownEndsLiveStreamsOfTheLog(t *testing.T) {
	r := startWith(t, t.TempDir(), func(c *ops.Config) { c.ShutdownTimeout = 3 * time.Second })
	r.seed(t)
	// Given a client following the log live,
	req, err := nethttp.NewRequest("GET", r.base+"/v1/events/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := nethttp.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("stream: %d", resp.StatusCode)
	}
	ended := make(chan struct{})
	go func() { defer close(ended); _, _ = io.Copy(io.Discard, resp.Body) }()
	// when the service shuts down, then the stream ends (the client will
	// reconnect) and the shutdown completes cleanly instead of timing out
	// on it.
	if err := r.stop(); err != nil {
		t.Fatalf("shutdown with a live stream open: %v", err)
	}
	<-ended
}
