package ops_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"waystation/ops"
	"waystation/projections"
)

// demoRun is a `waystation demo` command running in the background.
type demoRun struct {
	out  *syncBuffer
	stop context.CancelFunc
	done chan error
}

// runDemoCommand runs `waystation demo` with args (on port 0 unless args
// say otherwise) until the test ends or stop is called.
func runDemoCommand(t testing.TB, args ...string) *demoRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := &demoRun{out: &syncBuffer{}, stop: cancel, done: make(chan error, 1)}
	go func() { d.done <- ops.RunCommand(ctx, append([]string{"demo"}, args...), d.out, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		d.wait()
	})
	return d
}

// wait stops nothing: it returns the command's error once it has ended.
func (d *demoRun) wait() error {
	err := <-d.done
	d.done <- err
	return err
}

// demoScenarios is how many case scenarios the demo cycles through (its
// cases 0 to 12 are one of each).
const demoScenarios = 13

var demoBaseLine = regexp.MustCompile(`Waystation demo at (http://\S+):`)

// serving waits until the demo prints its tokens and returns its address
// and the tokens by role and scope ("staff S01"); a demo that ends first
// fails the test with its error. The bound is a liveness limit for a
// seeding of a few thousand requests, not a speed requirement.
func (d *demoRun) serving(t testing.TB) (*running, map[string]string) {
	t.Helper()
	deadline := time.After(3 * time.Minute)
	for !strings.Contains(d.out.String(), "\nTry:") {
		select {
		case err := <-d.done:
			d.done <- err
			t.Fatalf("the demo ended before serving: %v\n%s", err, d.out.String())
		case <-deadline:
			t.Fatalf("the demo printed no tokens after 3 minutes:\n%s", d.out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	out := d.out.String()
	m := demoBaseLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the demo printed no address:\n%s", out)
	}
	tokens := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 3 && slices.Contains([]string{"admin", "staff", "coordinator", "inspector"}, f[0]) {
			tokens[f[0]+" "+f[1]] = f[2]
		}
	}
	return &running{base: m[1]}, tokens
}

// demoAccounts are the usernames of the accounts the demo creates.
var demoAccounts = []string{"demo.admin", "demo.inspector", "demo.coordinator",
	"demo.rc1", "demo.s01", "demo.s02", "demo.s03", "demo.s04", "demo.m01"}

// passwords returns the passwords the demo printed, by username.
func (d *demoRun) passwords(t testing.TB) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, line := range strings.Split(d.out.String(), "\n") {
		if f := strings.Fields(line); len(f) >= 4 && strings.HasPrefix(f[0], "demo.") {
			out[f[0]] = f[1]
		}
	}
	return out
}

// checkDemoAccounts checks that the demo's accounts of every role exist,
// active, with the role and station printed, and that staff of S01 log in
// with the password printed and read their station while the admin is
// held to enrolling two-factor first.
func checkDemoAccounts(t *testing.T, r *running, admin string, passwords map[string]string) {
	t.Helper()
	list := r.must(t, 200, admin, "GET", "/v1/accounts", nil)
	got := map[string]map[string]any{}
	for _, it := range list["items"].([]any) {
		a := it.(map[string]any)
		got[a["username"].(string)] = a
	}
	for _, name := range demoAccounts {
		if passwords[name] == "" {
			t.Errorf("the demo printed no password for %s (printed %v)", name, passwords)
		}
		if a := got[name]; a == nil || a["state"] != "active" {
			t.Errorf("the account %s is %v, want it active", name, a)
		}
	}
	if a := got["demo.s01"]; a["role"] != "staff" || a["station"] != "S01" {
		t.Errorf("demo.s01 is %v, want staff at S01", a)
	}
	if a := got["demo.coordinator"]; a["role"] != "coordinator" || a["region"] != "R1" {
		t.Errorf("demo.coordinator is %v, want a coordinator of R1", a)
	}
	staff := newBrowser(t, r)
	if code, out := staff.do(t, "POST", "/v1/session", map[string]any{"username": "demo.s01", "password": passwords["demo.s01"]}); code != 204 {
		t.Fatalf("logging in as demo.s01 with the password printed: %d %v", code, out)
	}
	if code, out := staff.do(t, "GET", "/v1/stations/S01/occupancy", nil); code != 200 {
		t.Errorf("demo.s01's session reads the occupancy of S01: %d %v", code, out)
	}
	adm := newBrowser(t, r)
	if code, out := adm.do(t, "POST", "/v1/session", map[string]any{"username": "demo.admin", "password": passwords["demo.admin"]}); code != 204 {
		t.Fatalf("logging in as demo.admin with the password printed: %d %v", code, out)
	}
	if code, out := adm.do(t, "GET", "/v1/accounts", nil); code != 403 || out["rule"] != "totp_enrolment_required" {
		t.Errorf("demo.admin before enrolling two-factor: %d %v, want 403 totp_enrolment_required", code, out)
	}
}

