package console_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"waystation/domain"
)

// Every page of the console, in a real browser, as the role that uses it:
// each is checked as every browser test's page is (no JavaScript error, no
// failed request, nothing from another origin, every field labelled,
// nothing the templates could not format, no catalogue key missing) and
// leaves its screenshot. Every GET route of console.go's routes() and of
// the areas' route functions is visited (the tour fails on one it
// missed): the pages, and what is not a page, through the pages that use
// it: /static/ (the files every page loads), /live (the board's event
// stream), /stats/{file} and /inspect/cases/{id}/export (downloads).

func TestBrowserEveryPageInChinese(t *testing.T) {
	pagesTour(t, "zh-CN", true)
}

func TestBrowserTheMainPagesInEnglish(t *testing.T) {
	pagesTour(t, "en", false)
}

// tourCases are the cases the tour visits: one of each ending the
// printed records are about, and one on its way to another station.
type tourCases struct {
	placed, left, refused, ended, moving string
	number                               string // placed's case number
}

// tourData records them at S01, as its staff do, through the console's
// forms.
func tourData(t *testing.T, e *env) tourCases {
	t.Helper()
	s1 := e.staff("li.wei", "S01")
	var c tourCases
	c.placed = registered(t, s1)
	c.left = registered(t, s1)
	stepOK(t, s1, c.left, "voluntary-leave", url.Values{"declaration_ref": {"SM-2026-001"}, "cash_yuan": {"20"},
		"receipt_ref": {"SJ-2026-001"}})
	c.refused = caseIDOf(t, s1.post("/cases/new", intakeForm("save")))
	stepOK(t, s1, c.refused, "eligibility", url.Values{"eligible": {"no"}, "reason": {"有固定住所和稳定收入"},
		"notice_no": {"BY-2026-007"}})
	c.ended = registered(t, s1)
	stepOK(t, s1, c.ended, "termination", url.Values{"reason": {"多次违反站内管理规定"}})
	c.moving = registered(t, s1)
	stepOK(t, s1, c.moving, "transfer-request", url.Values{"to_station": {"S02"}, "reason": {"离户籍地较近，便于寻亲"}})
	c.number = regexp.MustCompile(`S01-\d{4}-\d{6}`).FindString(s1.get("/cases/" + c.placed).Body)
	if c.number == "" {
		t.Fatal("the case page shows no case number")
	}
	return c
}

