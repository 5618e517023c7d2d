package console

import (
	"net/http"
	"net/url"

	"waystation/domain"
)

// The access tokens of machines and shared credentials: listed (no
// secrets), issued (the token shown once) and revoked after a
// confirmation. POST /v1/tokens takes no domain command (the API makes
// the secret), so its form is laid out here.

type tokenList struct {
	Items []domain.Token `json:"items"`
}

// tokensPage lists the tokens, with the form that issues one.
type tokensPage struct {
	Tokens  []domain.Token
	Fields  []field
	Message string
	Rule    string
	Refusal rowRefusal
	Revoked string // the ID of the token just revoked
}

func (c *Console) tokenFields(q *req) ([]field, error) {
	scope, err := c.scopeFields(q)
	if err != nil {
		return nil, err
	}
	return append([]field{{Path: "name", Key: "admin.tokens.name", Kind: inText, MaxLength: 100}}, scope...), nil
}

func (c *Console) adminTokens(q *req) error {
	f, err := c.tokenFields(q)
	if err != nil {
		return err
	}
	return c.showTokens(q, http.StatusOK, tokensPage{Fields: f, Revoked: q.r.URL.Query().Get("revoked")})
}

func (c *Console) showTokens(q *req, status int, p tokensPage) error {
	var list tokenList
	if _, err := c.api.call(q.r, "GET", "/v1/tokens", nil, nil, &list); err != nil {
		return err
	}
	p.Tokens = list.Items
	c.render(q, status, "admin_tokens", "admin.tokens.title", p)
	return nil
}

// issuedPage shows a token just issued, this once.
type issuedPage struct {
	ID, Token, Name string
	Role            domain.Role
}

// issueToken issues a token (POST /v1/tokens) and shows it once.
func (c *Console) issueToken(q *req) error {
	if err := parseForm(q); err != nil {
		return err
	}
	fields, err := c.tokenFields(q)
	if err != nil {
		return err
	}
	v := q.r.PostForm
	fill(fields, v)
	var out struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	if _, err := c.api.call(q.r, "POST", "/v1/tokens", nil, formBody(fields, v), &out); err != nil {
		p := tokensPage{Fields: fields}
		status := c.refused(q, err, p.Fields, &p.Message, &p.Rule)
		if status == 0 {
			return err
		}
		return c.showTokens(q, status, p)
	}
	c.render(q, http.StatusCreated, "admin_token", "admin.token.title",
		issuedPage{ID: out.ID, Token: out.Token, Name: v.Get("name"), Role: domain.Role(v.Get("role"))})
	return nil
}

// revokeToken asks for a confirmation, then revokes the token
// (DELETE /v1/tokens/{id}).
func (c *Console) revokeToken(q *req) error {
	if err := parseForm(q); err != nil {
		return err
	}
	id := q.r.PathValue("id")
	if !confirmed(q) {
		var list tokenList
		if _, err := c.api.call(q.r, "GET", "/v1/tokens", nil, nil, &list); err != nil {
			return err
		}
		name := id
		for _, t := range list.Items {
			if t.ID == id && t.Name != "" {
				name = t.Name
			}
		}
		c.confirm(q, confirmPage{
			Heading: q.t.F("admin.revoke.heading", name), Text: q.t.T("admin.revoke.text"),
			Action: "/admin/tokens/" + url.PathEscape(id) + "/revoke", Button: q.t.T("admin.revoke.button"),
			Cancel: "/admin/tokens",
		})
		return nil
	}
	if _, err := c.api.call(q.r, "DELETE", "/v1/tokens/"+url.PathEscape(id), nil, nil, nil); err != nil {
		p, ok := problemOf(err)
		if !ok || p.Status == http.StatusUnauthorized || p.Status >= 500 {
			return err
		}
		fields, ferr := c.tokenFields(q)
		if ferr != nil {
			return ferr
		}
		return c.showTokens(q, p.Status, tokensPage{Fields: fields,
			Refusal: rowRefusal{ID: id, Message: explain(q.t, p), Rule: p.Rule}})
	}
	http.Redirect(q.w, q.r, "/admin/tokens?revoked="+url.QueryEscape(id), http.StatusSeeOther)
	return nil
}