// TestTheDemoWithTheDefaultsServesEveryBoard is a newcomer's first five
// minutes: `waystation demo` with the default flags (only the data folder
// and the port moved into the test) seeds the default 160 cases, prints a
// token and an account for every role, serves boards with a few alerts of
// every kind, and stops cleanly. The default count fills zones: the seeding then goes
// on with people waiting for a bed, as a station does.
func TestTheDemoWithTheDefaultsServesEveryBoard(t *testing.T) {
	dir := t.TempDir()
	d := runDemoCommand(t, "--data", dir, "--addr", "127.0.0.1:0")
	r, tokens := d.serving(t)
	if want := fmt.Sprintf(": %d synthetic cases (seed %d,", ops.DefaultDemoCases, ops.DefaultDemoSeed); !strings.Contains(d.out.String(), want) {
		t.Errorf("the demo's summary does not say %q:\n%s", want, d.out.String())
	}
	for _, want := range []string{"admin all", "staff S01", "staff S04", "staff RC1", "staff M01", "coordinator R1", "inspector R1"} {
		if tokens[want] == "" {
			t.Errorf("no %s token was printed (got %v)", want, tokens)
		}
	}
	inspector, staff := tokens["inspector R1"], tokens["staff S01"]
	checkDemoAccounts(t, r, tokens["admin all"], d.passwords(t))
	if out := d.out.String(); !strings.Contains(out, r.base+"/ with one of these accounts") || !strings.Contains(out, "must enrol two-factor") {
		t.Errorf("the demo does not name the console's address or the admin's two-factor enrolment:\n%s", out)
	}

	page := r.must(t, 200, inspector, "GET", fmt.Sprintf("/v1/cases?limit=%d", ops.DefaultDemoCases+1), nil)
	if items, _ := page["items"].([]any); len(items) != ops.DefaultDemoCases {
		t.Errorf("the inspector sees %d cases, want the %d seeded", len(items), ops.DefaultDemoCases)
	}
	board := r.must(t, 200, inspector, "GET", "/v1/safety?region=R1", nil)
	rules := map[string]int{}
	alerts, _ := board["alerts"].([]any)
	for _, a := range alerts {
		rules[a.(map[string]any)["rule"].(string)]++
	}
	// Every rule code the safety board can raise, as the projections
	// package declares them, shows a few times ("a few alerts of every
	// kind"), so a rule added there fails here until the demo raises it.
	if len(projections.Rules) == 0 {
		t.Fatal("the projections package declares no rule codes")
	}
	for _, want := range projections.Rules {
		if rules[want] < 2 {
			t.Errorf("the demo's safety board has %d %s alert(s), want a few (has %v)", rules[want], want, rules)
		}
	}
	for rule := range rules {
		if !slices.Contains(projections.Rules, rule) {
			t.Errorf("the demo's safety board has %s alerts, a rule code projections.Rules does not list", rule)
		}
	}
	transfers := r.must(t, 200, inspector, "GET", "/v1/regions/R1/transfers", nil)
	if !strings.Contains(fmt.Sprint(transfers), "S0") {
		t.Errorf("the demo's transfer board is empty: %v", transfers)
	}
	occ := r.must(t, 200, staff, "GET", "/v1/stations/S01/occupancy", nil)
	if res, _ := occ["residents"].([]any); len(res) == 0 {
		t.Errorf("station S01 has no residents in the demo: %v", occ)
	}
	full := 0
	for _, st := range []string{"S01", "S02", "S03", "S04"} {
		occ := r.must(t, 200, tokens["staff "+st], "GET", "/v1/stations/"+st+"/occupancy", nil)
		zones, _ := occ["zones"].([]any)
		for _, z := range zones {
			if z.(map[string]any)["free"].(float64) == 0 {
				full++
			}
		}
	}
	if full == 0 {
		t.Error("no zone of the demo's stations is full: the default demo no longer meets a full zone, so this test no longer checks that the seeding goes on past one")
	}

	d.stop()
	if err := d.wait(); err != nil {
		t.Errorf("the demo stopped with %v, want a clean stop", err)
	}
}

