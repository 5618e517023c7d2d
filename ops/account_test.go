package ops_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	nethttp "net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"testing"
	"time"

	"waystation/ops"
)

// accountCommand runs `waystation account args...` and returns what it
// printed.
func accountCommand(t testing.TB, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := ops.RunCommand(context.Background(), append([]string{"account"}, args...), &out, io.Discard)
	return out.String(), err
}

var activationLine = regexp.MustCompile(`activation code \(shown once, valid until \S+\): (\S+)`)

// activationCode returns the activation code account create or reset
// printed.
func activationCode(t testing.TB, out string) string {
	t.Helper()
	m := activationLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no activation code was printed:\n%s", out)
	}
	return m[1]
}

// browser is a person's HTTP client with a cookie jar.
type browser struct {
	r      *running
	client *nethttp.Client
}

func newBrowser(t testing.TB, r *running) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{r: r, client: &nethttp.Client{Jar: jar}}
}

// do sends body as JSON with the browser's cookies and returns the status
// and the JSON object answered (nil when none).
func (b *browser) do(t testing.TB, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := nethttp.NewRequest(method, b.r.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if len(raw) > 0 {
		json.Unmarshal(raw, &out)
	}
	return resp.StatusCode, out
}

// activateAndLogIn activates username with code and password, logs in and
// returns the session's answer of GET /v1/session.
func (b *browser) activateAndLogIn(t testing.TB, username, code, password string) map[string]any {
	t.Helper()
	if got, out := b.do(t, "POST", "/v1/accounts/activate", map[string]any{"username": username, "activation_code": code, "password": password}); got != 204 {
		t.Fatalf("activating %s: got %d, want 204: %v", username, got, out)
	}
	if got, out := b.do(t, "POST", "/v1/session", map[string]any{"username": username, "password": password}); got != 204 {
		t.Fatalf("logging in as %s: got %d, want 204: %v", username, got, out)
	}
	got, out := b.do(t, "GET", "/v1/session", nil)
	if got != 200 {
		t.Fatalf("GET /v1/session as %s: got %d, want 200: %v", username, got, out)
	}
	return out
}

// TestTheFirstAdminIsCreatedOnTheCommandLineAndLogsIn is a fresh
// installation: the first admin's account is created on an empty data
// folder before the service ever ran, then activated and logged in through
// the API (on the session settings configured), where it must enrol
// two-factor before anything else.
func TestTheFirstAdminIsCreatedOnTheCommandLineAndLogsIn(t *testing.T) {
	dir := t.TempDir() + "/data"
	out, err := accountCommand(t, "create", "--data", dir, "--username", "First.Admin", "--name", "First admin", "--role", "admin")
	if err != nil {
		t.Fatalf("account create on a fresh folder: %v", err)
	}
	code := activationCode(t, out)
	for _, want := range []string{"first.admin", ops.ActivationPath, "/v1/accounts/activate", "two-factor"} {
		if !strings.Contains(out, want) {
			t.Errorf("account create does not say %q:\n%s", want, out)
		}
	}

	r := startWith(t, dir, func(c *ops.Config) { c.SessionIdle, c.TOTPIssuer = 10*time.Minute, "East district" })
	b := newBrowser(t, r)
	session := b.activateAndLogIn(t, "first.admin", code, "a long and fresh passphrase")
	if session["idle_timeout_sec"] != 600.0 {
		t.Errorf("the session's idle timeout is %v s, want the configured 600", session["idle_timeout_sec"])
	}
	acc, _ := session["account"].(map[string]any)
	if acc["username"] != "first.admin" || acc["role"] != "admin" || session["totp_required"] != true {
		t.Errorf("GET /v1/session = %v, want the admin first.admin, who must use two-factor", session)
	}
	if got, out := b.do(t, "GET", "/v1/accounts", nil); got != 403 || out["rule"] != "totp_enrolment_required" {
		t.Errorf("before enrolling, GET /v1/accounts answered %d %v, want 403 totp_enrolment_required", got, out)
	}
	got, offer := b.do(t, "POST", "/v1/session/totp", nil)
	if url, _ := offer["otpauth_url"].(string); got != 200 || !strings.Contains(url, "issuer=East%20district") {
		t.Errorf("the admin's two-factor offer: %d %v, want 200 under the configured issuer", got, offer)
	}
}

// TestAccountStepsWhileServingGoThroughTheControlSocket: while a service
// holds the data folder, account create, list, reset and disable ask it
// through the control socket, and the API answers what they did.
func TestAccountStepsWhileServingGoThroughTheControlSocket(t *testing.T) {
	dir := t.TempDir()
	r := start(t, dir)
	r.seed(t)

	out, err := accountCommand(t, "create", "--data", dir, "--username", "li.wei", "--name", "李伟", "--role", "staff", "--station", "S01")
	if err != nil {
		t.Fatalf("account create while serving: %v", err)
	}
	first := activationCode(t, out)
	// The API's index follows the access stream: it shows the account
	// once it has folded the creation.
	eventually(t, "GET /v1/accounts lists li.wei at S01", func() bool {
		list := r.must(t, 200, adminToken, "GET", "/v1/accounts", nil)
		items, _ := list["items"].([]any)
		return len(items) == 1 && items[0].(map[string]any)["username"] == "li.wei" && items[0].(map[string]any)["station"] == "S01"
	})
	if out, err := accountCommand(t, "list", "--data", dir); err != nil || !strings.Contains(out, "li.wei") || !strings.Contains(out, "pending") {
		t.Errorf("account list while serving = %v:\n%s\nwant li.wei, pending", err, out)
	}

	out, err = accountCommand(t, "reset", "--data", dir, "--username", "li.wei")
	if err != nil {
		t.Fatalf("account reset while serving: %v", err)
	}
	second := activationCode(t, out)
	b := newBrowser(t, r)
	if got, _ := b.do(t, "POST", "/v1/accounts/activate", map[string]any{"username": "li.wei", "activation_code": first, "password": "a long and fresh passphrase"}); got == 204 {
		t.Error("the activation code of the creation still works after the reset")
	}
	b.activateAndLogIn(t, "li.wei", second, "a long and fresh passphrase")
	if got, out := b.do(t, "GET", "/v1/stations/S01/occupancy", nil); got != 200 {
		t.Errorf("li.wei's session reads the occupancy of S01: %d %v, want 200", got, out)
	}

	if _, err := accountCommand(t, "disable", "--data", dir, "--username", "li.wei"); err != nil {
		t.Fatalf("account disable while serving: %v", err)
	}
	eventually(t, "the session of the disabled account is refused", func() bool {
		got, _ := b.do(t, "GET", "/v1/stations/S01/occupancy", nil)
		return got == 401
	})
	_, err = accountCommand(t, "disable", "--data", dir, "--username", "li.wei")
	if err == nil || !strings.HasPrefix(err.Error(), "account disable: --username: ") {
		t.Errorf("disabling the disabled account again = %v, want a refusal naming --username", err)
	}
}

// TestAccountCreateRefusalsNameTheFlag: a role, a station or a username
// that cannot be is refused naming its flag, before or after the store is
// asked.
func TestAccountCreateRefusalsNameTheFlag(t *testing.T) {
	dir := t.TempDir()
	base := []string{"create", "--data", dir, "--name", "Someone"}
	if _, err := accountCommand(t, append(base, "--username", "taken", "--role", "admin")...); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		args  []string
		flag  string
		usage bool
	}{
		{"an unknown role", []string{"--username", "a.b", "--role", "boss"}, "--role", true},
		{"no role", []string{"--username", "a.b"}, "--role", true},
		{"staff without a station", []string{"--username", "a.b", "--role", "staff"}, "--station", true},
		{"a station for an admin", []string{"--username", "a.b", "--role", "admin", "--station", "S01"}, "--station", true},
		{"a region for staff", []string{"--username", "a.b", "--role", "staff", "--station", "S01", "--region", "R1"}, "--region", true},
		{"a station code that cannot be", []string{"--username", "a.b", "--role", "staff", "--station", "s 1"}, "--station", true},
		{"a username that cannot be", []string{"--username", "1x", "--role", "admin"}, "--username", true},
		{"a station not registered", []string{"--username", "a.b", "--role", "staff", "--station", "S09"}, "--station", false},
		{"a username taken", []string{"--username", "Taken", "--role", "admin"}, "--username", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := accountCommand(t, append(base, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), "account create: "+tc.flag+": ") {
				t.Fatalf("got %v, want a refusal naming %s", err, tc.flag)
			}
			if errors.Is(err, ops.ErrUsage) != tc.usage {
				t.Errorf("errors.Is(%v, ErrUsage) = %t, want %t", err, !tc.usage, tc.usage)
			}
			if out != "" {
				t.Errorf("a refused creation printed %q", out)
			}
		})
	}
	out, err := accountCommand(t, "list", "--data", dir)
	if err != nil || strings.Count(out, "\n") != 2 {
		t.Errorf("after the refusals account list = %v:\n%s\nwant the one account created", err, out)
	}
}
