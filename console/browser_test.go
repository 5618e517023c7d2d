package console_test

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The flows of CONSOLE.md's Tests, end to end in headless Chromium (see
// browser_harness_test.go): (1) and (6) here, (2) below, (3) the
// transfer in browser_transfer_test.go, (4) the inspector's replay and
// export in browser_inspect_test.go, (5) the admin's new account in
// browser_admin_test.go.

// liveDeadline is how soon a change shows on another open board.
const liveDeadline = time.Second

func TestBrowserAnIntakeByKeyboardShowsOnAnotherOpenBoard(t *testing.T) {
	intakeFlow(t, "zh-CN")
}

func TestBrowserAnIntakeInEnglishThroughTheLanguageSwitch(t *testing.T) {
	intakeFlow(t, "en")
}

// intakeFlow: staff log in through the form, record an intake with the
// keyboard alone, screen the person and place them in a bed, and a
// colleague's board, open in another browser, shows the bed within a
// second without a reload. In English, both switch language first.
func intakeFlow(t *testing.T, lang string) {
	// Given a station, two of its staff, and their browsers
	e := newEnv(t)
	e.station("S01", "R1")
	e.staff("li.wei", "S01")
	e.staff("wang.fang", "S01")
	c := e.chrome(t)
	desk, wall := c.tab("desk"), c.tab("board")
	m := func(key string) string { return msg(t, lang, key) }
	for _, b := range []*tab{desk, wall} {
		b.open("login", "/login")
		if lang == "en" {
			b.click("login-en", "a.lang")
			if got := eval[string](b, "document.documentElement.lang"); got != "en" {
				t.Fatalf("after the language switch the page is in %q", got)
			}
		}
	}

	// When the colleague logs in, their board is open and listening
	wall.login("wang.fang", "correct horse battery")
	wall.sees(m("board.beds"), m("enum.zone.adult_male"))
	wall.do("marking the page", chromedp.Evaluate[chromedp.Void]("window.notReloaded = true"))
	wall.waitSeen("/live")

	// When staff log in by typing and open the intake
	desk.login("li.wei", "correct horse battery")
	desk.click("intake", `nav a[href="/cases/new"]`)

	// And fill it with the keyboard alone: Tab to each field, type
	desk.tabType("#f-referral-source", m("enum.referral_source.walk_in"))
	desk.tabType("#f-person-name", "张三")
	desk.tabType("#f-person-sex", m("enum.sex.male"))
	desk.tabType("#f-person-birth_date", "05061980") // in the en_US order the harness gives Chromium
	desk.tabType("#f-person-id_type", m("enum.id_type.resident_id"))
	id := residentID("110101", "19800506", "123")
	desk.tabType("#f-person-id_number", id)
	// The ID number is checked as it is typed
	if got := eval[string](desk, `document.getElementById("f-person-id_number-hint").textContent`); got != m("idcheck.ok") {
		t.Errorf("the ID number's hint says %q, want %q", got, m("idcheck.ok"))
	}
	for sel, want := range map[string]string{"#f-referral-source": "walk_in", "#f-person-name": "张三",
		"#f-person-sex": "male", "#f-person-birth_date": "1980-05-06", "#f-person-id_type": "resident_id",
		"#f-person-id_number": id} {
		if got := desk.value(sel); got != want {
			t.Errorf("typed into %s: %q, want %q", sel, got, want)
		}
	}
	// And look for earlier records, then save, with Enter on each button
	desk.tabTo(`button[value="check"]`)
	desk.follow("intake-checked", chromedp.KeyEvent(kb.Enter))
	desk.sees(m("intake.no_matches"))
	if got := desk.value("#f-person-name"); got != "张三" {
		t.Fatalf("the checked form lost the name: %q", got)
	}
	desk.tabTo(`button[value="save"]`)
	desk.follow("case", chromedp.KeyEvent(kb.Enter))
	caseID := strings.TrimPrefix(desk.path(), "/cases/")
	if len(caseID) != 36 {
		t.Fatalf("the intake ended at %s", desk.location())
	}
	desk.sees("张三", m("enum.status.received"))

	// When they screen the person and pass the security check
	desk.step("eligibility")
	desk.tabType("#f-eligible", m("form.yes"))
	desk.click("eligible", `button[type="submit"].primary`)
	desk.step("security-check")
	desk.tabType("#f-checked_by-staff_id", "S01-007")
	desk.tabType("#f-checked_by-sex", m("enum.sex.male"))
	desk.click("checked", `button[type="submit"].primary`)

	// And place them in a bed of the adult men's zone
	desk.step("bed")
	desk.tabType("#f-zone", m("enum.zone.adult_male"))
	onBoard := fmt.Sprintf(`document.querySelector('#board li.bed.taken a[href="/cases/%s"]') !== null`, caseID)
	if wall.has(fmt.Sprintf(`#board li.bed.taken a[href="/cases/%s"]`, caseID)) {
		t.Fatal("the board shows the bed before it is assigned")
	}
	type seen struct {
		took time.Duration
		err  error
	}
	got := make(chan seen, 1)
	go func() {
		took, err := wall.waitFor(onBoard, liveDeadline)
		got <- seen{took, err}
	}()
	desk.click("bed-assigned", `button[type="submit"].primary`)
	desk.sees(m("enum.zone.adult_male") + " · " + fmt.Sprintf(m("bed.number"), "1"))

	// Then the colleague's board shows it within a second, without a reload
	s := <-got
	if s.err != nil {
		t.Fatalf("the other board did not show the bed within %v of the step being sent: %v", liveDeadline, s.err)
	}
	t.Logf("the other board showed the bed %v after the step was sent (deadline %v)", s.took.Round(time.Millisecond), liveDeadline)
	if !eval[bool](wall, "window.notReloaded === true") {
		t.Error("the board was reloaded, not updated in place")
	}
	// And the bed's cell names the case by its number
	number := regexp.MustCompile(`S01-\d{4}-\d{6}`).FindString(eval[string](desk, "document.body.innerText"))
	if number == "" {
		t.Fatal("the case page shows no case number")
	}
	cell := eval[string](wall, fmt.Sprintf(`document.querySelector('#board li.bed.taken a[href="/cases/%s"]').innerText`, caseID))
	if !strings.Contains(cell, number) {
		t.Errorf("the bed's cell says %q, want the case number %s", cell, number)
	}
	wall.settled("board-updated")
}

