package console_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"waystation/domain"
)

// Accessibility in the browser: every page the tests open checks that each
// input, select and textarea has a label (tab.settled); these tests open
// every form, and walk the intake with Tab alone.

func TestBrowserEveryFormsFieldsHaveLabels(t *testing.T) {
	// Given a case at S01 and its staff in a browser
	e := newEnv(t)
	e.station("S01", "R1")
	id := caseIDOf(t, e.staff("li.wei", "S01").post("/cases/new", intakeForm("save")))
	c := e.chrome(t)
	b := c.tab("staff")

	// When they open the login, activation, intake, search and case pages
	// and the form of every case step, then each field has a label (the
	// check of every page)
	b.open("activate", "/activate")
	b.login("li.wei", "correct horse battery")
	b.open("intake", "/cases/new")
	b.open("search", "/cases")
	b.open("case", "/cases/"+id)
	for _, step := range domain.CaseSteps() {
		if step == domain.StepCorrection {
			b.open("case", "/cases/"+id)
			b.click("step-correction", `ol.timeline > li:last-child a[href*="/steps/correction?event="]`)
			continue
		}
		b.open("step-"+string(step), fmt.Sprintf("/cases/%s/steps/%s", id, step))
	}
}

func TestBrowserTheWholeIntakeIsReachableWithTab(t *testing.T) {
	e := newEnv(t)
	e.station("S01", "R1")
	e.staff("li.wei", "S01")
	c := e.chrome(t)
	b := c.tab("staff")
	b.login("li.wei", "correct horse battery")
	b.open("intake", "/cases/new")

	// When the person presses Tab from the top of the page to its save
	// button, opening each folded group of rows with Enter on its summary
	focused := map[string]bool{}
	for range 400 {
		b.do("pressing Tab", chromedp.KeyEvent(kb.Tab))
		el := eval[string](b, `(e => e ? e.tagName + "#" + (e.id || e.name || "") + (e.value === "save" ? "!save" : "") : "")(document.activeElement)`)
		if strings.HasPrefix(el, "SUMMARY") && !eval[bool](b, "document.activeElement.parentElement.open") {
			b.keys(kb.Enter)
		}
		focused[strings.TrimSuffix(el, "!save")] = true
		if strings.HasSuffix(el, "!save") {
			break
		}
	}
	// Then every field of the form has had the focus
	fields := eval[[]string](b, `Array.from(document.querySelectorAll("form[action='/cases/new'] input, form[action='/cases/new'] select, form[action='/cases/new'] textarea"))
	  .filter(el => el.type !== "hidden").map(el => el.tagName + "#" + el.id)`)
	if len(fields) < 10 {
		t.Fatalf("the intake has only %d fields: %q", len(fields), fields)
	}
	for _, f := range fields {
		if !focused[f] {
			t.Errorf("Tab never reaches %s", f)
		}
	}
	b.settled("intake-tabbed")
}
