package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// admin is a logged-in browser of an admin account, its two-factor
// enrolled through the console's /enrol, as every admin must first.
func (e *env) admin(username string) *browser {
	e.t.Helper()
	return e.person(username, "王芳", "admin", "", "", time.Now())
}

// refused checks that p is the API's refusal of a non-admin.
func refused(t *testing.T, p page) {
	t.Helper()
	if p.Status != http.StatusForbidden {
		t.Fatalf("%s: status %d, want 403:\n%.2000s", p.URL, p.Status, p.Body)
	}
	mustContain(t, p, `class="refusal"`, "forbidden")
}

func TestAnAdminRegistersAStationAndChangesItsZones(t *testing.T) {
	// Given an admin
	e := newEnv(t)
	e.station("S01", "R1")
	b := e.admin("wang.fang")

	// When they open the stations page
	p := b.get("/admin/stations")
	mustContain(t, p, "救助站与分区", "救助站 S01", "成年男性区 3 张", `for="f-code"`, `name="zones.6.beds"`)

	// And register a station with two zones, one with seasonal beds
	p = b.post("/admin/stations", url.Values{"idempotency_key": {"k1"}, "code": {"S02"}, "name": {"城东救助站"},
		"region": {"R1"}, "kind": {"station"}, "zones.0.zone": {"adult_male"}, "zones.0.beds": {"4"},
		"zones.0.seasonal": {"2"}, "zones.1.zone": {"minors"}, "zones.1.beds": {"2"}})

	// Then the list shows it with its beds
	if p.URL.Path != "/admin/stations" {
		t.Fatalf("after the registration: %s (status %d)\n%s", p.URL, p.Status, p.Body)
	}
	mustContain(t, p, "救助站 S02 已登记", "城东救助站", "成年男性区 4 张 （季节性 2 张）", "未成年人区 2 张")

	// When the form is sent with letters for a bed count, the field says so
	p = b.post("/admin/stations", url.Values{"code": {"S03"}, "name": {"x"}, "region": {"R1"},
		"kind": {"station"}, "zones.0.zone": {"adult_male"}, "zones.0.beds": {"four"}})
	if p.Status != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", p.Status)
	}
	mustContain(t, p, `aria-invalid="true" aria-describedby="f-zones-0-beds-err"`)

	// When they change S02's zones: the form holds the zones it has
	p = b.get("/admin/stations/S02/zones")
	mustContain(t, p, `name="zones.0.beds" value="4"`, `name="zones.0.seasonal" value="2"`, `value="minors" selected`)
	p = b.post("/admin/stations/S02/zones", url.Values{"zones.0.zone": {"adult_male"}, "zones.0.beds": {"6"},
		"zones.1.zone": {"adult_female"}, "zones.1.beds": {"3"}})
	mustContain(t, p, "救助站 S02 的分区与床位已调整", "成年男性区 6 张", "成年女性区 3 张")
	mustNotContain(t, b.get("/admin/stations/S02/zones"), `value="minors" selected`)

	// And in English
	b.lang = "en"
	p = b.get("/admin/stations")
	mustContain(t, p, "Stations and zones", "Register a station", "6 beds")
}

func TestAnOccupiedBedCannotBeRemovedAndTheFormSaysWhy(t *testing.T) {
	e := newEnv(t)
	e.station("S01", "R1")
	staff := e.staff("li.wei", "S01")
	p := staff.post("/cases/new", intakeForm("save"))
	id := caseIDOf(t, p)
	e.api("POST", "/v1/cases/"+id+"/eligibility", map[string]any{"eligible": true}, 200, nil)
	e.api("POST", "/v1/cases/"+id+"/security-check",
		map[string]any{"checked_by": map[string]any{"staff_id": "G-7", "sex": "male"}}, 200, nil)
	e.api("POST", "/v1/cases/"+id+"/bed", map[string]any{"zone": "adult_male"}, 200, nil)
	b := e.admin("wang.fang")
	p = b.post("/admin/stations/S01/zones", url.Values{"zones.0.zone": {"adult_female"}, "zones.0.beds": {"2"}})
	if p.Status != http.StatusUnprocessableEntity && p.Status != http.StatusConflict {
		t.Fatalf("status %d, want a refusal:\n%s", p.Status, p.Body)
	}
	mustContain(t, p, `class="refusal"`, "bed_occupied")
}

