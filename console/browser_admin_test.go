package console_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

func TestBrowserAnAdminCreatesAnAccountTheNewcomerActivatesAndLogsIn(t *testing.T) {
	// Given an admin, whose account was activated (the first admin is
	// made with the bootstrap token), and a station
	e := newEnv(t)
	e.station("S01", "R1")
	code := e.account("wang.fang", "王芳", "admin", "", "")
	e.browser().activate("wang.fang", code, "correct horse battery")
	c := e.chrome(t)
	admin, newcomer := c.tab("admin"), c.tab("newcomer")
	m := func(key string) string { return msg(t, "zh-CN", key) }

	// When the admin logs in, enrolling two-factor on the way
	start := time.Now()
	admin.enrolAtLogin("wang.fang", "correct horse battery", time.Now)
	t.Logf("the admin's login with the enrolment: %v", time.Since(start).Round(time.Millisecond))

	// And creates a staff account at S01 with the accounts page's form,
	// by the keyboard
	admin.click("admin", `nav a[href="/admin"]`)
	admin.click("accounts", `a[href="/admin/accounts"]`)
	admin.tabType("#f-username", "zhao.min")
	admin.tabType("#f-name", "赵敏")
	admin.tabType("#f-role", m("enum.role.staff"))
	admin.tabType("#f-station", "S01")
	for sel, want := range map[string]string{"#f-username": "zhao.min", "#f-name": "赵敏", "#f-role": "staff",
		"#f-station": "S01"} {
		if got := admin.value(sel); got != want {
			t.Errorf("typed into %s: %q, want %q", sel, got, want)
		}
	}
	admin.tabTo(`form[action="/admin/accounts"] button[type="submit"]`)
	admin.follow("activation-code", chromedp.KeyEvent(kb.Enter))

	// Then the activation code is shown, once, with the address to use
	activation := strings.TrimSpace(admin.text("#activation-code"))
	if len(activation) < 8 {
		t.Fatalf("the activation page shows no code: %q\n%s", activation, admin.text("main"))
	}
	admin.sees("zhao.min", "赵敏", c.origin+"/activate")
	admin.click("accounts-pending", `a.button.primary[href="/admin/accounts"]`)
	if strings.Contains(admin.text("main"), activation) {
		t.Error("the accounts page shows the activation code again")
	}
	admin.sees("zhao.min", m("enum.account_state.pending"))

	// When the newcomer, in a browser of their own, follows the login
	// page's activation link and types their username, the code they were
	// given and a password twice
	newcomer.open("login", "/login")
	newcomer.click("activate", `a[href="/activate"]`)
	newcomer.tabType("#username", "zhao.min")
	newcomer.tabType("#activation_code", activation)
	newcomer.tabType("#password", "plum blossom winter")
	newcomer.tabType("#password2", "plum blossom winter")
	newcomer.follow("activated", chromedp.KeyEvent(kb.Enter))
	newcomer.sees(m("activate.done"))

	// Then they log in and see their station's board under their name
	newcomer.click("to-login", `a[href="/login"].button`)
	newcomer.login("zhao.min", "plum blossom winter")
	newcomer.sees("赵敏", "救助站 S01", m("board.beds"))

	// And the admin's list shows the account active
	admin.open("accounts-active", "/admin/accounts")
	row := eval[string](admin, `Array.from(document.querySelectorAll("table.list tbody tr"))
	  .filter(tr => tr.textContent.includes("zhao.min")).map(tr => tr.innerText).join("")`)
	if !strings.Contains(row, m("enum.account_state.active")) {
		t.Errorf("the admin's list shows the account as %q, want %s", row, m("enum.account_state.active"))
	}
}
