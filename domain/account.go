package domain

import (
	"crypto/subtle"
	"regexp"
	"slices"
	"strings"
	"time"
)

// SessionsStream holds the logins, logouts, failed logins and session use;
// the accounts themselves live on AccessStream. Only the last
// MaxSessionLifetime of it matters to the live sessions.
const SessionsStream = "sessions"

// MaxSessionLifetime bounds every SessionPolicy's Absolute time: no session
// outlives it, so a reader of SessionsStream may start that far back.
const MaxSessionLifetime = 7 * 24 * time.Hour

// Stored names of the account events (on AccessStream) and of the session
// events (on SessionsStream). Never rename or reuse them.
const (
	TypeAccountCreated   = "access.account_created"
	TypeAccountActivated = "access.account_activated"
	TypeAccountReset     = "access.account_reset"
	TypeAccountDisabled  = "access.account_disabled"
	TypeTOTPEnrolled     = "access.totp_enrolled"
	TypeRecoveryCodeUsed = "access.recovery_code_used"
	TypeLoggedIn         = "access.logged_in"
	TypeLoggedOut        = "access.logged_out"
	TypeLoginFailed      = "access.login_failed"
	TypeSessionsSeen     = "access.sessions_seen"
)

// Account rules. Never rename them.
const (
	RuleAccountExists       = "account_exists"
	RuleAccountDisabled     = "account_disabled"
	RuleActivationInvalid   = "activation_invalid"
	RuleAccountNotActive    = "account_not_active"
	RuleRecoveryCodeInvalid = "recovery_code_invalid"
)

// ActivationValidity is how long an activation code from a creation or a
// reset can be used.
const ActivationValidity = 72 * time.Hour

// Causes of a session's end (LoggedOut.Cause). Never rename them.
const (
	EndLogout   = "logout"
	EndDisabled = "disabled"
	EndReset    = "reset"
)

// AccountCreated opens an account. Only the SHA-256 digest of the
// activation code is kept; the person sets a password with the code before
// ActivationExpires.
type AccountCreated struct {
	ID                string    `json:"id" text:"ref"`
	Username          string    `json:"username" text:"code"`
	Name              string    `json:"name" text:"name"`
	Role              Role      `json:"role"`
	Station           string    `json:"station,omitempty" text:"code"`
	Region            string    `json:"region,omitempty" text:"code"`
	ActivationDigest  string    `json:"activation_digest" text:"ref"`
	ActivationExpires time.Time `json:"activation_expires"`
}

// AccountActivated sets an account's password: PasswordHash is its
// Argon2id PHC string, never the password.
type AccountActivated struct {
	ID           string `json:"id" text:"ref"`
	PasswordHash string `json:"password_hash" text:"line"`
}

// AccountReset clears an account's password and two-factor enrolment, ends
// its sessions and gives a new activation code (its digest kept).
type AccountReset struct {
	ID                string    `json:"id" text:"ref"`
	ActivationDigest  string    `json:"activation_digest" text:"ref"`
	ActivationExpires time.Time `json:"activation_expires"`
}

// AccountDisabled disables an account for good and ends its sessions.
type AccountDisabled struct {
	ID string `json:"id" text:"ref"`
}

// TOTPEnrolled records an account's confirmed TOTP secret (base32) and
// the digests of its recovery codes. Step is the step of the code that
// confirmed it, which cannot be used again. The secret is sealed at rest
// (personal, under the access stream's data key: DataSubject), so the
// stored bytes never hold it while the server still opens it to check
// codes; an enrolment stored before it was sealed reads as it was.
type TOTPEnrolled struct {
	ID              string   `json:"id" text:"ref"`
	Secret          string   `json:"secret" personal:"true" text:"ref"`
	RecoveryDigests []string `json:"recovery_digests" max:"16"`
	Step            int64    `json:"step"`
}

// RecoveryCodeUsed spends one of an account's recovery codes (its digest)
// in place of a one-time code; it is written before the login it allows, on
// the account's stream, so a code is used once even by two logins at once.
type RecoveryCodeUsed struct {
	ID     string `json:"id" text:"ref"`
	Digest string `json:"digest" text:"ref"`
}