func TestStaffAreRefusedTheAdminPages(t *testing.T) {
	e := newEnv(t)
	e.station("S01", "R1")
	b := e.staff("li.wei", "S01")
	for _, path := range []string{"/admin", "/admin/stations", "/admin/stations/S01/zones"} {
		refused(t, b.get(path))
	}
	p := b.post("/admin/stations", url.Values{"code": {"S09"}, "name": {"x"}, "region": {"R1"}, "kind": {"station"},
		"zones.0.zone": {"adult_male"}, "zones.0.beds": {"1"}})
	if p.Status != http.StatusForbidden {
		t.Fatalf("staff registered a station: status %d", p.Status)
	}
	if strings.Contains(b.get("/").Body, `href="/admin"`) {
		t.Error("staff are shown the way to the admin pages")
	}
}

var codeShown = regexp.MustCompile(`id="activation-code">([^<]+)<`)

// shownCode reads the activation code an answer page shows.
func shownCode(t *testing.T, p page) string {
	t.Helper()
	m := codeShown.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("%s (status %d) shows no activation code:\n%s", p.URL, p.Status, p.Body)
	}
	return m[1]
}

var accountRow = regexp.MustCompile(`action="/admin/accounts/(acc_[0-9a-f]+)/disable"`)

func TestAnAdminCreatesAnAccountAndThePersonActivatesItAndLogsIn(t *testing.T) {
	// Given an admin and a station
	e := newEnv(t)
	e.station("S01", "R1")
	b := e.admin("wang.fang")

	// When they create a staff account at S01
	p := b.get("/admin/accounts")
	mustContain(t, p, "账号管理", `<code>wang.fang</code>`, `for="f-username"`, `<option value="S01">`)
	p = b.post("/admin/accounts", url.Values{"username": {"zhao.min"}, "name": {"赵敏"}, "role": {"staff"},
		"station": {"S01"}})

	// Then the answer shows the activation code once, how to hand it over
	// and the activation address
	mustContain(t, p, "账号 zhao.min 已创建", "只在此显示这一次", "/activate</code>", "赵敏")
	if p.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("the code's page may be cached: %q", p.Header.Get("Cache-Control"))
	}
	code := shownCode(t, p)
	list := b.get("/admin/accounts")
	mustContain(t, list, "zhao.min", "待激活")
	mustNotContain(t, list, code)

	// When the person activates the account in another browser and logs in
	person := e.browser()
	mustContain(t, person.activate("zhao.min", code, "quiet river morning"), "账号已激活")
	p = person.login("zhao.min", "quiet river morning")
	if p.Status != 200 || p.URL.Path != "/" {
		t.Fatalf("the new person's login: status %d at %s", p.Status, p.URL)
	}
	mustContain(t, p, "今日看板", "赵敏")
	mustContain(t, b.get("/admin/accounts"), "已启用")

	// When the admin resets the account: first asked, then a new code
	m := accountRow.FindAllStringSubmatch(b.get("/admin/accounts").Body, -1)
	var id string
	for _, r := range m {
		if r[1] != "" {
			id = r[1]
		}
	}
	p = b.post("/admin/accounts/"+id+"/reset", url.Values{})
	mustContain(t, p, "重置账号 zhao.min？", `name="confirm" value="yes"`)
	p = b.post("/admin/accounts/"+id+"/reset", url.Values{"confirm": {"yes"}})
	mustContain(t, p, "账号 zhao.min 已重置")
	second := shownCode(t, p)
	if second == code {
		t.Fatal("the reset showed the old code")
	}
	if p := person.get("/"); p.URL.Path != "/login" {
		t.Fatalf("after the reset the person's session still opens %s", p.URL)
	}
	mustContain(t, person.activate("zhao.min", second, "another quiet river"), "账号已激活")
	person.login("zhao.min", "another quiet river")

	// When the admin disables it: a confirmation, then the session ends
	p = b.post("/admin/accounts/"+id+"/disable", url.Values{})
	mustContain(t, p, "停用账号 zhao.min？", `method="post" action="/admin/accounts/`+id+`/disable"`)
	if person.get("/").URL.Path != "/" {
		t.Fatal("asking for the confirmation disabled the account")
	}
	p = b.post("/admin/accounts/"+id+"/disable", url.Values{"confirm": {"yes"}})
	mustContain(t, p, "账号 zhao.min 已停用", "已停用")
	if p := person.get("/"); p.URL.Path != "/login" {
		t.Fatalf("a disabled account's session still opens %s", p.URL)
	}
	if p := person.login("zhao.min", "another quiet river"); p.URL.Path == "/" {
		t.Fatal("a disabled account logged in")
	}
}

