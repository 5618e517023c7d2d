package console

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"waystation/domain"
)

// The accounts: listed, created (the activation code shown once), reset
// (a new code shown once) and disabled, each step after a confirmation.
// POST /v1/accounts takes no domain command (the API makes the code), so
// its form is laid out here.

// scopeFields are the inputs of a role and its scope, with the stations
// and regions there are to choose from.
func (c *Console) scopeFields(q *req) ([]field, error) {
	sts, err := c.stationList(q)
	if err != nil {
		return nil, err
	}
	stations, regions := codesOf(sts)
	return []field{
		{Path: "role", Key: "admin.field.role", Kind: inSelect, Enum: "enum.role", Options: domain.Role("").Values()},
		{Path: "station", Key: "admin.field.station", Kind: inSelect, Options: stations},
		{Path: "region", Key: "admin.field.region", Kind: inSelect, Options: regions},
	}, nil
}

// accountFields are the inputs of a new account.
func (c *Console) accountFields(q *req) ([]field, error) {
	scope, err := c.scopeFields(q)
	if err != nil {
		return nil, err
	}
	return append([]field{
		{Path: "username", Key: "admin.field.username", Kind: inText, MaxLength: 32},
		{Path: "name", Key: "admin.field.display_name", Kind: inText, MaxLength: 100},
	}, scope...), nil
}

// formBody is the JSON body of a plain form: each non-empty input.
func formBody(fields []field, v url.Values) map[string]string {
	out := map[string]string{}
	for _, f := range fields {
		if s := strings.TrimSpace(v.Get(f.Path)); s != "" {
			out[f.Path] = s
		}
	}
	return out
}

// rowRefusal is a refused step on one row of a list, shown beside its
// buttons.
type rowRefusal struct {
	ID, Message, Rule string
}

// accountsPage lists the accounts, with the form that creates one.
type accountsPage struct {
	Accounts []domain.Account
	Fields   []field
	Message  string
	Rule     string
	Refusal  rowRefusal
	Disabled string // the username of the account just disabled
}

func (c *Console) adminAccounts(q *req) error {
	f, err := c.accountFields(q)
	if err != nil {
		return err
	}
	p := accountsPage{Fields: f}
	if id := q.r.URL.Query().Get("disabled"); id != "" {
		if acc, err := c.accountOf(q, id); err == nil {
			p.Disabled = acc.Username
		}
	}
	return c.showAccounts(q, http.StatusOK, p)
}

func (c *Console) showAccounts(q *req, status int, p accountsPage) error {
	var list accountList
	if _, err := c.api.call(q.r, "GET", "/v1/accounts", nil, nil, &list); err != nil {
		return err
	}
	p.Accounts = list.Items
	c.render(q, status, "admin_accounts", "admin.accounts.title", p)
	return nil
}

// activationPage shows an activation code, this once, with what to do
// with it.
type activationPage struct {
	Account   domain.Account
	Code      string
	ExpiresAt time.Time
	Address   string
	Reset     bool
}

type activationAnswer struct {
	ID        string    `json:"id"`
	Code      string    `json:"activation_code"`
	ExpiresAt time.Time `json:"activation_expires_at"`
}

// createAccount creates an account (POST /v1/accounts) and shows its
// activation code once.
func (c *Console) createAccount(q *req) error {
	if err := parseForm(q); err != nil {
		return err
	}
	fields, err := c.accountFields(q)
	if err != nil {
		return err
	}
	v := q.r.PostForm
	fill(fields, v)
	var a activationAnswer
	if _, err := c.api.call(q.r, "POST", "/v1/accounts", nil, formBody(fields, v), &a); err != nil {
		p := accountsPage{Fields: fields}
		status := c.refused(q, err, p.Fields, &p.Message, &p.Rule)
		if status == 0 {
			return err
		}
		return c.showAccounts(q, status, p)
	}
	return c.showActivation(q, a, false)
}

func (c *Console) showActivation(q *req, a activationAnswer, reset bool) error {
	acc, err := c.accountOf(q, a.ID)
	if err != nil {
		return err
	}
	scheme := "http"
	if q.r.TLS != nil {
		scheme = "https"
	}
	c.render(q, http.StatusOK, "admin_activation", "admin.activation.title", activationPage{
		Account: acc, Code: a.Code, ExpiresAt: a.ExpiresAt, Address: scheme + "://" + q.r.Host + "/activate", Reset: reset,
	})
	return nil
}

// accountOf finds account id in the list the API answers.
func (c *Console) accountOf(q *req, id string) (domain.Account, error) {
	var list accountList
	if _, err := c.api.call(q.r, "GET", "/v1/accounts", nil, nil, &list); err != nil {
		return domain.Account{}, err
	}
	for _, a := range list.Items {
		if a.ID == id {
			return a, nil
		}
	}
	return domain.Account{}, domain.NotFound("no such account")
}

// resetAccount asks for a confirmation, then resets the account
// (POST /v1/accounts/{id}/reset) and shows its new code once.
func (c *Console) resetAccount(q *req) error {
	return c.confirmedAccountStep(q, "reset", func(id string, _ domain.Account) error {
		var a activationAnswer
		if _, err := c.api.call(q.r, "POST", "/v1/accounts/"+url.PathEscape(id)+"/reset", nil, nil, &a); err != nil {
			return c.accountRefused(q, id, err)
		}
		return c.showActivation(q, a, true)
	})
}

// disableAccount asks for a confirmation, then disables the account
// (DELETE /v1/accounts/{id}): its sessions end at once.
func (c *Console) disableAccount(q *req) error {
	return c.confirmedAccountStep(q, "disable", func(id string, _ domain.Account) error {
		if _, err := c.api.call(q.r, "DELETE", "/v1/accounts/"+url.PathEscape(id), nil, nil, nil); err != nil {
			return c.accountRefused(q, id, err)
		}
		http.Redirect(q.w, q.r, "/admin/accounts?disabled="+url.QueryEscape(id), http.StatusSeeOther)
		return nil
	})
}

// confirmedAccountStep shows the confirmation of step (reset, disable) on
// the account of the path, and once it is confirmed, does it.
func (c *Console) confirmedAccountStep(q *req, step string, do func(id string, acc domain.Account) error) error {
	if err := parseForm(q); err != nil {
		return err
	}
	id := q.r.PathValue("id")
	acc, err := c.accountOf(q, id)
	if err != nil {
		return err
	}
	if !confirmed(q) {
		c.confirm(q, confirmPage{
			Heading: q.t.F("admin."+step+".heading", acc.Username),
			Text:    q.t.F("admin."+step+".text", acc.Name), Action: "/admin/accounts/" + url.PathEscape(id) + "/" + step,
			Button: q.t.T("admin." + step + ".button"), Cancel: "/admin/accounts",
		})
		return nil
	}
	return do(id, acc)
}

// accountRefused shows the accounts again with the API's refusal beside
// the account's buttons.
func (c *Console) accountRefused(q *req, id string, err error) error {
	p, ok := problemOf(err)
	if !ok || p.Status == http.StatusUnauthorized || p.Status >= 500 {
		return err
	}
	fields, ferr := c.accountFields(q)
	if ferr != nil {
		return ferr
	}
	return c.showAccounts(q, p.Status, accountsPage{Fields: fields,
		Refusal: rowRefusal{ID: id, Message: explain(q.t, p), Rule: p.Rule}})
}
