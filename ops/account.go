package ops

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	nethttp "net/http"
	"strings"
	"text/tabwriter"
	"time"

	"waystation/domain"
	"waystation/eventstore"
	"waystation/internal/credential"
)

// CommandLineActor is the actor of the account steps taken with `waystation
// account`: whoever may run it holds the data folder (or the cluster's
// connection string and master key), which is more than an admin can do.
var CommandLineActor = domain.Actor{ID: "system:command-line", Role: domain.RoleAdmin}

// ActivationPath is the console's page where a person sets their password
// with the activation code (the API's route is POST /v1/accounts/activate).
const ActivationPath = "/activate"

// The actions of `waystation account`.
const (
	accountCreate  = "create"
	accountReset   = "reset"
	accountDisable = "disable"
	accountList    = "list"
)

// accountRequest is one account action, as `waystation account` takes it
// and as the control socket's POST /account carries it.
type accountRequest struct {
	Action   string      `json:"action"`
	Username string      `json:"username,omitempty"`
	Name     string      `json:"name,omitempty"`
	Role     domain.Role `json:"role,omitempty"`
	Station  string      `json:"station,omitempty"`
	Region   string      `json:"region,omitempty"`
}

// accountAnswer is what an account action did: the account (create, reset,
// disable) with its new activation code (create, reset), or every account
// (list).
type accountAnswer struct {
	Account        *domain.Account  `json:"account,omitempty"`
	Accounts       []domain.Account `json:"accounts,omitempty"`
	ActivationCode string           `json:"activation_code,omitempty"`
	ExpiresAt      time.Time        `json:"activation_expires_at,omitzero"`
}

// controlProblem is the control socket's answer to an account action that
// fails: the domain error's parts, so that the command names the flag.
type controlProblem struct {
	Code    domain.Code `json:"code"`
	Rule    string      `json:"rule,omitempty"`
	Field   string      `json:"field,omitempty"`
	Message string      `json:"message"`
}

// runAccount is `waystation account create|reset|disable|list`: it takes
// the step through the domain service on the store opened directly, or,
// while a service holds the data folder, through its control socket.
func runAccount(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(stderr, "usage: waystation account create|reset|disable|list [flags]  (waystation account create -h for its flags)")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return fmt.Errorf("%w: account: create, reset, disable or list", ErrUsage)
	}
	req := accountRequest{Action: args[0]}
	fs := flag.NewFlagSet("account "+req.Action, flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the answer as JSON")
	switch req.Action {
	case accountCreate:
		fs.StringVar(&req.Username, "username", "", "the name the person logs in with: 3 to 32 lowercase letters, digits, dots, underscores or hyphens, starting with a letter (required)")
		fs.StringVar(&req.Name, "name", "", "the person's display name, shown beside their steps (required)")
		fs.Func("role", "admin, staff, coordinator or inspector (required)", func(v string) error {
			req.Role = domain.Role(v)
			return nil
		})
		fs.StringVar(&req.Station, "station", "", "the station of a staff account (required for staff, only for staff)")
		fs.StringVar(&req.Region, "region", "", "the region of a coordinator (required) or an inspector (none: every region)")
	case accountReset, accountDisable:
		fs.StringVar(&req.Username, "username", "", "the account's username (required)")
	case accountList:
	default:
		return fmt.Errorf("%w: account: unknown action %q: create, reset, disable or list", ErrUsage, req.Action)
	}
	cfg, err := parse(fs, args[1:], stderr)
	if err != nil {
		return err
	}
	if err := req.check(); err != nil {
		return fmt.Errorf("%w: account %s: %w", ErrUsage, req.Action, err)
	}
	ans, err := accountOnDataFolder(ctx, cfg, req, stderr)
	if err != nil {
		return fmt.Errorf("account %s: %w", req.Action, flagError(err))
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(ans)
	}
	ans.print(stdout, req, "http://"+cfg.Addr)
	return nil
}

// check refuses, naming the flag, what the account step would refuse on
// the request alone, and a station or a region the role does not keep (the
// domain ignores them; an operator who typed one meant something else).
func (req *accountRequest) check() error {
	switch req.Action {
	case accountReset, accountDisable:
		req.Username = domain.NormalizeUsername(req.Username)
		if req.Username == "" {
			return errors.New("--username: required")
		}
		return nil
	case accountList:
		return nil
	}
	switch {
	case req.Username == "":
		return errors.New("--username: required")
	case req.Name == "":
		return errors.New("--name: required")
	case req.Role == "":
		return errors.New("--role: required: admin, staff, coordinator or inspector")
	case !req.Role.Valid():
		return fmt.Errorf("--role: %q is not admin, staff, coordinator or inspector", req.Role)
	case req.Role == domain.RoleStaff && req.Station == "":
		return errors.New("--station: a staff account needs its station")
	case req.Role != domain.RoleStaff && req.Station != "":
		return fmt.Errorf("--station: only a staff account has a station, not a %s one", req.Role)
	case req.Role == domain.RoleCoordinator && req.Region == "":
		return errors.New("--region: a coordinator account needs its region")
	case (req.Role == domain.RoleAdmin || req.Role == domain.RoleStaff) && req.Region != "":
		return fmt.Errorf("--region: only a coordinator or an inspector account has a region, not a %s one", req.Role)
	}
	cmd := req.create("")
	if err := cmd.Validate(); err != nil {
		return flagError(err)
	}
	req.Username = cmd.Username
	return nil
}

