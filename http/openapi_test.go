package http_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"waystation/internal/sourcetest"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"waystation/domain"
	wshttp "waystation/http"
	"waystation/projections"
)

// bundle is an export bundle type, for a Privacy that describes its
// export.
type bundle struct {
	CaseID    uuid.UUID `json:"case_id" doc:"The exported case."`
	Signature string    `json:"signature" doc:"The bundle's signature."`
}

// describedPrivacy is a Privacy that describes its export bundle; the
// OpenAPI tests only read the description, never call it.
type describedPrivacy struct{}

func (describedPrivacy) ErasePerson(context.Context, domain.Actor, uuid.UUID, domain.Erasure) (wshttp.Erasure, error) {
	return wshttp.Erasure{}, domain.NotFound("no keys")
}
func (describedPrivacy) DueForErasure(context.Context, time.Time) (wshttp.DueList, error) {
	return wshttp.DueList{}, domain.NotFound("no keys")
}
func (describedPrivacy) Export(context.Context, uuid.UUID) (any, error) {
	return nil, domain.NotFound("no proofs")
}
func (describedPrivacy) ExportType() reflect.Type { return reflect.TypeFor[bundle]() }

// openAPIDoc is /openapi.json of a server over e's store whose Privacy
// describes its export, decoded.
func openAPIDoc(t *testing.T, e *env) map[string]any {
	t.Helper()
	srv, err := wshttp.NewServer(wshttp.Config{
		Service: domain.NewService(e.store, nil), Views: wshttp.RunnerViews{Runner: e.runner}, Store: e.store,
		Privacy: describedPrivacy{}, Registerer: prometheus.NewRegistry(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	var doc map[string]any
	if err := json.Unmarshal(mustJSON(t, srv.OpenAPI()), &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// at walks doc along keys (object members, or array indexes as numbers).
func at(t testing.TB, doc any, keys ...string) any {
	t.Helper()
	v := doc
	for i, k := range keys {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			n, err := strconv.Atoi(k)
			if err != nil || n >= len(x) {
				t.Fatalf("no %s at %s", k, strings.Join(keys[:i], "."))
			}
			v = x[n]
		default:
			t.Fatalf("nothing at %s", strings.Join(keys[:i+1], "."))
		}
		if v == nil {
			t.Fatalf("nothing at %s", strings.Join(keys[:i+1], "."))
		}
	}
	return v
}

func strings_(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// TestEveryRouteHasATypedAnswer: the success answer of every route is
// described: a JSON answer by an object schema with its properties (or a
// reference to one), any other media type by a string.
func TestEveryRouteHasATypedAnswer(t *testing.T) {
	e := newEnv(t)
	doc := openAPIDoc(t, e)
	paths := at(t, doc, "paths").(map[string]any)
	n := 0
	for path, ops := range paths {
		for method, op := range ops.(map[string]any) {
			n++
			responses := at(t, op, "responses").(map[string]any)
			if _, empty := responses["204"]; empty {
				continue // answers no body
			}
			var ok map[string]any
			for _, code := range []string{"200", "201"} {
				if r, found := responses[code]; found {
					ok = r.(map[string]any)
				}
			}
			if ok == nil {
				t.Errorf("%s %s: no 200 or 201 answer", method, path)
				continue
			}
			for media, c := range at(t, ok, "content").(map[string]any) {
				schema := at(t, c, "schema").(map[string]any)
				switch {
				case media != "application/json":
					if schema["type"] != "string" {
						t.Errorf("%s %s: %s answer schema %v, want a string", method, path, media, schema)
					}
				case schema["$ref"] != nil:
				case schema["type"] != "object" || len(asMap(schema["properties"])) == 0:
					t.Errorf("%s %s: answer schema %v has no properties", method, path, schema)
				}
			}
		}
	}
	if n < 40 {
		t.Fatalf("only %d operations described", n)
	}
	// The export is described by the type its Privacy names.
	props := asMap(at(t, paths, "/v1/cases/{id}/export", "get", "responses", "200", "content", "application/json", "schema", "properties"))
	if _, ok := props["signature"]; !ok || len(props) != 2 {
		t.Fatalf("export answer properties %v, want the bundle type's", props)
	}
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// TestOpenAPIListsRequiredFieldsAndEnums: request bodies list the fields
// a client must send and the values an enumerated field takes, from the
// domain's own lists; answers list the fields always present.
func TestOpenAPIListsRequiredFieldsAndEnums(t *testing.T) {
	e := newEnv(t)
	doc := openAPIDoc(t, e)
	body := func(path string) any {
		return at(t, doc, "paths", path, "post", "requestBody", "content", "application/json", "schema")
	}
	reply := func(path, method, status string) any {
		return at(t, doc, "paths", path, method, "responses", status, "content", "application/json", "schema")
	}
	zones := make([]string, len(domain.Zones))
	for i, z := range domain.Zones {
		zones[i] = string(z)
	}
	for _, tc := range []struct {
		name string
		got  []string
		want []string
	}{
		{"intake required", strings_(at(t, body("/v1/cases"), "required")), []string{"person", "referral", "station"}},
		{"intake person required", strings_(at(t, body("/v1/cases"), "properties", "person", "required")), []string{"sex"}},
		{"intake person sex", strings_(at(t, body("/v1/cases"), "properties", "person", "properties", "sex", "enum")), []string{"male", "female"}},
		{"intake referral source", strings_(at(t, body("/v1/cases"), "properties", "referral", "properties", "source", "enum")),
			[]string{"walk_in", "hotline", "police_escort", "urban_management", "hospital", "outreach", "public_report", "other"}},
		{"intake legal basis", strings_(at(t, body("/v1/cases"), "properties", "legal_basis", "enum")),
			[]string{"statutory_duty", "consent", "guardian_consent", "vital_interests"}},
		{"station required", strings_(at(t, body("/v1/stations"), "required")), []string{"code", "kind", "name", "region", "zones"}},
		{"station kind", strings_(at(t, body("/v1/stations"), "properties", "kind", "enum")), []string{"station", "regional_center", "minors_center"}},
		{"station zones", strings_(at(t, body("/v1/stations"), "properties", "zones", "items", "properties", "zone", "enum")), zones},
		{"station zone required", strings_(at(t, body("/v1/stations"), "properties", "zones", "items", "required")), []string{"beds", "zone"}},
		{"zones change zone", strings_(at(t, body("/v1/stations/{code}/zones"), "properties", "zones", "items", "properties", "zone", "enum")), zones},
		{"bed zone", strings_(at(t, body("/v1/cases/{id}/bed"), "properties", "zone", "enum")), zones},
		{"bed required", strings_(at(t, body("/v1/cases/{id}/bed"), "required")), []string{"zone"}},
		{"token role", strings_(at(t, body("/v1/tokens"), "properties", "role", "enum")), []string{"admin", "staff", "coordinator", "inspector"}},
		{"token required", strings_(at(t, body("/v1/tokens"), "required")), []string{"role"}},
		{"erasure reason", strings_(at(t, body("/v1/people/{id}/erase"), "properties", "reason", "enum")),
			[]string{"subject_request", "purpose_fulfilled", "retention_ended", "unlawful_processing", "legal_order"}},
		{"identity-query channel", strings_(at(t, body("/v1/cases/{id}/identity-query"), "properties", "channel", "enum")), []string{"quick_check", "police", "face_match", "other"}},
		{"identity-query result", strings_(at(t, body("/v1/cases/{id}/identity-query"), "properties", "result", "enum")), []string{"matched", "no_match", "pending"}},
		{"police-report reason", strings_(at(t, body("/v1/cases/{id}/police-report"), "properties", "reason", "enum")),
			[]string{"harm_to_minor", "suspected_trafficked", "suspected_lost", "abandoned", "dangerous_items", "absconding", "death", "other"}},
		{"verification method", strings_(at(t, body("/v1/cases/{id}/identity-verified"), "properties", "method", "enum")),
			[]string{"police_query", "dna", "relatives", "documents", "face_match", "self_statement"}},
		{"verified id type", strings_(at(t, body("/v1/cases/{id}/identity-verified"), "properties", "id_type", "enum")),
			[]string{"resident_id", "passport", "hk_macao_permit", "taiwan_permit", "other"}},
		{"intake id type", strings_(at(t, body("/v1/cases"), "properties", "person", "properties", "id_type", "enum")),
			[]string{"resident_id", "passport", "hk_macao_permit", "taiwan_permit", "other"}},
		{"collector id type", strings_(at(t, body("/v1/cases/{id}/pickup"), "properties", "collector", "properties", "id_type", "enum")),
			[]string{"resident_id", "passport", "hk_macao_permit", "taiwan_permit", "other"}},
		{"long-stay kind", strings_(at(t, body("/v1/cases/{id}/long-stay"), "properties", "kind", "enum")), []string{"in_station", "off_site", "extreme_poverty_support"}},
		{"settlement stage", strings_(at(t, body("/v1/cases/{id}/settlement"), "properties", "stage", "enum")), []string{"applied", "settled"}},
		{"correction field", strings_(at(t, body("/v1/cases/{id}/correction"), "properties", "field", "enum")), domain.CorrectableFields()},
		{"safety rule", strings_(at(t, reply("/v1/safety", "get", "200"), "properties", "alerts", "items", "properties", "rule", "enum")), projections.Rules},
		{"safety required", strings_(at(t, reply("/v1/safety", "get", "200"), "required")), []string{"alerts", "at"}},
		{"worklist rule", strings_(at(t, reply("/v1/worklist", "get", "200"), "properties", "items", "items", "properties", "rule", "enum")), projections.WorklistRules},
		{"worklist step", strings_(at(t, reply("/v1/worklist", "get", "200"), "properties", "items", "items", "properties", "step", "enum")), stepNames()},
		{"allowed steps", strings_(at(t, reply("/v1/cases/{id}", "get", "200"), "properties", "allowed_steps", "items", "enum")), stepNames()},
		{"search status", strings_(at(t, reply("/v1/cases", "get", "200"), "properties", "items", "items", "properties", "status", "enum")),
			[]string{"received", "in_station", "in_hospital", "long_stay", "in_transit", "exited", "refused", "closed"}},
	} {
		if !slices.Equal(tc.got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	// Optional fields are not required: the bed, a step's time and notes.
	for _, f := range strings_(at(t, body("/v1/cases/{id}/bed"), "required")) {
		if f == "bed" || f == "occurred_at" || f == "notes" {
			t.Errorf("the bed step requires %q", f)
		}
	}
	codes := strings_(at(t, doc, "components", "responses", "Problem", "content", "application/problem+json", "schema", "properties", "code", "enum"))
	for _, c := range []string{"invalid", "rule_violation", "payload_too_large", "unavailable"} {
		if !slices.Contains(codes, c) {
			t.Errorf("problem codes %v lack %q", codes, c)
		}
	}
}

// TestEnumsListEveryDomainConstant reads the domain's source: every
// constant it declares of an enumerated type must be among the values the
// OpenAPI schemas list for that type, and every listed value must be one
// of those constants (error codes may add the HTTP layer's own).
func TestEnumsListEveryDomainConstant(t *testing.T) {
	declared := domainConstants(t)
	for name, listed := range wshttp.EnumValues() {
		consts := declared[name]
		if len(consts) == 0 {
			t.Errorf("the domain declares no constant of type %s", name)
			continue
		}
		for _, v := range consts {
			if !slices.Contains(listed, v) {
				t.Errorf("%s %q is declared in the domain but not listed in the schemas", name, v)
			}
		}
		if name == "Code" {
			continue
		}
		for _, v := range listed {
			if !slices.Contains(consts, v) {
				t.Errorf("%s %q is listed in the schemas but not declared in the domain", name, v)
			}
		}
	}
}

// domainConstants returns the string constants the domain declares with an
// explicit type, by type name.
func domainConstants(t *testing.T) map[string][]string {
	t.Helper()
	out, err := sourcetest.TypedStringConstants(filepath.Join("..", "domain"))
	if err != nil {
		t.Fatalf("domain sources: %v", err)
	}
	return out
}

// stepNames are the names of domain.CaseSteps, in order.
func stepNames() []string {
	var out []string
	for _, s := range domain.CaseSteps() {
		out = append(out, string(s))
	}
	return out
}