// LoggedIn opens a session: Session is its public ID (sess_ and 16 hex
// digits of Digest), Digest the SHA-256 of the cookie's secret, ExpiresAt
// its end whatever the activity. TOTPStep is the step of the one-time code
// used (0 for none, as with a recovery code).
type LoggedIn struct {
	Account   string    `json:"account" text:"ref"`
	Session   string    `json:"session" text:"ref"`
	Digest    string    `json:"digest" text:"ref"`
	ExpiresAt time.Time `json:"expires_at"`
	Address   string    `json:"address,omitempty" text:"ref"`
	TOTPStep  int64     `json:"totp_step,omitempty"`
}

// LoggedOut ends a session before it expires; Cause is one of the End
// constants.
type LoggedOut struct {
	Account string `json:"account" text:"ref"`
	Session string `json:"session" text:"ref"`
	Cause   string `json:"cause" text:"code"`
}

// LoginFailed records failed logins since the last such record: Failures
// of them for Account, or for usernames that name no account (Account
// empty; such a username is never recorded), from Addresses client
// addresses (Address when there was one). LockedUntil is set when the
// failures locked the account's username. The service writes at most one
// per account and one for unknown usernames per interval, so a guessing
// flood grows the log by the deployment's accounts, not by the guesses.
type LoginFailed struct {
	Account     string     `json:"account,omitempty" text:"ref"`
	Address     string     `json:"address,omitempty" text:"ref"`
	Addresses   int        `json:"addresses"`
	Failures    int        `json:"failures"`
	LockedUntil *time.Time `json:"locked_until,omitempty"`
}

// SessionsSeen records when sessions were last used, so that their idle
// time survives a restart. At is the last use of each, as of the record.
type SessionsSeen struct {
	Sessions []SessionSeen `json:"sessions" max:"100000"`
}

// SessionSeen is one session's last use.
type SessionSeen struct {
	Session string    `json:"session" text:"ref"`
	At      time.Time `json:"at"`
}

// EventType implementations of the account and session events.
func (AccountCreated) EventType() string   { return TypeAccountCreated }
func (AccountActivated) EventType() string { return TypeAccountActivated }
func (AccountReset) EventType() string     { return TypeAccountReset }
func (AccountDisabled) EventType() string  { return TypeAccountDisabled }
func (TOTPEnrolled) EventType() string     { return TypeTOTPEnrolled }
func (RecoveryCodeUsed) EventType() string { return TypeRecoveryCodeUsed }
func (LoggedIn) EventType() string         { return TypeLoggedIn }
func (LoggedOut) EventType() string        { return TypeLoggedOut }
func (LoginFailed) EventType() string      { return TypeLoginFailed }
func (SessionsSeen) EventType() string     { return TypeSessionsSeen }

// Account is a person's account as the access stream records it. The
// secrets (password hash, TOTP secret, digests) are never encoded.
type Account struct {
	ID        string    `json:"id" doc:"The account's ID: the actor of every step the person records."`
	Username  string    `json:"username" doc:"The name the person logs in with (lowercase)."`
	Name      string    `json:"name" doc:"The person's display name, shown beside their steps."`
	Role      Role      `json:"role" doc:"The account's role."`
	Station   string    `json:"station,omitempty" doc:"The station a staff account is bound to."`
	Region    string    `json:"region,omitempty" doc:"The region of a coordinator or an inspector; absent for an inspector of every region."`
	CreatedAt time.Time `json:"created_at" doc:"When the account was created."`
	// State is pending until the person sets a password with the
	// activation code, then active; disabled is final.
	State      AccountState `json:"state" doc:"pending (waiting for its activation), active or disabled."`
	TOTP       bool         `json:"totp" doc:"Whether the account has confirmed a two-factor (TOTP) authenticator."`
	DisabledAt time.Time    `json:"disabled_at,omitzero" doc:"When the account was disabled."`

	activationDigest  string
	activationExpires time.Time
	passwordHash      string
	totpSecret        string
	lastTOTPStep      int64
	recovery          []string
	sessionsEndedAt   time.Time // sessions begun before it ended with a reset or the disabling
}

