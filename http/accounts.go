package http

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"waystation/domain"
	"waystation/internal/credential"
)

// accountRequest is the body of POST /v1/accounts.
type accountRequest struct {
	Username string      `json:"username" text:"line" doc:"The name the person logs in with: 3 to 32 lowercase letters, digits, dots, underscores or hyphens, starting with a letter (e.g. li.wei)."`
	Name     string      `json:"name" text:"name" doc:"The person's display name, shown beside their steps (e.g. 李伟)."`
	Role     domain.Role `json:"role" doc:"The account's role: admin, staff (one station), coordinator (one region) or inspector (one region, or every region when none is given)."`
	Station  string      `json:"station,omitempty" text:"code" doc:"The station of a staff account; required for staff."`
	Region   string      `json:"region,omitempty" text:"code" doc:"The region of a coordinator (required) or an inspector (optional)."`
}

// activation is the answer of POST /v1/accounts and of a reset: the
// activation code, shown once.
type activation struct {
	ID             string    `json:"id" doc:"The account's ID."`
	Username       string    `json:"username" doc:"The account's username."`
	ActivationCode string    `json:"activation_code" doc:"The one-time code with which the person sets their password at POST /v1/accounts/activate: shown this once, never again."`
	ExpiresAt      time.Time `json:"activation_expires_at" doc:"When the code stops working (72 hours after it was made)."`
}

// activateRequest is the body of POST /v1/accounts/activate.
type activateRequest struct {
	Username       string `json:"username" text:"line" doc:"The account's username."`
	ActivationCode string `json:"activation_code" text:"line" doc:"The activation code the admin handed over (letters and digits in four groups; case, spaces and dashes do not matter)."`
	Password       string `json:"password" maxLength:"1024" doc:"The new password: at least 10 characters, not a common password, not containing the username."`
}

// accountList is the answer of GET /v1/accounts.
type accountList struct {
	Items []domain.Account `json:"items" doc:"Every account, disabled ones included, by username; no secrets."`
}

// actorAnswer is the answer of GET /v1/actors/{id}.
type actorAnswer struct {
	ID      string      `json:"id" doc:"The account, token or service actor ID, as events name their actor."`
	Name    string      `json:"name" doc:"The person's display name, the token's name, or the fixed name of one of the service's own actors."`
	Kind    string      `json:"kind" enum:"account,token,service" doc:"account (a person), token (a machine or a shared credential) or service (the server itself: waystation, bootstrap-admin, system:command-line, system:retention, activation)."`
	Role    domain.Role `json:"role,omitempty" doc:"Its role; absent only for the activation actor, which acts with no role."`
	Station string      `json:"station,omitempty" doc:"The station it is bound to."`
	Region  string      `json:"region,omitempty" doc:"The region it is bound to."`
}

// newAccountID returns a fresh account ID: acc_ and 16 hex digits.
func newAccountID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "acc_" + hex.EncodeToString(b[:])
}

// createAccount creates an account and answers its activation code: POST
// /v1/accounts (admins).
func (s *Server) createAccount(w http.ResponseWriter, r *http.Request) error {
	var req accountRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	code := credential.NewCode()
	cmd := &domain.CreateAccount{ID: newAccountID(), Username: req.Username, Name: req.Name, Role: req.Role,
		Station: req.Station, Region: req.Region, ActivationDigest: credential.Digest(code)}
	res, err := s.cfg.Service.AccountCommand(r.Context(), actorOf(r), cmd, Options{})
	if err != nil {
		return err
	}
	if err := s.waitForTokens(r.Context(), res.Version); err != nil {
		return err
	}
	acc, _ := s.people.account(res.ID)
	w.Header().Set("Location", "/v1/accounts/"+res.ID)
	w.Header()["Cache-Control"] = noStore
	s.writeJSON(w, r, http.StatusCreated, activation{ID: acc.ID, Username: acc.Username, ActivationCode: code,
		ExpiresAt: s.now().Add(domain.ActivationValidity).UTC()})
	return nil
}

// listAccounts lists every account without secrets: GET /v1/accounts
// (admins).
func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request) error {
	s.writeJSON(w, r, http.StatusOK, accountList{Items: s.people.list()})
	return nil
}

// resetAccount gives an account a new activation code, clearing its
// password and two-factor and ending its sessions: POST
// /v1/accounts/{id}/reset (admins).
func (s *Server) resetAccount(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	code := credential.NewCode()
	res, err := s.cfg.Service.AccountCommand(r.Context(), actorOf(r),
		&domain.ResetAccount{ID: id, ActivationDigest: credential.Digest(code)}, Options{})
	if err != nil {
		return err
	}
	if err := s.waitForTokens(r.Context(), res.Version); err != nil {
		return err
	}
	acc, _ := s.people.account(id)
	w.Header()["Cache-Control"] = noStore
	s.writeJSON(w, r, http.StatusOK, activation{ID: acc.ID, Username: acc.Username, ActivationCode: code,
		ExpiresAt: s.now().Add(domain.ActivationValidity).UTC()})
	return nil
}