// demoStartDates are start dates of the demo around the edges of the
// calendar in Beijing time (UTC+8 all year, no daylight saving): month
// ends, leap days, New Year in Beijing and in UTC, the minute either side
// of midnight in Beijing, and a night when Europe's clocks change.
var demoStartDates = []string{
	"2026-01-31T15:59:00Z", // 23:59 on 31 January in Beijing
	"2026-01-31T16:00:00Z", // 00:00 on 1 February in Beijing, still 31 January in UTC
	"2026-02-28T23:00:00Z", // the end of a common February
	"2028-02-29T12:00:00Z", // a leap day
	"2004-02-29T16:00:00Z", // 00:00 on 1 March 2004 in Beijing, after the first leap day a step can have happened on
	"2026-03-29T01:30:00Z", // the night Europe moves its clocks (Beijing does not)
	"2026-12-31T16:00:00Z", // New Year in Beijing, still 31 December in UTC
	"2027-01-01T00:00:00Z", // New Year in UTC, 08:00 in Beijing
}

// TestTheDemoSeedsOnAnyStartDateWithAnySeed: the demo's present is any day
// of the calendar and its seed any number; every step the seeder asks for
// is one the case's state allows, so the seeding completes. Each start
// date runs with three seeds of its own (24 seeds in all), over two rounds
// of every scenario; TestTheDemoWithTheDefaultsServesEveryBoard fills
// zones, and FuzzSeedDemo goes further.
func TestTheDemoSeedsOnAnyStartDateWithAnySeed(t *testing.T) {
	seed := uint64(0)
	for _, date := range demoStartDates {
		now, err := time.Parse(time.RFC3339, date)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			seed++
			t.Run(fmt.Sprintf("%s/seed_%d", date, seed), func(t *testing.T) {
				seedDemoAt(t, now, ops.DemoOptions{Cases: 2 * demoScenarios, Seed: seed, Now: now})
			})
		}
	}
}

// seedDemoAt seeds the demo with opts into a service whose clock reads now
// and fails the test unless every case was seeded.
func seedDemoAt(t *testing.T, now time.Time, opts ops.DemoOptions) {
	t.Helper()
	r := startAt(t, t.TempDir(), now)
	got, err := ops.SeedDemo(context.Background(), r.base, adminToken, opts)
	if err != nil {
		t.Fatalf("seeding %d cases with seed %d at %s: %v", opts.Cases, opts.Seed, now.Format(time.RFC3339), err)
	}
	if got.Cases != opts.Cases {
		t.Errorf("seeded %d cases, want %d", got.Cases, opts.Cases)
	}
}

// FuzzSeedDemo seeds the demo with any seed, on any minute of 2004 to
// 2103 (the demo's weeks of cases begin after domain.EarliestTime), with up to 400 cases (enough to fill every adult zone). Run it with
// go test -fuzz=FuzzSeedDemo ./ops; without -fuzz it runs its seeds below.
func FuzzSeedDemo(f *testing.F) {
	f.Add(uint64(ops.DefaultDemoSeed), int64(0), uint16(13))
	f.Add(uint64(7), int64(14_000_000), uint16(30))
	base := time.Date(2004, 1, 1, 0, 0, 0, 0, time.UTC)
	century := base.AddDate(100, 0, 0).Sub(base)
	f.Fuzz(func(t *testing.T, seed uint64, minute int64, cases uint16) {
		at := time.Duration(minute%int64(century/time.Minute)) * time.Minute
		if at < 0 {
			at += century
		}
		now := base.Add(at)
		seedDemoAt(t, now, ops.DemoOptions{Cases: int(cases % 401), Seed: seed, Now: now})
	})
}