// AccountState is where an account is in its life.
type AccountState string

// The account states. Never rename them.
const (
	AccountStatePending  AccountState = "pending"
	AccountStateActive   AccountState = "active"
	AccountStateDisabled AccountState = "disabled"
)

var accountStates = []AccountState{AccountStatePending, AccountStateActive, AccountStateDisabled}

// Values returns the account states.
func (AccountState) Values() []string { return strs(accountStates) }

// Valid reports whether s is an account state.
func (s AccountState) Valid() bool { return slices.Contains(accountStates, s) }

// Actor returns the actor the account's sessions authenticate.
func (a Account) Actor() Actor {
	return Actor{ID: a.ID, Role: a.Role, Station: a.Station, Region: a.Region}
}

// PasswordHash returns the account's password hash ("" before activation).
func (a Account) PasswordHash() string { return a.passwordHash }

// TOTPSecret returns the account's confirmed TOTP secret and the step of
// the last code it used.
func (a Account) TOTPSecret() (secret string, lastStep int64) { return a.totpSecret, a.lastTOTPStep }

// RecoveryCode returns the digest of an unused recovery code of the
// account equal to digest, compared in constant time, and true; or false.
func (a Account) RecoveryCode(digest string) (string, bool) {
	found := ""
	for _, d := range a.recovery {
		if subtle.ConstantTimeCompare([]byte(d), []byte(digest)) == 1 {
			found = d
		}
	}
	return found, found != ""
}

// Session is a login's session. LastSeen is its last recorded use.
type Session struct {
	ID        string
	Account   string
	StartedAt time.Time
	ExpiresAt time.Time
	LastSeen  time.Time
	Ended     bool
	TOTPStep  int64 // the step of the one-time code its login used
}

// SessionPolicy is how long sessions last: Idle after their last use,
// Absolute after the login whatever the use.
type SessionPolicy struct {
	Idle     time.Duration
	Absolute time.Duration
}

// DefaultSessionPolicy ends sessions after 30 minutes idle or 12 hours.
var DefaultSessionPolicy = SessionPolicy{Idle: 30 * time.Minute, Absolute: 12 * time.Hour}

// Live reports whether s can still authenticate at now, with lastUse its
// latest use (what the service saw since the last SessionsSeen, when later
// than LastSeen).
func (s Session) Live(p SessionPolicy, lastUse, now time.Time) bool {
	seen := s.LastSeen
	if lastUse.After(seen) {
		seen = lastUse
	}
	return !s.Ended && now.Before(s.ExpiresAt) && now.Sub(seen) < p.Idle
}

// Accounts is the state of the accounts and sessions on the access stream.
// Evolve mutates it; sessions that expired before the latest login are
// dropped, so the state grows with the sessions that could be live, not
// with every login.
type Accounts struct {
	// Version is the number of access-stream events folded.
	Version    uint64
	byID       map[string]*Account
	byUsername map[string]string
	sessions   map[string]*Session // by Digest
	bySession  map[string]string   // session ID to Digest
}

