package http_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/jpeg"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/google/uuid"
	"github.com/pquerna/otp/totp"

	"waystation/domain"
	wshttp "waystation/http"
	"waystation/ops"
)

// conformance drives a whole Waystation (ops.Main over the embedded
// store, with sealed personal data, the real privacy and audit, served on
// a loopback port) and checks every answer against the served
// /openapi.json with kin-openapi's validator, which knows nothing of the
// Go types the description is generated from.
type conformance struct {
	t      *testing.T
	base   string
	doc    *openapi3.T
	router routers.Router
	// seen is, by operation ID, the statuses of the answers validated.
	seen map[string]map[int]bool
}

func init() {
	// The live log and the backup are bodies the validator reads as text.
	openapi3filter.RegisterBodyDecoder("text/event-stream", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("image/jpeg", openapi3filter.FileBodyDecoder)
}

// startConformance runs Main in a fresh data folder until the test ends,
// with a retention of one hour so that a case closed a day ago is due for
// erasure, and loads its /openapi.json with external references refused.
func startConformance(t *testing.T) *conformance {
	t.Helper()
	cfg := ops.DefaultConfig()
	cfg.Data = t.TempDir()
	cfg.Addr = "127.0.0.1:0"
	cfg.AdminToken = adminToken
	cfg.MasterKey = strings.Repeat("5a", 32)
	cfg.Retention = time.Hour
	cfg.ShutdownTimeout = 10 * time.Second
	m := ops.NewMain(cfg, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		err := m.Run(ctx)
		if cerr := m.Close(); err == nil {
			err = cerr
		}
		done <- err
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Main.Run: %v", err)
		}
	})
	waitCtx, waitCancel := context.WithTimeout(ctx, 30*time.Second)
	defer waitCancel()
	addr := m.Addr(waitCtx)
	if addr == "" {
		t.Fatal("Main did not start listening")
	}
	c := &conformance{t: t, base: "http://" + addr, seen: map[string]map[int]bool{}}
	for i := 0; ; i++ {
		resp, err := http.Get(c.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if i == 3000 {
			t.Fatal("the service never became ready")
		}
		time.Sleep(10 * time.Millisecond)
	}
	resp, err := http.Get(c.base + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	loader := &openapi3.Loader{Context: context.Background(), IsExternalRefsAllowed: false}
	c.doc, err = loader.LoadFromData(raw)
	if err != nil {
		t.Fatalf("loading /openapi.json: %v", err)
	}
	if err := c.doc.Validate(context.Background()); err != nil {
		t.Fatalf("/openapi.json is invalid: %v", err)
	}
	c.router, err = gorillamux.NewRouter(c.doc)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// call sends a request and validates its answer against the description;
// a successful answer's request is validated too. body is sent as is when
// a string, JSON-encoded otherwise; headers come in pairs.
func (c *conformance) call(token, method, path string, body any, headers ...string) (int, []byte) {
	c.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			c.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(raw))
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		c.t.Fatal(err)
	}
	c.validate(req, raw, resp, got)
	return resp.StatusCode, got
}

// validate checks the answer resp (body got) to req (body raw).
func (c *conformance) validate(req *http.Request, raw []byte, resp *http.Response, got []byte) {
	c.t.Helper()
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		c.t.Errorf("%s %s: no operation of the description: %v", req.Method, req.URL.Path, err)
		return
	}
	req.Body = io.NopCloser(bytes.NewReader(raw))
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}}
	if resp.StatusCode < 300 {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			c.t.Errorf("%s %s: the request that succeeded does not match the description: %v", req.Method, req.URL.Path, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	out.SetBodyBytes(got)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		c.t.Errorf("%s %s: the %d answer does not match the description: %v\nanswer: %.2000s", req.Method, req.URL.Path, resp.StatusCode, err, got)
		return
	}
	id := route.Operation.OperationID
	if c.seen[id] == nil {
		c.seen[id] = map[int]bool{}
	}
	c.seen[id][resp.StatusCode] = true
}

// must calls and fails the test unless the answer has status want; it
// returns the answer decoded as an object.
func (c *conformance) must(want int, token, method, path string, body any, headers ...string) map[string]any {
	c.t.Helper()
	status, got := c.call(token, method, path, body, headers...)
	if status != want {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, status, want, got)
	}
	var out map[string]any
	_ = json.Unmarshal(got, &out)
	return out
}

