package console_test

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"waystation/domain"
	"waystation/ops"
)

// transferredCase is a case staff recorded on the test clock, as
// transferredCase's comments say, from base on: the intake, the screening,
// a bed recorded an hour late, a transfer to S02 and its handover.
type transferredCase struct {
	ID, Number string
	// Before is a moment before the transfer, when the bed had been
	// assigned but not yet recorded: the two meanings of as-of differ.
	Before time.Time
}

// transferCase records the case at S01 and hands it over to S02, staff of
// each station doing their part through the console's forms.
func transferCase(t *testing.T, e *env, clk *clock, base time.Time) transferredCase {
	t.Helper()
	s1 := e.staff("li.wei", "S01")
	s2 := e.staff("wang.fang", "S02")
	p := s1.post("/cases/new", intakeForm("save")) // at base
	id := caseIDOf(t, p)
	number := regexp.MustCompile(`S01-\d{4}-\d{6}`).FindString(p.Body)
	if number == "" {
		t.Fatal("the case page shows no case number")
	}
	clk.set(base.Add(30 * time.Minute))
	screen(t, s1, id)
	// The bed was assigned an hour after the intake and recorded an hour
	// after that.
	clk.set(base.Add(2 * time.Hour))
	stepOK(t, s1, id, "bed", url.Values{"zone": {"adult_male"},
		"occurred_at": {base.Add(time.Hour).In(domain.CivilZone).Format("2006-01-02T15:04")}})
	clk.set(base.Add(3 * time.Hour))
	stepOK(t, s1, id, "transfer-request", url.Values{"to_station": {"S02"}, "reason": {"离户籍地较近，便于寻亲"}})
	clk.set(base.Add(4 * time.Hour))
	stepOK(t, s2, id, "transfer-accept", url.Values{})
	clk.set(base.Add(5 * time.Hour))
	stepOK(t, s1, id, "escort-departure", url.Values{"escorts": {"王强"}, "transport": {"站车"}})
	clk.set(base.Add(6 * time.Hour))
	p = s2.post("/cases/"+id+"/steps/handover", url.Values{"received_by": {"赵敏"}})
	if p.Status != 200 {
		t.Fatalf("the handover: status %d at %s\n%s", p.Status, p.URL, p.Body)
	}
	return transferredCase{ID: id, Number: number, Before: base.Add(90 * time.Minute)}
}