// Evolve applies env, an event of the access stream, to a. Events of
// other kinds (tokens) are ignored.
func (a *Accounts) Evolve(env Envelope) {
	a.ensure()
	if env.Stream == AccessStream {
		a.Version = env.Revision + 1
	}
	at := env.Meta.OccurredAt
	switch e := env.Event.(type) {
	case AccountCreated:
		a.byID[e.ID] = &Account{ID: e.ID, Username: e.Username, Name: e.Name, Role: e.Role,
			Station: e.Station, Region: e.Region, CreatedAt: at, State: AccountStatePending,
			activationDigest: e.ActivationDigest, activationExpires: e.ActivationExpires}
		a.byUsername[e.Username] = e.ID
	case AccountActivated:
		if acc := a.byID[e.ID]; acc != nil {
			acc.State, acc.passwordHash, acc.activationDigest = AccountStateActive, e.PasswordHash, ""
		}
	case AccountReset:
		if acc := a.byID[e.ID]; acc != nil {
			acc.State, acc.passwordHash = AccountStatePending, ""
			acc.TOTP, acc.totpSecret, acc.lastTOTPStep, acc.recovery = false, "", 0, nil
			acc.activationDigest, acc.activationExpires = e.ActivationDigest, e.ActivationExpires
			acc.sessionsEndedAt = env.Meta.RecordedAt
			a.endSessions(e.ID)
		}
	case AccountDisabled:
		if acc := a.byID[e.ID]; acc != nil {
			acc.State, acc.DisabledAt, acc.activationDigest = AccountStateDisabled, at, ""
			acc.sessionsEndedAt = env.Meta.RecordedAt
			a.endSessions(e.ID)
		}
	case TOTPEnrolled:
		if acc := a.byID[e.ID]; acc != nil {
			acc.TOTP, acc.totpSecret, acc.lastTOTPStep = true, e.Secret, e.Step
			acc.recovery = slices.Clone(e.RecoveryDigests)
		}
	case RecoveryCodeUsed:
		if acc := a.byID[e.ID]; acc != nil {
			acc.recovery = slices.DeleteFunc(acc.recovery, func(d string) bool { return d == e.Digest })
		}
	case LoggedIn:
		a.dropExpired(at)
		s := &Session{ID: e.Session, Account: e.Account, StartedAt: env.Meta.RecordedAt, ExpiresAt: e.ExpiresAt,
			LastSeen: at, TOTPStep: e.TOTPStep}
		a.sessions[e.Digest] = s
		a.bySession[e.Session] = e.Digest
		if acc := a.byID[e.Account]; acc != nil {
			acc.lastTOTPStep = max(acc.lastTOTPStep, e.TOTPStep)
		}
	case LoggedOut:
		if s := a.sessions[a.bySession[e.Session]]; s != nil {
			s.Ended = true
		}
	case SessionsSeen:
		for _, seen := range e.Sessions {
			if s := a.sessions[a.bySession[seen.Session]]; s != nil && seen.At.After(s.LastSeen) {
				s.LastSeen = seen.At
			}
		}
	}
}

func (a *Accounts) ensure() {
	if a.byID == nil {
		a.byID, a.byUsername = map[string]*Account{}, map[string]string{}
		a.sessions, a.bySession = map[string]*Session{}, map[string]string{}
	}
}

// MergeSessions adds to a the sessions folded into other from the sessions
// stream alone (its recent tail), with the one-time steps they used.
func (a *Accounts) MergeSessions(other *Accounts) {
	a.ensure()
	for d, s := range other.sessions {
		cp := *s
		a.sessions[d] = &cp
		a.bySession[s.ID] = d
		if acc := a.byID[s.Account]; acc != nil {
			acc.lastTOTPStep = max(acc.lastTOTPStep, s.TOTPStep)
		}
	}
}

func (a *Accounts) endSessions(account string) {
	for _, s := range a.sessions {
		if s.Account == account {
			s.Ended = true
		}
	}
}

// dropExpired forgets sessions that ended or expired before now.
func (a *Accounts) dropExpired(now time.Time) {
	for d, s := range a.sessions {
		if s.Ended || !now.Before(s.ExpiresAt) {
			delete(a.sessions, d)
			delete(a.bySession, s.ID)
		}
	}
}

// Account returns the account with id.
func (a *Accounts) Account(id string) (Account, bool) {
	acc := a.byID[id]
	if acc == nil {
		return Account{}, false
	}
	return *acc, true
}

// ByUsername returns the account whose username is username, ignoring
// case.
func (a *Accounts) ByUsername(username string) (Account, bool) {
	return a.Account(a.byUsername[strings.ToLower(username)])
}

// List returns every account, ordered by username.
func (a *Accounts) List() []Account {
	out := make([]Account, 0, len(a.byID))
	for _, acc := range a.byID {
		out = append(out, *acc)
	}
	slices.SortFunc(out, func(x, y Account) int { return strings.Compare(x.Username, y.Username) })
	return out
}

