package console_test

import (
	"bufio"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// intakeForm is what staff type into the intake form for an adult man.
func intakeForm(action string) url.Values {
	return url.Values{
		"action":            {action},
		"referral.source":   {"walk_in"},
		"person.name":       {"张三"},
		"person.sex":        {"male"},
		"person.birth_date": {"1980-05-06"},
		"person.id_type":    {""},
	}
}

func mustContain(t *testing.T, p page, parts ...string) {
	t.Helper()
	for _, s := range parts {
		if !strings.Contains(p.Body, s) {
			t.Fatalf("%s (status %d) does not show %q:\n%s", p.URL, p.Status, s, p.Body)
		}
	}
}

func mustNotContain(t *testing.T, p page, parts ...string) {
	t.Helper()
	for _, s := range parts {
		if strings.Contains(p.Body, s) {
			t.Fatalf("%s shows %q", p.URL, s)
		}
	}
}

func TestANewPersonActivatesLogsInAndSeesTheirStationsBoard(t *testing.T) {
	// Given an admin who created a staff account at S01
	e := newEnv(t)
	e.station("S01", "R1")
	code := e.account("li.wei", "李伟", "staff", "S01", "")
	b := e.browser()

	// When the person opens the console, they are sent to the login
	p := b.get("/")
	if p.URL.Path != "/login" {
		t.Fatalf("an anonymous visit ended at %s, want /login", p.URL)
	}
	mustContain(t, p, `name="username"`, `name="password"`, "登录")

	// When they activate the account and log in
	p = b.activate("li.wei", code, "correct horse battery")
	mustContain(t, p, "账号已激活")
	p = b.login("li.wei", "correct horse battery")

	// Then they see their station's board, in Chinese, under their name
	if p.Status != 200 || p.URL.Path != "/" {
		t.Fatalf("after the login: status %d at %s", p.Status, p.URL)
	}
	mustContain(t, p, "今日看板", "救助站 S01", "成年男性区", "空3 / 共3", "李伟", "空床")
	for h, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
	} {
		if got := p.Header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	csp := p.Header.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'self'", "frame-ancestors 'none'", "script-src 'self'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, d)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(p.Body, "<script>") || strings.Contains(p.Body, " onclick=") {
		t.Error("the page carries inline script")
	}
}

func TestAWrongUsernameAndAWrongPasswordReadTheSame(t *testing.T) {
	e := newEnv(t)
	e.station("S01", "R1")
	e.staff("li.wei", "S01")
	wrongPassword := e.browser().login("li.wei", "not the password")
	wrongUser := e.browser().login("nobody", "not the password")
	if wrongPassword.Status != http.StatusUnauthorized || wrongUser.Status != http.StatusUnauthorized {
		t.Fatalf("statuses %d and %d, want 401 both", wrongPassword.Status, wrongUser.Status)
	}
	mustContain(t, wrongPassword, "用户名或密码不正确")
	mustContain(t, wrongUser, "用户名或密码不正确")
}

func TestAPasswordTooWeakIsExplainedAtActivation(t *testing.T) {
	e := newEnv(t)
	e.station("S01", "R1")
	code := e.account("li.wei", "李伟", "staff", "S01", "")
	p := e.browser().activate("li.wei", code, "password12")
	if p.Status != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", p.Status)
	}
	mustContain(t, p, "密码至少10个字符，不能是常见密码")
	p = e.browser().post("/activate", url.Values{"username": {"li.wei"}, "activation_code": {code},
		"password": {"correct horse battery"}, "password2": {"correct horse batterY"}})
	mustContain(t, p, "两次输入的密码不一致")
}

func TestAPageAskedForBeforeTheLoginIsShownAfterIt(t *testing.T) {
	e := newEnv(t)
	e.station("S01", "R1")
	code := e.account("li.wei", "李伟", "staff", "S01", "")
	b := e.browser()
	b.activate("li.wei", code, "correct horse battery")
	p := b.get("/cases/new")
	if p.URL.Path != "/login" || p.URL.Query().Get("next") != "/cases/new" {
		t.Fatalf("ended at %s", p.URL)
	}
	p = b.post("/login", url.Values{"username": {"li.wei"}, "password": {"correct horse battery"},
		"next": {p.URL.Query().Get("next")}})
	if p.URL.Path != "/cases/new" {
		t.Fatalf("after the login: %s, want /cases/new", p.URL)
	}
	// A next that leaves the console is ignored.
	b2 := e.browser()
	p = b2.post("/login", url.Values{"username": {"li.wei"}, "password": {"correct horse battery"},
		"next": {"//evil.example/x"}})
	if p.URL.Host != strings.TrimPrefix(e.http.URL, "http://") || p.URL.Path != "/" {
		t.Fatalf("a foreign next led to %s", p.URL)
	}
}

