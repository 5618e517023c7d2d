package ops_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"waystation/ops"
)

// TestVerifyExportRefusesDuplicateMembers: a bundle where an object names
// a member twice is refused, since a reader that keeps the first would
// show an unsigned value beside a verified bundle; the same bundle
// reformatted (indented) still verifies.
func TestVerifyExportRefusesDuplicateMembers(t *testing.T) {
	r := start(t, t.TempDir())
	staff := r.seed(t)
	id := r.must(t, 201, staff, "POST", "/v1/cases", intake("Duplicate Person", time.Now().Add(-time.Hour)))["id"].(string)
	code, bundle := r.privGet(t, adminToken, "/v1/cases/"+id+"/export")
	if code != 200 {
		t.Fatalf("export: status %d: %s", code, bundle)
	}
	var e ops.Export
	if err := json.Unmarshal(bundle, &e); err != nil {
		t.Fatal(err)
	}
	key := e.VerifierKey
	if _, err := ops.VerifyExport(bundle, key); err != nil {
		t.Fatalf("the intact export does not verify: %v", err)
	}
	var indented bytes.Buffer
	if err := json.Indent(&indented, bundle, "", "  "); err != nil {
		t.Fatal(err)
	}
	if _, err := ops.VerifyExport(indented.Bytes(), key); err != nil {
		t.Errorf("the export indented does not verify: %v", err)
	}
	forged := `[{"position":"1/1","type":"case.intake_registered","data":{"person":{"name":"Forged Name"}}}]`
	firstEvent := bytes.Index(bundle, []byte(`{"leaf_index"`)) + 1
	for _, tt := range []struct{ name, where string }{
		{"the display section named twice", `"opened":` + forged + `,`},
		{"the display section named twice in another case", `"Opened":` + forged + `,`},
		{"an event's type named twice", `"type":"case.forged",`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			at := 1
			if tt.where[1:5] == "type" {
				at = firstEvent
			}
			changed := append(append(bytes.Clone(bundle[:at]), tt.where...), bundle[at:]...)
			if !json.Valid(changed) {
				t.Fatalf("the changed bundle is not JSON: %s", changed[:min(len(changed), 300)])
			}
			if _, err := ops.VerifyExport(changed, key); !errors.Is(err, ops.ErrExportInvalid) {
				t.Errorf("VerifyExport err = %v, want ErrExportInvalid", err)
			}
		})
	}
}

func TestOpenAPIDescribesTheExportBundle(t *testing.T) {
	r := start(t, t.TempDir())
	var doc struct {
		Paths map[string]map[string]struct {
			Responses map[string]struct {
				Content map[string]struct {
					Schema struct {
						Properties map[string]any `json:"properties"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal([]byte(r.get(t, "/openapi.json")), &doc); err != nil {
		t.Fatal(err)
	}
	props := doc.Paths["/v1/cases/{id}/export"]["get"].Responses["200"].Content["application/json"].Schema.Properties
	for _, field := range []string{"case_id", "tree_head", "verifier_key", "events", "signature"} {
		if _, ok := props[field]; !ok {
			t.Errorf("the export's 200 schema has no %q (properties: %v)", field, props)
		}
	}
}