// disableAccount disables an account and ends its sessions and streams at
// once: DELETE /v1/accounts/{id} (admins).
func (s *Server) disableAccount(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	res, err := s.cfg.Service.AccountCommand(r.Context(), actorOf(r), &domain.DisableAccount{ID: id}, Options{})
	if err != nil {
		return err
	}
	if err := s.waitForTokens(r.Context(), res.Version); err != nil {
		return err
	}
	acc, _ := s.people.account(id)
	s.writeJSON(w, r, http.StatusOK, acc)
	return nil
}

// activateAccount sets a pending account's password with its activation
// code: POST /v1/accounts/activate (public). Wrong codes count as failed
// logins do.
func (s *Server) activateAccount(w http.ResponseWriter, r *http.Request) error {
	var req activateRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	username, address, keys, err := s.attempt(w, r, req.Username)
	if err != nil {
		return err
	}
	if err := domain.CheckUsername("username", username); err != nil {
		return err
	}
	if err := credential.CheckPassword(req.Password, username); err != nil {
		return err
	}
	var hash string
	if err := s.logins.hash(r.Context(), func() { hash = credential.HashPassword(req.Password, s.passwordParams) }); err != nil {
		return err
	}
	cmd := &domain.ActivateAccount{Username: username,
		CodeDigest: credential.Digest(credential.NormalizeCode(req.ActivationCode)), PasswordHash: hash}
	res, err := s.cfg.Service.AccountCommand(r.Context(), domain.Actor{ID: domain.ActivationActorID}, cmd, Options{})
	if domain.RuleOf(err) == domain.RuleActivationInvalid {
		acc, known := s.people.byUsername(username)
		if locked := s.loginFailed(w, keys, acc.ID, known, address); domain.ErrorCode(locked) == CodeTooManyRequests {
			return locked
		}
		return err
	}
	if err != nil {
		return err
	}
	if err := s.waitForTokens(r.Context(), res.Version); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// actor resolves an actor ID (an account's, a token's or one of the
// service's own) to its name, role and scope: GET /v1/actors/{id}. A
// caller resolves the actors of its scope (mayResolve); an unknown actor
// and one out of scope answer the same 404.
func (s *Server) actor(w http.ResponseWriter, r *http.Request) error {
	a, ok := s.resolveActor(mux.Vars(r)["id"])
	if !ok || !s.mayResolve(r.Context(), actorOf(r), a) {
		return domain.NotFound("no such actor")
	}
	s.writeJSON(w, r, http.StatusOK, a)
	return nil
}

// resolveActor returns who the actor id is, from the server's indexes
// (no read of the store): one of the service's own actors, an account or
// a token.
func (s *Server) resolveActor(id string) (actorAnswer, bool) {
	if sa, ok := domain.ServiceActorOf(id); ok {
		return actorAnswer{ID: sa.ID, Name: sa.Name, Kind: "service", Role: sa.Role}, true
	}
	if acc, ok := s.people.account(id); ok {
		return actorAnswer{ID: acc.ID, Name: acc.Name, Kind: "account", Role: acc.Role, Station: acc.Station, Region: acc.Region}, true
	}
	if t, ok := s.tokens.token(id); ok {
		return actorAnswer{ID: t.ID, Name: t.Name, Kind: "token", Role: t.Role, Station: t.Station, Region: t.Region}, true
	}
	return actorAnswer{}, false
}

// mayResolve reports whether reader may see who a is, by reader's scope:
// admins every actor; everyone themselves and the service's own actors;
// staff the actors bound to their station; coordinators and inspectors
// those bound to their region or to one of its stations, and an inspector
// of every region those bound to any region or station. The actors bound
// to nothing (admins) are the admins' to see. It reads the region of a
// station from the server's cache of them.
func (s *Server) mayResolve(ctx context.Context, reader domain.Actor, a actorAnswer) bool {
	switch {
	case reader.Role == domain.RoleAdmin, a.Kind == "service", reader.ID == a.ID:
		return true
	case reader.Role == domain.RoleStaff:
		return a.Station != "" && a.Station == reader.Station
	case reader.Role != domain.RoleCoordinator && reader.Role != domain.RoleInspector:
		return false
	case reader.Role == domain.RoleInspector && reader.Region == "":
		return a.Station != "" || a.Region != ""
	case a.Station != "":
		// A station's actor is of the station's region, whatever region
		// it was also given.
		region, ok := s.regions.regionOf(ctx, a.Station)
		return ok && region == reader.Region
	}
	return a.Region != "" && a.Region == reader.Region
}
