package http

import (
	"context"
	"net/http"

	"github.com/gorilla/mux"

	"waystation/domain"
)

// tokenRequest is the body of POST /v1/tokens.
type tokenRequest struct {
	Name    string      `json:"name,omitempty" text:"name" doc:"Who or what the token is for (a person or a device)."`
	Role    domain.Role `json:"role" doc:"The token's role: admin, staff (one station), coordinator (one region) or inspector (one region, or every region when none is given)."`
	Station string      `json:"station,omitempty" text:"code" doc:"The station of a staff token; required for staff."`
	Region  string      `json:"region,omitempty" text:"code" doc:"The region of a coordinator's token (required) or an inspector's (optional)."`
}

// issuedToken is the answer of POST /v1/tokens: the token, shown once.
type issuedToken struct {
	ID    string `json:"id" doc:"The token's ID, for revoking it."`
	Token string `json:"token" doc:"The bearer token itself: shown this once, never again."`
}

// issueToken issues an access token: POST /v1/tokens (admins). Only the
// token's hash is recorded, on the access stream.
func (s *Server) issueToken(w http.ResponseWriter, r *http.Request) error {
	opts, err := requestOptions(r)
	if err != nil {
		return err
	}
	if opts.IdempotencyKey != "" {
		// The token is shown once and never stored, so a repeated request
		// could not return the first answer.
		return errorf(domain.CodeInvalid, "Idempotency-Key",
			"tokens are not issued idempotently: the token is shown only once")
	}
	var req tokenRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	token, id := newToken()
	cmd := domain.IssueToken{
		ID: id, Name: req.Name, Role: req.Role, Station: req.Station, Region: req.Region, Hash: HashToken(token),
	}
	res, err := s.cfg.Service.IssueToken(r.Context(), actorOf(r), &cmd, opts)
	if err != nil {
		return err
	}
	if err := s.waitForTokens(r.Context(), res.Version); err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/tokens/"+id)
	s.writeJSON(w, r, http.StatusCreated, issuedToken{ID: id, Token: token})
	return nil
}

// waitForTokens waits, bounded, until the token index holds version
// events of the access stream, so the caller's next request sees its write.
func (s *Server) waitForTokens(ctx context.Context, version uint64) error {
	ctx, cancel := context.WithTimeout(ctx, s.wait)
	defer cancel()
	return s.tokens.waitFor(ctx, version)
}

// revokeToken revokes a token: DELETE /v1/tokens/{id} (admins).
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	opts, err := requestOptions(r)
	if err != nil {
		return err
	}
	id := mux.Vars(r)["id"]
	if _, ok := s.tokens.token(id); !ok {
		return domain.NotFound("no such token")
	}
	res, err := s.cfg.Service.RevokeToken(r.Context(), actorOf(r), &domain.RevokeToken{ID: id}, opts)
	if err != nil {
		return err
	}
	if err := s.waitForTokens(r.Context(), res.Version); err != nil {
		return err
	}
	t, _ := s.tokens.token(id)
	s.writeJSON(w, r, http.StatusOK, t)
	return nil
}

// tokenList is the answer of GET /v1/tokens.
type tokenList struct {
	Items []domain.Token `json:"items" doc:"Every token issued, revoked ones included; no secrets."`
}

// listTokens lists every token issued, without secrets or hashes:
// GET /v1/tokens (admins).
func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	s.writeJSON(w, r, http.StatusOK, tokenList{Items: s.tokens.list()})
	return nil
}
