package http_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"waystation/domain"
	"waystation/eventstore"
	wshttp "waystation/http"
)

// sse reads a live stream of the log as a client does.
type sse struct {
	resp *http.Response
	r    *bufio.Reader
	stop context.CancelFunc
}

// openStream opens GET /v1/events/stream on base with token and returns
// the response, whatever its status; the stream is closed at the test's
// end.
func openStream(t testing.TB, base, token string) *sse {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/v1/events/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	s := &sse{resp: resp, r: bufio.NewReader(resp.Body), stop: func() { cancel(); _ = resp.Body.Close() }}
	t.Cleanup(s.stop)
	return s
}

// sseEvent is one event of the stream.
type sseEvent struct{ id, typ, data string }

// next returns the next event (the caught-up marker included), skipping
// comments, or the error that ended the stream.
func (s *sse) next() (sseEvent, error) {
	var ev sseEvent
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return ev, err
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "id: "):
			ev.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			ev.typ = line[7:]
		case strings.HasPrefix(line, "data: "):
			ev.data = line[6:]
		case line == "" && ev.typ != "":
			return ev, nil
		}
	}
}

// caughtUp reads the stream up to its caught-up marker.
func (s *sse) caughtUp(t testing.TB) {
	t.Helper()
	for {
		ev, err := s.next()
		if err != nil {
			t.Fatalf("the stream ended before it caught up: %v", err)
		}
		if ev.typ == "caught_up" {
			return
		}
	}
}

// rest reads the stream until it ends and returns what it still sent, and
// whether it was still open 30 seconds later (then it is closed): a
// liveness bound, the stream is to end at once.
func (s *sse) rest() (got []sseEvent, open bool) {
	timer := time.AfterFunc(30*time.Second, s.stop)
	defer timer.Stop()
	for {
		ev, err := s.next()
		if err != nil {
			return got, !timer.Stop()
		}
		got = append(got, ev)
	}
}

// metricValue returns the value of the metric sample named (with its
// labels) series on /metrics, or 0 when there is none.
func metricValue(t testing.TB, e *env, series string) float64 {
	t.Helper()
	body := e.must(http.StatusOK, "", "GET", "/metrics", nil).Body.String()
	for line := range strings.Lines(body) {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				t.Fatalf("metric %s: %q", series, line)
			}
			return v
		}
	}
	return 0
}

// eventually polls cond until it holds; the 30-second bound is a liveness
// limit for asynchronous work, not a speed requirement.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not true after 30s: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logEntry is an event of the global log as the store holds it.
type logEntry struct {
	pos eventstore.Position
	env domain.Envelope
}

// wholeLog reads the global log from the store.
func wholeLog(t testing.TB, st eventstore.Store) []logEntry {
	t.Helper()
	var out []logEntry
	for rec, err := range st.ReadAll(context.Background(), eventstore.ReadAllOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		env, err := domain.Decode(rec)
		if err != nil {
			continue // not a domain event (test padding)
		}
		out = append(out, logEntry{pos: rec.Position, env: env})
	}
	return out
}

// readsBy returns the cases of the access-log entries naming reader at
// positions after from, in log order.
func readsBy(t testing.TB, st eventstore.Store, reader string, from eventstore.Position) []string {
	t.Helper()
	var out []string
	for _, e := range wholeLog(t, st) {
		if cr, ok := e.env.Event.(domain.CaseRead); ok && cr.Reader == reader && from.Before(e.pos) {
			out = append(out, cr.CaseID)
		}
	}
	return out
}

// revocationOf returns the position of the revocation of token id.
func revocationOf(t testing.TB, st eventstore.Store, id string) eventstore.Position {
	t.Helper()
	for _, e := range wholeLog(t, st) {
		if r, ok := e.env.Event.(domain.TokenRevoked); ok && r.ID == id {
			return e.pos
		}
	}
	t.Fatalf("no revocation of %s in the log", id)
	return eventstore.Position{}
}

