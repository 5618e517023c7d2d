package console_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"waystation/domain"
	"waystation/eventstore/audit"
)

// clock is a test clock the whole server reads: steps are recorded at
// the moments a test sets.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// inspector is a logged-in browser of an inspector account (of region,
// or of every region when it is empty), enrolled in two-factor with codes
// read from clk.
func (e *env) inspector(clk *clock, username, region string) *browser {
	e.t.Helper()
	return e.person(username, "王督查", "inspector", "", region, clk.Now())
}

// day0 is 2 December 2026, 09:00 in Beijing: the intake of the replayed
// case.
var day0 = time.Date(2026, 12, 2, 9, 0, 0, 0, domain.CivilZone)

// replayedCase records, as staff would, an intake at 09:00, the
// screening and the security check at 09:30, a bed at 10:00 and, at 12:00, the person's voluntary leave that happened at
// 11:00 (paperwork caught up late). It returns the case ID.
func replayedCase(e *env, clk *clock, station string) string {
	e.t.Helper()
	clk.set(day0)
	var opened struct {
		ID string `json:"id"`
	}
	e.api("POST", "/v1/cases", map[string]any{
		"station": station, "occurred_at": day0.Format(time.RFC3339), "referral": map[string]any{"source": "walk_in"},
		"person": map[string]any{"name": "张三", "sex": "male", "birth_date": "1980-05-06"},
	}, 201, &opened)
	clk.set(day0.Add(30 * time.Minute))
	e.api("POST", "/v1/cases/"+opened.ID+"/eligibility", map[string]any{"eligible": true}, 200, nil)
	e.api("POST", "/v1/cases/"+opened.ID+"/security-check",
		map[string]any{"checked_by": map[string]any{"staff_id": "S01-007", "sex": "male"}}, 200, nil)
	clk.set(day0.Add(time.Hour))
	e.api("POST", "/v1/cases/"+opened.ID+"/bed", map[string]any{"zone": "adult_male"}, 200, nil)
	clk.set(day0.Add(3 * time.Hour))
	e.api("POST", "/v1/cases/"+opened.ID+"/voluntary-leave", map[string]any{
		"occurred_at": day0.Add(2 * time.Hour).Format(time.RFC3339), "declaration_ref": "SM-2026-118",
	}, 200, nil)
	clk.set(day0.Add(3*time.Hour + time.Minute))
	return opened.ID
}

// halfPastEleven is the moment the two meanings of as-of differ: the
// person had left (at 11:00), and nobody had recorded it yet (at 12:00).
const halfPastEleven = "2026-12-02T11:30"

func TestAnInspectorReplaysACaseInBothMeaningsOfAsOf(t *testing.T) {
	// Given a case whose voluntary leave at 11:00 was recorded at 12:00
	clk := &clock{}
	e := newEnvWith(t, envOptions{now: clk.Now})
	e.station("S01", "R1")
	id := replayedCase(e, clk, "S01")
	b := e.inspector(clk, "wang.jd", "R1")

	// When the inspector asks what was true at 11:30
	truth := b.get("/inspect/cases/" + id + "?at=" + halfPastEleven)

	// Then the person had left, the bed was free, and the page says the
	// leave was recorded after that moment
	if truth.Status != 200 {
		t.Fatalf("status %d: %s", truth.Status, truth.Body)
	}
	mustContain(t, truth, "2026年12月2日 11:30 当时的实际情况", `st-exited`, "自行离站", "在该时刻之后才录入")

	// When they ask what staff could have known at 11:30
	known := b.get("/inspect/cases/" + id + "?at=" + halfPastEleven + "&known=true")

	// Then the person was still in their bed, and the leave is not on the
	// timeline
	mustContain(t, known, "当时工作人员所能掌握的情况", `st-in_station`, "adult_male-1")
	mustNotContain(t, known, `st-exited`, "event.case.voluntary_left", "在该时刻之后才录入")
	if strings.Count(known.Body, `<li id="e-`) >= strings.Count(truth.Body, `<li id="e-`) {
		t.Errorf("the timeline of what staff knew is not shorter than what was true")
	}

	// When they compare the two meanings at that moment
	cmp := b.get("/inspect/cases/" + id + "?at=" + halfPastEleven + "&cmp_at=" + halfPastEleven + "&cmp_known=true")

	// Then the fields that differ are listed with both values, labelled
	mustContain(t, cmp, `<code class="rule">status</code>`, `<code class="rule">exit_type</code>`,
		`<code class="rule">bed.bed</code>`, "案件状态", "<mark>已离站</mark>", "<mark>在站</mark>", `dd class="changed"`)
	mustNotContain(t, cmp, `<code class="rule">person.name</code>`)

	// And the slider shows the case after its first record: registered,
	// no bed
	first := b.get("/inspect/cases/" + id + "?version=1")
	mustContain(t, first, "第 1 条案件记录录入之后的情况", `st-received`, `type="range"`, `name="version"`,
		`max="`)
	before := b.get("/inspect/cases/" + id + "?version=0")
	mustContain(t, before, "登记之前，尚无该案件的记录")
	early := b.get("/inspect/cases/" + id + "?at=2026-12-02T08:00&known=true")
	mustContain(t, early, "登记之前，尚无该案件的记录", "该时刻之前没有记录")

	// And in English the meaning is said as plainly
	b.lang = "en"
	en := b.get("/inspect/cases/" + id + "?at=" + halfPastEleven + "&known=true")
	mustContain(t, en, "Shown: what staff could have known at 2 Dec 2026 11:30")
}

