package http

import (
	"context"
	"encoding/base64"
	"errors"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"waystation/domain"
	"waystation/internal/credential"
)

// SessionCookie is the name of the cookie that carries a session's secret.
const SessionCookie = "waystation_session"

// The answers to a login that is refused. A wrong username and a wrong
// password are answered alike, after the same work.
const (
	RuleOTPRequired           = "otp_required"
	RuleTOTPEnrolmentRequired = "totp_enrolment_required"
	msgWrongLogin             = "the username or the password is wrong"
)

// loginRequest is the body of POST /v1/session.
type loginRequest struct {
	Username     string `json:"username" text:"line" doc:"The account's username."`
	Password     string `json:"password" maxLength:"1024" doc:"The account's password."`
	OTP          string `json:"otp,omitempty" text:"code" doc:"The current six-digit code of the authenticator app, for an account with two-factor."`
	RecoveryCode string `json:"recovery_code,omitempty" text:"line" doc:"One of the account's recovery codes, in place of otp when the authenticator is lost; each works once."`
}

// sessionAnswer is the answer of GET /v1/session.
type sessionAnswer struct {
	Account      domain.Account `json:"account" doc:"The account logged in."`
	Session      string         `json:"session" doc:"The session's public ID (in the access record of its logins and logouts)."`
	ExpiresAt    time.Time      `json:"expires_at" doc:"When the session ends whatever its use."`
	TOTPRequired bool           `json:"totp_required" doc:"Whether the account must use two-factor; until it has enrolled, only enrolment is allowed."`
	IdleTimeout  int            `json:"idle_timeout_sec" doc:"Seconds of no use after which the session ends."`
}

// logins holds what the login routes share: the throttle of failures and
// the bound on password hashes computed at once.
type logins struct {
	throttle *credential.Throttle
	hashing  chan struct{} // one token per hash that may run at once
	// pending holds the TOTP secrets offered to sessions, by session ID,
	// until confirmed or ten minutes old.
	mu      sync.Mutex
	pending map[string]pendingTOTP // guarded by mu
}

type pendingTOTP struct {
	secret string
	at     time.Time
}

// hash runs f while holding one of the hashing slots, so that a flood of
// logins queues instead of taking every core and 64 MiB each.
func (l *logins) hash(ctx context.Context, f func()) error {
	select {
	case l.hashing <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-l.hashing }()
	f()
	return nil
}

// clientAddress returns the address of r's client, without the port.
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// attempt reads who attempts a login or an activation: the normalized
// username, the client's address and their throttle keys; it answers 429
// while either key is locked.
func (s *Server) attempt(w http.ResponseWriter, r *http.Request, name string) (username, address string, keys []string, err error) {
	username = domain.NormalizeUsername(name)
	address = clientAddress(r)
	keys = []string{"user:" + username, "addr:" + address}
	if d := s.logins.throttle.Locked(keys...); d > 0 {
		return "", "", nil, tooMany(w, d)
	}
	return username, address, keys, nil
}

// tooMany answers a locked login: 429 with Retry-After in whole seconds.
func tooMany(w http.ResponseWriter, d time.Duration) error {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
	return errorf(CodeTooManyRequests, "", "too many failed logins; try again later")
}

// login checks a username and password (and the second factor) and opens a
// session: POST /v1/session (public).
func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var req loginRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	username, address, keys, err := s.attempt(w, r, req.Username)
	if err != nil {
		return err
	}
	acc, known := s.people.byUsername(username)
	usable := known && acc.State == domain.AccountStateActive
	match := false
	err = s.logins.hash(r.Context(), func() {
		if !usable {
			credential.VerifyDecoy(req.Password)
			return
		}
		match, _ = credential.VerifyPassword(acc.PasswordHash(), req.Password)
	})
	if err != nil {
		return err
	}
	if !match {
		return s.loginFailed(w, keys, acc.ID, known, address)
	}
	secret, expires, err := s.openSession(r, acc.ID, req, address)
	if err != nil {
		if errors.Is(err, errSecondFactor) {
			return s.loginFailed(w, keys, acc.ID, true, address)
		}
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: secret, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, Expires: expires})
	w.Header()["Cache-Control"] = noStore
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// errSecondFactor is openSession's answer to a wrong one-time or recovery
// code.
var errSecondFactor = errors.New("http: wrong second factor")