// residentID is a resident ID number (GB 11643) with its check character.
func residentID(area, born, seq string) string {
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	s := area + born + seq
	sum := 0
	for i, w := range weights {
		sum += int(s[i]-'0') * w
	}
	return s + string("10X98765432"[sum%11])
}

func TestBrowserAMinorInAnAdultZoneIsDueUntilMoved(t *testing.T) {
	// Given a man placed in the adult men's zone
	e := newEnv(t)
	e.station("S01", "R1")
	id := caseIDOf(t, e.staff("li.wei", "S01").post("/cases/new", intakeForm("save")))
	b := e.browser()
	b.login("li.wei", "correct horse battery")
	screen(t, b, id)
	if p := b.post("/cases/"+id+"/steps/bed", url.Values{"zone": {"adult_male"}}); caseIDOf(t, p) != id {
		t.Fatalf("the bed: %s", p.URL)
	}
	c := e.chrome(t)
	staff := c.tab("staff")
	m := func(key string) string { return msg(t, "zh-CN", key) }
	staff.login("li.wei", "correct horse battery")
	flagged := func() []string {
		return eval[[]string](staff, fmt.Sprintf(`Array.from(document.querySelectorAll("#board ol.work li, #board ul.alerts li"))
		  .filter(li => li.querySelector('a[href="/cases/%s"]')).map(li => li.textContent)`, id))
	}
	if got := flagged(); strings.Contains(strings.Join(got, " "), m("work.minor_in_adult_zone")) {
		t.Fatalf("an adult in the adult zone is flagged: %q", got)
	}

	// When staff correct the birth date from the intake's timeline entry:
	// the person is 14
	staff.click("case", fmt.Sprintf(`#board li.bed.taken a[href="/cases/%s"]`, id))
	// (the timeline is newest first: the intake is its last entry)
	staff.click("correction", `ol.timeline > li:last-child a[href*="/steps/correction?event="]`)
	staff.sees(m("event.case.intake_registered"))
	staff.tabType("#choose-field", m("field.person.birth_date"))
	if got := staff.value("#choose-field"); got != "person.birth_date" {
		t.Fatalf("the corrected field is %q", got)
	}
	staff.click("correction-field", `button[type="submit"].primary`)
	// The new value is typed as the field is: a date (the harness's
	// browser writes dates month, day, year).
	bornAt := time.Now().In(time.FixedZone("CST", 8*3600)).AddDate(-14, 0, -30)
	born := bornAt.Format(time.DateOnly)
	staff.tabType("#f-new", bornAt.Format("01022006"))
	staff.tabType("#f-reason", "身份证核实，出生日期登记有误")
	staff.click("corrected", `button[type="submit"].primary`)
	staff.sees(born)

	// Then the board's worklist and safety board name the case
	staff.click("board-minor", `nav a[href="/"]`)
	got := strings.Join(flagged(), " ")
	for _, want := range []string{m("work.minor_in_adult_zone"), m("safety.minor_in_adult_zone")} {
		if !strings.Contains(got, want) {
			t.Errorf("the board does not show %q for the case: %q", want, got)
		}
	}

	// When they move the child to the minors' zone from the worklist's step
	staff.click("bed", fmt.Sprintf(`#board ol.work a.step[href="/cases/%s/steps/bed"]`, id))
	staff.tabType("#f-zone", m("enum.zone.minors"))
	staff.click("moved", `button[type="submit"].primary`)
	staff.sees(m("enum.zone.minors") + " · " + fmt.Sprintf(m("bed.number"), "1"))

	// Then the board no longer flags it
	staff.click("board-moved", `nav a[href="/"]`)
	if got := strings.Join(flagged(), " "); strings.Contains(got, m("work.minor_in_adult_zone")) ||
		strings.Contains(got, m("safety.minor_in_adult_zone")) {
		t.Errorf("after the move the board still shows the minor in an adult zone: %q", got)
	}
}