// login logs in and returns the Cookie header's value.
func (c *conformance) login(username, password string) string {
	c.t.Helper()
	raw, _ := json.Marshal(map[string]any{"username": username, "password": password})
	req, _ := http.NewRequest("POST", c.base+"/v1/session", bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	c.validate(req, raw, resp, got)
	for _, ck := range resp.Cookies() {
		if ck.Name == wshttp.SessionCookie {
			return ck.Name + "=" + ck.Value
		}
	}
	c.t.Fatalf("no session cookie: status %d", resp.StatusCode)
	return ""
}

// step records a step of case id that happened at at (now when zero).
func (c *conformance) step(token, id, step string, body map[string]any, at time.Time) map[string]any {
	c.t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	if !at.IsZero() {
		body["occurred_at"] = at.UTC().Format(time.RFC3339)
	}
	return c.must(http.StatusOK, token, "POST", "/v1/cases/"+id+"/"+step, body)
}

func (c *conformance) token(body map[string]any) string {
	c.t.Helper()
	return c.must(http.StatusCreated, adminToken, "POST", "/v1/tokens", body)["token"].(string)
}

// residentID completes a resident ID number from its first 17 digits.
func residentID(t *testing.T, first17 string) string {
	t.Helper()
	ch, err := domain.ResidentIDCheckChar(first17)
	if err != nil {
		t.Fatal(err)
	}
	return first17 + string(ch)
}

// TestEveryAnswerMatchesTheDescription drives every route of the API
// through cases at each state (a whole journey through every step, a
// minor transferred and picked up, a refusal, an absconding, a death, an
// erasure), boards with alerts, tokens, the log, the audit routes and the
// errors 400, 401, 403, 404, 409, 412, 413, 415 and 422, and validates
// every answer against /openapi.json. It fails when an operation of the
// description has no validated successful answer, when a non-public one
// has no validated 401, or when one of those error statuses was never
// answered and validated. GET /v1/cases/{id} answered "bed": null where
// the description said an object.
func TestEveryAnswerMatchesTheDescription(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a whole server")
	}
	c := startConformance(t)
	now := time.Now()
	day := 24 * time.Hour

	// Public routes.
	c.must(200, "", "GET", "/healthz", nil)
	c.must(200, "", "GET", "/readyz", nil)
	c.call("", "GET", "/metrics", nil)
	c.call("", "GET", "/openapi.json", nil)

	// Stations and tokens.
	zones := []map[string]any{{"zone": "adult_male", "beds": 3}, {"zone": "adult_female", "beds": 2}, {"zone": "minors", "beds": 2, "seasonal": 1},
		{"zone": "mother_child", "beds": 1}, {"zone": "care", "beds": 1}, {"zone": "observation", "beds": 1}, {"zone": "isolation", "beds": 1}}
	c.must(201, adminToken, "POST", "/v1/stations", map[string]any{"code": "S01", "name": "城南救助站", "region": "R1", "kind": "station", "zones": zones})
	s02 := c.must(201, adminToken, "POST", "/v1/stations", map[string]any{"code": "S02", "name": "Station S02", "region": "R1", "kind": "regional_center", "zones": zones[:3]})
	c.must(201, adminToken, "POST", "/v1/stations", map[string]any{"code": "S03", "name": "Station S03", "region": "R2", "kind": "minors_center", "zones": zones[2:3]})
	c.must(200, adminToken, "POST", "/v1/stations/S02/zones", map[string]any{"zones": zones[:4]}, "If-Match", `"`+strconv.Itoa(int(s02["version"].(float64)))+`"`)
	staff1 := c.token(map[string]any{"role": "staff", "station": "S01", "name": "front desk"})
	staff2 := c.token(map[string]any{"role": "staff", "station": "S02"})
	coord1 := c.token(map[string]any{"role": "coordinator", "region": "R1"})
	inspAll := c.token(map[string]any{"role": "inspector"})
	spare := c.must(201, adminToken, "POST", "/v1/tokens", map[string]any{"role": "inspector", "region": "R2"})["id"].(string)
	c.must(200, adminToken, "DELETE", "/v1/tokens/"+spare, nil)
	c.must(200, adminToken, "GET", "/v1/tokens", nil)
	c.must(200, staff1, "GET", "/v1/stations", nil)
	c.must(200, staff1, "GET", "/v1/stations/S01", nil)

	// Accounts and sessions.
	acc := c.must(201, adminToken, "POST", "/v1/accounts", map[string]any{"username": "li.wei", "name": "李伟", "role": "staff", "station": "S01"})
	accID := acc["id"].(string)
	c.must(200, adminToken, "GET", "/v1/accounts", nil)
	acc = c.must(200, adminToken, "POST", "/v1/accounts/"+accID+"/reset", nil)
	c.must(204, "", "POST", "/v1/accounts/activate", map[string]any{"username": "li.wei",
		"activation_code": acc["activation_code"], "password": "trout lake in spring"})
	cookie := c.login("li.wei", "trout lake in spring")
	c.must(200, "", "GET", "/v1/session", nil, "Cookie", cookie)
	offer := c.must(200, "", "POST", "/v1/session/totp", nil, "Cookie", cookie)
	c.call("", "POST", "/v1/session/totp/confirm", map[string]any{"otp": "000000"}, "Cookie", cookie)
	otp, err := totp.GenerateCode(offer["secret"].(string), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c.must(200, "", "POST", "/v1/session/totp/confirm", map[string]any{"otp": otp}, "Cookie", cookie)
	c.must(200, "", "GET", "/v1/actors/"+accID, nil, "Cookie", cookie)
	c.must(204, "", "DELETE", "/v1/session", nil, "Cookie", cookie)
	c.must(200, adminToken, "DELETE", "/v1/accounts/"+accID, nil)

	// A: an adult man's whole journey, from an intake 100 days ago through
	// every step of care to a voluntary leave and the closure, a day ago.
	t0 := now.Add(-100 * day)
	idA := residentID(t, "11010519800506123")
	intakeA := map[string]any{"station": "S01", "occurred_at": t0.UTC().Format(time.RFC3339), "notes": "arrived at night\nasleep",
		"referral": map[string]any{"source": "police_escort", "form_no": "JX-0042", "referred_by": "城南派出所", "found_at": "人民路桥下"},
		"person": map[string]any{"name": "张三", "sex": "male", "birth_date": "1980-05-06", "id_type": "resident_id", "id_number": idA,
			"hukou_place": "河南省周口市", "dialect": "河南话", "can_state_identity": true,
			"contacts": []map[string]any{{"name": "张丽", "relationship": "sister", "phone": "13800138000"}}},
		"inspection": map[string]any{"injuries": true, "notes": "bruise"}}
	a := c.must(201, staff1, "POST", "/v1/cases", intakeA)["id"].(string)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	c.must(200, staff1, "GET", "/v1/cases/"+a, nil) // no bed yet: "bed": null
	c.step(staff1, a, "eligibility", map[string]any{"eligible": true}, at(time.Hour))
	c.step(staff1, a, "security-check", map[string]any{"checked_by": map[string]any{"staff_id": "G-7", "sex": "male"}, "items_to_police": []string{"knife"}}, at(2*time.Hour))
	c.step(staff1, a, "belongings", map[string]any{"deposited": []map[string]any{{"item": "phone", "qty": 1}, {"item": "cash", "qty": 35}}}, at(3*time.Hour))
	c.step(staff1, a, "bed", map[string]any{"zone": "adult_male"}, at(4*time.Hour))
	c.step(staff1, a, "identity-query", map[string]any{"channel": "police", "result": "pending", "reference": "Q-1"}, at(5*time.Hour))
	c.step(staff1, a, "family-search-notice", map[string]any{"channel": "national platform", "reference": "N-1"}, at(6*time.Hour))
	c.step(staff1, a, "dna-request", map[string]any{"sample_ref": "D-1", "lab": "市公安局"}, at(7*time.Hour))
	c.step(staff1, a, "dna-result", map[string]any{"matched": false, "reference": "D-1R"}, at(8*time.Hour))
	c.step(staff1, a, "relatives-contacted", map[string]any{"relationship": "sister", "channel": "phone", "outcome": "no answer"}, at(9*time.Hour))
	c.step(staff1, a, "medical-referral", map[string]any{"hospital": "第一人民医院", "reason": "check-up"}, at(10*time.Hour))
	c.step(staff1, a, "hospital-admission", map[string]any{}, at(11*time.Hour))
	c.step(staff1, a, "hospital-discharge", map[string]any{}, at(12*time.Hour))
	c.step(staff1, a, "medical-return", map[string]any{}, at(13*time.Hour))
	c.step(staff1, a, "bed", map[string]any{"zone": "adult_male", "bed": "adult_male-2"}, at(14*time.Hour))
	c.step(staff1, a, "extension", map[string]any{"until": at(30 * day).UTC().Format(time.RFC3339), "approved_by": "站长", "reason": "family search"}, at(9*day))
	c.step(staff1, a, "long-stay", map[string]any{"kind": "in_station"}, at(11*day))
	c.step(staff1, a, "police-report", map[string]any{"reason": "dangerous_items", "report_no": "P-9", "agency": "城南派出所"}, at(12*day))
	c.step(staff1, a, "settlement", map[string]any{"stage": "applied", "reference": "L-1"}, at(95*day))
	c.step(staff1, a, "bed-release", map[string]any{}, at(96*day))
	c.step(staff1, a, "identity-verified", map[string]any{"method": "documents", "name": "张三", "reference": "V-1"}, at(97*day))
	c.step(staff1, a, "belongings", map[string]any{"returned": []string{"phone", "cash"}}, at(98*day))
	hist := c.must(200, staff1, "GET", "/v1/cases/"+a+"/history", nil)
	intakeEvent := hist["events"].([]any)[0].(map[string]any)["event_id"].(string)
	c.step(staff1, a, "correction", map[string]any{"event_id": intakeEvent, "field": "referral.found_at", "old": "人民路桥下", "new": "人民路桥东", "reason": "typo"}, time.Time{})
	c.step(staff1, a, "voluntary-leave", map[string]any{"declaration_ref": "DL-1", "cash_yuan": 10, "receipt_ref": "R-1"}, at(99*day))
	c.step(staff1, a, "closure", map[string]any{}, at(99*day+time.Hour))
	c.must(200, staff1, "GET", "/v1/cases/"+a, nil)
	c.must(200, inspAll, "GET", "/v1/cases/"+a+"/history?version=3", nil)
	c.must(200, inspAll, "GET", "/v1/cases/"+a+"/history?as_of="+at(5*day).UTC().Format(time.RFC3339), nil)

	// A2: the same person again, still at the station.
	intakeA2 := map[string]any{"station": "S01", "referral": map[string]any{"source": "walk_in"},
		"person": map[string]any{"name": "张三", "sex": "male", "id_number": idA}, "inspection": map[string]any{"suspected_infectious": true}}
	a2 := c.must(201, staff1, "POST", "/v1/cases", intakeA2)["id"].(string)
	c.step(staff1, a2, "eligibility", map[string]any{"assist_first": true}, time.Time{})
	c.step(staff1, a2, "security-check", map[string]any{"checked_by": map[string]any{"staff_id": "G-7", "sex": "male"}}, time.Time{})
	c.step(staff1, a2, "bed", map[string]any{"zone": "isolation"}, time.Time{})
	c.step(staff1, a2, "public-notice", map[string]any{"shows": []string{"sex", "age", "clothing"}, "clothing": "蓝色外套"}, time.Time{})
	c.step(staff1, a2, "public-notice-withdrawal", map[string]any{}, time.Time{})
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, image.NewGray(image.Rect(0, 0, 8, 8)), nil); err != nil {
		t.Fatal(err)
	}
	photo := c.must(201, staff1, "POST", "/v1/cases/"+a2+"/photos", jpg.String(), "Content-Type", "image/jpeg")
	c.step(staff1, a2, "public-notice", map[string]any{"shows": []string{"sex", "found_date", "contact", "photo"},
		"contact": "0311-12345", "photo_id": photo["photo_id"]}, time.Time{})
	notices := c.must(200, "", "GET", "/v1/public/notices?sex=male&limit=5", nil)
	notice := notices["items"].([]any)[0].(map[string]any)["id"].(string)
	c.must(200, "", "GET", "/v1/public/notices/"+notice, nil)
	c.must(200, "", "GET", "/v1/public/notices/"+notice+"/photo", nil)
	c.must(201, "", "POST", "/v1/public/notices/"+notice+"/leads", map[string]any{"name": "张丽", "phone": "13800138000",
		"relationship": "sister", "message": "可能是我哥哥"})
	c.must(200, staff1, "GET", "/v1/cases/"+a2+"/person", nil)
	c.must(200, staff1, "POST", "/v1/people/matches", map[string]any{"person": map[string]any{"sex": "male", "id_number": idA}})
	c.must(200, coord1, "GET", "/v1/repeat-visitors?region=R1", nil)

	// B: a boy of ten, in guardianship, transferred to S02 (declined once),
	// handed over and picked up by his father.
	b := c.must(201, staff1, "POST", "/v1/cases", map[string]any{"station": "S01", "referral": map[string]any{"source": "public_report"},
		"person": map[string]any{"sex": "male", "estimated_age": 10, "can_state_identity": false}})["id"].(string)
	c.step(staff1, b, "eligibility", map[string]any{"eligible": true}, time.Time{})
	c.step(staff1, b, "guardianship", map[string]any{"basis": "未成年人保护法 第九十二条"}, time.Time{})
	c.step(staff1, b, "security-check", map[string]any{"checked_by": map[string]any{"staff_id": "G-8", "sex": "female"}}, time.Time{})
	c.step(staff1, b, "bed", map[string]any{"zone": "minors"}, time.Time{})
	c.step(staff1, b, "transfer-request", map[string]any{"to_station": "S02", "reason": "minors' care"}, time.Time{})
	c.step(staff2, b, "transfer-decline", map[string]any{"reason": "full"}, time.Time{})
	c.step(coord1, b, "transfer-request", map[string]any{"to_station": "S02", "reason": "space now"}, time.Time{})
	c.step(staff2, b, "transfer-accept", map[string]any{}, time.Time{})
	c.step(staff1, b, "escort-departure", map[string]any{"escorts": []string{"王五"}, "transport": "van"}, time.Time{})
	c.must(200, coord1, "GET", "/v1/regions/R1/transfers", nil)
	c.step(staff2, b, "handover", map[string]any{"received_by": "李四"}, time.Time{})
	status, _ := c.call(staff2, "POST", "/v1/cases/"+b+"/voluntary-leave", map[string]any{"declaration_ref": "X"})
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("a boy of ten left voluntarily: %d", status)
	}
	c.step(staff2, b, "pickup", map[string]any{"collector": map[string]any{"name": "父亲", "id_number": residentID(t, "11010519750101123"), "relationship": "father"}}, time.Time{})

	// T: a transfer left in flight for the board; C terminated, D
	// absconded, E died, F escorted home, G refused.
	intake := func(sex string) string {
		return c.must(201, staff1, "POST", "/v1/cases", map[string]any{"station": "S01", "referral": map[string]any{"source": "outreach"},
			"person": map[string]any{"name": "某人", "sex": sex, "birth_date": "1990-01-01"}})["id"].(string)
	}
	tr := intake("female")
	c.step(staff1, tr, "transfer-request", map[string]any{"to_station": "S03", "reason": "nearer home"}, time.Time{})
	cc := intake("male")
	c.step(staff1, cc, "termination", map[string]any{"reason": "no longer eligible"}, time.Time{})
	d := intake("male")
	c.step(staff1, d, "absconding", map[string]any{"last_seen": "gate, 3 pm"}, time.Time{})
	e := intake("female")
	c.step(staff1, e, "death", map[string]any{"place": "第一人民医院", "certified_by": "hospital", "police_notified": true}, time.Time{})
	c.step(staff1, e, "death", map[string]any{"relatives_notified": true}, time.Time{})
	f := intake("male")
	c.step(staff1, f, "escorted-return", map[string]any{"destination": "河南省周口市", "escorts": []string{"王五"}}, time.Time{})
	g := intake("male")
	c.step(staff1, g, "eligibility", map[string]any{"eligible": false, "reason": "has a home nearby", "notice_no": "BJ-1"}, time.Time{})

	// Boards, listings and statistics.
	c.must(200, staff1, "GET", "/v1/stations/S01/occupancy", nil)
	c.must(200, staff1, "GET", "/v1/safety", nil)
	c.must(200, coord1, "GET", "/v1/safety?region=R1", nil)
	c.must(200, staff1, "GET", "/v1/worklist", nil)
	c.must(200, coord1, "GET", "/v1/worklist?region=R1&at="+t0.Add(48*time.Hour).UTC().Format(time.RFC3339), nil)
	c.must(200, staff1, "GET", "/v1/cases?limit=5", nil)
	c.must(200, coord1, "GET", "/v1/cases?status=exited", nil)
	c.must(200, coord1, "GET", "/v1/stats?region=R1&from="+t0.UTC().Format(time.RFC3339), nil)
	c.must(200, adminToken, "GET", "/v1/stats", nil)
	month := time.Now().In(domain.CivilZone).Format("2006-01")
	c.must(200, staff1, "GET", "/v1/reports/"+month, nil)
	c.must(200, coord1, "GET", "/v1/reports/"+month+"?region=R1&format=csv&lang=en", nil)
	// The description says the workbook is a file; the validator reads
	// its body as one.
	openapi3filter.RegisterBodyDecoder("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", openapi3filter.FileBodyDecoder)
	c.must(200, adminToken, "GET", "/v1/reports/"+month, nil, "Accept", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	c.must(200, inspAll, "GET", "/v1/reports/"+month+"?as_of="+time.Now().UTC().Format(time.RFC3339)+"&known=true", nil)
	c.must(400, staff1, "GET", "/v1/reports/2026-13", nil)
	c.must(403, staff1, "GET", "/v1/reports/"+month+"?station=S02", nil)
	openapi3filter.RegisterBodyDecoder("application/zip", openapi3filter.FileBodyDecoder)
	today := time.Now().In(domain.CivilZone).Format(time.DateOnly)
	yearAgo := time.Now().In(domain.CivilZone).AddDate(-1, 0, 0).Format(time.DateOnly)
	c.must(200, inspAll, "GET", "/v1/exports?from="+yearAgo+"&to="+today, nil)
	c.must(200, adminToken, "GET", "/v1/exports?from="+yearAgo+"&to="+today+"&station=S01&personal=true", nil)
	c.must(403, inspAll, "GET", "/v1/exports?from="+yearAgo+"&to="+today+"&personal=true", nil)
	_, exported := c.call(adminToken, "GET", "/v1/exports?from="+yearAgo+"&to="+today+"&personal=true", nil)
	c.must(200, adminToken, "POST", "/v1/imports?dry_run=true", string(exported), "Content-Type", "application/zip")

	// The log, its audit and who read what.
	c.must(200, inspAll, "GET", "/v1/events?limit=50", nil)
	c.stream(inspAll)
	head := c.must(200, inspAll, "GET", "/v1/audit/checkpoint", nil)
	size := strconv.FormatInt(int64(head["size"].(float64)), 10)
	c.must(200, inspAll, "GET", "/v1/audit/proof?position=3&size="+size, nil)
	c.must(200, inspAll, "GET", "/v1/cases/"+a+"/export", nil)
	c.must(200, adminToken, "GET", "/v1/access-log?limit=20", nil)
	c.must(200, adminToken, "GET", "/v1/access-log?case="+a, nil)

	// Privacy: A is due for erasure; C's person is erased, and the erased
	// case still answers as described.
	c.must(200, adminToken, "GET", "/v1/people/due-for-erasure", nil)
	c.must(200, adminToken, "POST", "/v1/people/"+cc+"/erase", map[string]any{"reason": "subject_request"})
	c.must(200, adminToken, "GET", "/v1/cases/"+cc, nil)
	c.must(200, inspAll, "GET", "/v1/cases/"+cc+"/history", nil)
	c.must(200, adminToken, "GET", "/v1/cases?station=S01", nil)
	c.must(200, adminToken, "POST", "/v1/admin/backup", nil)

	// Errors, each a problem document.
	errs := []struct {
		name         string
		want         int
		token        string
		method, path string
		body         any
		headers      []string
	}{
		{"a million-character name", 400, staff1, "POST", "/v1/cases", rawIntake(`"`+strings.Repeat("a", 1_000_000)+`"`, `""`), nil},
		{"a repeated member", 400, staff1, "POST", "/v1/cases/" + a2 + "/eligibility", `{"eligible":false,"eligible":true}`, nil},
		{"a bad query parameter", 400, staff1, "GET", "/v1/cases?limit=x", nil, nil},
		{"another station's case", 403, staff2, "GET", "/v1/cases/" + a2, nil, nil},
		{"staff registering a station", 403, staff1, "POST", "/v1/stations", map[string]any{"code": "S09", "name": "n", "region": "R1", "kind": "station", "zones": zones[:1]}, nil},
		{"no such case", 404, staff1, "GET", "/v1/cases/" + uuid.NewString(), nil, nil},
		{"no such station", 404, staff1, "GET", "/v1/stations/S99", nil, nil},
		{"a station registered twice", 409, adminToken, "POST", "/v1/stations", map[string]any{"code": "S01", "name": "n", "region": "R1", "kind": "station", "zones": zones[:1]}, nil},
		{"a stale version", 412, staff1, "POST", "/v1/cases/" + a2 + "/eligibility", map[string]any{"eligible": true}, []string{"If-Match", `"1"`}},
		{"a body over 1 MiB", 413, staff1, "POST", "/v1/cases", `{"notes":"` + strings.Repeat("n", 2<<20) + `"}`, nil},
		{"a body that is not JSON", 415, staff1, "POST", "/v1/cases/" + a2 + "/eligibility", nil, []string{"Content-Type", "text/plain"}},
		{"a rule broken", 422, staff1, "POST", "/v1/cases/" + a2 + "/bed", map[string]any{"zone": "minors"}, nil},
		{"a closed case", 422, staff1, "POST", "/v1/cases/" + a + "/eligibility", map[string]any{"eligible": true}, nil},
	}
	for _, x := range errs {
		body := x.body
		if x.want == 415 {
			body = "eligible=true"
		}
		status, got := c.call(x.token, x.method, x.path, body, x.headers...)
		if status != x.want {
			t.Errorf("%s: status %d, want %d: %.300s", x.name, status, x.want, got)
		}
	}

	// Every route without a token.
	for path, item := range c.doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.Security != nil && len(*op.Security) == 0 {
				continue
			}
			p := strings.NewReplacer("{id}", uuid.NewString(), "{code}", "S01", "{region}", "R1").Replace(path)
			if status, got := c.call("", method, p, nil); status != http.StatusUnauthorized {
				t.Errorf("%s %s without a token: %d %.200s", method, path, status, got)
			}
		}
	}

	// Every operation has a validated successful answer, every operation
	// that needs a token a validated 401, and each error status was seen.
	var missing []string
	errorsSeen := map[int]bool{}
	for path, item := range c.doc.Paths.Map() {
		for method, op := range item.Operations() {
			seen := c.seen[op.OperationID]
			ok := false
			for st := range seen {
				if st < 300 {
					ok = true
				}
				errorsSeen[st] = true
			}
			if !ok {
				missing = append(missing, method+" "+path+" (no successful answer)")
			}
			public := op.Security != nil && len(*op.Security) == 0
			if !public && !seen[http.StatusUnauthorized] {
				missing = append(missing, method+" "+path+" (no 401)")
			}
		}
	}
	for _, st := range []int{400, 401, 403, 404, 409, 412, 413, 415, 422} {
		if !errorsSeen[st] {
			missing = append(missing, "status "+strconv.Itoa(st)+" never answered and validated")
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Error(m)
	}
	if len(c.seen) < 60 {
		t.Fatalf("only %d operations were validated", len(c.seen))
	}
}

// stream reads the live log until the stream says it caught up, then
// validates what it read.
func (c *conformance) stream(token string) {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+"/v1/events/stream", nil)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var got bytes.Buffer
	r := bufio.NewReader(resp.Body)
	for resp.StatusCode == http.StatusOK {
		line, err := r.ReadString('\n')
		got.WriteString(line)
		if err != nil {
			c.t.Fatalf("reading the stream: %v", err)
		}
		if line == "event: caught_up\n" {
			break
		}
	}
	if !slices.Contains(strings.Split(got.String(), "\n"), "event: case.intake_registered") {
		c.t.Errorf("the stream showed no intake: %.500s", got.String())
	}
	c.validate(req, nil, resp, got.Bytes())
}
