package ops

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	nethttp "net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"waystation/domain"
	"waystation/eventstore"
	wshttp "waystation/http"
	"waystation/internal/credential"
)

// runDemo is `waystation demo`: RunDemo on the configured data folder,
// ./demo-data unless --data or WAYSTATION_DATA says otherwise.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	cases := fs.Int("cases", DefaultDemoCases, "how many synthetic cases to seed")
	seed := fs.Uint64("seed", DefaultDemoSeed, "the seed of the synthetic people and their journeys: the same seed and count give the same cases, dated back from today")
	cfg, err := parse(fs, args, stderr)
	if err != nil {
		return err
	}
	if *cases < 0 {
		return fmt.Errorf("%w: demo: --cases must be 0 or more, not %d", ErrUsage, *cases)
	}
	dataSet := false
	fs.Visit(func(f *flag.Flag) { dataSet = dataSet || f.Name == "data" })
	if !dataSet && os.Getenv("WAYSTATION_DATA") == "" {
		cfg.Data = "./demo-data"
	}
	if cfg.AdminToken == "" {
		cfg.AdminToken = randomToken()
	}
	tuneGC()
	return RunDemo(ctx, NewMain(cfg, cfg.Logger(stderr)), DemoOptions{Cases: *cases, Seed: *seed}, stdout)
}

// The demo's defaults.
const (
	DefaultDemoCases = 160
	DefaultDemoSeed  = 2024
)

// DemoMarkerFile is the file in the data folder that says a demo was
// seeded there: written before the first request of the seeding, and
// again, with its completion time, after the last.
const DemoMarkerFile = "demo.json"

// demoMarker is the content of DemoMarkerFile.
type demoMarker struct {
	Seed        uint64     `json:"seed"`
	Cases       int        `json:"cases"`
	BeganAt     time.Time  `json:"began_at"`
	CompletedAt *time.Time `json:"completed_at"`
}

// ErrDemoIncomplete reports a demo data folder that cannot be served: its
// seeding did not complete, or it holds a store the demo did not seed.
var ErrDemoIncomplete = errors.New("demo: not served")

// RunDemo serves the demo region on m until ctx ends, and closes m; the
// seeding uses m.Config.AdminToken. On an empty store it seeds the region
// (SeedDemo, at m.Now unless opts.Now is set), creates and activates an
// account of every role (demoAccounts) and then marks the data folder
// complete; on a data folder whose demo completed before it serves that
// demo as it is, with fresh tokens and fresh passwords. It refuses, without
// serving, a data folder whose seeding did not complete or that holds a
// store the demo did not seed (ErrDemoIncomplete), and a seeding that
// fails stops the service; both errors name the way out. The tokens, the
// accounts with their passwords and the commands to try go to stdout.
func RunDemo(ctx context.Context, m *Main, opts DemoOptions, stdout io.Writer) (err error) {
	defer func() {
		if cerr := m.Close(); err == nil {
			err = cerr
		}
	}()
	if err := m.Open(ctx); err != nil {
		return err
	}
	dir := m.Config.Data
	marker, err := readDemoMarker(dir)
	if err != nil {
		return err
	}
	head, err := m.Store.Head(ctx)
	if err != nil {
		return fmt.Errorf("demo: reading the store in %s: %w", dir, err)
	}
	fresh := head == eventstore.Start
	switch {
	case fresh:
	case marker == nil:
		return fmt.Errorf("%w: %s holds a Waystation store that the demo did not seed; the demo serves only a folder it seeded: run it with --data elsewhere (serve this folder with `waystation serve --data %s`)", ErrDemoIncomplete, dir, dir)
	case marker.CompletedAt == nil:
		return fmt.Errorf("%w: the demo in %s did not complete its seeding (begun %s, %d cases asked for): remove %s or run with --data elsewhere",
			ErrDemoIncomplete, dir, marker.BeganAt.Format(time.RFC3339), marker.Cases, dir)
	}
	if opts.Now.IsZero() {
		opts.Now = m.Now()
	}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- m.Run(runCtx) }()
	addr := m.Addr(ctx)
	if addr == "" {
		stop()
		return <-done
	}
	base := "http://" + addr
	// halt stops the service after err and returns err.
	halt := func(err error) error {
		stop()
		<-done
		return err
	}
	if err := waitReady(ctx, base); err != nil {
		return halt(err)
	}
	if !fresh {
		d := newDemo(base, m.Config.AdminToken, opts)
		tokens, err := demoTokens(ctx, d)
		if err != nil {
			return halt(fmt.Errorf("demo: issuing fresh tokens: %w", err))
		}
		accounts, err := demoAccounts(ctx, d)
		if err != nil {
			return halt(fmt.Errorf("demo: giving the accounts fresh passwords: %w", err))
		}
		fmt.Fprintf(stdout, "\nServing again, as it is, the demo seeded in %s on %s (%d synthetic cases, seed %d).\n",
			dir, marker.CompletedAt.Format(time.RFC3339), marker.Cases, marker.Seed)
		DemoSeed{Tokens: tokens, Accounts: accounts, Cases: marker.Cases, Seed: marker.Seed, Data: dir}.Print(stdout, base)
		return <-done
	}
	began := m.Now().UTC()
	marker = &demoMarker{Seed: opts.Seed, Cases: opts.Cases, BeganAt: began}
	if err := writeDemoMarker(dir, *marker); err != nil {
		return halt(err)
	}
	seed, err := SeedDemo(ctx, base, m.Config.AdminToken, opts)
	switch {
	case err != nil && ctx.Err() != nil:
		return halt(fmt.Errorf("demo: seeding interrupted, the demo in %s is incomplete: remove %s or run with --data elsewhere", dir, dir))
	case err != nil:
		return halt(fmt.Errorf("demo: seeding failed, the demo in %s is incomplete: %w; remove %s or run with --data elsewhere", dir, err, dir))
	}
	if seed.Accounts, err = demoAccounts(ctx, newDemo(base, m.Config.AdminToken, opts)); err != nil {
		return halt(fmt.Errorf("demo: creating the accounts failed, the demo in %s is incomplete: %w; remove %s or run with --data elsewhere", dir, err, dir))
	}
	completed := m.Now().UTC()
	marker.CompletedAt = &completed
	if err := writeDemoMarker(dir, *marker); err != nil {
		return halt(err)
	}
	seed.Data = dir
	seed.Print(stdout, base)
	return <-done
}