// pagesTour visits the pages in lang: every one, or the main ones.
func pagesTour(t *testing.T, lang string, every bool) {
	// Given two stations of R1, cases at S01, and a person of each role
	e := newEnv(t)
	e.station("S01", "R1")
	e.station("S02", "R1")
	cs := tourData(t, e)
	for _, p := range []struct{ user, name, role, station, region string }{
		{"zhao.min", "赵敏", "staff", "S01", ""}, {"chen.jing", "陈静", "coordinator", "", "R1"},
		{"zhou.ming", "周明", "inspector", "", "R1"}, {"wang.fang", "王芳", "admin", "", ""},
	} {
		code := e.account(p.user, p.name, p.role, p.station, p.region)
		e.browser().activate(p.user, code, "correct horse battery")
	}
	c := e.chrome(t)
	m := func(key string) string { return msg(t, lang, key) }
	begin := time.Now()

	// Anyone: the login, the activation, an unknown page
	anon := c.tab("anyone")
	anon.start(lang)
	anon.click("activate", `a[href="/activate"]`)
	anon.open("error-404", "/no-such-page")
	anon.sees(m("code.not_found"))

	// Staff: their board and its lists, the search and its results, the
	// intake, a case, its steps and its records, the statistics
	staff := c.tab("staff")
	staff.start(lang)
	staff.login("zhao.min", "correct horse battery")
	staff.sees(m("board.beds"))
	staff.open("board-fragment", "/board")
	staff.open("worklist", "/worklist")
	staff.open("safety", "/safety")
	staff.click("search", `nav a[href="/cases"]`)
	staff.tabType("#q", "张三")
	staff.tabTo(`form[action="/cases"] button[type="submit"]`)
	staff.follow("search-results", chromedp.KeyEvent(kb.Enter))
	staff.sees(cs.number)
	staff.click("intake", `nav a[href="/cases/new"]`)
	staff.open("case", "/cases/"+cs.placed)
	staff.sees("张三", m("enum.status.in_station"))
	if every {
		for _, step := range domain.CaseSteps() {
			if step != domain.StepCorrection {
				staff.open("step-"+string(step), fmt.Sprintf("/cases/%s/steps/%s", cs.placed, step))
			}
		}
		staff.open("case", "/cases/"+cs.placed)
	} else {
		staff.step("bed")
		staff.open("case", "/cases/"+cs.placed)
	}
	staff.click("step-correction", `ol.timeline > li:last-child a[href*="/steps/correction?event="]`)
	records := map[string]string{"intake-register": cs.placed, "stay-exit-register": cs.left,
		"voluntary-leave": cs.left, "refusal-notice": cs.refused, "termination-notice": cs.ended}
	for _, form := range []string{"intake-register", "stay-exit-register", "voluntary-leave", "refusal-notice",
		"termination-notice"} {
		if !every && form != "intake-register" {
			continue
		}
		staff.open("form-"+form, "/cases/"+records[form]+"/forms/"+form)
		staff.printable("form-" + form + "-printed")
	}
	staff.click("stats", `nav a[href="/stats"]`)
	if every {
		if f := staff.download("stats-csv", `a[href^="/stats/"][download]`, t.TempDir()); !strings.HasSuffix(f, ".csv") {
			t.Errorf("the statistics' download is %s, not a CSV file", f)
		}
		staff.open("error-403", "/admin")
		staff.sees(m("code.forbidden"))
	}

	// The coordinator: the stations, the region, its transfers, a
	// station's board
	co := c.tab("coordinator")
	co.start(lang)
	co.login("chen.jing", "correct horse battery")
	co.click("region", `nav a[href="/regions/R1"]`)
	co.click("transfers", `nav a[href="/regions/R1/transfers"]`)
	co.sees("离户籍地较近，便于寻亲")
	if every {
		co.open("board-S01", "/?station=S01")
		co.open("worklist-S01", "/worklist?station=S01")
		co.open("safety-S01", "/safety?station=S01")
		co.open("stats", "/stats")
	}

	// The inspector: the enrolment on the way in, the start page, a case
	// now and as of a moment, the two meanings compared, the boards
	ins := c.tab("inspector")
	ins.start(lang)
	ins.enrolAtLogin("zhou.ming", "correct horse battery", time.Now)
	ins.click("inspect", `nav a[href="/inspect"]`)
	ins.tabType("#case", cs.number)
	ins.follow("inspect-case", chromedp.KeyEvent(kb.Enter))
	if ins.path() != "/inspect/cases/"+cs.placed {
		t.Fatalf("the inspector's lookup of %s ended at %s", cs.number, ins.location())
	}
	// (to the second: the cases were recorded within the last minute)
	at := time.Now().In(domain.CivilZone).Format("2006-01-02T15:04:05")
	ins.open("inspect-case-at", "/inspect/cases/"+cs.placed+"?at="+at)
	if every {
		ins.click("inspect-case-compared", `a[href*="cmp_known=true"]`)
		ins.open("inspect-case-version", "/inspect/cases/"+cs.placed+"?version=1")
		ins.open("inspect-boards-station", "/inspect/boards?station=S01&at="+at+"&known=true")
		ins.open("inspect-boards-region", "/inspect/boards?region=R1")
		ins.open("inspect-case", "/inspect/cases/"+cs.placed)
		ins.download("export", `form[action$="/export"] button[type="submit"]`, t.TempDir())
	}

	// The admin: every admin page, an account created (its code shown
	// once), a reset's confirmation, a token issued
	ad := c.tab("admin")
	ad.start(lang)
	ad.enrolAtLogin("wang.fang", "correct horse battery", time.Now)
	ad.click("admin", `nav a[href="/admin"]`)
	ad.click("accounts", `a[href="/admin/accounts"]`)
	if every {
		ad.tabType("#f-username", "sun.li")
		ad.tabType("#f-name", "孙丽")
		ad.tabType("#f-role", m("enum.role.staff"))
		ad.tabType("#f-station", "S02")
		ad.tabTo(`form[action="/admin/accounts"] button[type="submit"]`)
		ad.follow("activation-code", chromedp.KeyEvent(kb.Enter))
		ad.sees("sun.li")
		ad.click("accounts-again", `a.button.primary[href="/admin/accounts"]`)
		ad.click("confirm-reset", `form[action$="/reset"] button[type="submit"]`)
		ad.sees(m("admin.reset.button"))
		ad.open("stations", "/admin/stations")
		ad.open("zones", "/admin/stations/S01/zones")
		ad.open("tokens", "/admin/tokens")
		ad.tabType("#f-name", "省救助信息平台")
		ad.tabType("#f-role", m("enum.role.staff"))
		ad.tabType("#f-station", "S01")
		ad.tabTo(`form[action="/admin/tokens"] button[type="submit"]`)
		ad.follow("token-issued", chromedp.KeyEvent(kb.Enter))
		ad.open("checkpoint", "/admin/checkpoint")
		ad.open("retention", "/admin/retention")
		ad.open("access-log", "/admin/access-log")
		ad.open("home-stations", "/")
		ad.open("case-as-admin", "/cases/"+cs.left)
	}
	t.Logf("%d screenshots in %s, %v", c.n.Load(), lang, time.Since(begin).Round(time.Millisecond))
	if every {
		for _, r := range unvisited(t, anon, staff, co, ins, ad) {
			t.Errorf("the tour never visits %s", r)
		}
	}
}