// secondServer is another server over e's store, as another replica over
// the same cluster is: it follows the access stream on its own.
func secondServer(t testing.TB, e *env) *httptest.Server {
	t.Helper()
	reg := prometheus.NewRegistry()
	srv, err := wshttp.NewServer(wshttp.Config{
		Service: domain.NewService(e.store, nil), Views: wshttp.RunnerViews{Runner: e.runner}, Store: e.store,
		AdminToken: adminToken, Registerer: reg, Gatherer: reg, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); srv.Close() })
	return ts
}

// TestRevokingATokenEndsItsStreamsAtOnce: given a token's live streams of
// the log, caught up, on the server that revokes it and on another server
// over the same store; when DELETE /v1/tokens/{id} answers and an intake
// is then recorded; then every one of its streams ends, the intake never
// arrives on any, and no access-log entry names the token after its
// revocation.
func TestRevokingATokenEndsItsStreamsAtOnce(t *testing.T) {
	w := newWorld(t)
	here := httptest.NewServer(w.srv.Handler())
	t.Cleanup(here.Close)
	other := secondServer(t, w.env)
	shown := w.intake(w.staff1, "S01")

	issued := decodeAs[struct{ ID, Token string }](t, w.must(http.StatusCreated, adminToken, "POST", "/v1/tokens", map[string]any{"role": "inspector", "name": "night inspector"}))
	streams := []*sse{openStream(t, here.URL, issued.Token), openStream(t, here.URL, issued.Token), openStream(t, other.URL, issued.Token)}
	for _, s := range streams {
		if s.resp.StatusCode != http.StatusOK {
			t.Fatalf("stream answered %d", s.resp.StatusCode)
		}
		s.caughtUp(t)
	}
	// Each server records the case its streams showed once written, which
	// may be just after the client has read it.
	eventually(t, "each server records the read of the case its streams showed", func() bool {
		got := readsBy(t, w.store, issued.ID, eventstore.Position{})
		return len(got) >= 2 && !slices.ContainsFunc(got, func(id string) bool { return id != shown })
	})

	w.must(http.StatusOK, adminToken, "DELETE", "/v1/tokens/"+issued.ID, nil)
	late := w.intake(w.staff1, "S01")
	for i, s := range streams {
		got, open := s.rest()
		if open {
			t.Errorf("stream %d was still open 30s after the revocation", i)
		}
		for _, ev := range got {
			if strings.Contains(ev.data, late) {
				t.Errorf("stream %d delivered an event of case %s, recorded after the revocation: %s at %s", i, late, ev.typ, ev.id)
			}
		}
	}
	if got := readsBy(t, w.store, issued.ID, revocationOf(t, w.store, issued.ID)); len(got) > 0 {
		t.Errorf("the access log records reads by the revoked token after its revocation: %v", got)
	}
	if n := metricValue(t, w.env, `waystation_event_streams_ended_total{reason="revoked"}`); n != 2 {
		t.Errorf("%v streams ended as revoked on the revoking server, want 2", n)
	}
	expectProblem(t, w.call(issued.Token, "GET", "/v1/events/stream", nil), http.StatusUnauthorized, "unauthorized", "")
}

// TestATokenHoldsAtMostItsLimitOfStreams: given a token with its limit of
// streams open, one more is answered 429 with a problem naming the limit
// and a Retry-After, while another token still opens one; once one of the
// token's streams closes, it may open another.
func TestATokenHoldsAtMostItsLimitOfStreams(t *testing.T) {
	w := newWorld(t)
	ts := httptest.NewServer(w.srv.Handler())
	t.Cleanup(ts.Close)
	var open []*sse
	for range 4 {
		s := openStream(t, ts.URL, w.inspAll)
		if s.resp.StatusCode != http.StatusOK {
			t.Fatalf("stream %d answered %d", len(open)+1, s.resp.StatusCode)
		}
		s.caughtUp(t)
		open = append(open, s)
	}
	refused := openStream(t, ts.URL, w.inspAll)
	if refused.resp.StatusCode != http.StatusTooManyRequests || refused.resp.Header.Get("Retry-After") == "" {
		t.Fatalf("a fifth stream of one token answered %d (Retry-After %q), want 429 with Retry-After", refused.resp.StatusCode, refused.resp.Header.Get("Retry-After"))
	}
	body, _ := io.ReadAll(refused.resp.Body)
	if !strings.Contains(string(body), `"code":"too_many_requests"`) || !strings.Contains(string(body), "4 open streams") {
		t.Fatalf("the refusal says %s", body)
	}
	if s := openStream(t, ts.URL, adminToken); s.resp.StatusCode != http.StatusOK {
		t.Fatalf("another token's stream answered %d", s.resp.StatusCode)
	}
	open[0].stop()
	eventually(t, "a stream closed by its client frees its place", func() bool {
		s := openStream(t, ts.URL, w.inspAll)
		defer s.stop()
		return s.resp.StatusCode == http.StatusOK
	})
}