// TestTheDemoRunAgainServesItsCompletedDemoAsItIs: a demo started again on
// the folder of a demo that completed serves it as it is, says so, and
// prints fresh tokens that see the cases seeded the first time and fresh
// passwords for the same accounts, the first run's no longer working.
func TestTheDemoRunAgainServesItsCompletedDemoAsItIs(t *testing.T) {
	dir := t.TempDir()
	first := runDemoCommand(t, "--data", dir, "--addr", "127.0.0.1:0", "--cases", "13")
	_, before := first.serving(t)
	oldPasswords := first.passwords(t)
	first.stop()
	if err := first.wait(); err != nil {
		t.Fatalf("the first demo stopped with %v", err)
	}

	again := runDemoCommand(t, "--data", dir, "--addr", "127.0.0.1:0", "--cases", "50")
	r, tokens := again.serving(t)
	out := again.out.String()
	if !strings.Contains(out, "Serving again, as it is, the demo seeded in "+dir) || !strings.Contains(out, ": 13 synthetic cases (seed 2024)") {
		t.Errorf("the second run does not say it serves the completed demo of 13 cases again:\n%s", out)
	}
	if tokens["inspector R1"] == "" || tokens["inspector R1"] == before["inspector R1"] {
		t.Fatalf("the second run printed no fresh inspector token: %v", tokens)
	}
	page := r.must(t, 200, tokens["inspector R1"], "GET", "/v1/cases?limit=60", nil)
	if items, _ := page["items"].([]any); len(items) != 13 {
		t.Errorf("the fresh inspector token sees %d cases, want the 13 seeded the first time", len(items))
	}
	passwords := again.passwords(t)
	checkDemoAccounts(t, r, tokens["admin all"], passwords)
	if passwords["demo.s01"] == oldPasswords["demo.s01"] {
		t.Errorf("the second run printed the first run's password of demo.s01")
	}
	if code, _ := newBrowser(t, r).do(t, "POST", "/v1/session", map[string]any{"username": "demo.s01", "password": oldPasswords["demo.s01"]}); code != 401 {
		t.Errorf("the first run's password of demo.s01 logs in after the second run: %d, want 401", code)
	}
}

// TestADemoThatCannotCompleteSaysSoAndHowToRecover: a seeding that fails
// stops the demo with an error naming the case, the step and the way out;
// started again on that folder, the demo refuses to serve the half-seeded
// region and says how to recover, as it does on a folder holding a store
// the demo did not seed.
func TestADemoThatCannotCompleteSaysSoAndHowToRecover(t *testing.T) {
	dir := t.TempDir()
	// The service's clock is a month behind the seeder's: every step of
	// the seeding lies in the service's future and is refused.
	m := testMain(dir, nil, io.Discard)
	m.Now = func() time.Time { return time.Now().AddDate(0, -1, 0) }
	var out syncBuffer
	err := ops.RunDemo(context.Background(), m, ops.DemoOptions{Cases: 13, Seed: ops.DefaultDemoSeed, Now: time.Now()}, &out)
	if err == nil {
		t.Fatal("a seeding whose every step is refused succeeded")
	}
	for _, want := range []string{"seeding failed", "case 0 of 13 (seed 2024): intake:", "occurred_in_future", "remove " + dir + " or run with --data elsewhere"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the seeding's error does not say %q: %v", want, err)
		}
	}
	if out.String() != "" {
		t.Errorf("the failed demo printed tokens: %s", out.String())
	}

	t.Run("started again, it refuses the half-seeded folder", func(t *testing.T) {
		err := ops.RunCommand(context.Background(), []string{"demo", "--data", dir, "--addr", "127.0.0.1:0"}, &out, io.Discard)
		if !errors.Is(err, ops.ErrDemoIncomplete) {
			t.Fatalf("RunCommand = %v, want ErrDemoIncomplete", err)
		}
		for _, want := range []string{"did not complete its seeding", "remove " + dir + " or run with --data elsewhere"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("the error does not say %q: %v", want, err)
			}
		}
		if out.String() != "" {
			t.Errorf("the demo served the half-seeded folder: %s", out.String())
		}
	})

	t.Run("on a store it did not seed, it refuses too", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "data")
		r := start(t, other)
		r.seed(t)
		if err := r.stop(); err != nil {
			t.Fatal(err)
		}
		err := ops.RunCommand(context.Background(), []string{"demo", "--data", other, "--addr", "127.0.0.1:0"}, &out, io.Discard)
		if !errors.Is(err, ops.ErrDemoIncomplete) {
			t.Fatalf("RunCommand = %v, want ErrDemoIncomplete", err)
		}
		for _, want := range []string{"the demo did not seed", "--data elsewhere", "waystation serve --data " + other} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("the error does not say %q: %v", want, err)
			}
		}
		if out.String() != "" {
			t.Errorf("the demo served a store it did not seed: %s", out.String())
		}
	})
}