// getRoute finds the console's GET routes in its source.
var getRoute = regexp.MustCompile(`c\.mux\.Handle(?:Func)?\("(GET [^"]+)"`)

// unvisited lists the console's GET routes (console.go's routes() and the
// areas' route functions) for which none of the browsers had an answer.
func unvisited(t *testing.T, tabs ...*tab) []string {
	t.Helper()
	files, _ := filepath.Glob("*.go")
	mux := http.NewServeMux()
	var routes []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range getRoute.FindAllStringSubmatch(string(src), -1) {
			routes = append(routes, m[1])
			mux.Handle(m[1], http.NotFoundHandler())
		}
	}
	if len(routes) < 20 {
		t.Fatalf("only %d GET routes found in the console's source: %q", len(routes), routes)
	}
	seen := map[string]bool{}
	for _, b := range tabs {
		b.mu.Lock()
		paths := slices.Collect(maps.Keys(b.answered))
		b.mu.Unlock()
		for _, path := range paths {
			if !strings.HasPrefix(path, "/") {
				continue // a data: URL
			}
			r := &http.Request{Method: "GET", URL: &url.URL{Path: path}, Host: "console"}
			if _, pattern := mux.Handler(r); pattern != "" {
				seen[pattern] = true
			}
		}
	}
	var out []string
	for _, r := range routes {
		if !seen[r] {
			out = append(out, r)
		}
	}
	return out
}

// start opens the login page in lang: the browser asks for Chinese; the
// language switch gives English.
func (b *tab) start(lang string) {
	b.t.Helper()
	b.open("login", "/login")
	if lang != b.lang() {
		b.click("login-"+lang, "a.lang")
	}
	if got := b.lang(); got != lang {
		b.t.Fatalf("%s's browser shows the login in %q, want %q", b.name, got, lang)
	}
}

// printable checks that a printed record leaves out the screen's header
// and navigation, and takes a screenshot of the page as printed.
func (b *tab) printable(shot string) {
	b.t.Helper()
	b.do("printing", emulateMedia("print"))
	header := eval[bool](b, `(h => h !== null && getComputedStyle(h).display !== "none")(document.querySelector("body > header"))`)
	b.screenshot(shot)
	b.do("back to the screen", emulateMedia(""))
	if header {
		b.t.Errorf("%s prints the screen's header", b.path())
	}
}

// emulateMedia makes the page's CSS media type media ("" for the
// screen's).
func emulateMedia(media string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: media})
		return err
	})
}