func TestBrowserAnInspectorReplaysATransferredCaseAndItsExportVerifies(t *testing.T) {
	// Given a case staff took in at S01 and handed over to S02, on a clock
	// that ends an hour ago (so that the browser keeps the session's
	// cookie, which expires by the server's clock)
	base := time.Now().Truncate(time.Hour).Add(-9 * time.Hour)
	clk := &clock{}
	clk.set(base)
	e := newEnvWith(t, envOptions{now: clk.Now})
	e.station("S01", "R1")
	e.station("S02", "R1")
	tc := transferCase(t, e, clk, base)
	clk.set(base.Add(7 * time.Hour))
	code := e.account("zhou.ming", "周明", "inspector", "", "R1")
	e.browser().activate("zhou.ming", code, "correct horse battery")
	c := e.chrome(t)
	b := c.tab("inspector")
	m := func(key string) string { return msg(t, "zh-CN", key) }

	// When the inspector logs in for the first time, they enrol
	// two-factor on the way, typing a code of the secret shown
	start := time.Now()
	secret := b.enrolAtLogin("zhou.ming", "correct horse battery", clk.Now)
	// And a later login asks for a new code
	b.logout()
	clk.set(base.Add(7*time.Hour + time.Minute))
	b.loginWithCode("zhou.ming", "correct horse battery", secret, clk.Now)
	t.Logf("login with enrolment, logout and login with a code: %v", time.Since(start).Round(time.Millisecond))

	// When they find the case by its number
	b.click("inspect", `nav a[href="/inspect"]`)
	b.tabType("#case", tc.Number)
	b.follow("case-now", chromedp.KeyEvent(kb.Enter))
	if b.path() != "/inspect/cases/"+tc.ID {
		t.Fatalf("the lookup of %s ended at %s", tc.Number, b.location())
	}
	// Then it stands at S02, handed over
	if got := b.text(`#h-state + dl`); !strings.Contains(got, "S02") {
		t.Errorf("now the case is not at S02: %q", got)
	}

	// When they move the slider back, key by key, to the last record
	// before the transfer
	requested := m("event.case.transfer_requested")
	for range 20 {
		if !strings.Contains(b.text("ol.timeline"), requested) {
			break
		}
		b.tabTo("#version")
		b.follow("slider", chromedp.KeyEvent(kb.ArrowLeft))
	}
	if strings.Contains(b.text("ol.timeline"), requested) {
		t.Fatal("the slider never reached a version before the transfer")
	}
	// Then the page says it shows the case by its records, and the case
	// is at S01, in the station. (A version counts the case's own records:
	// the bed, a record of the station's, shows from the next one on, the
	// transfer's request.)
	if got := b.text("p.meaning"); !strings.Contains(got, strings.Split(m("inspect.meaning_version"), "%d")[0]) {
		t.Errorf("the slider's page says %q", got)
	}
	state := b.text(`#h-state + dl`)
	for _, want := range []string{"S01", m("enum.status.in_station")} {
		if !strings.Contains(state, want) {
			t.Errorf("before the transfer, by version, the state does not show %q: %q", want, state)
		}
	}

	// When they pick, with the date-time picker, the moment the bed had
	// been assigned but not recorded, in the meaning "what was true then"
	b.tabTo("#at")
	b.typeDateTime(tc.Before)
	if got, want := b.value("#at"), tc.Before.In(domain.CivilZone).Format("2006-01-02T15:04"); !strings.HasPrefix(got, want) {
		t.Fatalf("typed into the picker: %q, want %s", got, want)
	}
	b.tabTo(`form:has(#at) button[type="submit"]`)
	b.follow("true-then", chromedp.KeyEvent(kb.Enter))

	// Then the person was in their bed at S01, and the page says the bed
	// was recorded after that moment
	if !b.has("p.meaning.true") {
		t.Errorf("the page does not say it shows what was true: %q", b.text("p.meaning"))
	}
	state = b.text(`#h-state + dl`)
	for _, want := range []string{"S01", "adult_male-1"} {
		if !strings.Contains(state, want) {
			t.Errorf("what was true before the transfer does not show %q: %q", want, state)
		}
	}
	if !b.has("ol.timeline li.late") {
		t.Error("the bed recorded late is not marked as recorded after the moment")
	}
	b.sees(m("inspect.recorded_later"))

	// When they choose the other meaning, what staff could have known then
	b.tabTo("#known-false")
	b.keys(kb.ArrowDown)
	if !eval[bool](b, `document.getElementById("known-true").checked`) {
		t.Fatal("the arrow key did not choose the other meaning")
	}
	b.tabTo(`form:has(#at) button[type="submit"]`)
	b.follow("known-then", chromedp.KeyEvent(kb.Enter))

	// Then nobody had recorded the bed yet
	if !b.has("p.meaning.known") {
		t.Errorf("the page does not say it shows what staff could know: %q", b.text("p.meaning"))
	}
	state = b.text(`#h-state + dl`)
	if !strings.Contains(state, "S01") || strings.Contains(state, "adult_male-1") || !strings.Contains(state, m("case.no_bed")) {
		t.Errorf("what staff knew before the transfer: %q, want S01 and no bed", state)
	}
	if b.has("ol.timeline li.late") || strings.Contains(b.text("ol.timeline"), requested) {
		t.Errorf("what staff knew lists what was recorded later: %q", b.text("ol.timeline"))
	}

	// When they download the case's export bundle
	dir := t.TempDir()
	file := b.download("export", `form[action$="/export"] button[type="submit"]`, dir)
	want := "case-" + tc.ID + "-export.json"
	if filepath.Base(file) != want {
		t.Errorf("the download is named %s, want %s (the name the page's command uses)", filepath.Base(file), want)
	}

	// Then waystation verify-export passes on it, with the station's key
	// pinned
	var out, errs bytes.Buffer
	key := filepath.Join(e.m.Config.Data, "audit.pub")
	args := []string{"verify-export", file, "--key", key}
	if err := ops.RunCommand(context.Background(), args, &out, &errs); err != nil {
		t.Fatalf("waystation %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errs.String())
	}
	if got := out.String(); !strings.HasPrefix(got, "intact: case "+tc.ID) || !strings.Contains(got, "pinned key") {
		t.Errorf("verify-export says %q", got)
	}
	t.Logf("verify-export: %s", strings.TrimSpace(out.String()))
}

// typeDateTime types t into the focused datetime-local field with
// seconds, in the en_US order the harness gives Chromium: month and day
// (each moves on when full), year (which could take more digits: Tab moves
// on), hour of 12, minute, second, then A or P.
func (b *tab) typeDateTime(t time.Time) {
	b.t.Helper()
	t = t.In(domain.CivilZone)
	b.keys(t.Format("0102"))
	b.keys(t.Format("2006"))
	b.keys(kb.Tab)
	b.keys(t.Format("030405") + t.Format("PM")[:1])
}

// text is the text of the element sel, "" when there is none.
func (b *tab) text(sel string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`(e => e ? e.innerText : "")(document.querySelector(%q))`, sel))
}

// download presses the button sel, which downloads a file, and returns
// the file, saved in dir under the name the server gave it.
func (b *tab) download(shot, sel, dir string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	bctx := chromedp.FromContext(b.ctx).BrowserContextID
	if _, err := chromedp.CallBrowser(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, BrowserContextID: bctx,
		DownloadPath: dir, EventsEnabled: new(true),
	}); err != nil {
		b.t.Fatalf("allowing downloads: %v", err)
	}
	begun := chromedp.BrowserEvents(ctx, cdpbrowser.DownloadWillBegin)
	progress := chromedp.BrowserEvents(ctx, cdpbrowser.DownloadProgress)
	b.screenshot(shot)
	b.do("pressing "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
	var name, guid, from string
	for ev, err := range begun {
		if err != nil {
			b.t.Fatalf("waiting for the download: %v", err)
		}
		name, guid, from = ev.SuggestedFilename, ev.GUID, ev.URL
		break
	}
	for ev, err := range progress {
		if err != nil {
			b.t.Fatalf("waiting for the download to end: %v", err)
		}
		if ev.GUID != guid {
			continue
		}
		if ev.State == cdpbrowser.DownloadProgressStateCanceled {
			b.t.Fatalf("the download of %s was cancelled", name)
		}
		if ev.State == cdpbrowser.DownloadProgressStateCompleted {
			break
		}
	}
	// A link's download has no response in the page's network events:
	// the download's end is its answer.
	if u, err := url.Parse(from); err == nil {
		b.mu.Lock()
		b.answered[u.Path]++
		b.mu.Unlock()
	}
	file := filepath.Join(dir, name)
	if err := os.Rename(filepath.Join(dir, guid), file); err != nil {
		b.t.Fatal(err)
	}
	b.report()
	return file
}