// Authenticate returns the account of the live session whose cookie
// secret has the SHA-256 digest, and the session, at now: lastUse is the
// session's latest use the caller saw that SessionsStream may not hold yet.
// A session of an account disabled or reset after it began, or of an
// account that is not active, does not authenticate, whatever order the two
// streams were folded in.
func (a *Accounts) Authenticate(digest string, p SessionPolicy, lastUse, now time.Time) (Account, Session, bool) {
	s := a.sessions[digest]
	if s == nil || !s.Live(p, lastUse, now) || now.Sub(s.StartedAt) >= p.Absolute {
		return Account{}, Session{}, false
	}
	acc := a.byID[s.Account]
	if acc == nil || acc.State != AccountStateActive || !s.StartedAt.After(acc.sessionsEndedAt) {
		return Account{}, Session{}, false
	}
	return *acc, *s, true
}

// Session returns the session whose cookie secret has the SHA-256 digest,
// ended or not.
func (a *Accounts) Session(digest string) (Session, bool) {
	s := a.sessions[digest]
	if s == nil {
		return Session{}, false
	}
	return *s, true
}

// SessionsOf returns the IDs of the account's sessions not ended by an
// event (some may have expired).
func (a *Accounts) SessionsOf(account string) []string {
	var out []string
	for _, s := range a.sessions {
		if s.Account == account && !s.Ended {
			out = append(out, s.ID)
		}
	}
	slices.Sort(out)
	return out
}

// OpenSessions returns every session not ended by an event, by ID.
func (a *Accounts) OpenSessions() map[string]Session {
	out := map[string]Session{}
	for _, s := range a.sessions {
		if !s.Ended {
			out[s.ID] = *s
		}
	}
	return out
}

// usernamePattern is a username: a lowercase letter, then 2 to 31 lowercase
// letters, digits, dots, underscores or hyphens.
var usernamePattern = regexp.MustCompile(`^[a-z][a-z0-9._-]{2,31}$`)

// CheckUsername returns an invalid Error naming field unless username is
// a username (NormalizeUsername's output).
func CheckUsername(field, username string) error {
	if !usernamePattern.MatchString(username) {
		return Invalid(field, "a username is 3 to 32 lowercase letters, digits, dots, underscores or hyphens, starting with a letter")
	}
	return nil
}

// NormalizeUsername returns username as accounts keep it: trimmed and
// lowercase.
func NormalizeUsername(username string) string { return strings.ToLower(strings.TrimSpace(username)) }

// CreateAccount records a new account. The caller generates the ID and the
// activation code, shows the code once and passes only its digest.
type CreateAccount struct {
	Common
	ID               string `json:"-"`
	Username         string `json:"username" text:"code" doc:"The name the person logs in with: 3 to 32 lowercase letters, digits, dots, underscores or hyphens, starting with a letter (e.g. li.wei)."`
	Name             string `json:"name" text:"name" doc:"The person's display name, shown beside their steps (e.g. 李伟)."`
	Role             Role   `json:"role" doc:"The account's role."`
	Station          string `json:"station,omitempty" text:"code" doc:"The station a staff account is bound to (required for staff)."`
	Region           string `json:"region,omitempty" text:"code" doc:"The region of a coordinator (required) or an inspector (absent: every region)."`
	ActivationDigest string `json:"-"`
}

// ResetAccount gives an account a new activation code (its digest),
// clearing its password and two-factor enrolment and ending its sessions.
type ResetAccount struct {
	Common
	ID               string `json:"-"`
	ActivationDigest string `json:"-"`
}

// DisableAccount disables an account and ends its sessions.
type DisableAccount struct {
	Common
	ID string `json:"-"`
}

// ActivateAccount sets the password of a pending account whose activation
// code has CodeDigest. PasswordHash is the password's Argon2id hash; the
// password's own rules are checked by the caller before hashing.
type ActivateAccount struct {
	Common
	Username     string
	CodeDigest   string
	PasswordHash string
}

