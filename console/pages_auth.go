package console

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"waystation/domain"
)

// sessionCookie is the API's session cookie, which the console clears on
// logout whatever the API answered.
const sessionCookie = "waystation_session"

// loginForm is the login page's form, kept when it is shown again.
type loginForm struct {
	Username string
	Next     string
	AskOTP   bool
	Message  string
	Rule     string
	Field    string
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	q := c.request(w, r)
	c.render(q, http.StatusOK, "login", "login.title", loginForm{Next: safeNext(r.URL.Query().Get("next"))})
}

// login opens a session with the API (POST /v1/session) and passes its
// cookie to the browser.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	q := c.request(w, r)
	if err := r.ParseForm(); err != nil {
		c.fail(q, domain.Invalid("form", "unreadable form"))
		return
	}
	f := loginForm{Username: strings.TrimSpace(r.PostForm.Get("username")), Next: safeNext(r.PostForm.Get("next"))}
	body := map[string]string{"username": f.Username, "password": r.PostForm.Get("password")}
	if otp := strings.TrimSpace(r.PostForm.Get("otp")); otp != "" {
		body["otp"] = otp
	}
	if rc := strings.TrimSpace(r.PostForm.Get("recovery_code")); rc != "" {
		body["recovery_code"] = rc
	}
	h, err := c.api.call(r, "POST", "/v1/session", nil, body, nil)
	if err != nil {
		p, ok := problemOf(err)
		if !ok {
			c.fail(q, err)
			return
		}
		f.Rule, f.Field = p.Rule, p.field()
		switch {
		case p.Rule == "otp_required":
			f.AskOTP = true
			f.Message = q.t.T("login.otp_needed")
			if _, given := body["otp"]; given {
				f.Message = q.t.T("login.otp_wrong")
			}
		case p.Status == http.StatusTooManyRequests:
			f.Message = q.t.F("login.locked", p.retryAfter)
		case p.Status == http.StatusUnauthorized && (body["otp"] != "" || body["recovery_code"] != ""):
			// A wrong code or a wrong password: the API says which to no
			// one, so the form asks for both again.
			f.AskOTP = true
			f.Message = q.t.T("login.otp_wrong")
		case p.Status == http.StatusUnauthorized:
			f.Message = q.t.T("login.wrong")
		default:
			f.Message = explain(q.t, p)
		}
		c.render(q, p.Status, "login", "login.title", f)
		return
	}
	for _, sc := range h.Values("Set-Cookie") {
		w.Header().Add("Set-Cookie", sc)
	}
	http.Redirect(w, r, f.Next, http.StatusSeeOther)
}

// logout ends the session (DELETE /v1/session) and clears the cookie.
func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	_, _ = c.api.call(r, "DELETE", "/v1/session", nil, nil, nil)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// activateForm is the activation page's form.
type activateForm struct {
	Username string
	Message  string
	Field    string
	Rule     string
	Done     bool
}

func (c *Console) activatePage(w http.ResponseWriter, r *http.Request) {
	q := c.request(w, r)
	c.render(q, http.StatusOK, "activate", "activate.title", activateForm{})
}

// activate sets the account's first password with its activation code
// (POST /v1/accounts/activate).
func (c *Console) activate(w http.ResponseWriter, r *http.Request) {
	q := c.request(w, r)
	if err := r.ParseForm(); err != nil {
		c.fail(q, domain.Invalid("form", "unreadable form"))
		return
	}
	v := r.PostForm
	f := activateForm{Username: strings.TrimSpace(v.Get("username"))}
	if v.Get("password") != v.Get("password2") {
		f.Field, f.Message = "password2", q.t.T("activate.mismatch")
		c.render(q, http.StatusBadRequest, "activate", "activate.title", f)
		return
	}
	body := map[string]string{"username": f.Username, "activation_code": strings.TrimSpace(v.Get("activation_code")),
		"password": v.Get("password")}
	if _, err := c.api.call(r, "POST", "/v1/accounts/activate", nil, body, nil); err != nil {
		p, ok := problemOf(err)
		if !ok {
			c.fail(q, err)
			return
		}
		f.Field, f.Rule = p.field(), p.Rule
		f.Message = explainField(q.t, p)
		c.render(q, p.Status, "activate", "activate.title", f)
		return
	}
	f.Done = true
	c.render(q, http.StatusOK, "activate", "activate.title", f)
}