// create returns the CreateAccount step of req, with the activation code's
// digest.
func (req accountRequest) create(digest string) *domain.CreateAccount {
	return &domain.CreateAccount{ID: newAccountID(), Username: req.Username, Name: req.Name, Role: req.Role,
		Station: req.Station, Region: req.Region, ActivationDigest: digest}
}

// accountFlags are the flags of `waystation account create` by the fields
// and rules of the account steps' errors.
var accountFlags = map[string]string{
	"username": "--username", "name": "--name", "role": "--role", "station": "--station", "region": "--region",
	domain.RuleUnknownStation: "--station", domain.RuleAccountExists: "--username",
	domain.RuleAccountDisabled: "--username",
}

// flagError returns err, an account step's refusal, as a refusal of the
// flag it is about when it names one.
func flagError(err error) error {
	var de *domain.Error
	if !errors.As(err, &de) {
		return err
	}
	name := accountFlags[de.Field]
	if name == "" {
		name = accountFlags[de.Rule]
	}
	if name == "" {
		return err
	}
	return &flagRefusal{flag: name, err: de}
}

// flagRefusal is a domain refusal about one flag of the command line.
type flagRefusal struct {
	flag string
	err  *domain.Error
}

// Error returns the flag, the refusal's message and its rule.
func (e *flagRefusal) Error() string {
	msg := e.flag + ": " + e.err.Message
	if e.err.Rule != "" {
		msg += " (" + e.err.Rule + ")"
	}
	return msg
}

// Unwrap returns the domain's refusal.
func (e *flagRefusal) Unwrap() error { return e.err }

// accountOnDataFolder takes the account step of req on the store of cfg,
// opened directly, or through the control socket of the service that holds
// it. Only a creation may open a data folder that holds no store yet: it
// is how a fresh installation gets its first admin.
func accountOnDataFolder(ctx context.Context, cfg Config, req accountRequest, stderr io.Writer) (accountAnswer, error) {
	if cfg.Store == "" && req.Action != accountCreate {
		if err := requireStore(cfg.Data); err != nil {
			return accountAnswer{}, err
		}
	}
	m := NewMain(cfg, cfg.Logger(stderr))
	defer m.Close()
	switch err := m.Open(ctx); {
	case errors.Is(err, eventstore.ErrLocked):
		ans, err := accountOverControl(ctx, cfg.Data, req)
		if errors.Is(err, errNoControl) {
			return ans, fmt.Errorf("%w; the process that holds it does not answer on %s", err, ControlSocket)
		}
		return ans, err
	case err != nil:
		return accountAnswer{}, err
	}
	return m.accountStep(ctx, req)
}

// accountStep takes the account step of req through the domain service.
func (m *Main) accountStep(ctx context.Context, req accountRequest) (accountAnswer, error) {
	if err := req.check(); err != nil {
		return accountAnswer{}, err
	}
	accounts, err := m.Service.Accounts(ctx)
	if err != nil {
		return accountAnswer{}, err
	}
	if req.Action == accountList {
		return accountAnswer{Accounts: accounts.List()}, nil
	}
	var cmd domain.Command
	var code string
	switch req.Action {
	case accountCreate:
		code = credential.NewCode()
		cmd = req.create(credential.Digest(code))
	case accountReset, accountDisable:
		acc, ok := accounts.ByUsername(req.Username)
		if !ok {
			return accountAnswer{}, &domain.Error{Code: domain.CodeNotFound, Field: "username", Message: "no account has the username " + req.Username}
		}
		if req.Action == accountDisable {
			cmd = &domain.DisableAccount{ID: acc.ID}
		} else {
			code = credential.NewCode()
			cmd = &domain.ResetAccount{ID: acc.ID, ActivationDigest: credential.Digest(code)}
		}
	}
	res, err := m.Service.AccountCommand(ctx, CommandLineActor, cmd, domain.Options{})
	if err != nil {
		return accountAnswer{}, err
	}
	if accounts, err = m.Service.Accounts(ctx); err != nil {
		return accountAnswer{}, err
	}
	acc, _ := accounts.Account(res.ID)
	ans := accountAnswer{Account: &acc, ActivationCode: code}
	if code != "" {
		ans.ExpiresAt = m.Now().Add(domain.ActivationValidity).UTC()
	}
	return ans, nil
}