func TestAnAccountTheAPIRefusesIsExplainedOnTheForm(t *testing.T) {
	e := newEnv(t)
	e.station("S01", "R1")
	b := e.admin("wang.fang")
	p := b.post("/admin/accounts", url.Values{"username": {"X"}, "name": {"赵敏"}, "role": {"staff"}, "station": {"S01"}})
	if p.Status != http.StatusBadRequest {
		t.Fatalf("status %d, want 400:\n%s", p.Status, p.Body)
	}
	mustContain(t, p, `aria-describedby="f-username-err"`, `value="赵敏"`)
	b.lang = "en"
	mustContain(t, b.get("/admin/accounts"), "Create an account", "Two-factor")
}

func TestStaffAreRefusedTheAccounts(t *testing.T) {
	e := newEnv(t)
	e.station("S01", "R1")
	b := e.staff("li.wei", "S01")
	refused(t, b.get("/admin/accounts"))
	p := b.post("/admin/accounts", url.Values{"username": {"zhao.min"}, "name": {"赵敏"}, "role": {"admin"}})
	if p.Status != http.StatusForbidden {
		t.Fatalf("staff created an account: status %d", p.Status)
	}
}

var tokenShown = regexp.MustCompile(`id="issued-token">([^<]+)<`)

func TestAnAdminIssuesATokenThatWorksAndRevokesIt(t *testing.T) {
	// Given an admin
	e := newEnv(t)
	e.station("S01", "R1")
	b := e.admin("wang.fang")

	// When they issue a staff token for S01's intake tablet
	p := b.post("/admin/tokens", url.Values{"name": {"S01 登记平板"}, "role": {"staff"}, "station": {"S01"}})

	// Then the token is shown once, and it opens the API as S01's staff
	m := tokenShown.FindStringSubmatch(p.Body)
	if p.Status != http.StatusCreated || m == nil {
		t.Fatalf("status %d, no token shown:\n%s", p.Status, p.Body)
	}
	mustContain(t, p, "只在此显示这一次", "S01 登记平板")
	bearer := func() int {
		req, _ := http.NewRequest("GET", e.http.URL+"/v1/cases?station=S01", nil)
		req.Header.Set("Authorization", "Bearer "+m[1])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := bearer(); got != http.StatusOK {
		t.Fatalf("the issued token: status %d", got)
	}
	list := b.get("/admin/tokens")
	mustContain(t, list, "S01 登记平板", "有效")
	mustNotContain(t, list, m[1])

	// When they revoke it, after a confirmation
	id := regexp.MustCompile(`action="/admin/tokens/([^/"]+)/revoke"`).FindStringSubmatch(list.Body)[1]
	mustContain(t, b.post("/admin/tokens/"+id+"/revoke", url.Values{}), "吊销令牌“S01 登记平板”？")
	p = b.post("/admin/tokens/"+id+"/revoke", url.Values{"confirm": {"yes"}})
	mustContain(t, p, "已吊销")
	if got := bearer(); got != http.StatusUnauthorized {
		t.Fatalf("a revoked token: status %d", got)
	}

	// A staff token without a station is refused on the form
	p = b.post("/admin/tokens", url.Values{"name": {"x"}, "role": {"staff"}})
	if p.Status < 400 {
		t.Fatalf("a staff token without a station: status %d", p.Status)
	}
	mustContain(t, p, `class="error"`)

	// Staff are refused the tokens
	refused(t, e.staff("li.wei", "S01").get("/admin/tokens"))
}

func TestABackupIsRefusedToStaff(t *testing.T) {
	e := newEnv(t)
	e.station("S01", "R1")
	p := e.staff("li.wei", "S01").post("/admin/backup", url.Values{})
	refused(t, p)
	if p.Header.Get("Content-Disposition") != "" {
		t.Fatalf("staff were sent a file: Content-Disposition %q", p.Header.Get("Content-Disposition"))
	}
}

func TestTheAdminsOverviewLeadsToEachTask(t *testing.T) {
	e := newEnv(t)
	e.station("S01", "R1")
	b := e.admin("wang.fang")
	p := b.get("/admin")
	mustContain(t, p, "系统管理", "已登记 1 个救助站", "共 1 个账号", `href="/admin/accounts"`, `href="/admin/access-log"`)
	b.lang = "en"
	mustContain(t, b.get("/admin"), "Administration", "Download a backup")
}

func TestAnAdminSeesTheLogsSignedCheckpointAndHowToVerifyIt(t *testing.T) {
	e := newEnv(t)
	e.station("S01", "R1")
	b := e.admin("wang.fang")
	var cp struct {
		Root string `json:"root"`
		Key  string `json:"verifier_key"`
	}
	e.api("GET", "/v1/audit/checkpoint", nil, 200, &cp)
	p := b.get("/admin/checkpoint")
	mustContain(t, p, "日志签名检查点", strings.ReplaceAll(cp.Key, "+", "&#43;"), "签名有效", "waystation verify --data", "默克尔树")
	b.lang = "en"
	mustContain(t, b.get("/admin/checkpoint"), "What the checkpoint proves", "Valid: it checks")
	refused(t, e.staff("li.wei", "S01").get("/admin/checkpoint"))
}

func TestStaffAreRefusedRetentionAndErasure(t *testing.T) {
	e := newEnv(t)
	e.station("S01", "R1")
	b := e.staff("li.wei", "S01")
	refused(t, b.get("/admin/retention"))
	p := b.post("/admin/retention/erase", url.Values{"case_id": {"6a3c0c1e-0000-4000-8000-000000000001"},
		"reason": {"subject_request"}, "confirm": {"yes"}})
	refused(t, p)
}

func TestAnAdminSeesWhoReadWhichCaseWhenPagedAndFiltered(t *testing.T) {
	// Given two cases at S01, one read by a coordinator of R1 through the
	// console, both read by the admin
	e := newEnv(t)
	e.station("S01", "R1")
	staff := e.staff("li.wei", "S01")
	first := caseIDOf(t, staff.post("/cases/new", intakeForm("save")))
	second := caseIDOf(t, staff.post("/cases/new", intakeForm("save")))
	code := e.account("zhou.hong", "周红", "coordinator", "", "R1")
	coord := e.browser()
	coord.activate("zhou.hong", code, "winter plum blossom")
	coord.login("zhou.hong", "winter plum blossom")
	if p := coord.get("/cases/" + first); p.Status != 200 {
		t.Fatalf("the coordinator's read: status %d", p.Status)
	}
	b := e.admin("wang.fang")
	b.get("/cases/" + first)
	b.get("/cases/" + second)

	// When the admin opens the access log
	p := b.get("/admin/access-log")

	// Then each read is listed with the reader by name, the route and the case
	mustContain(t, p, "查阅记录", "周红", "区域协调员", "查看案件", `href="/cases/`+first+`"`, `href="/cases/`+second+`"`)
	mustNotContain(t, p, "李伟</td>")

	// When they filter by the second case, only its reads are listed
	p = b.get("/admin/access-log?case=" + second)
	mustContain(t, p, `href="/cases/`+second+`"`)
	mustNotContain(t, p, `href="/cases/`+first+`"`, `周红 <a class="small"`)

	// When they page a read at a time (as the API allows), the next page
	// follows on
	p = b.get("/admin/access-log?limit=1")
	next := regexp.MustCompile(`href="(/admin/access-log\?after=[^"]+)"`).FindStringSubmatch(p.Body)
	if next == nil {
		t.Fatalf("no next page:\n%s", p.Body)
	}
	p = b.get(strings.ReplaceAll(next[1], "&amp;", "&"))
	mustContain(t, p, "回到第一页", `href="/cases/`+first+`"`)

	// A case filter that is not a case ID is explained
	p = b.get("/admin/access-log?case=abc")
	mustContain(t, p, "案件编号应为完整的 UUID")

	// In English, and refused to staff
	b.lang = "en"
	mustContain(t, b.get("/admin/access-log"), "Access log", "Case opened")
	refused(t, staff.get("/admin/access-log"))
}

func TestCoordinatorsAreRefusedTheAdminPages(t *testing.T) {
	e := newEnv(t)
	e.station("S01", "R1")
	code := e.account("zhou.hong", "周红", "coordinator", "", "R1")
	b := e.browser()
	b.activate("zhou.hong", code, "winter plum blossom")
	b.login("zhou.hong", "winter plum blossom")
	for _, path := range []string{"/admin", "/admin/stations", "/admin/accounts", "/admin/tokens", "/admin/checkpoint",
		"/admin/retention", "/admin/access-log"} {
		refused(t, b.get(path))
	}
	refused(t, b.post("/admin/tokens", url.Values{"name": {"x"}, "role": {"admin"}}))
}