// readDemoMarker reads the demo marker of dir, nil when there is none.
func readDemoMarker(dir string) (*demoMarker, error) {
	b, err := os.ReadFile(filepath.Join(dir, DemoMarkerFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	var mk demoMarker
	if err := json.Unmarshal(b, &mk); err != nil {
		return nil, fmt.Errorf("demo: %s is not a demo marker: %v", filepath.Join(dir, DemoMarkerFile), err)
	}
	return &mk, nil
}

// writeDemoMarker writes mk as the demo marker of dir, durably.
func writeDemoMarker(dir string, mk demoMarker) error {
	b, err := json.MarshalIndent(mk, "", "  ")
	if err != nil {
		return err
	}
	_, err = writeFileAtomic(filepath.Join(dir, DemoMarkerFile), func(w io.Writer) (int64, error) {
		n, err := w.Write(append(b, '\n'))
		return int64(n), err
	})
	if err != nil {
		return fmt.Errorf("demo: writing %s: %w", DemoMarkerFile, err)
	}
	return nil
}

// DemoOptions says what SeedDemo seeds.
type DemoOptions struct {
	// Cases is how many synthetic cases to seed.
	Cases int
	// Seed chooses the synthetic people and their journeys: the same
	// Seed, Cases and Now seed the same demo.
	Seed uint64
	// Now is the present the cases lead up to: their steps happened over
	// the weeks (and, for some, months) before it, never after. It is the
	// service's present, which refuses steps in its future.
	Now time.Time
}

// DemoSeed is what SeedDemo created: the tokens of every role (shown once)
// and how many cases and requests it took; RunDemo adds the accounts.
type DemoSeed struct {
	Tokens   []DemoToken
	Accounts []DemoAccount
	Cases    int
	Requests int
	Seed     uint64
	// Data is the data folder of the demo, when known.
	Data string
}

// DemoToken is one access token the demo issued.
type DemoToken struct {
	Role, Scope, Token string
}

// DemoAccount is one account the demo created and activated, with its
// password (shown once).
type DemoAccount struct {
	Username, Password string
	Role               domain.Role
	Station, Region    string
}

// Print writes the demo's tokens, its accounts and a few commands to try.
func (s DemoSeed) Print(w io.Writer, base string) {
	if s.Requests > 0 {
		fmt.Fprintf(w, "\nWaystation demo at %s: %d synthetic cases (seed %d, %d requests). Tokens (shown once):\n", base, s.Cases, s.Seed, s.Requests)
	} else {
		fmt.Fprintf(w, "\nWaystation demo at %s: %d synthetic cases (seed %d). Tokens (shown once):\n", base, s.Cases, s.Seed)
	}
	for _, t := range s.Tokens {
		fmt.Fprintf(w, "  %-12s %-5s %s\n", t.Role, t.Scope, t.Token)
	}
	if len(s.Accounts) > 0 {
		fmt.Fprintf(w, "\nLog in to the browser console at %s/ with one of these accounts (passwords shown once):\n", base)
		fmt.Fprintf(w, "  %-17s %-20s %-12s %s\n", "username", "password", "role", "station")
		for _, a := range s.Accounts {
			scope := a.Station
			if a.Region != "" {
				scope = a.Region + " (region)"
			}
			if scope == "" {
				scope = "-"
			}
			fmt.Fprintf(w, "  %-17s %-20s %-12s %s\n", a.Username, a.Password, a.Role, scope)
		}
		fmt.Fprintln(w, "The admin and the inspector must enrol two-factor at their first login, before anything else:")
		fmt.Fprintln(w, "the console shows a QR code for an authenticator app and asks for its six-digit code (with curl:")
		fmt.Fprintln(w, "POST /v1/session/totp, then POST /v1/session/totp/confirm; docs/accounts.md). Staff and the")
		fmt.Fprintln(w, "coordinator log in with the password alone.")
	}
	var inspector, staff string
	for _, t := range s.Tokens {
		switch {
		case t.Role == "inspector":
			inspector = t.Token
		case t.Role == "staff" && t.Scope == "S01":
			staff = t.Token
		}
	}
	fmt.Fprintf(w, "\nTry:\n  curl -H 'Authorization: Bearer %s' %s/v1/stations/S01/occupancy\n", staff, base)
	fmt.Fprintf(w, "  curl -H 'Authorization: Bearer %s' '%s/v1/safety?region=R1'\n", inspector, base)
	fmt.Fprintf(w, "  curl -H 'Authorization: Bearer %s' %s/v1/regions/R1/transfers\n", inspector, base)
	fmt.Fprintf(w, "  curl %s/openapi.json\n", base)
	if s.Data != "" {
		fmt.Fprintf(w, "\nThe demo is in %s: run the demo again to serve it as it is, or remove the folder to seed a fresh one.\n", s.Data)
	}
	fmt.Fprintln(w)
}

// demoStations is the demo region: a regional center, four stations and a
// minors' center in region R1.
var demoStations = []struct {
	code, name, kind string
	zones            map[string]int
}{
	{"RC1", "Regional assistance center", "regional_center", map[string]int{"adult_male": 40, "adult_female": 20, "care": 20, "isolation": 4}},
	{"S01", "East district station", "station", map[string]int{"adult_male": 20, "adult_female": 10, "minors": 6, "mother_child": 2, "isolation": 2}},
	{"S02", "West district station", "station", map[string]int{"adult_male": 16, "adult_female": 8, "minors": 4, "observation": 2}},
	{"S03", "Railway station post", "station", map[string]int{"adult_male": 24, "adult_female": 12, "minors": 4, "care": 6}},
	{"S04", "County station", "station", map[string]int{"adult_male": 10, "adult_female": 6, "minors": 2}},
	{"M01", "Minors' protection center", "minors_center", map[string]int{"minors": 20, "mother_child": 4}},
}

// SeedDemo fills a running service at base, whose store is empty, with the
// demo region through the public API, as staff would: stations, tokens,
// then opts.Cases cases whose steps happened before opts.Now. Each step is
// one the case's state allows, as the service shows it (a bed only when
// the zone has one free, a bed released only when the case holds one), so
// SeedDemo fails on the first refused request: a seed that succeeds is
// also a check of the whole system. Its error names the case and the step.
func SeedDemo(ctx context.Context, base, adminToken string, opts DemoOptions) (DemoSeed, error) {
	d := newDemo(base, adminToken, opts)
	seed := DemoSeed{Seed: opts.Seed}
	for _, st := range demoStations {
		if err := d.registerStation(ctx, st.code, st.name, st.kind, st.zones); err != nil {
			return seed, fmt.Errorf("registering station %s: %w", st.code, err)
		}
	}
	tokens, err := demoTokens(ctx, d)
	if err != nil {
		return seed, err
	}
	seed.Tokens = tokens
	for i := range opts.Cases {
		if err := d.oneCase(ctx, i); err != nil {
			return seed, fmt.Errorf("case %d of %d (seed %d): %w", i, opts.Cases, opts.Seed, err)
		}
		seed.Cases++
	}
	seed.Requests = d.requests
	return seed, nil
}

// newDemo returns the state of a seeding run against base.
func newDemo(base, adminToken string, opts DemoOptions) *demo {
	return &demo{
		client: &wshttp.Client{BaseURL: base, HTTP: &nethttp.Client{Timeout: 30 * time.Second}},
		admin:  adminToken,
		rnd:    mrand.New(mrand.NewPCG(opts.Seed, 92)),
		now:    opts.Now.UTC().Truncate(time.Minute),
		staff:  map[string]string{},
	}
}

// demoTokens issues a token for every role of the demo region (the admin
// token is d's own) and keeps them in d.
func demoTokens(ctx context.Context, d *demo) ([]DemoToken, error) {
	tokens := []DemoToken{{"admin", "all", d.admin}}
	for _, st := range demoStations {
		tok, err := d.token(ctx, map[string]any{"name": "demo staff " + st.code, "role": "staff", "station": st.code})
		if err != nil {
			return nil, fmt.Errorf("issuing the staff token of %s: %w", st.code, err)
		}
		d.staff[st.code] = tok
		tokens = append(tokens, DemoToken{"staff", st.code, tok})
	}
	for _, role := range []string{"coordinator", "inspector"} {
		tok, err := d.token(ctx, map[string]any{"name": "demo " + role, "role": role, "region": "R1"})
		if err != nil {
			return nil, fmt.Errorf("issuing the %s token: %w", role, err)
		}
		tokens = append(tokens, DemoToken{role, "R1", tok})
	}
	return tokens, nil
}

// demoAccountsWanted are the demo's accounts of one of every role but
// staff; demoAccounts adds staff at every demo station.
var demoAccountsWanted = []DemoAccount{
	{Username: "demo.admin", Role: domain.RoleAdmin},
	{Username: "demo.inspector", Role: domain.RoleInspector, Region: "R1"},
	{Username: "demo.coordinator", Role: domain.RoleCoordinator, Region: "R1"},
}

// demoAccounts creates an account of every role, and staff at every demo
// station, through the API, or resets those that exist (a demo served
// again), then activates each with a fresh password, as the person would.
func demoAccounts(ctx context.Context, d *demo) ([]DemoAccount, error) {
	raw, err := d.getJSON(ctx, d.admin, "/v1/accounts")
	if err != nil {
		return nil, fmt.Errorf("listing the accounts: %w", err)
	}
	var list struct {
		Items []domain.Account `json:"items"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("listing the accounts: %w", err)
	}
	ids := map[string]string{}
	for _, a := range list.Items {
		ids[a.Username] = a.ID
	}
	wanted := slices.Clone(demoAccountsWanted)
	for _, st := range demoStations {
		wanted = append(wanted, DemoAccount{Username: "demo." + strings.ToLower(st.code), Role: domain.RoleStaff, Station: st.code})
	}
	for i, a := range wanted {
		var out map[string]any
		if id, ok := ids[a.Username]; ok {
			out, err = d.call(ctx, d.admin, "POST", "/v1/accounts/"+id+"/reset", nil, nethttp.StatusOK)
		} else {
			out, err = d.call(ctx, d.admin, "POST", "/v1/accounts", map[string]any{"username": a.Username,
				"name": strings.TrimSpace("Demo " + string(a.Role) + " " + a.Station + a.Region),
				"role": a.Role, "station": a.Station, "region": a.Region}, nethttp.StatusCreated)
		}
		if err != nil {
			return nil, fmt.Errorf("the account %s: %w", a.Username, err)
		}
		a.Password = demoPassword()
		if _, err := d.call(ctx, "", "POST", "/v1/accounts/activate", map[string]any{"username": a.Username,
			"activation_code": out["activation_code"], "password": a.Password}, nethttp.StatusNoContent); err != nil {
			return nil, fmt.Errorf("activating the account %s: %w", a.Username, err)
		}
		wanted[i] = a
	}
	return wanted, nil
}

// demoPassword returns a fresh random password: 80 bits in four groups of
// four letters and digits, as activation codes are.
func demoPassword() string { return credential.NewCode() }

// demo is the state of one seeding run.
type demo struct {
	client   *wshttp.Client
	admin    string
	staff    map[string]string // station code → staff token
	rnd      *mrand.Rand
	now      time.Time
	requests int
	earlier  []map[string]any // people of earlier demo cases, for repeat visits
}

// registerStation registers one demo station in region R1.
func (d *demo) registerStation(ctx context.Context, code, name, kind string, beds map[string]int) error {
	var zones []map[string]any
	for _, z := range []string{"adult_male", "adult_female", "minors", "mother_child", "care", "observation", "isolation"} {
		if n := beds[z]; n > 0 {
			zones = append(zones, map[string]any{"zone": z, "beds": n})
		}
	}
	_, err := d.call(ctx, d.admin, "POST", "/v1/stations", map[string]any{"code": code, "name": name, "region": "R1", "kind": kind, "zones": zones}, nethttp.StatusCreated)
	return err
}

// call sends body (none when nil) as JSON and decodes the JSON object the
// server answers; an answer with another status than want is an error (a
// *wshttp.ClientError).
func (d *demo) call(ctx context.Context, token, method, path string, body any, want int) (map[string]any, error) {
	d.requests++
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			return nil, err
		}
	}
	raw, err := d.client.Do(ctx, token, method, path, b, want)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			return nil, fmt.Errorf("demo: %s %s: %w", method, path, err)
		}
	}
	return out, nil
}

// getJSON reads path with token and returns the JSON the server answers
// with 200.
func (d *demo) getJSON(ctx context.Context, token, path string) ([]byte, error) {
	d.requests++
	return d.client.Do(ctx, token, "GET", path, nil, nethttp.StatusOK)
}

func (d *demo) token(ctx context.Context, body map[string]any) (string, error) {
	out, err := d.call(ctx, d.admin, "POST", "/v1/tokens", body, nethttp.StatusCreated)
	if err != nil {
		return "", err
	}
	return out["token"].(string), nil
}

// demoCase is one case being seeded: where it is, and the clock of its
// steps, which advances from the intake.
type demoCase struct {
	d       *demo
	id      string
	station string
	at      time.Time
	err     error
}

// step takes one case step after advancing the case's clock by after,
// never past now. After an error it does nothing.
func (c *demoCase) step(ctx context.Context, token, step string, after time.Duration, body map[string]any) {
	if c.err != nil {
		return
	}
	if next := c.at.Add(after); next.Before(c.d.now) {
		c.at = next
	}
	if body == nil {
		body = map[string]any{}
	}
	body["occurred_at"] = c.at.Format(time.RFC3339)
	if token == "" {
		token = c.d.staff[c.station]
	}
	if _, err := c.d.call(ctx, token, "POST", "/v1/cases/"+c.id+"/"+step, body, nethttp.StatusOK); err != nil {
		c.err = fmt.Errorf("%s: %w", step, err)
	}
}

// demoCaseView is what the seeder reads of a case to choose its next step.
type demoCaseView struct {
	Bed *struct {
		Zone string `json:"zone"`
	} `json:"bed"`
	Person struct {
		Sex string `json:"sex"`
	} `json:"person"`
	Flags []string `json:"flags"`
}

// view reads the case as the service has it now (nil after an error).
func (c *demoCase) view(ctx context.Context) *demoCaseView {
	if c.err != nil {
		return nil
	}
	raw, err := c.d.getJSON(ctx, c.d.staff[c.station], "/v1/cases/"+c.id)
	if err != nil {
		c.err = fmt.Errorf("reading the case: %w", err)
		return nil
	}
	var v demoCaseView
	if err := json.Unmarshal(raw, &v); err != nil {
		c.err = fmt.Errorf("reading the case: %w", err)
		return nil
	}
	return &v
}

// zoneFor is the zone that fits the person of v: the minors' zone for a
// minor (or a person of unknown age), else the adult zone of their sex.
func zoneFor(v *demoCaseView) string {
	switch {
	case slices.Contains(v.Flags, "minor") || slices.Contains(v.Flags, "age_unknown"):
		return "minors"
	case v.Person.Sex == "female":
		return "adult_female"
	}
	return "adult_male"
}

// freeBeds reads how many beds of zone are free at the case's station.
func (c *demoCase) freeBeds(ctx context.Context, zone string) int {
	if c.err != nil {
		return 0
	}
	raw, err := c.d.getJSON(ctx, c.d.staff[c.station], "/v1/stations/"+c.station+"/occupancy")
	if err != nil {
		c.err = fmt.Errorf("reading the occupancy: %w", err)
		return 0
	}
	var occ struct {
		Zones []struct {
			Zone string `json:"zone"`
			Free int    `json:"free"`
		} `json:"zones"`
	}
	if err := json.Unmarshal(raw, &occ); err != nil {
		c.err = fmt.Errorf("reading the occupancy: %w", err)
		return 0
	}
	for _, z := range occ.Zones {
		if z.Zone == zone {
			return z.Free
		}
	}
	return 0
}

// place puts the person in a bed of the zone that fits them now, as staff
// would after a look at the station's occupancy: when that zone has a bed
// free and the person is not in it already. Otherwise the person waits
// without a new bed, as happens when a zone is full.
func (c *demoCase) place(ctx context.Context) {
	v := c.view(ctx)
	if v == nil {
		return
	}
	zone := zoneFor(v)
	if v.Bed != nil && v.Bed.Zone == zone {
		return
	}
	if c.freeBeds(ctx, zone) > 0 {
		c.step(ctx, "", "bed", 10*time.Minute, map[string]any{"zone": zone})
	}
}

// release frees the person's bed, when they hold one.
func (c *demoCase) release(ctx context.Context, after time.Duration) {
	if v := c.view(ctx); v != nil && v.Bed != nil {
		c.step(ctx, "", "bed-release", after, nil)
	}
}

var (
	demoSurnames     = []string{"Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu"}
	demoGiven        = []string{"Wei", "Fang", "Min", "Jing", "Lei", "Yan", "Jun", "Ping", "Gang", "Hua", "Xiu", "Tao"}
	demoPlaces       = []string{"110105", "310104", "440106", "510107", "420102", "610113"}
	demoStationCodes = []string{"S01", "S02", "S03", "S04"}
)

// person makes a synthetic person of the given age and sex, with a valid
// resident ID number when withID is set.
func (d *demo) person(age int, sex string, withID bool) map[string]any {
	return d.personBorn(d.now.AddDate(-age, -d.rnd.IntN(11), -d.rnd.IntN(27)), age, sex, withID)
}

// personBorn is person with a given birth date (age is what staff
// estimate when there is no ID).
func (d *demo) personBorn(birth time.Time, age int, sex string, withID bool) map[string]any {
	name := "Demo " + demoSurnames[d.rnd.IntN(len(demoSurnames))] + " " + demoGiven[d.rnd.IntN(len(demoGiven))]
	p := map[string]any{"name": name, "sex": sex}
	if !withID {
		p["estimated_age"] = age
		p["can_state_identity"] = false
		return p
	}
	seq := 2*d.rnd.IntN(450) + 100 // the 17th digit is even for women
	if sex == "male" {
		seq++
	}
	first17 := fmt.Sprintf("%s%s%03d", demoPlaces[d.rnd.IntN(len(demoPlaces))], birth.Format("20060102"), seq)
	check, err := domain.ResidentIDCheckChar(first17)
	if err != nil {
		panic(err) // first17 is built of digits above
	}
	p["birth_date"] = birth.Format("2006-01-02")
	p["id_number"] = first17 + string(check)
	p["hukou_place"] = "Synthetic county " + first17[:4]
	return p
}

// demoScenarios is how many case scenarios oneCase cycles through.
const demoScenarios = 13

// oneCase seeds one case of a scenario chosen by i, so that every board
// and every kind of safety alert has something in it: each scenario comes
// back every demoScenarios cases, and a scenario with variants (round
// counts its returns) takes them in turn, so that the first few rounds
// already raise a few alerts of every kind.
func (d *demo) oneCase(ctx context.Context, i int) error {
	station := demoStationCodes[d.rnd.IntN(len(demoStationCodes))]
	daysAgo := d.rnd.IntN(28)
	arrived := d.now.Add(-time.Duration(daysAgo)*24*time.Hour - time.Duration(d.rnd.IntN(20))*time.Hour - time.Hour)
	scenario, round := i%demoScenarios, i/demoScenarios
	sex := "male"
	if d.rnd.IntN(3) == 0 {
		sex = "female"
	}
	age := 25 + d.rnd.IntN(50)
	withID := d.rnd.IntN(4) != 0
	inspection := map[string]any{}
	source := []string{"walk_in", "police_escort", "urban_management", "outreach", "hotline", "public_report"}[d.rnd.IntN(6)]
	switch scenario {
	case 3: // a transfer, requested long enough ago to be overdue if stuck
		arrived = d.now.Add(-time.Duration(6+d.rnd.IntN(20))*24*time.Hour - time.Hour)
	case 4, 5: // minors
		age = 8 + d.rnd.IntN(9)
		withID = false
		inspection["suspected_lost"] = scenario == 5
	case 6: // medical, long enough ago for the hospital stay to need news
		inspection["suspected_mental_disorder"] = true
		arrived = d.now.Add(-time.Duration(8+d.rnd.IntN(20))*24*time.Hour - time.Hour)
	case 9: // long stay, unidentified since months ago
		arrived = d.now.AddDate(0, -4, -d.rnd.IntN(20))
		withID = false
	case 10: // elderly
		age = 70 + d.rnd.IntN(15)
	case 12: // looks about 19, carries no papers, came in a day or two ago
		age = 18 + d.rnd.IntN(2)
		withID = false
		arrived = d.now.Add(-time.Duration(30+d.rnd.IntN(18)) * time.Hour)
	}
	referral := map[string]any{"source": source}
	if source == "police_escort" {
		referral["form_no"] = fmt.Sprintf("PE-%05d", i)
	}
	person := d.person(age, sex, withID)
	if scenario == 4 && round%2 == 0 { // a minor with papers who turns 16 in three days
		age = 15
		person = d.personBorn(d.now.AddDate(-16, 0, 3), age, sex, true)
	}
	switch {
	case scenario == 11 && len(d.earlier) > 0: // the same person again
		person = d.earlier[d.rnd.IntN(len(d.earlier))]
		sex, age = person["sex"].(string), 40
	case withID && age >= 18:
		d.earlier = append(d.earlier, person)
	}
	out, err := d.call(ctx, d.staff[station], "POST", "/v1/cases", map[string]any{
		"station": station, "occurred_at": arrived.Format(time.RFC3339),
		"referral": referral, "person": person, "inspection": inspection,
	}, nethttp.StatusCreated)
	if err != nil {
		return fmt.Errorf("intake: %w", err)
	}
	c := &demoCase{d: d, id: out["id"].(string), station: station, at: arrived}
	minor := age < 18
	checker := map[string]any{"staff_id": fmt.Sprintf("staff-%s-%d", station, 1+d.rnd.IntN(5)), "sex": sex}

	if minor {
		c.step(ctx, "", "eligibility", 20*time.Minute, map[string]any{"assist_first": true})
	} else {
		c.step(ctx, "", "eligibility", 20*time.Minute, map[string]any{"eligible": true})
	}
	c.step(ctx, "", "security-check", 10*time.Minute, map[string]any{"checked_by": checker})
	c.step(ctx, "", "belongings", 5*time.Minute, map[string]any{"deposited": []map[string]any{{"item": "bag", "qty": 1}, {"item": "phone", "qty": 1}}})
	c.place(ctx)

	switch scenario {
	case 0: // identified and escorted home
		c.step(ctx, "", "identity-query", 2*time.Hour, map[string]any{"channel": "police", "result": "matched"})
		c.step(ctx, "", "relatives-contacted", 6*time.Hour, map[string]any{"relationship": "brother", "channel": "phone", "outcome": "will receive"})
		c.step(ctx, "", "belongings", 30*time.Hour, map[string]any{"returned": []string{"bag", "phone"}})
		c.step(ctx, "", "escorted-return", time.Hour, map[string]any{"destination": "home county", "escorts": []string{"staff-a"}})
		c.step(ctx, "", "closure", time.Hour, nil)
	case 1: // voluntary leave with travel cash, belongings handed back first
		c.step(ctx, "", "belongings", time.Duration(1+d.rnd.IntN(4))*24*time.Hour, map[string]any{"returned": []string{"bag", "phone"}})
		c.step(ctx, "", "voluntary-leave", 10*time.Minute, map[string]any{"declaration_ref": "VL-" + c.id[:8], "cash_yuan": 20, "receipt_ref": "R-" + c.id[:8]})
		c.step(ctx, "", "closure", 2*time.Hour, nil)
	case 2: // unidentified, family search under way
		c.step(ctx, "", "family-search-notice", 20*time.Hour, map[string]any{"channel": "national platform", "reference": "FS-" + c.id[:8]})
		c.step(ctx, "", "dna-request", 3*24*time.Hour, map[string]any{"sample_ref": "DNA-" + c.id[:8], "lab": "public security"})
	case 3: // transfer to another station: by turns never answered, never handed over, or done
		to := demoStationCodes[(indexOf(demoStationCodes, station)+1)%len(demoStationCodes)]
		c.step(ctx, "", "transfer-request", 24*time.Hour, map[string]any{"to_station": to, "reason": "closer to home county"})
		if round%3 > 0 {
			c.step(ctx, d.staff[to], "transfer-accept", 6*time.Hour, nil)
			c.step(ctx, "", "escort-departure", 12*time.Hour, map[string]any{"escorts": []string{"staff-b", "staff-c"}, "transport": "station van"})
			if round%3 == 2 {
				c.step(ctx, d.staff[to], "handover", 5*time.Hour, map[string]any{"received_by": "duty officer"})
				c.station = to
			}
		}
	case 4: // minor: guardianship and police report
		c.step(ctx, "", "guardianship", 6*time.Hour, map[string]any{"basis": "未成年人保护法 art. 92", "guardian": "civil affairs bureau"})
		c.step(ctx, "", "police-report", time.Hour, map[string]any{"reason": domain.ReportSuspectedLost, "report_no": "PR-" + c.id[:8]})
	case 5: // minor with no guardianship yet: an alert
	case 6: // medical: referred and admitted, then by turns silence, a discharge and the return, or a discharge and silence
		c.step(ctx, "", "medical-referral", 3*time.Hour, map[string]any{"hospital": "Designated hospital No. 3", "reason": "assessment"})
		c.step(ctx, "", "hospital-admission", 4*time.Hour, map[string]any{"hospital": "Designated hospital No. 3"})
		if round%3 > 0 {
			c.step(ctx, "", "hospital-discharge", 4*24*time.Hour, map[string]any{"hospital": "Designated hospital No. 3"})
		}
		if round%3 == 1 {
			c.step(ctx, "", "medical-return", 3*time.Hour, nil)
			if round%2 == 1 {
				c.place(ctx) // the bed was freed at the admission
			} // else back without a bed: an alert
		}
	case 7: // absconding, belongings left deposited: two alerts
		c.step(ctx, "", "absconding", time.Duration(1+d.rnd.IntN(5))*24*time.Hour, map[string]any{"last_seen": "dormitory"})
	case 8: // by turns a death with an incomplete checklist, or a pickup by relatives
		if round%2 == 0 {
			c.step(ctx, "", "death", 3*24*time.Hour, map[string]any{"place": "station", "certified_by": "hospital", "police_notified": true})
		} else {
			c.step(ctx, "", "belongings", 2*24*time.Hour, map[string]any{"returned": []string{"bag", "phone"}})
			c.step(ctx, "", "pickup", time.Hour, map[string]any{"collector": map[string]any{"name": "Demo Relative", "id_number": d.person(45, "female", true)["id_number"], "relationship": "sister"}})
			c.step(ctx, "", "closure", time.Hour, nil)
		}
	case 9: // long stay without a settlement application
		c.step(ctx, "", "family-search-notice", 20*time.Hour, map[string]any{"channel": "national platform"})
		c.step(ctx, "", "dna-request", 2*24*time.Hour, map[string]any{"sample_ref": "DNA-" + c.id[:8], "lab": "public security"}) // no result since: an alert
		c.step(ctx, "", "extension", 9*24*time.Hour, map[string]any{"until": arrived.AddDate(0, 1, 0).Format(time.RFC3339), "approved_by": "station director", "reason": "identity unknown"})
		c.step(ctx, "", "long-stay", 3*24*time.Hour, map[string]any{"kind": domain.LongStayInStation})
	case 10: // elderly with an extension
		c.step(ctx, "", "extension", 8*24*time.Hour, map[string]any{"until": c.at.Add(20 * 24 * time.Hour).Format(time.RFC3339), "approved_by": "station director", "reason": "awaiting family"})
	case 12: // placed as an adult; the police check finds papers of a 17-year-old
		c.step(ctx, "", "family-search-notice", 20*time.Hour, map[string]any{"channel": "national platform", "reference": "FS-" + c.id[:8]})
		papers := d.personBorn(d.now.AddDate(-17, -d.rnd.IntN(6), -d.rnd.IntN(27)), 17, sex, true)
		c.step(ctx, "", "identity-verified", 5*time.Hour, map[string]any{
			"method": domain.VerifiedByPolice, "name": papers["name"], "id_number": papers["id_number"],
			"birth_date": papers["birth_date"], "hukou_place": papers["hukou_place"],
		})
		if round%2 == 1 { // staff have already taken the child out of the adult zone: no alert left
			c.release(ctx, time.Hour)
			c.place(ctx)
			c.step(ctx, "", "guardianship", time.Hour, map[string]any{"basis": "未成年人保护法 art. 92", "guardian": "civil affairs bureau"})
		}
	}
	return c.err
}

func indexOf(xs []string, x string) int {
	for i, y := range xs {
		if y == x {
			return i
		}
	}
	return -1
}

// waitReady polls /readyz until the service answers 200 or ctx ends.
func waitReady(ctx context.Context, base string) error {
	for {
		resp, err := nethttp.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == nethttp.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// randomToken returns a fresh 32-byte token in hex.
func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return strings.ToLower(hex.EncodeToString(b))
}