// openSession checks the second factor of the account with id, where it
// has one, and records the login; it returns the cookie's secret and the
// session's end. A one-time code is spent by the record itself: it is
// written at the sessions stream's length the check saw, so that a second
// login with the same code, here or on another replica, meets a conflict
// and is checked again against the step recorded.
func (s *Server) openSession(r *http.Request, id string, req loginRequest, address string) (string, time.Time, error) {
	for {
		acc, _ := s.people.account(id)
		seen := s.people.sessionsVersion()
		var step int64
		if acc.TOTP {
			switch {
			case req.OTP != "":
				secret, last := acc.TOTPSecret()
				var ok bool
				if step, ok = credential.CheckTOTP(secret, req.OTP, s.now(), last); !ok {
					return "", time.Time{}, errSecondFactor
				}
			case req.RecoveryCode != "":
				digest := credential.Digest(credential.NormalizeCode(req.RecoveryCode))
				_, err := s.cfg.Service.AccountCommand(r.Context(), acc.Actor(),
					&domain.UseRecoveryCode{ID: acc.ID, Digest: digest}, Options{})
				if domain.RuleOf(err) == domain.RuleRecoveryCodeInvalid {
					return "", time.Time{}, errSecondFactor
				}
				if err != nil {
					return "", time.Time{}, err
				}
			default:
				return "", time.Time{}, &domain.Error{Code: domain.CodeUnauthorized, Rule: RuleOTPRequired, Field: "otp",
					Message: "the account uses two-factor: send the authenticator's code as otp"}
			}
		}
		secret := credential.NewSessionID()
		digest := credential.Digest(secret)
		expires := s.now().Add(s.sessionPolicy.Absolute)
		in := domain.LoggedIn{Account: acc.ID, Session: domain.SessionIDOf(digest), Digest: digest,
			ExpiresAt: expires.UTC(), Address: address, TOTPStep: step}
		var expected *uint64
		if step != 0 {
			expected = &seen
		}
		res, err := s.cfg.Service.RecordSessions(r.Context(), acc.Actor(), expected, in)
		if domain.ErrorCode(err) == domain.CodeConflict && step != 0 {
			if err := s.waitForSessions(r.Context(), seen+1); err != nil {
				return "", time.Time{}, err
			}
			continue
		}
		if err != nil {
			return "", time.Time{}, err
		}
		if err := s.waitForSessions(r.Context(), res.Version); err != nil {
			return "", time.Time{}, err
		}
		return secret, expires, nil
	}
}

// loginFailed counts a failed login and answers it: 401, or 429 once the
// failure locks the username or the address.
func (s *Server) loginFailed(w http.ResponseWriter, keys []string, account string, known bool, address string) error {
	locked, retry := s.logins.throttle.Fail(keys...)
	var until time.Time
	for _, k := range locked {
		if k == keys[0] {
			until = s.now().Add(retry)
		}
	}
	if !known {
		account = ""
	}
	s.people.failed(account, address, until)
	if retry > 0 {
		return tooMany(w, retry)
	}
	return errorf(domain.CodeUnauthorized, "", msgWrongLogin)
}

// waitForSessions waits, bounded, until the index holds n events of the
// sessions stream.
func (s *Server) waitForSessions(ctx context.Context, n uint64) error {
	ctx, cancel := context.WithTimeout(ctx, s.wait)
	defer cancel()
	return s.people.waitFor(ctx, n)
}

// currentSession answers who is logged in: GET /v1/session (a session).
func (s *Server) currentSession(w http.ResponseWriter, r *http.Request) error {
	in := infoOf(r)
	if in == nil || in.session == "" {
		return errorf(domain.CodeUnauthorized, "", "no session: log in with POST /v1/session")
	}
	acc, _ := s.people.account(actorOf(r).ID)
	se, _ := s.people.sessionOf(in.session)
	s.writeJSON(w, r, http.StatusOK, sessionAnswer{Account: acc, Session: se.ID, ExpiresAt: se.ExpiresAt,
		TOTPRequired: s.totpRequired(acc), IdleTimeout: int(s.sessionPolicy.Idle.Seconds())})
	return nil
}

// logout ends the request's session: DELETE /v1/session (a session).
func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	in := infoOf(r)
	if in == nil || in.session == "" {
		return errorf(domain.CodeUnauthorized, "", "no session: log in with POST /v1/session")
	}
	se, _ := s.people.sessionOf(in.session)
	res, err := s.cfg.Service.RecordSessions(r.Context(), actorOf(r), nil,
		domain.LoggedOut{Account: se.Account, Session: se.ID, Cause: domain.EndLogout})
	if err != nil {
		return err
	}
	if err := s.waitForSessions(r.Context(), res.Version); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, MaxAge: -1})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// totpRequired reports whether acc must log in with two-factor: admins and
