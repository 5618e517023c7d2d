package ops_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	nethttp "net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
	"waystation/eventstore/sealed"
	"waystation/ops"
)

// The person of the privacy scenario: a name and a resident ID number that
// must never appear in logs, metrics, or anything stored in clear.
const (
	privName     = "Ouyang Mingyue"
	privIDNumber = "11010519491231002X"
)

// privStart runs Main in dir with debug logs captured (so that the scan
// for personal data covers every log line) and cfg changed by tweak, until
// the test ends.
func privStart(t testing.TB, dir string, tweak func(*ops.Config)) *running {
	t.Helper()
	return startWith(t, dir, func(c *ops.Config) {
		c.LogLevel = slog.LevelDebug
		if tweak != nil {
			tweak(c)
		}
	})
}

// privGet answers the raw body of an authorised GET.
func (r *running) privGet(t testing.TB, token, path string) (int, []byte) {
	t.Helper()
	req, err := nethttp.NewRequest("GET", r.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := nethttp.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func privIntake(occurred time.Time) map[string]any {
	return map[string]any{
		"station":     "S01",
		"occurred_at": occurred.UTC().Format(time.RFC3339),
		"referral":    map[string]any{"source": "police_escort", "form_no": "JX-0042", "found_at": "under the bridge of " + privName},
		"person": map[string]any{"name": privName, "sex": "female", "birth_date": "1949-12-31", "id_number": privIDNumber,
			"contacts": []map[string]any{{"name": "Ouyang Lan", "relationship": "sister", "phone": "13800138000"}}},
		"inspection": map[string]any{"injuries": true, "notes": "bruises; says " + privName + " is her name"},
	}
}

// privSecrets are the personal values the scenario records: the person's
// name, ID number and birth date, her sister's name and phone number, and
// the sister's ID number given when she collects her.
var privSecrets = []string{privName, privIDNumber, "1949-12-31", "Ouyang", "13800138000", "110105198001010016"}

// noSecrets fails when b holds any of privSecrets.
func noSecrets(t testing.TB, what string, b []byte) {
	t.Helper()
	for _, s := range privSecrets {
		if bytes.Contains(b, []byte(s)) {
			i := bytes.Index(b, []byte(s))
			t.Errorf("%s holds %q: …%s…", what, s, b[max(0, i-120):min(len(b), i+60)])
		}
	}
}

func verifyExport(t testing.TB, file string, key string, flags ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	args := append([]string{"verify-export", file}, flags...)
	if key != "" {
		args = append(args, "--key", key)
	}
	err := ops.RunCommand(context.Background(), args, &out, &errOut)
	return out.String() + errOut.String(), err
}

// TestPrivacyScenario follows one person through two cases, an inspector's
// export, an erasure and a backup, and checks what a data-protection
// officer and an auditor would: personal values readable before and erased
// after from every read, statistics unchanged, the export verifying
// offline and refused when a byte changes, the backup holding neither the
// name nor the destroyed key, the restored log verifying, and no name or
// ID number in the logs or metrics at any point.
func TestPrivacyScenario(t *testing.T) {
	dir := t.TempDir()
	r := privStart(t, dir, nil)
	staff := r.seed(t)
	inspector := r.must(t, 201, adminToken, "POST", "/v1/tokens", map[string]any{"name": "auditor", "role": "inspector"})["token"].(string)
	began := time.Now().Add(-time.Hour)

	first := r.must(t, 201, staff, "POST", "/v1/cases", privIntake(began))["id"].(string)
	r.must(t, 200, staff, "POST", "/v1/cases/"+first+"/absconding", map[string]any{"last_seen": "near " + privName + "'s old home", "notes": privName + " left at night"})
	r.must(t, 200, staff, "POST", "/v1/cases/"+first+"/closure", map[string]any{})
	second := r.must(t, 201, staff, "POST", "/v1/cases", privIntake(began.Add(30*time.Minute)))["id"].(string)
	r.must(t, 200, staff, "POST", "/v1/cases/"+second+"/relatives-contacted", map[string]any{"relationship": "sister", "outcome": "Ouyang Lan will come", "notes": "called " + privName + "'s sister"})

	t.Run("the safety board and error messages carry no personal data", func(t *testing.T) {
		code, board := r.privGet(t, staff, "/v1/safety?station=S01")
		if code != 200 || !bytes.Contains(board, []byte("repeat_visitor")) {
			t.Errorf("safety board: status %d, want a repeat-visitor alert: %s", code, board)
		}
		noSecrets(t, "the safety board", board)
		bad := privIntake(began)
		bad["person"].(map[string]any)["id_number"] = "11010519491231002Y"
		_, problem := r.call(t, staff, "POST", "/v1/cases", bad)
		b, _ := json.Marshal(problem)
		if !bytes.Contains(b, []byte("id_number")) || bytes.Contains(b, []byte("11010519491231002Y")) || bytes.Contains(b, []byte(privName)) {
			t.Errorf("error for a bad ID number: %s", b)
		}
	})
	r.must(t, 200, staff, "POST", "/v1/cases/"+second+"/pickup", map[string]any{"collector": map[string]any{"name": "Ouyang Lan", "id_number": "110105198001010016", "relationship": "sister"}})
	if got := r.must(t, 200, adminToken, "GET", "/v1/cases/"+first, nil)["person"].(map[string]any)["name"]; got != privName {
		t.Fatalf("before erasure the name reads %v, want %q", got, privName)
	}
	statsPath := "/v1/stats?from=" + began.Add(-48*time.Hour).UTC().Format(time.RFC3339) + "&to=" + time.Now().Add(48*time.Hour).UTC().Format(time.RFC3339)
	_, statsBefore := r.privGet(t, adminToken, statsPath)

	// The inspector's export verifies offline and is refused when any one
	// byte changes.
	_, cp := r.privGet(t, inspector, "/v1/audit/checkpoint")
	var head struct {
		VerifierKey string `json:"verifier_key"`
	}
	if err := json.Unmarshal(cp, &head); err != nil || head.VerifierKey == "" {
		t.Fatalf("checkpoint: %v %s", err, cp)
	}
	code, export := r.privGet(t, inspector, "/v1/cases/"+first+"/export")
	if code != 200 {
		t.Fatalf("export: status %d: %s", code, export)
	}
	exportFile := filepath.Join(t.TempDir(), "export.json")
	if err := os.WriteFile(exportFile, export, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := verifyExport(t, exportFile, head.VerifierKey); err != nil || !strings.HasPrefix(out, "intact") {
		t.Fatalf("verify-export of an intact export: %v: %s", err, out)
	}
	t.Run("an export with one byte changed is refused", func(t *testing.T) {
		var doc map[string]any
		if err := json.Unmarshal(export, &doc); err != nil {
			t.Fatal(err)
		}
		events := doc["events"].([]any)
		data := events[0].(map[string]any)["data"].(string)
		targets := map[string]int{
			"stored data":    bytes.Index(export, []byte(data)) + len(data)/2,
			"a proof":        bytes.Index(export, []byte(`"proof":["`)) + 12,
			"the tree head":  bytes.Index(export, []byte(`"root":"`)) + 10,
			"opened display": bytes.Index(export, []byte(`"opened"`)) + 40,
			"a revision":     bytes.Index(export, []byte(`"revision":1`)) + 11,
		}
		for what, i := range targets {
			changed := bytes.Clone(export)
			switch {
			case changed[i] >= '0' && changed[i] <= '8':
				changed[i]++
			case changed[i] == 'A':
				changed[i] = 'B'
			default:
				changed[i] = 'A'
			}
			f := filepath.Join(t.TempDir(), "changed.json")
			if err := os.WriteFile(f, changed, 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := verifyExport(t, f, head.VerifierKey); err == nil {
				t.Errorf("a byte changed in %s at %d: verify-export passed: %s", what, i, out)
			}
		}
		if out, err := verifyExport(t, exportFile, "waystation-audit+00000000+AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefgh"); err == nil {
			t.Errorf("verify-export passed with another key: %s", out)
		}
	})
	_, accessLog := r.privGet(t, adminToken, "/v1/access-log?case="+first)
	if !bytes.Contains(accessLog, []byte("/v1/cases/{id}/export")) {
		t.Errorf("the export is not in the case's access log: %s", accessLog)
	}

	keysBefore, err := sealed.DataKeys(filepath.Join(dir, sealed.KeyFile), mustMaster(t, dir))
	if err != nil {
		t.Fatal(err)
	}

	// Erasure: refused without a reason or to staff; then both linked
	// cases are erased through one of them.
	if code, _ := r.call(t, adminToken, "POST", "/v1/people/"+first+"/erase", map[string]any{}); code != 400 {
		t.Errorf("erase without a reason: status %d, want 400", code)
	}
	if code, _ := r.call(t, staff, "POST", "/v1/people/"+first+"/erase", map[string]any{"reason": "r"}); code != 403 {
		t.Errorf("erase by staff: status %d, want 403", code)
	}
	erased := r.must(t, 200, adminToken, "POST", "/v1/people/"+first+"/erase", map[string]any{"reason": domain.ErasureSubjectRequest})
	if n := len(erased["cases"].([]any)); n != 2 {
		t.Fatalf("erased %d cases, want both of the person's: %v", n, erased)
	}

	t.Run("every read shows the personal fields erased", func(t *testing.T) {
		for _, id := range []string{first, second} {
			_, state := r.privGet(t, adminToken, "/v1/cases/"+id)
			noSecrets(t, "the case state", state)
			if !bytes.Contains(state, []byte(`"personal_data_erased":true`)) || !bytes.Contains(state, []byte(`"sex":"female"`)) {
				t.Errorf("case state after erasure: %s", state)
			}
			_, hist := r.privGet(t, inspector, "/v1/cases/"+id+"/history")
			noSecrets(t, "the history", hist)
			if !bytes.Contains(hist, []byte("case.personal_data_erased")) {
				t.Errorf("the history does not show the erasure event")
			}
		}
		_, search := r.privGet(t, adminToken, "/v1/cases?q=Ouyang")
		if bytes.Contains(search, []byte(first)) || bytes.Contains(search, []byte(second)) {
			t.Errorf("a search by the erased name finds the cases: %s", search)
		}
		_, events := r.privGet(t, adminToken, "/v1/events?limit=500")
		noSecrets(t, "the global log", events)
		_, export2 := r.privGet(t, inspector, "/v1/cases/"+first+"/export")
		noSecrets(t, "an export after erasure", export2)
	})
	t.Run("a correction after erasure is refused by the rule, not a server error", func(t *testing.T) {
		page := r.must(t, 200, adminToken, "GET", "/v1/events?limit=500", nil)
		intakeID := ""
		for _, e := range page["items"].([]any) {
			ev := e.(map[string]any)
			if ev["stream"] == "case-"+first && ev["type"] == domain.TypeIntakeRegistered {
				intakeID = ev["id"].(string)
			}
		}
		if intakeID == "" {
			t.Fatalf("no intake of case %s in the global log", first)
		}
		for _, old := range []string{privName, ""} {
			code, problem := r.call(t, staff, "POST", "/v1/cases/"+first+"/correction",
				map[string]any{"event_id": intakeID, "field": "person.name", "old": old, "new": "Ouyang Ming", "reason": "typo"})
			if code != 422 || problem["rule"] != domain.RulePersonalDataErased {
				t.Errorf("correcting the name (old %q) after erasure: status %d, %v; want 422 with rule %s", old, code, problem, domain.RulePersonalDataErased)
			}
			b, _ := json.Marshal(problem)
			noSecrets(t, "the refusal of a correction", b)
		}
	})
	t.Run("the statistics still count the person", func(t *testing.T) {
		_, statsAfter := r.privGet(t, adminToken, statsPath)
		if !bytes.Equal(statsBefore, statsAfter) {
			t.Errorf("statistics changed:\nbefore %s\n after %s", statsBefore, statsAfter)
		}
	})
	t.Run("the export taken before the erasure still verifies", func(t *testing.T) {
		if out, err := verifyExport(t, exportFile, head.VerifierKey); err != nil {
			t.Errorf("verify-export: %v: %s", err, out)
		}
	})

	// A backup taken after the erasure holds neither the name nor the
	// destroyed keys; restored, it verifies and still shows the erasure.
	backup := filepath.Join(t.TempDir(), "backup.tar")
	var out, errOut bytes.Buffer
	t.Setenv("WAYSTATION_ADMIN_TOKEN", adminToken)
	if err := ops.RunCommand(context.Background(), []string{"backup", "--data", dir, "--url", r.base, "--out", backup}, &out, &errOut); err != nil {
		t.Fatalf("online backup: %v (%s)", err, errOut.String())
	}
	archive, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	noSecrets(t, "the backup", archive)
	for _, id := range []string{first, second} {
		key := keysBefore["case-"+id]
		if len(key) != 32 {
			t.Fatalf("no key for case %s before erasure", id)
		}
		for _, enc := range [][]byte{key, []byte(base64.StdEncoding.EncodeToString(key)), []byte(base64.RawStdEncoding.EncodeToString(key))} {
			if bytes.Contains(archive, enc) {
				t.Errorf("the backup holds the destroyed key of case %s", id)
			}
		}
	}
	restored := filepath.Join(t.TempDir(), "restored")
	if err := ops.RunCommand(context.Background(), []string{"restore", "--data", restored, "--from", backup}, &out, &errOut); err != nil {
		t.Fatalf("restore: %v", err)
	}
	keysAfter, err := sealed.DataKeys(filepath.Join(restored, sealed.KeyFile), mustMaster(t, restored))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := keysAfter["case-"+first]; ok {
		t.Errorf("the restored key store holds the destroyed key")
	}
	out.Reset()
	if err := ops.RunCommand(context.Background(), []string{"verify", "--data", restored}, &out, &errOut); err != nil || !strings.HasPrefix(out.String(), "intact") {
		t.Fatalf("verify of the restored store: %v: %s", err, out.String())
	}

	// Nothing personal in the metrics or the logs of the whole scenario.
	_, metrics := r.privGet(t, "", "/metrics")
	noSecrets(t, "/metrics", metrics)
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	logs := []byte(r.logs.String())
	if !bytes.Contains(logs, []byte(`"level":"DEBUG"`)) {
		t.Fatalf("the scenario logged no debug line; the scan would prove nothing")
	}
	noSecrets(t, "the logs", logs)

	// Restarted on its data folder, the erasure holds and verify passes.
	out.Reset()
	if err := ops.RunCommand(context.Background(), []string{"verify", "--data", dir}, &out, &errOut); err != nil {
		t.Fatalf("verify after erasure: %v: %s", err, out.String())
	}
	r2 := privStart(t, dir, nil)
	_, state := r2.privGet(t, adminToken, "/v1/cases/"+second)
	noSecrets(t, "the case state after a restart", state)
}

func mustMaster(t testing.TB, dir string) []byte {
	t.Helper()
	k, generated, err := sealed.LoadMasterKey("", "", dir)
	if err != nil || generated {
		t.Fatalf("master key in %s: generated=%v err=%v", dir, generated, err)
	}
	return k
}

// TestRetentionJobErasesCasesClosedLongerThanTheRetention checks the daily
// job: a case closed longer ago than the retention is listed, then erased
// by system:retention when erasing is on; a case closed since is not.
func TestRetentionJobErasesCasesClosedLongerThanTheRetention(t *testing.T) {
	dir := t.TempDir()
	master := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 32))
	r := privStart(t, dir, func(c *ops.Config) {
		c.MasterKey = master
		c.Retention = 24 * time.Hour
		c.RetentionErase = true
	})
	staff := r.seed(t)
	id := r.must(t, 201, staff, "POST", "/v1/cases", privIntake(time.Now().Add(-time.Hour)))["id"].(string)
	r.must(t, 200, staff, "POST", "/v1/cases/"+id+"/absconding", map[string]any{})
	r.must(t, 200, staff, "POST", "/v1/cases/"+id+"/closure", map[string]any{})
	if _, err := os.Stat(filepath.Join(dir, sealed.MasterKeyFile)); err == nil {
		t.Errorf("a master key was generated although one was given")
	}

	due := r.must(t, 200, adminToken, "GET", "/v1/people/due-for-erasure", nil)
	if items := due["items"].([]any); len(items) != 0 {
		t.Errorf("due now: %v, want none (closed a moment ago)", items)
	}
	ctx := context.Background()
	rep, err := r.main.RetentionPass(ctx, time.Now().Add(23*time.Hour))
	if err != nil || rep.Due != 0 || rep.Erased != 0 {
		t.Errorf("a day less an hour later: %+v %v, want nothing due", rep, err)
	}
	rep, err = r.main.RetentionPass(ctx, time.Now().Add(25*time.Hour))
	if err != nil || rep.Due != 1 || rep.Erased != 1 {
		t.Fatalf("a day and an hour later: %+v %v, want one due and erased", rep, err)
	}
	if err := r.main.Views.WaitFor(ctx, mustHead(t, r)); err != nil {
		t.Fatal(err)
	}
	_, hist := r.privGet(t, adminToken, "/v1/cases/"+id+"/history")
	noSecrets(t, "the history", hist)
	if !bytes.Contains(hist, []byte(`"actor":"system:retention"`)) {
		t.Errorf("no erasure event by system:retention in the history: %s", hist)
	}
	rep, err = r.main.RetentionPass(ctx, time.Now().Add(48*time.Hour))
	if err != nil || rep.Due != 0 {
		t.Errorf("after the erasure: %+v %v, want nothing due", rep, err)
	}
}

func mustHead(t testing.TB, r *running) eventstore.Position {
	t.Helper()
	h, err := r.main.Store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestConfigReadsThePrivacySettings(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		check   func(ops.Config) bool
		wantErr string
	}{
		{name: "nothing set keeps personal data and erases nothing", check: func(c ops.Config) bool {
			return c.Retention == 0 && !c.RetentionErase && c.MasterKey == "" && c.RetentionEvery == 24*time.Hour
		}},
		{name: "retention in days from the environment, erasing on", env: map[string]string{"WAYSTATION_RETENTION": "1825d", "WAYSTATION_RETENTION_ERASE": "true"},
			check: func(c ops.Config) bool { return c.Retention == 1825*24*time.Hour && c.RetentionErase }},
		{name: "the flag wins over the environment", env: map[string]string{"WAYSTATION_RETENTION": "1825d"}, args: []string{"--retention", "720h"},
			check: func(c ops.Config) bool { return c.Retention == 720*time.Hour }},
		{name: "the master key and its file are read, not shown", env: map[string]string{"WAYSTATION_MASTER_KEY": "k", "WAYSTATION_MASTER_KEY_FILE": "/etc/ws.key"},
			check: func(c ops.Config) bool { return c.MasterKey == "k" && c.MasterKeyFile == "/etc/ws.key" }},
		{name: "erasing needs a retention", env: map[string]string{"WAYSTATION_RETENTION_ERASE": "true"}, wantErr: "retention-erase"},
		{name: "a retention that is not a duration is refused", env: map[string]string{"WAYSTATION_RETENTION": "five years"}, wantErr: "WAYSTATION_RETENTION"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parse(t, tt.env, tt.args...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Errorf("got %+v", c)
			}
		})
	}
}

// TestRetentionCompletesAnInterruptedErasure: an erasure whose event was
// written but whose key was not destroyed (the process stopped between
// the two), in a crash that also lost the line giving the key to the case
// (that line is written without an fsync), is completed by the retention
// job at the next start: the case no longer reads the person's data and
// the key file no longer holds its key.
func TestRetentionCompletesAnInterruptedErasure(t *testing.T) {
	dir := t.TempDir()
	master := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{5}, 32))
	withKey := func(c *ops.Config) { c.MasterKey = master }
	r := privStart(t, dir, withKey)
	staff := r.seed(t)
	id := r.must(t, 201, staff, "POST", "/v1/cases", privIntake(time.Now().Add(-time.Hour)))["id"].(string)
	r.must(t, 200, staff, "POST", "/v1/cases/"+id+"/absconding", map[string]any{})
	r.must(t, 200, staff, "POST", "/v1/cases/"+id+"/closure", map[string]any{})
	ctx := context.Background()
	interrupted := func(context.Context, string) error { return nil } // the key is never destroyed
	admin := domain.Actor{ID: "admin-1", Role: domain.RoleAdmin}
	if _, err := r.main.Service.ErasePersonalData(ctx, admin, uuid.MustParse(id),
		domain.Erasure{Reason: domain.ErasureSubjectRequest, Trigger: domain.ErasureOnRequest}, interrupted); err != nil {
		t.Fatalf("erasure event: %v", err)
	}
	if err := r.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	file := filepath.Join(dir, sealed.KeyFile)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "a ") {
			kept = append(kept, line)
		}
	}
	if err := os.WriteFile(file, []byte(strings.Join(kept, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}

	r = privStart(t, dir, withKey)
	if err := r.main.Views.WaitFor(ctx, mustHead(t, r)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.main.RetentionPass(ctx, time.Now()); err != nil {
		t.Fatalf("retention pass: %v", err)
	}
	_, hist := r.privGet(t, adminToken, "/v1/cases/"+id+"/history")
	if !bytes.Contains(hist, []byte(domain.TypePersonalDataErased)) {
		t.Fatalf("the history has no erasure event: %s", hist)
	}
	noSecrets(t, "the history of a case whose erasure was completed", hist)
	if !r.main.Sealed.Keys().Erased(domain.CaseStream(uuid.MustParse(id))) {
		t.Errorf("the key store does not count the case as erased")
	}
}