func TestAnIntakeThroughTheFormOpensACaseThatTakesABed(t *testing.T) {
	// Given staff logged in at S01
	e := newEnv(t)
	e.station("S01", "R1")
	b := e.staff("li.wei", "S01")

	// When they look for earlier records first, then save the intake
	p := b.post("/cases/new", intakeForm("check"))
	mustContain(t, p, "没有找到以前的记录", `value="张三"`)
	key := between(p.Body, `name="idempotency_key" value="`, `"`)
	form := intakeForm("save")
	form.Set("idempotency_key", key)
	p = b.post("/cases/new", form)

	// Then the case page shows the person, the timeline entry by name
	id := caseIDOf(t, p)
	mustContain(t, p, "张三", "求助登记", "李伟", "已登记")
	// And offers only the steps the case allows now: screening, not the
	// closure of a case whose person is still here.
	mustContain(t, p, `href="/cases/`+id+`/steps/eligibility"`)
	mustNotContain(t, p, `href="/cases/`+id+`/steps/closure"`)

	// When they screen the person and assign a bed in the adult men's zone
	screen(t, b, id)
	p = b.post("/cases/"+id+"/steps/bed", url.Values{"zone": {"adult_male"}})
	if caseIDOf(t, p) != id {
		t.Fatalf("after the bed: %s", p.URL)
	}
	mustContain(t, p, "安排床位", "1号床")

	// Then the board shows the bed taken by the case
	p = b.get("/")
	mustContain(t, p, "/cases/"+id, "1号床", "空2 / 共3")
	// And saving the same form again records nothing twice
	p = b.post("/cases/new", form)
	if caseIDOf(t, p) != id {
		t.Fatalf("a second submission of the intake opened %s, want %s", p.URL.Path, id)
	}
}

func TestARefusedStepIsExplainedNextToItsFieldWithTheRule(t *testing.T) {
	e := newEnv(t)
	e.station("S01", "R1")
	b := e.staff("li.wei", "S01")
	id := caseIDOf(t, b.post("/cases/new", intakeForm("save")))
	screen(t, b, id)

	p := b.post("/cases/"+id+"/steps/bed", url.Values{"zone": {"minors"}})
	if p.Status != http.StatusUnprocessableEntity && p.Status != http.StatusConflict && p.Status != http.StatusBadRequest {
		t.Fatalf("status %d, want a refusal", p.Status)
	}
	mustContain(t, p, "此人不适合住在该区域", "zone_does_not_fit")

	p = b.post("/cases/new", url.Values{"action": {"save"}, "referral.source": {"walk_in"}, "person.sex": {"male"},
		"person.estimated_age": {"forty"}})
	mustContain(t, p, `aria-invalid="true"`, "填写有误")
}

func TestSearchTermsNeverAppearInAURL(t *testing.T) {
	e := newEnv(t)
	e.station("S01", "R1")
	b := e.staff("li.wei", "S01")
	id := caseIDOf(t, b.post("/cases/new", intakeForm("save")))
	p := b.post("/cases", url.Values{"q": {"张三"}})
	mustContain(t, p, "/cases/"+id)
	if p.URL.RawQuery != "" || strings.Contains(p.URL.String(), "%E5%BC%A0") {
		t.Fatalf("the search ended at %s", p.URL)
	}
	mustNotContain(t, p, "?q=")
}

func TestTheConsoleSpeaksEnglishWhenAsked(t *testing.T) {
	e := newEnv(t)
	e.station("S01", "R1")
	b := e.staff("li.wei", "S01")
	p := b.get("/?lang=en")
	mustContain(t, p, "Today", "adult men", `lang="en"`)
	// The choice is kept for the next pages.
	p = b.get("/cases/new")
	mustContain(t, p, "Intake", "How they came")
	// And a browser that prefers English gets it without asking.
	anon := e.browser()
	anon.lang = "en-GB,en;q=0.9"
	mustContain(t, anon.get("/login"), "Log in", `lang="en"`)
}