func TestTheBoardsAsOfAMomentSayWhichMeaningTheyShow(t *testing.T) {
	clk := &clock{}
	e := newEnvWith(t, envOptions{now: clk.Now})
	e.station("S01", "R1")
	id := replayedCase(e, clk, "S01")
	b := e.inspector(clk, "wang.jd", "R1")

	truth := b.get("/inspect/boards?station=S01&at=" + halfPastEleven)
	if truth.Status != 200 {
		t.Fatalf("status %d: %s", truth.Status, truth.Body)
	}
	mustContain(t, truth, "2026年12月2日 11:30 当时的实际情况", "床位占用", "安全预警", "成年男性区")
	mustNotContain(t, truth, "/inspect/cases/"+id)

	known := b.get("/inspect/boards?station=S01&at=" + halfPastEleven + "&known=true")
	mustContain(t, known, "当时工作人员所能掌握的情况", "/inspect/cases/"+id, "adult_male-1")

	region := b.get("/inspect/boards?region=R1&at=" + halfPastEleven)
	mustContain(t, region, "区域 R1", "S01")

	start := b.get("/inspect")
	mustContain(t, start, `href="/inspect/boards?region=R1"`, `type="datetime-local"`)

	b.lang = "en"
	en := b.get("/inspect/boards?station=S01&at=" + halfPastEleven + "&known=true")
	mustContain(t, en, "Shown: what staff could have known at 2 Dec 2026 11:30", "Safety alerts", "Beds")
	mustContain(t, b.get("/inspect"), "What the checkpoint proves", "The signature verifies")
}

func TestAnInspectorFindsACaseByItsIDInAPostBody(t *testing.T) {
	clk := &clock{}
	e := newEnvWith(t, envOptions{now: clk.Now})
	e.station("S01", "R1")
	id := replayedCase(e, clk, "S01")
	b := e.inspector(clk, "wang.jd", "R1")

	p := b.post("/inspect", url.Values{"case": {id}})
	if p.URL.Path != "/inspect/cases/"+id || p.Status != 200 {
		t.Fatalf("the lookup ended at %s (status %d)", p.URL, p.Status)
	}
	p = b.post("/inspect", url.Values{"case": {"S09-2026-000001"}})
	if p.Status != http.StatusNotFound {
		t.Fatalf("an unknown case number: status %d", p.Status)
	}
	mustContain(t, p, "没有找到该案件编号", `value="S09-2026-000001"`)
}

