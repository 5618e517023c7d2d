package ops_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"waystation/ops"
	"waystation/projections"
)

func TestDemoSeedFillsEveryBoard(t *testing.T) {
	r := start(t, t.TempDir())
	seed, err := ops.SeedDemo(context.Background(), r.base, adminToken, 72, time.Now())
	if err != nil {
		t.Fatalf("seeding the demo through the API: %v", err)
	}
	if seed.Cases != 72 {
		t.Errorf("seeded %d cases, want 72", seed.Cases)
	}
	roles := map[string]bool{}
	var inspector, staff string
	for _, tok := range seed.Tokens {
		roles[tok.Role] = true
		switch tok.Role {
		case "inspector":
			inspector = tok.Token
		case "staff":
			if tok.Scope == "S01" {
				staff = tok.Token
			}
		}
	}
	for _, role := range []string{"admin", "staff", "coordinator", "inspector"} {
		if !roles[role] {
			t.Errorf("no %s token was printed", role)
		}
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
}

func TestDemoRunAgainOnItsDataIssuesFreshTokensAndKeepsTheCases(t *testing.T) {
	r := start(t, t.TempDir())
	if _, err := ops.SeedDemo(context.Background(), r.base, adminToken, 12, time.Now()); err != nil {
		t.Fatal(err)
	}
	again, err := ops.SeedDemo(context.Background(), r.base, adminToken, 12, time.Now())
	if err != nil {
		t.Fatalf("seeding a seeded demo again: %v", err)
	}
	if again.Cases != 0 {
		t.Errorf("the second run seeded %d more cases, want none", again.Cases)
	}
	for _, tok := range again.Tokens {
		if tok.Role == "inspector" {
			page := r.must(t, 200, tok.Token, "GET", "/v1/cases?limit=50", nil)
			if items, _ := page["items"].([]any); len(items) != 12 {
				t.Errorf("the fresh inspector token sees %d cases, want the 12 seeded the first time", len(items))
			}
		}
	}
}
