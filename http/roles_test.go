package http_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"waystation/domain"
	wshttp "waystation/http"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata from what the code answers")

// refusals is the detail of the 403 answered to a token whose role a
// route's Roles leave out, by those Roles.
var refusals = map[string]string{
	"admin":                   "this route is for admin tokens",
	"admin,inspector":         "this route is for admin or inspector tokens",
	"admin,staff":             "this route is for staff or admin tokens",
	"admin,staff,coordinator": "this route is for staff or coordinator or admin tokens",
}

// TestEveryRouteRefusesTheRolesItLeavesOut walks the route table: for every
// route that needs a token and every role its Roles leave out, a request
// with a token of that role is refused through the real router, with 403,
// code forbidden and the route's refusal, and writes nothing.
func TestEveryRouteRefusesTheRolesItLeavesOut(t *testing.T) {
	w := newWorld(t)
	tokens := []struct {
		role  domain.Role
		token string
	}{
		{domain.RoleAdmin, adminToken}, {domain.RoleStaff, w.staff1},
		{domain.RoleCoordinator, w.coord1}, {domain.RoleInspector, w.inspAll},
	}
	paths := strings.NewReplacer("{id}", "0190d6a4-8d5e-7a2b-9c3d-4e5f60718293", "{code}", "S01", "{region}", "R1")
	before := headCount(t, w.store)
	refused := 0
	for _, rt := range wshttp.TokenRoutes(w.srv) {
		if len(rt.Roles) == 0 {
			t.Errorf("%s %s needs a token but admits no role", rt.Method, rt.Path)
			continue
		}
		names := make([]string, len(rt.Roles))
		for i, r := range rt.Roles {
			names[i] = string(r)
		}
		want := refusals[strings.Join(names, ",")]
		for _, tok := range tokens {
			if slices.Contains(rt.Roles, tok.role) {
				continue
			}
			if want == "" {
				t.Errorf("%s %s: no refusal known for roles %v", rt.Method, rt.Path, names)
				break
			}
			refused++
			t.Run(rt.Method+" "+rt.Path+" refuses "+string(tok.role), func(t *testing.T) {
				p := expectProblem(t, w.call(tok.token, rt.Method, paths.Replace(rt.Path), nil), 403, "forbidden", "")
				if p.Detail != want {
					t.Fatalf("detail %q, want %q", p.Detail, want)
				}
			})
		}
	}
	if refused == 0 {
		t.Fatal("no route refuses any role")
	}
	if after := headCount(t, w.store); after != before {
		t.Fatalf("the refused requests wrote %d events", after-before)
	}
}

// TestOpenAPIDocumentIsPinned compares /openapi.json with
// testdata/openapi.json; run the tests with -update to accept a change of
// the description.
func TestOpenAPIDocumentIsPinned(t *testing.T) {
	e := newEnv(t)
	rec := e.must(200, "", "GET", "/openapi.json", nil)
	var got bytes.Buffer
	if err := json.Indent(&got, rec.Body.Bytes(), "", "  "); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "openapi.json")
	if *update {
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("/openapi.json differs from %s (run with -update if the change is meant):\n%s",
			golden, firstDiff(got.String(), string(want)))
	}
}

// firstDiff shows the first line where got and want differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + strconv.Itoa(i+1) + ":\n got  " + gl + "\n want " + wl
		}
	}
	return ""
}