// EnrolTOTP records an account's confirmed TOTP secret.
type EnrolTOTP struct {
	Common
	ID              string
	Secret          string
	RecoveryDigests []string
	CodeStep        int64
}

// UseRecoveryCode spends the account's unused recovery code whose digest
// is Digest.
type UseRecoveryCode struct {
	Common
	ID     string
	Digest string
}

// Account steps (authorization: CreateAccount, ResetAccount and
// DisableAccount are admins'; the others are the person's own).
const (
	StepCreateAccount   Step = "create-account"
	StepResetAccount    Step = "reset-account"
	StepDisableAccount  Step = "disable-account"
	StepActivateAccount Step = "activate-account"
	StepEnrolTOTP       Step = "enrol-totp"
	StepUseRecoveryCode Step = "use-recovery-code"
)

// Step returns StepUseRecoveryCode.
func (*UseRecoveryCode) Step() Step { return StepUseRecoveryCode }

// Validate requires the ID and the digest.
func (c *UseRecoveryCode) Validate() error {
	return firstErr(c.Common.validate(), required("id", c.ID), required("recovery_code", c.Digest))
}

// Step returns StepCreateAccount.
func (*CreateAccount) Step() Step { return StepCreateAccount }

// Step returns StepResetAccount.
func (*ResetAccount) Step() Step { return StepResetAccount }

// Step returns StepDisableAccount.
func (*DisableAccount) Step() Step { return StepDisableAccount }

// Step returns StepActivateAccount.
func (*ActivateAccount) Step() Step { return StepActivateAccount }

// Step returns StepEnrolTOTP.
func (*EnrolTOTP) Step() Step { return StepEnrolTOTP }

// Validate checks the username, the display name, the role and its
// binding, as for a token.
func (c *CreateAccount) Validate() error {
	c.Username = NormalizeUsername(c.Username)
	if err := firstErr(c.Common.validate(), CheckUsername("username", c.Username), required("name", c.Name)); err != nil {
		return err
	}
	return validateBinding(c.Role, c.Station, c.Region)
}

// validateBinding checks a role and the station or region it is bound to,
// as tokens and accounts take them.
func validateBinding(role Role, station, region string) error {
	if !role.Valid() {
		return Invalid("role", "role must be admin, staff, coordinator or inspector")
	}
	if role == RoleStaff || station != "" {
		if err := CheckCode("station", station); err != nil {
			return err
		}
	}
	if role == RoleCoordinator || (role == RoleInspector && region != "") {
		if err := CheckCode("region", region); err != nil {
			return err
		}
	}
	return nil
}

// Validate requires the ID.
func (c *ResetAccount) Validate() error { return firstErr(c.Common.validate(), required("id", c.ID)) }

// Validate requires the ID.
func (c *DisableAccount) Validate() error { return firstErr(c.Common.validate(), required("id", c.ID)) }

// Validate requires the username and the code.
func (c *ActivateAccount) Validate() error {
	return firstErr(c.Common.validate(), required("username", c.Username), required("activation_code", c.CodeDigest))
}

// Validate requires the ID and the secret.
func (c *EnrolTOTP) Validate() error {
	return firstErr(c.Common.validate(), required("id", c.ID), required("secret", c.Secret))
}

// errActivation is the one answer to a wrong username, a wrong or expired
// code and an account that is not pending: which of them is not said.
func errActivation() error {
	return Violation(RuleActivationInvalid, "the username or the activation code is wrong, or the code has expired")
}

