package http_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// servedOpenAPI is GET /openapi.json of e as served.
func servedOpenAPI(t *testing.T, e *env) []byte {
	t.Helper()
	return e.must(200, "", "GET", "/openapi.json", nil).Body.Bytes()
}

// TestOpenAPIIsSelfContained: the description holds no reference outside
// itself, every reference it holds resolves inside it, and kin-openapi's
// loader, which refuses external references, loads and validates it.
func TestOpenAPIIsSelfContained(t *testing.T) {
	e := newEnv(t)
	raw := servedOpenAPI(t, e)
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	refs := 0
	var walk func(v any, path string)
	walk = func(v any, path string) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if k == "$ref" || k == "$schema" || k == "$id" || k == "$dynamicRef" {
					ref, _ := c.(string)
					if k != "$ref" || !strings.HasPrefix(ref, "#/") {
						t.Errorf("%s: %s %q points outside the document", path, k, ref)
						continue
					}
					refs++
					if resolve(doc, ref) == nil {
						t.Errorf("%s: $ref %q resolves to nothing", path, ref)
					}
					continue
				}
				walk(c, path+"/"+k)
			}
		case []any:
			for i, c := range x {
				walk(c, path+"/"+strconv.Itoa(i))
			}
		}
	}
	walk(doc, "#")
	if refs == 0 {
		t.Fatal("no internal reference was found: the walk saw nothing")
	}
	loader := &openapi3.Loader{Context: context.Background(), IsExternalRefsAllowed: false}
	loaded, err := loader.LoadFromData(raw)
	if err != nil {
		t.Fatalf("kin-openapi cannot load /openapi.json: %v", err)
	}
	if err := loaded.Validate(context.Background()); err != nil {
		t.Fatalf("kin-openapi finds /openapi.json invalid: %v", err)
	}
}

// resolve follows a local JSON pointer (#/a/b) in doc; nil when it leads
// nowhere.
func resolve(doc any, ref string) any {
	v := doc
	for _, tok := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[tok]
	}
	return v
}

// TestEveryFieldIsDescribed: every property of every schema, request and
// answer, and every parameter says in a line what it holds; every text
// field and list of a request says how long it may be.
func TestEveryFieldIsDescribed(t *testing.T) {
	e := newEnv(t)
	doc := openAPIDoc(t, e)
	props := 0
	var walk func(v any, path string, request bool)
	walk = func(v any, path string, request bool) {
		switch x := v.(type) {
		case map[string]any:
			if ps, ok := x["properties"].(map[string]any); ok {
				for name, p := range ps {
					props++
					ps := p.(map[string]any)
					if d, _ := ps["description"].(string); strings.TrimSpace(d) == "" || strings.Contains(d, "\n") {
						t.Errorf("%s.%s has no one-line description", path, name)
					}
					if request {
						checkLimits(t, path+"."+name, ps)
					}
				}
			}
			for k, c := range x {
				walk(c, path+"/"+k, request || k == "requestBody")
			}
		case []any:
			for i, c := range x {
				walk(c, path+"/"+strconv.Itoa(i), request)
			}
		}
	}
	walk(doc, "#", false)
	if props < 300 {
		t.Fatalf("only %d properties were seen", props)
	}
	for path, ops := range doc["paths"].(map[string]any) {
		for method, op := range ops.(map[string]any) {
			params, _ := op.(map[string]any)["parameters"].([]any)
			for _, p := range params {
				pm := p.(map[string]any)
				if d, _ := pm["description"].(string); strings.TrimSpace(d) == "" {
					t.Errorf("%s %s: parameter %v has no description", method, path, pm["name"])
				}
			}
		}
	}
}

// checkLimits fails unless the request schema s bounds its text and
// lists: a free string has a maxLength, a list a maxItems (and its items
// are checked too).
func checkLimits(t *testing.T, path string, s map[string]any) {
	t.Helper()
	switch s["type"] {
	case "string":
		_, enum := s["enum"]
		_, format := s["format"]
		_, pattern := s["pattern"]
		if _, ok := s["maxLength"]; !ok && !enum && !format && !pattern {
			t.Errorf("request field %s is text without a maxLength", path)
		}
	case "array":
		if _, ok := s["maxItems"]; !ok {
			t.Errorf("request field %s is a list without a maxItems", path)
		}
		if items, ok := s["items"].(map[string]any); ok {
			checkLimits(t, path+".items", items)
		}
	}
}