func TestAFormPostedFromAnotherSiteIsRefused(t *testing.T) {
	e := newEnv(t)
	e.station("S01", "R1")
	b := e.staff("li.wei", "S01")
	b.header.Set("Sec-Fetch-Site", "cross-site")
	b.header.Set("Origin", "http://evil.example")
	p := b.post("/cases/new", intakeForm("save"))
	if p.Status != http.StatusForbidden {
		t.Fatalf("status %d, want 403", p.Status)
	}
}

func TestStaffOfAnotherStationCannotOpenTheCase(t *testing.T) {
	e := newEnv(t)
	e.station("S01", "R1")
	e.station("S02", "R1")
	b1 := e.staff("li.wei", "S01")
	b2 := e.staff("wang.fang", "S02")
	id := caseIDOf(t, b1.post("/cases/new", intakeForm("save")))
	p := b2.get("/cases/" + id)
	if p.Status != http.StatusForbidden && p.Status != http.StatusNotFound {
		t.Fatalf("status %d, want 403 or 404", p.Status)
	}
	mustNotContain(t, p, "张三")
}

// screen records the screening and the security check of case id through
// their forms.
func screen(t *testing.T, b *browser, id string) {
	t.Helper()
	steps := []struct {
		step string
		form url.Values
	}{
		{"eligibility", url.Values{"eligible": {"yes"}}},
		{"security-check", url.Values{"checked_by.staff_id": {"S01-007"}, "checked_by.sex": {"male"}}},
	}
	for _, s := range steps {
		if p := b.post("/cases/"+id+"/steps/"+s.step, s.form); p.URL.Path != "/cases/"+id {
			t.Fatalf("%s: status %d at %s:\n%s", s.step, p.Status, p.URL, p.Body)
		}
	}
}

func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i+len(start):]
	j := strings.Index(s, end)
	if j < 0 {
		return ""
	}
	return s[:j]
}

func TestAnOpenBoardHearsOfAChangeMadeElsewhere(t *testing.T) {
	// Given a board open at S01, listening to /live
	e := newEnv(t)
	e.station("S01", "R1")
	watcher := e.staff("li.wei", "S01")
	writer := e.staff("wang.fang", "S01")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.http.URL+"/live", nil)
	req.Header.Set("Accept", "text/event-stream")
	res, err := watcher.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	lines := bufio.NewScanner(res.Body)
	lines.Scan() // retry:

	// When another member of staff records an intake
	caseIDOf(t, writer.post("/cases/new", intakeForm("save")))

	// Then the board is told that something changed, and nothing else
	for lines.Scan() {
		if lines.Text() == "event: changed" {
			lines.Scan()
			if lines.Text() != "data: {}" {
				t.Fatalf("the event carries %q", lines.Text())
			}
			return
		}
	}
	t.Fatalf("no change heard: %v", lines.Err())
}

func TestTheWorklistShowsWhatIsDueWithTheStepThatClearsIt(t *testing.T) {
	// Given a person who cannot say who they are, just registered
	e := newEnv(t)
	e.station("S01", "R1")
	b := e.staff("li.wei", "S01")
	form := intakeForm("save")
	form.Set("person.can_state_identity", "no")
	id := caseIDOf(t, b.post("/cases/new", form))

	// Then the board and the worklist show the family-search notice due,
	// with the step that clears it
	notice := `href="/cases/` + id + `/steps/family-search-notice"`
	mustContain(t, b.get("/"), "待办", notice)
	p := b.get("/worklist")
	mustContain(t, p, "未发布寻亲公告", notice)
	// And the list filters by rule.
	mustNotContain(t, b.get("/worklist?rule=overdue_stay"), notice)

	// When the notice is published, the item is gone
	if p := b.post("/cases/"+id+"/steps/family-search-notice", url.Values{"channel": {"全国救助寻亲网"}}); p.URL.Path != "/cases/"+id {
		t.Fatalf("notice: status %d\n%s", p.Status, p.Body)
	}
	mustNotContain(t, b.get("/worklist"), notice)
	mustContain(t, b.get("/safety"), "没有逾期的安全提示")
}