func TestTheExportDownloadedFromTheCasePageVerifiesOffline(t *testing.T) {
	// Given a replayed case, and the inspector on its page
	clk := &clock{}
	e := newEnvWith(t, envOptions{now: clk.Now})
	e.station("S01", "R1")
	id := replayedCase(e, clk, "S01")
	b := e.inspector(clk, "wang.jd", "R1")
	p := b.get("/inspect/cases/" + id)
	mustContain(t, p, `action="/inspect/cases/`+id+`/export"`, "waystation verify-export", "--key audit.pub")

	// When they press the download button
	res, err := b.c.Get(e.http.URL + "/inspect/cases/" + id + "/export")
	if err != nil {
		t.Fatal(err)
	}
	bundle, _ := io.ReadAll(res.Body)
	res.Body.Close()

	// Then a file arrives that passes the offline check, with the key the
	// checkpoint shows pinned
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("status %d, Content-Disposition %q: %s", res.StatusCode, res.Header.Get("Content-Disposition"), bundle)
	}
	start := b.get("/inspect")
	mustContain(t, start, "签名核验通过", "日志签名检查点", "检查点证明什么")
	key := regexp.MustCompile(`<code class="secret">([^<]+)</code>`).FindStringSubmatch(start.Body)
	if key == nil {
		t.Fatal("the start page shows no verifier key")
	}
	rep, err := audit.VerifyBundle(bundle, htmlUnescape(key[1]), domain.CaseStream)
	if err != nil {
		t.Fatalf("the downloaded bundle does not verify: %v", err)
	}
	if rep.CaseID.String() != id || rep.FirstVersion != 1 || rep.LastVersion < 3 || !rep.KeyPinned {
		t.Errorf("report %+v", rep)
	}

	// And a byte changed fails the check
	changed := []byte(strings.Replace(string(bundle), "SM-2026-118", "SM-2026-119", 1))
	if _, err := audit.VerifyBundle(changed, "", domain.CaseStream); err == nil {
		t.Error("a changed bundle verifies")
	}
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&#43;", "+", "&#43", "+", "&amp;", "&", "&#39;", "'", "&#34;", `"`).Replace(s)
}

func TestEveryCasePageAnInspectorOpensIsInTheAccessLog(t *testing.T) {
	clk := &clock{}
	e := newEnvWith(t, envOptions{now: clk.Now})
	e.station("S01", "R1")
	first := replayedCase(e, clk, "S01")
	second := replayedCase(e, clk, "S01")
	b := e.inspector(clk, "wang.jd", "R1")
	var accounts struct {
		Items []struct {
			ID       string `json:"id"`
			Username string `json:"username"`
		} `json:"items"`
	}
	e.api("GET", "/v1/accounts", nil, 200, &accounts)
	var reader string
	for _, a := range accounts.Items {
		if a.Username == "wang.jd" {
			reader = a.ID
		}
	}

	for _, id := range []string{first, second} {
		b.get("/inspect/cases/" + id + "?at=" + halfPastEleven + "&known=true")
		var log struct {
			Items []struct {
				Reader string `json:"reader"`
				Role   string `json:"role"`
				Route  string `json:"route"`
			} `json:"items"`
		}
		e.api("GET", "/v1/access-log?case="+id, nil, 200, &log)
		found := false
		for _, it := range log.Items {
			if it.Reader == reader && it.Role == "inspector" && strings.Contains(it.Route, "/history") {
				found = true
			}
		}
		if !found {
			t.Errorf("case %s: the access log has no history read by the inspector %s: %+v", id, reader, log.Items)
		}
	}
}

func TestStaffAreRefusedWhatTheAPIRefusesThem(t *testing.T) {
	clk := &clock{}
	e := newEnvWith(t, envOptions{now: clk.Now})
	e.station("S01", "R1")
	e.station("S02", "R2")
	id := replayedCase(e, clk, "S01")
	other := replayedCase(e, clk, "S02")
	staff := e.staff("li.wei", "S01")

	for _, path := range []string{
		"/inspect",                         // the checkpoint is for inspectors and admins
		"/inspect/cases/" + id + "/export", // so is the export
		"/inspect/cases/" + other + "?at=" + halfPastEleven, // another station's case
		"/inspect/boards?station=S02&at=" + halfPastEleven,  // another station's boards
	} {
		p := staff.get(path)
		if p.Status != http.StatusForbidden {
			t.Errorf("staff at %s: status %d, want 403", path, p.Status)
		}
	}

	// And an inspector of another region is refused this region's case
	b := e.inspector(clk, "zhao.jd", "R2")
	if p := b.get("/inspect/cases/" + id); p.Status != http.StatusForbidden {
		t.Errorf("an inspector of R2 opened a case of R1: status %d", p.Status)
	}
	if p := b.get("/inspect/cases/" + other + "?at=" + halfPastEleven); p.Status != 200 {
		t.Errorf("an inspector of R2 on a case of R2: status %d: %s", p.Status, p.Body)
	}
}