// serveAccount answers POST /account on the control socket: the account
// step of the JSON request, or a controlProblem.
func (m *Main) serveAccount(w nethttp.ResponseWriter, r *nethttp.Request) {
	var req accountRequest
	dec := json.NewDecoder(nethttp.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	w.Header().Set("Content-Type", "application/json")
	if err := dec.Decode(&req); err != nil {
		w.WriteHeader(nethttp.StatusBadRequest)
		json.NewEncoder(w).Encode(controlProblem{Code: domain.CodeInvalid, Message: "not an account request: " + err.Error()})
		return
	}
	ans, err := m.accountStep(r.Context(), req)
	if err != nil {
		p := controlProblem{Code: domain.CodeInternal, Message: err.Error()}
		var de *domain.Error
		if errors.As(err, &de) {
			p = controlProblem{Code: de.Code, Rule: de.Rule, Field: de.Field, Message: de.Message}
		} else {
			m.Logger.Error("an account step over the control socket failed", "action", req.Action, "err", err)
		}
		w.WriteHeader(nethttp.StatusUnprocessableEntity)
		json.NewEncoder(w).Encode(p)
		return
	}
	if req.Action != accountList {
		m.Logger.Info("account step over the control socket", "action", req.Action, "account", ans.Account.ID)
	}
	json.NewEncoder(w).Encode(ans)
}

// accountOverControl asks the serving process that holds dir to take the
// account step of req. A refusal comes back as the *domain.Error it was.
func accountOverControl(ctx context.Context, dir string, req accountRequest) (accountAnswer, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return accountAnswer{}, err
	}
	hr, err := nethttp.NewRequestWithContext(ctx, nethttp.MethodPost, "http://waystation/account", bytes.NewReader(body))
	if err != nil {
		return accountAnswer{}, err
	}
	hr.Header.Set("Content-Type", "application/json")
	resp, err := controlClient(dir).Do(hr)
	if err != nil {
		return accountAnswer{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return accountAnswer{}, fmt.Errorf("reading the serving process's answer: %w", err)
	}
	if resp.StatusCode != nethttp.StatusOK {
		var p controlProblem
		if json.Unmarshal(raw, &p) != nil || p.Message == "" {
			return accountAnswer{}, fmt.Errorf("the serving process answered %s: %s", resp.Status, strings.TrimSpace(string(raw)))
		}
		return accountAnswer{}, &domain.Error{Code: p.Code, Rule: p.Rule, Field: p.Field, Message: p.Message}
	}
	var ans accountAnswer
	if err := json.Unmarshal(raw, &ans); err != nil {
		return accountAnswer{}, fmt.Errorf("reading the serving process's answer: %w", err)
	}
	return ans, nil
}

// print writes what the account step did for an operator.
// base is the service's address, for the activation's curl command.
func (ans accountAnswer) print(w io.Writer, req accountRequest, base string) {
	if req.Action == accountList {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USERNAME\tNAME\tROLE\tSTATION/REGION\tSTATE\tTOTP\tID")
		for _, a := range ans.Accounts {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%t\t%s\n", a.Username, a.Name, a.Role, scopeOf(a), a.State, a.TOTP, a.ID)
		}
		tw.Flush()
		return
	}
	a := ans.Account
	switch req.Action {
	case accountCreate:
		fmt.Fprintf(w, "created the %s account %s (%s, %s)", a.Role, a.Username, a.Name, a.ID)
	case accountReset:
		fmt.Fprintf(w, "reset the account %s (%s): its password and two-factor are cleared, its sessions ended", a.Username, a.ID)
	case accountDisable:
		fmt.Fprintf(w, "disabled the account %s (%s): its sessions are ended; it cannot be enabled again\n", a.Username, a.ID)
		return
	}
	if s := scopeOf(*a); s != "" && req.Action == accountCreate {
		fmt.Fprintf(w, " at %s", s)
	}
	fmt.Fprintf(w, "\n\nactivation code (shown once, valid until %s): %s\n\n", ans.ExpiresAt.Format(time.RFC3339), ans.ActivationCode)
	fmt.Fprintf(w, "Hand it to the person: they set their password with it at %s in the console,\nor through the API:\n", ActivationPath)
	fmt.Fprintf(w, "  curl -X POST %s/v1/accounts/activate -H 'Content-Type: application/json' \\\n", base)
	fmt.Fprintf(w, "    -d '{\"username\":%q,\"activation_code\":%q,\"password\":\"...\"}'\n", a.Username, ans.ActivationCode)
	if a.Role == domain.RoleAdmin || a.Role == domain.RoleInspector {
		fmt.Fprintf(w, "An %s must enrol two-factor (an authenticator app, TOTP) right after the first login, before anything else\n(POST /v1/session/totp, then POST /v1/session/totp/confirm; see docs/accounts.md).\n", a.Role)
	}
}

// scopeOf is the station or region an account is bound to, for display.
func scopeOf(a domain.Account) string {
	switch {
	case a.Station != "":
		return a.Station
	case a.Region != "":
		return a.Region
	case a.Role == domain.RoleInspector:
		return "every region"
	}
	return ""
}

// newAccountID returns a fresh account ID: acc_ and 16 hex digits, as the
// API makes them.
func newAccountID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "acc_" + hex.EncodeToString(b[:])
}
