package ops_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	nethttp "net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/tlog"

	"waystation/eventstore"
	"waystation/eventstore/audit"
	"waystation/eventstore/esdb"
	"waystation/eventstore/esdb/esdbtest"
	"waystation/eventstore/sealed"
	"waystation/ops"
)

// region is the tokens of a seeded region R1 with stations S01 and S02.
type region struct {
	staff1, staff2, coordinator, inspector string
}

// seedRegion registers S01 (through seed) and S02 in region R1 and issues a
// token for the staff of each, the region's coordinator and an inspector of
// every region.
func (r *running) seedRegion(t testing.TB) region {
	t.Helper()
	g := region{staff1: r.seed(t)}
	r.must(t, 201, adminToken, "POST", "/v1/stations", map[string]any{
		"code": "S02", "name": "Second station", "region": "R1", "kind": "station",
		"zones": []map[string]any{{"zone": "adult_male", "beds": 2}, {"zone": "adult_female", "beds": 2}},
	})
	g.staff2 = r.token(t, map[string]any{"name": "desk 2", "role": "staff", "station": "S02"})
	g.coordinator = r.token(t, map[string]any{"name": "coordinator", "role": "coordinator", "region": "R1"})
	g.inspector = r.token(t, map[string]any{"name": "inspector", "role": "inspector"})
	return g
}

// token issues an access token as the admin and returns it.
func (r *running) token(t testing.TB, body map[string]any) string {
	t.Helper()
	return r.must(t, 201, adminToken, "POST", "/v1/tokens", body)["token"].(string)
}

// eventually polls cond until it holds or a generous bound passes; the
// bound is a liveness limit for asynchronous followers, not a speed
// requirement.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not true after 30s: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// logEvent is one event of GET /v1/events.
type logEvent struct {
	Position   string          `json:"position"`
	Stream     string          `json:"stream"`
	Revision   uint64          `json:"revision"`
	ID         uuid.UUID       `json:"id"`
	Type       string          `json:"type"`
	RecordedAt time.Time       `json:"recorded_at"`
	Data       json.RawMessage `json:"data"`
	Metadata   json.RawMessage `json:"metadata"`
}

// leaf is the audit leaf of e as an inspector computes it from the export.
func (e logEvent) leaf(t testing.TB) audit.Leaf {
	t.Helper()
	pos, err := eventstore.ParsePosition(e.Position)
	if err != nil {
		t.Fatal(err)
	}
	return audit.LeafOf(eventstore.RecordedEvent{ID: e.ID, Stream: e.Stream, Revision: e.Revision, Position: pos,
		Type: e.Type, Data: e.Data, Metadata: e.Metadata, RecordedAt: e.RecordedAt})
}