// explainField says what is wrong with the field p names: the field's own
// explanation when the catalogue has one, else the rule's or the code's.
func explainField(t tr, p *problem) string {
	if p.Rule != "" && t.Has("rule."+p.Rule) {
		return t.T("rule." + p.Rule)
	}
	if f := p.field(); f != "" && t.Has("invalid."+strings.TrimPrefix(keyOf(f), "field.")) {
		return t.T("invalid." + strings.TrimPrefix(keyOf(f), "field."))
	}
	return t.T("code." + string(p.Code))
}

// enrolPage is the two-factor enrolment's three states: asked to begin,
// shown the secret, shown the recovery codes.
type enrolPage struct {
	Secret        string
	QRData        string // the QR code's PNG, base64, carried by the form
	QR            template.URL
	RecoveryCodes []string
	Message       string
}

func (c *Console) enrolPage(q *req) error {
	c.render(q, http.StatusOK, "enrol", "enrol.title", enrolPage{})
	return nil
}

// enrol offers a secret (POST /v1/session/totp) or confirms it with the
// first code (POST /v1/session/totp/confirm).
func (c *Console) enrol(q *req) error {
	if err := q.r.ParseForm(); err != nil {
		return domain.Invalid("form", "unreadable form")
	}
	if q.r.PostForm.Get("action") == "confirm" {
		var rc struct {
			RecoveryCodes []string `json:"recovery_codes"`
		}
		body := map[string]string{"otp": strings.TrimSpace(q.r.PostForm.Get("otp"))}
		if _, err := c.api.call(q.r, "POST", "/v1/session/totp/confirm", nil, body, &rc); err != nil {
			p, ok := problemOf(err)
			if !ok {
				return err
			}
			// The secret on offer stays: the person scanned it already.
			secret, qr := q.r.PostForm.Get("secret"), q.r.PostForm.Get("qr")
			if !onlyOf(secret, base32Chars) || !onlyOf(qr, base64Chars) || secret == "" || qr == "" {
				return c.offer(q, explainField(q.t, p), p.Status)
			}
			c.render(q, p.Status, "enrol", "enrol.title", enrolPage{Secret: secret, QRData: qr,
				QR: template.URL("data:image/png;base64," + qr), Message: q.t.T("login.otp_wrong")})
			return nil
		}
		c.render(q, http.StatusOK, "enrol", "enrol.title", enrolPage{RecoveryCodes: rc.RecoveryCodes})
		return nil
	}
	return c.offer(q, "", http.StatusOK)
}

// offer asks the API for a new secret and shows it.
func (c *Console) offer(q *req, message string, status int) error {
	var o struct {
		Secret string `json:"secret"`
		QR     string `json:"qr_png"`
	}
	if _, err := c.api.call(q.r, "POST", "/v1/session/totp", nil, map[string]string{}, &o); err != nil {
		return err
	}
	if !onlyOf(o.QR, base64Chars) {
		return fmt.Errorf("console: the API's QR code is not base64")
	}
	c.render(q, status, "enrol", "enrol.title", enrolPage{Secret: o.Secret, QRData: o.QR,
		QR: template.URL("data:image/png;base64," + o.QR), Message: message})
	return nil
}

// The characters of a base32 secret and of a base64 image.
const (
	base32Chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567="
	base64Chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
)

// onlyOf reports whether every byte of s is one of chars.
func onlyOf(s, chars string) bool {
	for i := range len(s) {
		if !strings.ContainsRune(chars, rune(s[i])) {
			return false
		}
	}
	return true
}