func TestACoordinatorStartsFromTheStationsOfTheirRegion(t *testing.T) {
	e := newEnv(t)
	e.station("S01", "R1")
	e.station("S02", "R1")
	e.station("S09", "R2")
	code := e.account("zhao.lei", "赵磊", "coordinator", "", "R1")
	b := e.browser()
	b.activate("zhao.lei", code, "correct horse battery")
	p := b.login("zhao.lei", "correct horse battery")
	mustContain(t, p, "各站床位", `href="/?station=S01"`, `href="/?station=S02"`, "成年男性区 3/3")
	mustNotContain(t, p, "S09")
	mustContain(t, b.get("/?station=S02"), "救助站 S02", "空3 / 共3")
}

func TestBeforeAnIntakeIsSavedTheEarlierStaysOfThePersonAreShown(t *testing.T) {
	// Given a man who stayed at S01 and at S02
	e := newEnv(t)
	e.station("S01", "R1")
	e.station("S02", "R1")
	b1 := e.staff("li.wei", "S01")
	b2 := e.staff("wang.fang", "S02")
	form := intakeForm("save")
	form.Set("person.id_number", "110101198005060015")
	earlier := caseIDOf(t, b1.post("/cases/new", form))
	caseIDOf(t, b2.post("/cases/new", form))

	// When he comes back to S01 and staff look for earlier records
	form.Set("action", "check")
	p := b1.post("/cases/new", form)

	// Then the earlier stay at S01 is shown, and the one at S02 counted
	mustContain(t, p, "/cases/"+earlier, "另有 1 次在其他救助站的记录")
	// And nothing was saved, and the terms are in no URL
	if p.URL.Path != "/cases/new" || p.URL.RawQuery != "" {
		t.Fatalf("the check ended at %s", p.URL)
	}
}

func TestAnOpenBoardDoesNotHoldUpTheServiceStopping(t *testing.T) {
	// Given a board whose live stream is open when the service stops (the
	// stream is closed only after the service: cleanups run last first)
	var res *http.Response
	t.Cleanup(func() {
		if res != nil {
			res.Body.Close()
		}
	})
	e := newEnv(t)
	e.station("S01", "R1")
	b := e.staff("li.wei", "S01")
	req, _ := http.NewRequest("GET", e.http.URL+"/live", nil)
	var err error
	if res, err = b.c.Do(req); err != nil || res.StatusCode != 200 {
		t.Fatalf("live: %v %v", err, res)
	}
	// Then the service's own stop (the harness's cleanup) drains within its
	// timeout and reports no error: the stream ends with the shutdown.
}

func TestACorrectionTakesItsNewValueAsTheFieldIsTyped(t *testing.T) {
	// Given an intake registered as a man with no injuries
	e := newEnv(t)
	e.station("S01", "R1")
	b := e.staff("li.wei", "S01")
	p := b.post("/cases/new", intakeForm("save"))
	id := caseIDOf(t, p)
	event := between(p.Body, `/steps/correction?event=`, `"`)

	// When staff choose the field to correct, the new value's input is the
	// field's own: a choice of sexes, yes or no
	p = b.get("/cases/" + id + "/steps/correction?event=" + event)
	mustContain(t, p, `id="choose-field"`, `value="person.sex"`)
	p = b.get("/cases/" + id + "/steps/correction?event=" + event + "&field=person.sex")
	mustContain(t, p, `<select id="f-new" name="new"`, `value="female"`)
	p = b.post("/cases/"+id+"/steps/correction", url.Values{"event_id": {event}, "field": {"person.sex"},
		"new": {"female"}, "reason": {"登记时误选"}})
	if caseIDOf(t, p) != id {
		t.Fatalf("the correction ended at %s", p.URL)
	}
	mustContain(t, p, "记录更正")
	p = b.post("/cases/"+id+"/steps/correction", url.Values{"event_id": {event}, "field": {"inspection.injuries"},
		"new": {"yes"}, "reason": {"补记外伤"}})
	if caseIDOf(t, p) != id {
		t.Fatalf("the second correction ended at %s:\n%s", p.URL, p.Body)
	}

	// Then the case reads as corrected: a woman, with injuries
	var c struct {
		Person     struct{ Sex string }
		Inspection struct{ Injuries bool }
	}
	e.api("GET", "/v1/cases/"+id, nil, 200, &c)
	if c.Person.Sex != "female" || !c.Inspection.Injuries {
		t.Fatalf("after the corrections: %+v", c)
	}
}