// rawStream opens GET /v1/events/stream from the start over a raw TCP
// connection that never reads; it is closed at the test's end.
func rawStream(t testing.TB, addr, token string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if _, err := fmt.Fprintf(c, "GET /v1/events/stream?after=0 HTTP/1.1\r\nHost: waystation\r\nAuthorization: Bearer %s\r\n\r\n", token); err != nil {
		t.Fatal(err)
	}
	return c
}

// pad appends n events of size bytes to a stream that is no case's, so
// that the log between two groups of cases is more than a connection's
// buffers hold.
func pad(t testing.TB, st eventstore.Store, n, size int) {
	t.Helper()
	data := []byte(`{"pad":"` + strings.Repeat("x", size) + `"}`)
	for range n {
		if _, err := st.Append(context.Background(), "test-padding", eventstore.Any, eventstore.EventData{ID: uuid.New(), Type: "test.padding", Data: data, Metadata: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSocketsThatNeverReadAddOnlyWhatWasSent: given cases, then more log
// than a connection buffers, then more cases; when 20 sockets of one
// inspector token open the stream from the start and never read, then only
// 4 streams are held, a reading client of that token is refused 429, and
// once the sockets are gone the log has grown by one access-log entry per
// case of the first group (the cases the streams wrote) and nothing else:
// none for the cases they never wrote, none twice for the four streams.
func TestSocketsThatNeverReadAddOnlyWhatWasSent(t *testing.T) {
	w := newWorld(t)
	w.configure = func(c *wshttp.Config) { c.StreamWriteTimeout = time.Hour }
	w.reopen()
	ts := httptest.NewServer(w.srv.Handler())
	t.Cleanup(ts.Close)
	var sent, unsent []string
	for range 10 {
		sent = append(sent, w.intake(w.staff1, "S01"))
	}
	pad(t, w.store, 64, 256<<10) // 16 MiB, more than loopback buffers hold
	for range 10 {
		unsent = append(unsent, w.intake(w.staff1, "S01"))
	}
	reader := func() string {
		for _, tok := range decodeAs[struct {
			Items []domain.Token
		}](t, w.must(http.StatusOK, adminToken, "GET", "/v1/tokens", nil)).Items {
			if tok.Role == domain.RoleInspector && tok.Region == "" {
				return tok.ID
			}
		}
		t.Fatal("no inspector of every region")
		return ""
	}()
	before := headCount(t, w.store)

	addr := ts.Listener.Addr().String()
	for range 20 {
		rawStream(t, addr, w.inspAll)
	}
	eventually(t, "the token's four streams are open", func() bool {
		return metricValue(t, w.env, "waystation_event_streams_open") == 4
	})
	eventually(t, "the streams have written the first cases", func() bool {
		return len(readsBy(t, w.store, reader, eventstore.Position{})) >= len(sent)
	})
	refused := openStream(t, ts.URL, w.inspAll)
	if refused.resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a stream of a token holding four answered %d, want 429", refused.resp.StatusCode)
	}
	if n := metricValue(t, w.env, "waystation_event_streams_open"); n != 4 {
		t.Fatalf("%v streams open for one token, want 4", n)
	}

	ts.CloseClientConnections()
	eventually(t, "the streams end with their connections", func() bool {
		return metricValue(t, w.env, "waystation_event_streams_open") == 0
	})
	got := readsBy(t, w.store, reader, eventstore.Position{})
	slices.Sort(got)
	want := slices.Sorted(slices.Values(sent))
	if !slices.Equal(got, want) {
		t.Errorf("the access log records %v, want each case written once: %v (never written: %v)", got, want, unsent)
	}
	if grown := headCount(t, w.store) - before; grown != uint64(len(got)) {
		t.Errorf("the log grew by %d events, want only the %d access-log entries", grown, len(got))
	}

}

// TestStreamsFromTheStartRecordEachCaseOnce: given cases in the log, when
// a token's streams open from the start ten times over, two at a time,
// then the access log holds one entry per case for it, not one per
// stream; a case written later is recorded when it is sent.
func TestStreamsFromTheStartRecordEachCaseOnce(t *testing.T) {
	w := newWorld(t)
	ts := httptest.NewServer(w.srv.Handler())
	t.Cleanup(ts.Close)
	var ids []string
	for range 10 {
		ids = append(ids, w.intake(w.staff1, "S01"))
	}
	head := headCount(t, w.store)
	for range 5 {
		a, b := openStream(t, ts.URL, w.inspAll), openStream(t, ts.URL, w.inspAll)
		a.caughtUp(t)
		b.caughtUp(t)
		a.stop()
		b.stop()
	}
	// The reads are recorded once written, which may be just after the
	// client has read them.
	eventually(t, "the streams' reads are recorded", func() bool { return headCount(t, w.store)-head >= uint64(len(ids)) })
	if grown := headCount(t, w.store) - head; grown != uint64(len(ids)) {
		t.Fatalf("ten streams from the start over %d cases grew the log by %d events, want %d", len(ids), grown, len(ids))
	}
	s := openStream(t, ts.URL, w.inspAll)
	s.caughtUp(t)
	late := w.intake(w.staff1, "S01")
	for {
		ev, err := s.next()
		if err != nil {
			t.Fatalf("the stream ended before the late intake: %v", err)
		}
		if strings.Contains(ev.data, late) {
			break
		}
	}
	eventually(t, "the late case's read is recorded once it is sent", func() bool {
		return slices.Contains(accessLogOf(t, w, "/v1/events/stream"), late)
	})
	if got := accessLogOf(t, w, "/v1/events/stream"); len(got) != len(ids)+1 {
		t.Fatalf("the access log holds %d stream reads, want %d", len(got), len(ids)+1)
	}
}

// TestAClientThatDoesNotReadIsDropped: given a write timeout, a socket that
// opens the stream and never reads is dropped once a write has waited that
// long, while the socket stays open: the server holds nothing for it.
func TestAClientThatDoesNotReadIsDropped(t *testing.T) {
	w := newWorld(t)
	w.configure = func(c *wshttp.Config) { c.StreamWriteTimeout = 200 * time.Millisecond }
	w.reopen()
	ts := httptest.NewServer(w.srv.Handler())
	t.Cleanup(ts.Close)
	pad(t, w.store, 64, 256<<10)
	rawStream(t, ts.Listener.Addr().String(), w.inspAll)
	eventually(t, "the stream opens", func() bool {
		return metricValue(t, w.env, `waystation_event_streams_ended_total{reason="slow_client"}`) == 1 ||
			metricValue(t, w.env, "waystation_event_streams_open") == 1
	})
	eventually(t, "the client that does not read is dropped", func() bool {
		return metricValue(t, w.env, `waystation_event_streams_ended_total{reason="slow_client"}`) == 1 &&
			metricValue(t, w.env, "waystation_event_streams_open") == 0
	})
}

// TestAReadIsRecordedOncePerWindow: given an inspector's read of a case,
// when the inspector reads it again through the same route within the
// window, then nothing more is recorded; through another route, or once
// the window has passed, the read is recorded again.
func TestAReadIsRecordedOncePerWindow(t *testing.T) {
	var (
		mu  sync.Mutex
		now = time.Now()
	)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	w := newWorld(t)
	w.configure = func(c *wshttp.Config) { c.Now = clock; c.AccessLogWindow = time.Hour }
	w.reopen()
	id := w.intake(w.staff1, "S01")
	count := func() int { return len(accessLogOf(t, w, "/v1/cases/{id}")) }

	w.must(http.StatusOK, w.insp1, "GET", "/v1/cases/"+id, nil)
	w.must(http.StatusOK, w.insp1, "GET", "/v1/cases/"+id, nil)
	advance(59 * time.Minute)
	w.must(http.StatusOK, w.insp1, "GET", "/v1/cases/"+id, nil)
	if n := count(); n != 1 {
		t.Fatalf("three reads within the hour recorded %d entries, want 1", n)
	}
	w.must(http.StatusOK, w.insp1, "GET", "/v1/cases/"+id+"/history", nil)
	if n := len(accessLogOf(t, w, "/v1/cases/{id}/history")); n != 1 {
		t.Fatalf("a read through another route recorded %d entries, want 1", n)
	}
	w.must(http.StatusOK, w.inspAll, "GET", "/v1/cases/"+id, nil)
	if n := count(); n != 2 {
		t.Fatalf("another reader's read: %d entries, want 2", n)
	}
	advance(2 * time.Minute)
	w.must(http.StatusOK, w.insp1, "GET", "/v1/cases/"+id, nil)
	if n := count(); n != 3 {
		t.Fatalf("a read an hour after the recorded one: %d entries, want 3", n)
	}
}

// failingAppends refuses the next fail appends to the access log.
type failingAppends struct {
	eventstore.Store
	mu   sync.Mutex
	fail int // guarded by mu
}

func (f *failingAppends) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	f.mu.Lock()
	refuse := stream == domain.CaseReadsStream && f.fail > 0
	if refuse {
		f.fail--
	}
	f.mu.Unlock()
	if refuse {
		return eventstore.AppendResult{}, eventstore.ErrClosed
	}
	return f.Store.Append(ctx, stream, expected, events...)
}

// TestAReadWhoseEntryFailedIsRecordedNextTime: given an access log that
// refuses one append, when an inspector reads a case, then the read is not
// shown; when the inspector reads it again, it is shown and recorded: the
// failed entry does not count as recorded within the window.
func TestAReadWhoseEntryFailedIsRecordedNextTime(t *testing.T) {
	failing := &failingAppends{}
	e := newEnvWrapping(t, func(st eventstore.Store) eventstore.Store {
		failing.Store = st
		return failing
	})
	e.station("S01", "R1")
	staff, insp := e.token(domain.RoleStaff, "S01", ""), e.token(domain.RoleInspector, "", "R1")
	id := e.intake(staff, "S01")
	failing.mu.Lock()
	failing.fail = 1
	failing.mu.Unlock()
	if rec := e.call(insp, "GET", "/v1/cases/"+id, nil); rec.Code == http.StatusOK {
		t.Fatal("a read whose entry the access log refused was shown")
	}
	e.must(http.StatusOK, insp, "GET", "/v1/cases/"+id, nil)
	if got := accessLogOf(t, &world{env: e}, "/v1/cases/{id}"); !slices.Equal(got, []string{id}) {
		t.Fatalf("the access log holds %v, want the read shown: %s", got, id)
	}
}

// TestConcurrentReadsOfACaseRecordOneEntry: given twenty reads of one case
// by one inspector at the same moment, then the access log holds one
// entry for them, and every read was shown.
func TestConcurrentReadsOfACaseRecordOneEntry(t *testing.T) {
	w := newWorld(t)
	id := w.intake(w.staff1, "S01")
	var wg sync.WaitGroup
	codes := make([]int, 20)
	for i := range codes {
		wg.Go(func() { codes[i] = w.call(w.insp1, "GET", "/v1/cases/"+id, nil).Code })
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Fatalf("read %d answered %d", i, c)
		}
	}
	if got := accessLogOf(t, w, "/v1/cases/{id}"); !slices.Equal(got, []string{id}) {
		t.Fatalf("twenty reads at once recorded %v, want one entry for %s", got, id)
	}
}
