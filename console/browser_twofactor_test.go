package console_test

import (
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/pquerna/otp/totp"
)

// Two-factor in the browser, as an admin or an inspector meets it: the
// first login leads to the enrolment, whose secret the person types into
// an authenticator app (here totp.GenerateCode, at the server's moment);
// a later login asks for the app's code.

// code is the authenticator's code for secret at the moment now.
func (b *tab) code(secret string, now time.Time) string {
	b.t.Helper()
	c, err := totp.GenerateCode(secret, now)
	if err != nil {
		b.t.Fatal(err)
	}
	return c
}

// enrolAtLogin logs in a new account that must use two-factor: the
// username and password typed, then the enrolment page, its secret read
// off the page and the first code typed, then on to the home page. It
// returns the secret.
func (b *tab) enrolAtLogin(username, password string, now func() time.Time) string {
	b.t.Helper()
	if b.path() != "/login" {
		b.open("login", "/login")
	}
	b.tabType("#username", username)
	b.tabType("#password", password)
	b.follow("to-enrol", chromedp.KeyEvent(kb.Enter))
	if b.path() != "/enrol" {
		b.t.Fatalf("%s's first login ended at %s, not at the enrolment", b.name, b.location())
	}
	b.tabTo(`form[action="/enrol"] button[type="submit"]`)
	b.follow("enrol-secret", chromedp.KeyEvent(kb.Enter))
	secret := eval[string](b, `(s => s ? s.textContent.trim() : "")(document.querySelector("code.secret"))`)
	if secret == "" {
		b.t.Fatalf("the enrolment page shows no secret:\n%s", eval[string](b, "document.body.innerText"))
	}
	b.tabType("#otp", b.code(secret, now()))
	b.follow("enrolled", chromedp.KeyEvent(kb.Enter))
	b.sees(msg(b.t, b.lang(), "enrol.done"))
	if n := eval[int](b, `document.querySelectorAll("ol.codes li").length`); n == 0 {
		b.t.Error("the enrolment shows no recovery codes")
	}
	b.click("home", `a.button.primary[href="/"]`)
	if b.path() != "/" {
		b.t.Fatalf("after the enrolment %s is at %s", b.name, b.location())
	}
	return secret
}

// loginWithCode logs in an enrolled account: username and password, then
// the code the page asks for (the password typed again with it).
func (b *tab) loginWithCode(username, password, secret string, now func() time.Time) {
	b.t.Helper()
	if b.path() != "/login" {
		b.open("login", "/login")
	}
	b.tabType("#username", username)
	b.tabType("#password", password)
	b.follow("asks-code", chromedp.KeyEvent(kb.Enter))
	if !b.has("#otp") {
		b.t.Fatalf("the login of an enrolled account asks no code: at %s:\n%s", b.location(),
			eval[string](b, "document.body.innerText"))
	}
	b.sees(msg(b.t, b.lang(), "login.otp_needed"))
	b.tabType("#password", password)
	b.tabType("#otp", b.code(secret, now()))
	b.follow("logged-in", chromedp.KeyEvent(kb.Enter))
	if b.path() != "/" {
		b.t.Fatalf("%s's login with the code ended at %s:\n%s", b.name, b.location(),
			eval[string](b, "document.body.innerText"))
	}
}

// logout presses the header's logout button.
func (b *tab) logout() {
	b.t.Helper()
	b.click("logged-out", `form[action="/logout"] button`)
	if b.path() != "/login" {
		b.t.Fatalf("the logout ended at %s", b.location())
	}
}

// lang is the language of the page shown.
func (b *tab) lang() string {
	b.t.Helper()
	return eval[string](b, "document.documentElement.lang")
}