// DecideAccount decides an account command on the accounts' state.
// stationKnown says whether a staff account's station is registered. It is
// pure.
func DecideAccount(a *Accounts, cmd Command, stationKnown bool, now time.Time) ([]Event, error) {
	if err := cmd.Validate(); err != nil {
		return nil, err
	}
	if err := checkTime(Case{}, OccurredAt(cmd, now), now); err != nil {
		return nil, err
	}
	switch v := cmd.(type) {
	case *CreateAccount:
		if _, dup := a.ByUsername(v.Username); dup {
			return nil, &Error{Code: CodeConflict, Rule: RuleAccountExists, Field: "username", Message: "an account with that username exists"}
		}
		if _, dup := a.Account(v.ID); dup {
			return nil, &Error{Code: CodeConflict, Rule: RuleAccountExists, Message: "an account with that ID exists"}
		}
		if v.Role == RoleStaff && !stationKnown {
			return nil, Violation(RuleUnknownStation, "no station with that code")
		}
		st, rg := bound(v.Role, v.Station, v.Region)
		return one(AccountCreated{ID: v.ID, Username: v.Username, Name: v.Name, Role: v.Role, Station: st, Region: rg,
			ActivationDigest: v.ActivationDigest, ActivationExpires: now.Add(ActivationValidity)})
	case *ResetAccount:
		acc, err := a.usable(v.ID)
		if err != nil {
			return nil, err
		}
		return one(AccountReset{ID: acc.ID, ActivationDigest: v.ActivationDigest, ActivationExpires: now.Add(ActivationValidity)})
	case *DisableAccount:
		acc, err := a.usable(v.ID)
		if err != nil {
			return nil, err
		}
		return one(AccountDisabled{ID: acc.ID})
	case *ActivateAccount:
		acc, ok := a.ByUsername(v.Username)
		same := subtle.ConstantTimeCompare([]byte(acc.activationDigest), []byte(v.CodeDigest)) == 1
		if !ok || acc.State != AccountStatePending || !same || !now.Before(acc.activationExpires) {
			return nil, errActivation()
		}
		return one(AccountActivated{ID: acc.ID, PasswordHash: v.PasswordHash})
	case *EnrolTOTP:
		acc, err := a.usable(v.ID)
		if err != nil {
			return nil, err
		}
		if acc.State != AccountStateActive {
			return nil, Violation(RuleAccountNotActive, "the account has no password yet")
		}
		return one(TOTPEnrolled{ID: acc.ID, Secret: v.Secret, RecoveryDigests: v.RecoveryDigests, Step: v.CodeStep})
	case *UseRecoveryCode:
		acc, err := a.usable(v.ID)
		if err != nil {
			return nil, err
		}
		d, ok := acc.RecoveryCode(v.Digest)
		if !ok {
			return nil, Violation(RuleRecoveryCodeInvalid, "no such unused recovery code")
		}
		return one(RecoveryCodeUsed{ID: acc.ID, Digest: d})
	}
	return nil, Internal(nil, "the step %q is not an account step", cmd.Step())
}

// usable returns the account with id unless it is missing or disabled.
func (a *Accounts) usable(id string) (Account, error) {
	acc, ok := a.Account(id)
	if !ok {
		return Account{}, NotFound("no such account")
	}
	if acc.State == AccountStateDisabled {
		return Account{}, Violation(RuleAccountDisabled, "the account is disabled")
	}
	return acc, nil
}

// bound returns the station and region a role keeps: none for admins, no
// station for coordinators and inspectors.
func bound(role Role, station, region string) (string, string) {
	switch role {
	case RoleAdmin:
		return "", ""
	case RoleCoordinator, RoleInspector:
		return "", region
	}
	return station, region
}

// SessionIDOf returns the public ID of the session whose cookie secret has
// the hex digest: "sess_" and its first 16 hex digits.
func SessionIDOf(digest string) string {
	if len(digest) < 16 {
		return "sess_" + digest
	}
	return "sess_" + digest[:16]
}

func init() {
	for _, err := range []error{
		Register[AccountCreated](Events, 1), Register[AccountActivated](Events, 1),
		Register[AccountReset](Events, 1), Register[AccountDisabled](Events, 1),
		Register[TOTPEnrolled](Events, 1), Register[RecoveryCodeUsed](Events, 1),
		Register[LoggedIn](Events, 1), Register[LoggedOut](Events, 1),
		Register[LoginFailed](Events, 1), Register[SessionsSeen](Events, 1),
	} {
		if err != nil {
			panic(err)
		}
	}
}