// globalLog reads the whole global log through GET /v1/events as the admin.
func (r *running) globalLog(t testing.TB) []logEvent {
	t.Helper()
	var all []logEvent
	after := "0"
	for {
		_, raw := r.raw(t, adminToken, "/v1/events?limit=1000&after="+url.QueryEscape(after))
		var page struct {
			Items []logEvent `json:"items"`
			Next  string     `json:"next_after"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			t.Fatalf("GET /v1/events: %v", err)
		}
		all = append(all, page.Items...)
		if page.Next == "" {
			return all
		}
		after = page.Next
	}
}

// raw GETs path and returns the status and the undecoded body.
func (r *running) raw(t testing.TB, token, path string) (int, []byte) {
	t.Helper()
	req, err := nethttp.NewRequest("GET", r.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := nethttp.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, buf.Bytes()
}

// checkpoint is GET /v1/audit/checkpoint, its signature checked offline
// against the verifier key it names, and its origin that of the replica's
// key.
func (r *running) checkpoint(t testing.TB, token string) audit.SignedTreeHead {
	t.Helper()
	out := r.must(t, 200, token, "GET", "/v1/audit/checkpoint", nil)
	head, err := audit.OpenTreeHead([]byte(out["note"].(string)), out["verifier_key"].(string))
	if err != nil {
		t.Fatalf("the checkpoint's note does not verify with its key: %v", err)
	}
	if float64(head.Size) != out["size"].(float64) || base64.StdEncoding.EncodeToString(head.Root[:]) != out["root"] {
		t.Fatalf("checkpoint says size %v root %v, its signed note size %d root %x", out["size"], out["root"], head.Size, head.Root)
	}
	if origin := audit.Origin(out["verifier_key"].(string)); head.Origin != origin || !strings.HasPrefix(out["note"].(string), origin+"\n") {
		t.Fatalf("checkpoint note %q, want it to begin with the replica's origin %s", out["note"], origin)
	}
	return head
}

// auditedHead waits until the replica's audit index covers the whole log
// and returns its signed head and the log it covers.
func (r *running) auditedHead(t testing.TB, token string) (audit.SignedTreeHead, []logEvent) {
	t.Helper()
	// Reading the log through the API adds to it (the access log records
	// the read, after it): wait for a head that covers the log as first
	// read, then return the events that head covers.
	known := len(r.globalLog(t))
	var head audit.SignedTreeHead
	eventually(t, "the audit index covers the whole log", func() bool {
		head = r.checkpoint(t, token)
		return head.Size >= int64(known)
	})
	events := r.globalLog(t)
	if int64(len(events)) < head.Size {
		t.Fatalf("the signed head covers %d events, the log shows %d", head.Size, len(events))
	}
	return head, events[:head.Size]
}

// proveInclusion asks for the inclusion proof of events[n] in head's tree
// and checks it offline; it returns the check's error.
func (r *running) proveInclusion(t testing.TB, token string, head audit.SignedTreeHead, events []logEvent, n int) error {
	t.Helper()
	out := r.must(t, 200, token, "GET", fmt.Sprintf("/v1/audit/proof?position=%s&size=%d", url.QueryEscape(events[n].Position), head.Size), nil)
	var proof tlog.RecordProof
	for _, p := range out["proof"].([]any) {
		b, err := base64.StdEncoding.DecodeString(p.(string))
		if err != nil || len(b) != len(tlog.Hash{}) {
			t.Fatalf("proof element %q is not a hash", p)
		}
		proof = append(proof, tlog.Hash(b))
	}
	// On the cluster positions are sparse: leaf n is the (n+1)th event of
	// the log, as the inspector counts in the export.
	if leaf := out["leaf"]; leaf != float64(n) {
		t.Fatalf("the proof names leaf %v for the event at %s, the %dth of the log", leaf, events[n].Position, n+1)
	}
	return audit.CheckInclusion(proof, head.Tree(), int64(n), events[n].leaf(t))
}

func TestACaseThroughItsWholeJourneyOnTheCluster(t *testing.T) {
	cluster := esdbtest.Start(t)
	r := startOn(t, t.TempDir(), cluster.URL())
	g := r.seedRegion(t)
	arrived := time.Now().Add(-3 * time.Hour)

	id := r.must(t, 201, g.staff1, "POST", "/v1/cases", intake("Li Testname", arrived))["id"].(string)
	path := "/v1/cases/" + id
	r.must(t, 200, g.staff1, "POST", path+"/eligibility", map[string]any{"eligible": true})
	r.must(t, 200, g.staff1, "POST", path+"/security-check", map[string]any{"checked_by": map[string]any{"staff_id": "s-7", "sex": "female"}})
	r.must(t, 200, g.staff1, "POST", path+"/belongings", map[string]any{"deposited": []map[string]any{{"item": "bag", "qty": 1}}})
	r.must(t, 200, g.staff1, "POST", path+"/bed", map[string]any{"zone": "adult_female"})
	// The store's metrics count the cluster's appends too.
	if m := r.get(t, "/metrics"); !strings.Contains(m, "waystation_store_events_appended_total") || strings.Contains(m, "waystation_store_events_appended_total 0\n") {
		t.Error("/metrics counts no events appended to the cluster")
	}
	if occ := r.must(t, 200, g.staff1, "GET", "/v1/stations/S01/occupancy", nil); !strings.Contains(fmt.Sprint(occ["residents"]), id) {
		t.Fatalf("S01 occupancy %v does not list the placed case", occ["residents"])
	}

	r.must(t, 200, g.coordinator, "POST", path+"/transfer-request", map[string]any{"to_station": "S02", "reason": "closer to home"})
	board := r.must(t, 200, g.coordinator, "GET", "/v1/regions/R1/transfers", nil)
	if !strings.Contains(fmt.Sprint(board["transfers"]), id) {
		t.Fatalf("the transfer board %v does not show the requested transfer", board)
	}
	r.must(t, 200, g.staff2, "POST", path+"/transfer-accept", map[string]any{})
	r.must(t, 200, g.staff1, "POST", path+"/escort-departure", map[string]any{"escorts": []string{"e-1"}, "transport": "station van"})
	r.must(t, 200, g.staff2, "POST", path+"/handover", map[string]any{"received_by": "r-1"})
	state := r.must(t, 200, g.staff2, "GET", path, nil)
	if state["station"] != "S02" {
		t.Fatalf("after the handover the case is at %v, want S02", state["station"])
	}
	if code, _ := r.call(t, g.staff1, "GET", path, nil); code != 403 {
		t.Errorf("the sending station's staff read the handed-over case: status %d, want 403", code)
	}
	if occ := r.must(t, 200, g.staff1, "GET", "/v1/stations/S01/occupancy", nil); strings.Contains(fmt.Sprint(occ["residents"]), id) {
		t.Errorf("the handed-over case still holds a bed at S01: %v", occ["residents"])
	}
	board = r.must(t, 200, g.coordinator, "GET", "/v1/regions/R1/transfers?state=in_flight", nil)
	if strings.Contains(fmt.Sprint(board["transfers"]), id) {
		t.Errorf("the completed transfer is still in flight on the board: %v", board)
	}
	board = r.must(t, 200, g.coordinator, "GET", "/v1/regions/R1/transfers?state=handed_over", nil)
	if !strings.Contains(fmt.Sprint(board["transfers"]), id) {
		t.Errorf("the completed transfer left the board: %v", board)
	}

	r.must(t, 200, g.staff2, "POST", path+"/bed", map[string]any{"zone": "adult_female"})
	if occ := r.must(t, 200, g.staff2, "GET", "/v1/stations/S02/occupancy", nil); !strings.Contains(fmt.Sprint(occ["residents"]), id) {
		t.Fatalf("S02 occupancy %v does not list the case placed there", occ["residents"])
	}
	r.must(t, 200, g.staff2, "POST", path+"/belongings", map[string]any{"returned": []string{"bag"}})
	r.must(t, 200, g.staff2, "POST", path+"/voluntary-leave", map[string]any{"declaration_ref": "D-1", "cash_yuan": 10, "receipt_ref": "R-1"})
	r.must(t, 200, g.staff2, "POST", path+"/closure", map[string]any{})

	state = r.must(t, 200, g.staff2, "GET", path, nil)
	if state["status"] != "closed" || state["bed"] != nil {
		t.Errorf("at the end: status %v, bed %v; want closed and no bed", state["status"], state["bed"])
	}
	if occ := r.must(t, 200, g.staff2, "GET", "/v1/stations/S02/occupancy", nil); strings.Contains(fmt.Sprint(occ["residents"]), id) {
		t.Errorf("the closed case still holds a bed at S02: %v", occ["residents"])
	}
	if safety := r.must(t, 200, g.coordinator, "GET", "/v1/safety?region=R1", nil); strings.Contains(fmt.Sprint(safety["alerts"]), id) {
		t.Errorf("the closed case, belongings returned, still raises alerts: %v", safety["alerts"])
	}

	hist := r.must(t, 200, g.inspector, "GET", path+"/history", nil)
	var types []string
	var intakeAt string
	for _, e := range hist["events"].([]any) {
		ev := e.(map[string]any)
		types = append(types, ev["type"].(string))
		if ev["type"] == "case.intake_registered" {
			intakeAt = fmt.Sprint(ev["position"])
		}
	}
	want := []string{"case.intake_registered", "case.eligibility_decided", "case.security_checked", "case.belongings_deposited",
		"station.bed_assigned", "case.transfer_requested", "case.transfer_accepted", "case.escort_departed", "case.handed_over",
		"station.bed_assigned", "case.belongings_returned", "case.left_voluntarily", "case.closed"}
	var got []string
	for _, ty := range types {
		if ty != "station.bed_released" { // where a release falls is the service's business
			got = append(got, ty)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("history, releases aside:\n got %v\nwant %v", got, want)
	}

	head, events := r.auditedHead(t, g.inspector)
	n := slices.IndexFunc(events, func(e logEvent) bool { return e.Type == "case.intake_registered" && e.Position == intakeAt })
	if n < 0 {
		t.Fatalf("the intake at position %s (from the history) is not in the global log", intakeAt)
	}
	// /v1/events shows the intake's personal values opened; its leaf commits
	// to the event as stored, with them sealed, as the case's export
	// carries it.
	export := r.must(t, 200, g.inspector, "GET", path+"/export", nil)
	for _, e := range export["events"].([]any) {
		ev := e.(map[string]any)
		if ev["position"] == intakeAt {
			stored, err := base64.StdEncoding.DecodeString(ev["data"].(string))
			if err != nil {
				t.Fatal(err)
			}
			events[n].Data = stored
		}
	}
	if err := r.proveInclusion(t, g.inspector, head, events, n); err != nil {
		t.Fatalf("the inclusion proof of the intake does not check offline: %v", err)
	}
	if err := r.proveInclusion(t, g.inspector, head, events, len(events)-1); err != nil {
		t.Fatalf("the inclusion proof of the last event does not check offline: %v", err)
	}
	metrics := r.get(t, "/metrics")
	for _, secret := range []string{"Li Testname", "11010519491231002X", "1949-12-31"} {
		if strings.Contains(metrics, secret) || strings.Contains(r.logs.String(), secret) {
			t.Errorf("personal data %q appears in metrics or logs", secret)
		}
	}

	altered := slices.Clone(events)
	altered[n].Data = bytes.Replace(altered[n].Data, []byte("walk_in"), []byte("hotline"), 1)
	if bytes.Equal(altered[n].Data, events[n].Data) {
		t.Fatal("could not alter the intake's data; the tamper check proves nothing")
	}
	if err := r.proveInclusion(t, g.inspector, head, altered, n); err == nil {
		t.Error("an altered intake passed the offline inclusion check")
	}
}

func TestReplicasOnOneClusterShareBedsAndTokens(t *testing.T) {
	cluster := esdbtest.Start(t)
	r1 := startOn(t, t.TempDir(), cluster.URL())
	r2 := startOn(t, t.TempDir(), cluster.URL())
	replicas := []*running{r1, r2}
	staff := r1.seed(t) // S01: 4 adult_female beds
	const beds, people = 4, 10

	eventually(t, "a token issued on replica 1 works on replica 2", func() bool {
		code, _ := r2.call(t, staff, "GET", "/v1/stations/S01", nil)
		return code == 200
	})
	ids := make([]string, people)
	for i := range ids {
		r := replicas[i%2]
		ids[i] = r.must(t, 201, staff, "POST", "/v1/cases", intake(fmt.Sprintf("Bed Seeker %d", i), time.Now().Add(-time.Hour)))["id"].(string)
		r.must(t, 200, staff, "POST", "/v1/cases/"+ids[i]+"/eligibility", map[string]any{"eligible": true})
		r.must(t, 200, staff, "POST", "/v1/cases/"+ids[i]+"/security-check", map[string]any{"checked_by": map[string]any{"staff_id": "s-7", "sex": "female"}})
	}

	codes := make([]int, people)
	answers := make([]map[string]any, people)
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			codes[i], answers[i] = replicas[i%2].tryCall(staff, "POST", "/v1/cases/"+id+"/bed", map[string]any{"zone": "adult_female"})
		})
	}
	wg.Wait()
	placed := map[string]bool{}
	for i, code := range codes {
		switch {
		case code == 200:
			placed[ids[i]] = true
		case code == 422 && (answers[i]["rule"] == "zone_full" || answers[i]["rule"] == "bed_taken"):
		default:
			t.Errorf("bed request %d: status %d %v, want a placement or a rule violation for a full zone", i, code, answers[i])
		}
	}
	if len(placed) != beds {
		t.Fatalf("%d of %d concurrent bed requests were placed in a zone of %d beds, want %d", len(placed), people, beds, beds)
	}

	for n, r := range replicas {
		var residents []map[string]any
		eventually(t, fmt.Sprintf("replica %d shows every placement", n+1), func() bool {
			occ := r.must(t, 200, staff, "GET", "/v1/stations/S01/occupancy", nil)
			residents = nil
			for _, x := range occ["residents"].([]any) {
				residents = append(residents, x.(map[string]any))
			}
			return len(residents) >= beds
		})
		held := map[string]string{}
		for _, res := range residents {
			id, bed := res["case_id"].(string), res["bed"].(string)
			if other, twice := held[bed]; twice {
				t.Errorf("replica %d: bed %s held by %s and %s", n+1, bed, other, id)
			}
			held[bed] = id
			if !placed[id] {
				t.Errorf("replica %d: case %s holds bed %s but its request was refused", n+1, id, bed)
			}
		}
		if len(residents) != beds {
			t.Errorf("replica %d: %d residents, want %d", n+1, len(residents), beds)
		}
		for _, id := range ids {
			state := r.must(t, 200, staff, "GET", "/v1/cases/"+id, nil)
			if (state["bed"] != nil) != placed[id] {
				t.Errorf("replica %d: case %s has bed %v, placed %v", n+1, id, state["bed"], placed[id])
			}
		}
	}

	// A request retried through the other replica (as a load balancer
	// does) returns the first answer and writes nothing more.
	body := intake("Retried Intake", time.Now().Add(-time.Hour))
	code1, first := r1.keyed(t, staff, "POST", "/v1/cases", "intake-retried-1", body)
	code2, again := r2.keyed(t, staff, "POST", "/v1/cases", "intake-retried-1", body)
	if code1 != 201 || code2 != 201 || first["id"] != again["id"] {
		t.Fatalf("an intake retried on the other replica: %d %v, then %d %v; want the same case twice", code1, first, code2, again)
	}
	retried := "/v1/cases/" + first["id"].(string)
	elig := map[string]any{"eligible": true}
	code1, first = r2.keyed(t, staff, "POST", retried+"/eligibility", "eligibility-retried-1", elig)
	code2, again = r1.keyed(t, staff, "POST", retried+"/eligibility", "eligibility-retried-1", elig)
	if code1 != 200 || code2 != 200 || first["version"] != again["version"] {
		t.Fatalf("a step retried on the other replica: %d %v, then %d %v; want the same answer twice", code1, first, code2, again)
	}
	hist := r1.must(t, 200, adminToken, "GET", retried+"/history", nil)
	if n := len(hist["events"].([]any)); n != 2 {
		t.Errorf("the retried case has %d events, want 2 (one intake, one eligibility)", n)
	}

	// A leader election drops every subscription; the replicas resubscribe
	// and keep following: views, tokens and audit index alike.
	if n := cluster.DropSubscriptions(); n == 0 {
		t.Fatal("no subscription to drop; the replicas follow nothing")
	}
	late := r1.must(t, 201, staff, "POST", "/v1/cases", intake("After The Election", time.Now().Add(-time.Minute)))["id"].(string)
	eventually(t, "replica 2's views show a case written after the subscriptions dropped", func() bool {
		list := r2.must(t, 200, staff, "GET", "/v1/cases?station=S01&limit=100", nil)
		return strings.Contains(fmt.Sprint(list["items"]), late)
	})
	r2.auditedHead(t, adminToken)

	issued := r1.must(t, 201, adminToken, "POST", "/v1/tokens", map[string]any{"name": "night desk", "role": "staff", "station": "S01"})
	night := issued["token"].(string)
	eventually(t, "a staff token issued on replica 1 works on replica 2", func() bool {
		code, _ := r2.call(t, night, "GET", "/v1/cases/"+ids[0], nil)
		return code == 200
	})
	r2.must(t, 200, adminToken, "DELETE", "/v1/tokens/"+issued["id"].(string), nil)
	if code, _ := r2.call(t, night, "GET", "/v1/cases/"+ids[0], nil); code != 401 {
		t.Errorf("the revoking replica still accepts the revoked token: status %d, want 401", code)
	}
	eventually(t, "a token revoked on replica 2 is refused on replica 1", func() bool {
		code, _ := r1.call(t, night, "GET", "/v1/cases/"+ids[0], nil)
		return code == 401
	})
}

// keyed sends a JSON request with an Idempotency-Key and decodes the answer.
func (r *running) keyed(t testing.TB, token, method, path, key string, body any) (int, map[string]any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := nethttp.NewRequest(method, r.base+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := nethttp.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: answer is not JSON: %v", method, path, err)
	}
	return resp.StatusCode, out
}

// views is what a replica shows of the given cases: their states and
// histories, and every board, by path.
func (r *running) views(t testing.TB, token string, ids []string) map[string]any {
	t.Helper()
	at := url.QueryEscape(fixedAt.Format(time.RFC3339))
	paths := []string{"/v1/stations", "/v1/stations/S01/occupancy?at=" + at, "/v1/stations/S02/occupancy?at=" + at,
		"/v1/regions/R1/transfers?at=" + at, "/v1/safety?region=R1&at=" + at, "/v1/cases?station=S01", "/v1/cases?station=S02",
		"/v1/stats?region=R1&from=2020-01-01T00:00:00Z&to=" + at}
	for _, id := range ids {
		paths = append(paths, "/v1/cases/"+id, "/v1/cases/"+id+"/history")
	}
	out := map[string]any{}
	for _, p := range paths {
		code, body := r.call(t, token, "GET", p, nil)
		if code != 200 {
			t.Fatalf("GET %s: status %d %v", p, code, body)
		}
		out[p] = body
	}
	return out
}

// fixedAt is a moment after every step of the tests, so that time-based
// boards read the same before and after a restart.
var fixedAt = time.Now().Add(time.Hour).UTC().Truncate(time.Second)

// someCases writes three cases through r, each placed in an adult_female
// bed at S01: the first then leaves, the second's transfer to S02 is
// accepted, the third stays; it returns their IDs. S01 holds two more
// placed cases after each call.
func (r *running) someCases(t testing.TB, g region, name string) []string {
	t.Helper()
	var ids []string
	for i := range 3 {
		id := r.must(t, 201, g.staff1, "POST", "/v1/cases", intake(fmt.Sprintf("%s %d", name, i), time.Now().Add(-2*time.Hour)))["id"].(string)
		p := "/v1/cases/" + id
		r.must(t, 200, g.staff1, "POST", p+"/eligibility", map[string]any{"eligible": true})
		r.must(t, 200, g.staff1, "POST", p+"/security-check", map[string]any{"checked_by": map[string]any{"staff_id": "s-7", "sex": "female"}})
		r.must(t, 200, g.staff1, "POST", p+"/bed", map[string]any{"zone": "adult_female"})
		switch i {
		case 0:
			r.must(t, 200, g.staff1, "POST", p+"/voluntary-leave", map[string]any{"declaration_ref": "D-1", "cash_yuan": 5, "receipt_ref": "R-1"})
		case 1:
			r.must(t, 200, g.coordinator, "POST", p+"/transfer-request", map[string]any{"to_station": "S02", "reason": "closer to home"})
			r.must(t, 200, g.staff2, "POST", p+"/transfer-accept", map[string]any{})
		}
		ids = append(ids, id)
	}
	return ids
}

func TestAReplicaRestartedOnItsDataFolderShowsTheSameAndResumesItsAuditIndex(t *testing.T) {
	cluster := esdbtest.Start(t)
	dir := t.TempDir()
	r := startOn(t, dir, cluster.URL())
	g := r.seedRegion(t)
	ids := r.someCases(t, g, "Before Restart")
	before := r.views(t, g.inspector, ids)
	headBefore, _ := r.auditedHead(t, g.inspector)
	if err := r.stop(); err != nil {
		t.Fatalf("stopping the replica: %v", err)
	}

	// While it is down, another replica writes to the cluster.
	other := startOn(t, t.TempDir(), cluster.URL())
	more := other.someCases(t, g, "While Down")

	again := startOn(t, dir, cluster.URL())
	eventually(t, "the restarted replica shows the cases written while it was down", func() bool {
		code, _ := again.call(t, g.inspector, "GET", "/v1/cases/"+more[2], nil)
		return code == 200
	})
	after := again.views(t, g.inspector, ids)
	for p, want := range before {
		if !strings.HasPrefix(p, "/v1/cases/") && p != "/v1/stations" {
			continue // these also count the cases written while it was down; compared with the other replica below
		}
		if !reflect.DeepEqual(after[p], want) {
			t.Errorf("GET %s after the restart:\n got %v\nwant %v", p, after[p], want)
		}
	}
	all := append(slices.Clone(ids), more...)
	if got, want := again.views(t, g.inspector, all), other.views(t, g.inspector, all); !reflect.DeepEqual(got, want) {
		for p := range want {
			if !reflect.DeepEqual(got[p], want[p]) {
				t.Errorf("GET %s: the restarted replica shows\n %v\nthe replica that never stopped shows\n %v", p, got[p], want[p])
			}
		}
	}

	headAfter, events := again.auditedHead(t, g.inspector)
	if headAfter.Size <= headBefore.Size {
		t.Fatalf("the audit index did not grow after the restart: size %d, was %d", headAfter.Size, headBefore.Size)
	}
	if again.main.AuditIndex.VerifierKey() != r.main.AuditIndex.VerifierKey() {
		t.Error("the restarted replica signs with a new key; its inspectors' pinned key no longer verifies")
	}
	proof, err := again.main.AuditIndex.ConsistencyProof(context.Background(), headBefore.Size, headAfter.Size)
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.CheckConsistency(proof, headBefore.Tree(), headAfter.Tree()); err != nil {
		t.Errorf("the tree after the restart does not extend the one before: %v", err)
	}
	otherHead, _ := other.auditedHead(t, g.inspector)
	if otherHead.Size == headAfter.Size && otherHead.Root != headAfter.Root {
		t.Errorf("two replicas disagree on the root at size %d", otherHead.Size)
	}
	if err := again.proveInclusion(t, g.inspector, headAfter, events, len(events)-1); err != nil {
		t.Errorf("an event indexed after the restart does not prove: %v", err)
	}
}

func TestMigrateAnEmbeddedStoreOntoTheClusterAndServeIt(t *testing.T) {
	dir := t.TempDir()
	embedded := start(t, dir)
	g := embedded.seedRegion(t)
	ids := embedded.someCases(t, g, "Migrated")
	// Someone else, who left, is erased before the move.
	gone := embedded.must(t, 201, g.staff1, "POST", "/v1/cases", map[string]any{
		"station": "S01", "occurred_at": time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339),
		"referral": map[string]any{"source": "walk_in"},
		"person":   map[string]any{"name": "Migrated Erased", "sex": "male", "estimated_age": 50},
	})["id"].(string)
	embedded.must(t, 200, g.staff1, "POST", "/v1/cases/"+gone+"/eligibility", map[string]any{"eligible": true})
	embedded.must(t, 200, g.staff1, "POST", "/v1/cases/"+gone+"/voluntary-leave", map[string]any{"declaration_ref": "D-2", "cash_yuan": 0, "receipt_ref": "R-2"})
	embedded.must(t, 200, adminToken, "POST", "/v1/people/"+gone+"/erase", map[string]any{"reason": "subject_request"})
	ids = append(ids, gone)
	want := embedded.views(t, g.inspector, ids)
	logBefore := embedded.globalLog(t) // read through the API: the read itself is logged after it
	if err := embedded.stop(); err != nil {
		t.Fatal(err)
	}
	held := storedEvents(t, dir)

	cluster := esdbtest.Start(t)
	keyFile := filepath.Join(t.TempDir(), "cluster.key")
	if err := os.WriteFile(keyFile, []byte(clusterMasterKey), 0o600); err != nil {
		t.Fatal(err)
	}
	migrate := func() string {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := ops.RunCommand(context.Background(), []string{"migrate", "--from", dir, "--to", cluster.URL(), "--to-master-key-file", keyFile}, &out, &errOut); err != nil {
			t.Fatalf("migrate: %v: %s", err, errOut.String())
		}
		return out.String()
	}
	var out, errOut bytes.Buffer
	if err := ops.RunCommand(context.Background(), []string{"migrate", "--from", dir, "--to", cluster.URL()}, &out, &errOut); !errors.Is(err, ops.ErrUsage) {
		t.Fatalf("migrate without the cluster's master key: %v, want a usage error", err)
	}
	if got := migrate(); !strings.HasPrefix(got, fmt.Sprintf("migrated %d events", held)) || !strings.Contains(got, "1 people erased stay erased") {
		t.Fatalf("first migrate said %q, want %d events copied and 1 erased person", got, held)
	}
	// The cluster as stored holds no personal value in clear.
	raw, err := esdb.Open(context.Background(), cluster.URL(), esdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for rec, err := range raw.ReadAll(context.Background(), eventstore.ReadAllOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(rec.Data, []byte("Migrated")) || bytes.Contains(rec.Data, []byte("11010519491231002X")) {
			t.Fatalf("the cluster stores a personal value in clear in %s (%s)", rec.Stream, rec.Type)
		}
	}
	if got := migrate(); !strings.HasPrefix(got, "migrated 0 events") {
		t.Fatalf("second migrate said %q, want nothing more copied", got)
	}

	r := startOn(t, t.TempDir(), cluster.URL())
	logAfter := r.globalLog(t)
	if len(logAfter) != held {
		t.Fatalf("the cluster holds %d events, the embedded store held %d", len(logAfter), held)
	}
	for i := range logBefore {
		a, b := logBefore[i], logAfter[i]
		if a.ID != b.ID || a.Stream != b.Stream || a.Revision != b.Revision || a.Type != b.Type || !bytes.Equal(a.Data, b.Data) {
			t.Fatalf("event %d: embedded %s %s@%d %s, cluster %s %s@%d %s", i, a.ID, a.Stream, a.Revision, a.Type, b.ID, b.Stream, b.Revision, b.Type)
		}
	}
	// Tokens issued on the embedded store work on the cluster.
	eventually(t, "the migrated views are caught up", func() bool {
		code, _ := r.call(t, g.staff2, "GET", "/v1/cases/"+ids[1], nil)
		return code == 200
	})
	got := r.views(t, g.inspector, ids)
	for p := range want {
		if !reflect.DeepEqual(withoutPlaces(got[p]), withoutPlaces(want[p])) {
			t.Errorf("GET %s on the cluster:\n got %v\nwant %v", p, got[p], want[p])
		}
	}
	// The migrated cases go on: the transferred one is handed over.
	r.must(t, 200, g.staff1, "POST", "/v1/cases/"+ids[1]+"/escort-departure", map[string]any{"escorts": []string{"e-1"}})
	r.must(t, 200, g.staff2, "POST", "/v1/cases/"+ids[1]+"/handover", map[string]any{"received_by": "r-1"})
}

// storedEvents returns how many events the embedded store in dir holds.
func storedEvents(t testing.TB, dir string) int {
	t.Helper()
	var out bytes.Buffer
	if err := ops.RunCommand(context.Background(), []string{"verify", "--data", dir, "--json"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatalf("verify: %v", err)
	}
	var rep struct{ Events int }
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	return rep.Events
}

// withoutPlaces drops from a view what the cluster assigns anew (positions,
// recorded times) so that the embedded and the migrated views compare.
func withoutPlaces(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if k == "position" || k == "recorded_at" {
				continue
			}
			out[k] = withoutPlaces(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = withoutPlaces(e)
		}
		return out
	}
	return v
}

func TestVerifyChecksAReplicasAuditIndexAgainstTheCluster(t *testing.T) {
	cluster := esdbtest.Start(t)
	dir := t.TempDir()
	r := startOn(t, dir, cluster.URL())
	g := r.seedRegion(t)
	r.someCases(t, g, "Verified")
	head, events := r.auditedHead(t, g.inspector)
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}

	var out, errOut bytes.Buffer
	if err := ops.RunCommand(context.Background(), []string{"verify", "--data", dir, "--store", cluster.URL(), "--json"}, &out, &errOut); err != nil {
		t.Fatalf("verify of an intact replica: %v: %s %s", err, out.String(), errOut.String())
	}
	var rep audit.VerifyReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("verify --json: %v: %s", err, out.String())
	}
	// Reading the log through the API is itself logged (the access log),
	// after the read: the index covers those entries too.
	logged := 0
	raw, err := esdb.Open(context.Background(), cluster.URL(), esdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for rec, err := range raw.ReadAll(context.Background(), eventstore.ReadAllOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		if !sealed.IsKeyStream(rec.Stream) {
			logged++
		}
	}
	raw.Close()
	if !rep.OK() || rep.Events != int64(logged) || rep.Events < head.Size || rep.HeadsChecked == 0 || len(events) != int(head.Size) {
		t.Fatalf("verify report %+v, want all %d events of the log (the audited head had %d) and signed heads checked", rep, logged, head.Size)
	}

	// The same replica folder against a cluster that lost the log (a
	// restore of an old backup, or the wrong cluster).
	emptied := esdbtest.Start(t)
	out.Reset()
	err = ops.RunCommand(context.Background(), []string{"verify", "--data", dir, "--store", emptied.URL()}, &out, &errOut)
	if err == nil {
		t.Fatalf("verify passed against a cluster without the indexed events: %s", out.String())
	}
	if want := "first bad position " + events[0].Position + ":"; !strings.Contains(out.String(), want) {
		t.Errorf("verify said %q (%v), want it to name %q", out.String(), err, want)
	}

	out.Reset()
	if err := ops.RunCommand(context.Background(), []string{"verify", "--data", t.TempDir(), "--store", cluster.URL()}, &out, &errOut); err == nil {
		t.Errorf("verify of a folder with no audit index passed: %s", out.String())
	}
}
