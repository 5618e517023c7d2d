package console

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
	"waystation/projections"
)

// enumKinds are the enumerated types a page shows outside the forms.
var enumKinds = []domain.Enum{
	domain.Status(""), domain.Role(""), domain.Zone(""), domain.ExitType(""), domain.Sex(""),
	domain.StationKind(""), domain.AccountState(""),
}

// requiredKeys is every key the domain obliges the catalogues to have:
// each step, each event type, each field of a command or an event, each
// value of an enumerated type, each rule, each safety signal and each
// error code. A new one in the domain fails TestCataloguesCoverTheDomain
// until both languages have it.
func requiredKeys(t *testing.T) []string {
	keys := map[string]bool{}
	addFields := func(fs []field) {
		for _, g := range groups(fs) {
			if g.Legend != "" {
				keys[g.Legend] = true
			}
		}
		for _, f := range fs {
			keys[f.Key] = true
			for _, o := range f.Options {
				if f.Enum != "" {
					keys[f.Enum+"."+o] = true
				}
			}
		}
	}
	for _, s := range append(domain.CaseSteps(), domain.StepIntake) {
		keys["step."+string(s)] = true
		if tp, ok := commandType(s); ok {
			addFields(fieldsOf(tp))
		}
	}
	addFields(intakeFields())
	for _, typ := range domain.Events.Types() {
		if !strings.HasPrefix(typ, "case.") && !strings.HasPrefix(typ, "station.") {
			continue
		}
		keys["event."+typ] = true
		env, err := domain.Events.Decode(eventstore.RecordedEvent{Type: typ, Data: []byte("{}"),
			Metadata: []byte(`{"schema":1}`), Stream: domain.CaseStream(uuid.New())})
		if err != nil {
			t.Fatalf("decoding an empty %s: %v", typ, err)
		}
		addFields(fieldsOf(reflect.TypeOf(env.Event)))
	}
	for _, e := range enumKinds {
		for _, v := range e.Values() {
			keys["enum."+enumName(reflect.TypeOf(e))+"."+v] = true
		}
	}
	for _, r := range ruleConstants(t) {
		keys["rule."+r] = true
	}
	for _, r := range projections.Rules {
		keys["safety."+r] = true
	}
	for _, r := range projections.WorklistRules {
		keys["work."+r] = true
	}
	for _, f := range constants(t, "Flag", "../domain") {
		keys["flag."+f] = true
	}
	for _, c := range codeConstants(t) {
		keys["code."+c] = true
	}
	out := make([]string, 0, len(keys))
	for k := range keys {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// ruleConstants reads every rule code the domain and the API declare: the
// string constants named Rule... of their sources.
func ruleConstants(t *testing.T) []string {
	return constants(t, "Rule", "../domain", "../http")
}

// codeConstants reads every error code: the constants named Code....
func codeConstants(t *testing.T) []string {
	return constants(t, "Code", "../domain", "../http")
}

func constants(t *testing.T, prefix string, dirs ...string) []string {
	var out []string
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			file, err := parser.ParseFile(token.NewFileSet(), f, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range file.Decls {
				g, ok := d.(*ast.GenDecl)
				if !ok || g.Tok != token.CONST {
					continue
				}
				for _, s := range g.Specs {
					vs := s.(*ast.ValueSpec)
					for i, n := range vs.Names {
						if !strings.HasPrefix(n.Name, prefix) || i >= len(vs.Values) {
							continue
						}
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							v, _ := strconv.Unquote(lit.Value)
							if v != "" && !slices.Contains(out, v) {
								out = append(out, v)
							}
						}
					}
				}
			}
		}
	}
	return out
}

func TestCataloguesCoverTheDomain(t *testing.T) {
	cats, err := loadCatalogues()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range requiredKeys(t) {
		for _, l := range languages {
			if _, ok := cats[l][k]; !ok {
				t.Errorf("messages/%s.json lacks %q", l, k)
			}
		}
	}
}

func TestBothLanguagesHaveTheSameKeys(t *testing.T) {
	cats, err := loadCatalogues()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range languages {
		for _, b := range languages {
			for k := range cats[a] {
				if _, ok := cats[b][k]; !ok {
					t.Errorf("%q is in messages/%s.json and not in messages/%s.json", k, a, b)
				}
			}
		}
	}
}

func TestDumpKeys(t *testing.T) {
	out := os.Getenv("DUMP_KEYS")
	if out == "" {
		t.Skip("DUMP_KEYS=FILE writes the required keys")
	}
	b, _ := json.MarshalIndent(requiredKeys(t), "", " ")
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