// inspectors always, everyone when the deployment says so.
func (s *Server) totpRequired(acc domain.Account) bool {
	return s.cfg.RequireTOTP || acc.Role == domain.RoleAdmin || acc.Role == domain.RoleInspector
}

// totpOffer is the answer of POST /v1/session/totp.
type totpOffer struct {
	Secret string `json:"secret" doc:"The new secret (base32), for typing into an authenticator app by hand."`
	URL    string `json:"otpauth_url" doc:"The otpauth:// URL an authenticator app takes."`
	QRCode string `json:"qr_png" doc:"The same URL as a QR code: a PNG image, base64."`
}

// totpConfirm is the body of POST /v1/session/totp/confirm.
type totpConfirm struct {
	OTP string `json:"otp" text:"code" doc:"The authenticator's current six-digit code for the secret offered."`
}

// recoveryCodes is the answer of POST /v1/session/totp/confirm.
type recoveryCodes struct {
	RecoveryCodes []string `json:"recovery_codes" maxItems:"10" doc:"Ten recovery codes, each usable once in place of a code: shown this once, never again."`
}

const (
	recoveryCodeCount = 10
	totpOfferLife     = 10 * time.Minute
)

// offerTOTP gives the session's account a new TOTP secret to enrol: POST
// /v1/session/totp (a session).
func (s *Server) offerTOTP(w http.ResponseWriter, r *http.Request) error {
	in := infoOf(r)
	if in == nil || in.session == "" {
		return errorf(domain.CodeUnauthorized, "", "two-factor is enrolled in a session: log in first")
	}
	acc, _ := s.people.account(actorOf(r).ID)
	e, err := credential.NewTOTP(s.totpIssuer(), acc.Username)
	if err != nil {
		return domain.Internal(err, "a two-factor secret could not be made")
	}
	now := s.now()
	s.logins.mu.Lock()
	for id, p := range s.logins.pending {
		if now.Sub(p.at) > totpOfferLife {
			delete(s.logins.pending, id)
		}
	}
	s.logins.pending[in.session] = pendingTOTP{secret: e.Secret, at: now}
	s.logins.mu.Unlock()
	w.Header()["Cache-Control"] = noStore
	s.writeJSON(w, r, http.StatusOK, totpOffer{Secret: e.Secret, URL: e.URL, QRCode: base64.StdEncoding.EncodeToString(e.QRCode)})
	return nil
}

// confirmTOTP enrols the secret offered once its first code is right and
// answers the recovery codes: POST /v1/session/totp/confirm (a session).
func (s *Server) confirmTOTP(w http.ResponseWriter, r *http.Request) error {
	in := infoOf(r)
	if in == nil || in.session == "" {
		return errorf(domain.CodeUnauthorized, "", "two-factor is enrolled in a session: log in first")
	}
	var req totpConfirm
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	s.logins.mu.Lock()
	p, ok := s.logins.pending[in.session]
	s.logins.mu.Unlock()
	if !ok || s.now().Sub(p.at) > totpOfferLife {
		return domain.Violation(domain.RuleActivationInvalid, "no two-factor secret is on offer: ask for one with POST /v1/session/totp")
	}
	step, ok := credential.CheckTOTP(p.secret, req.OTP, s.now(), 0)
	if !ok {
		return domain.Invalid("otp", "the code does not match the secret offered; check the app's clock and try the next code")
	}
	codes := make([]string, recoveryCodeCount)
	digests := make([]string, recoveryCodeCount)
	for i := range codes {
		codes[i] = credential.NewCode()
		digests[i] = credential.Digest(codes[i])
	}
	actor := actorOf(r)
	res, err := s.cfg.Service.AccountCommand(r.Context(), actor,
		&domain.EnrolTOTP{ID: actor.ID, Secret: p.secret, RecoveryDigests: digests, CodeStep: step}, Options{})
	if err != nil {
		return err
	}
	s.logins.mu.Lock()
	delete(s.logins.pending, in.session)
	s.logins.mu.Unlock()
	if err := s.waitForTokens(r.Context(), res.Version); err != nil {
		return err
	}
	w.Header()["Cache-Control"] = noStore
	s.writeJSON(w, r, http.StatusOK, recoveryCodes{RecoveryCodes: codes})
	return nil
}

// totpIssuer is the name authenticator apps show the deployment's codes
// under.
func (s *Server) totpIssuer() string {
	if s.cfg.TOTPIssuer != "" {
		return s.cfg.TOTPIssuer
	}
	return "Waystation"
}
