package ops_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"waystation/domain"
	"waystation/eventstore/audit"
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
	bundle, e := r.export(t, id)
	key := e.VerifierKey
	if _, err := audit.VerifyBundle(bundle, key, domain.CaseStream); err != nil {
		t.Fatalf("the intact export does not verify: %v", err)
	}
	var indented bytes.Buffer
	if err := json.Indent(&indented, bundle, "", "  "); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.VerifyBundle(indented.Bytes(), key, domain.CaseStream); err != nil {
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
			if _, err := audit.VerifyBundle(changed, key, domain.CaseStream); !errors.Is(err, audit.ErrBundleInvalid) {
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

// TestVerifyExportNumbersTheCaseByTheAPIsVersions: verify-export speaks of
// a case's events as the API does, by version from 1 (the intake), in its
// text and in its --json report, so an inspector can hold the report
// against GET /v1/cases/{id}; a bundle signed with the log's own key that
// leaves out a case event is refused with the versions that are missing.
func TestVerifyExportNumbersTheCaseByTheAPIsVersions(t *testing.T) {
	dir := t.TempDir()
	r := start(t, dir)
	staff := r.seed(t)
	began := time.Now().Add(-time.Hour)
	id := r.must(t, 201, staff, "POST", "/v1/cases", intake("Version Person", began))["id"].(string)
	r.must(t, 200, staff, "POST", "/v1/cases/"+id+"/eligibility", map[string]any{"eligible": true})
	r.must(t, 200, staff, "POST", "/v1/cases/"+id+"/security-check", map[string]any{"checked_by": map[string]any{"staff_id": "s-1", "sex": "female"}})
	r.must(t, 200, staff, "POST", "/v1/cases/"+id+"/belongings", map[string]any{"deposited": []map[string]any{{"item": "bag", "qty": 1}}})
	r.must(t, 200, staff, "POST", "/v1/cases/"+id+"/bed", map[string]any{"zone": "adult_female"}) // a station event about the case
	version := uint64(r.must(t, 200, staff, "GET", "/v1/cases/"+id, nil)["version"].(float64))
	if version < 4 {
		t.Fatalf("the case is at version %d after an intake and three steps of its own", version)
	}
	bundle, _ := r.export(t, id)
	key := filepath.Join(dir, audit.PublicKeyFile)
	file := filepath.Join(t.TempDir(), "export.json")
	if err := os.WriteFile(file, bundle, 0o600); err != nil {
		t.Fatal(err)
	}

	out, err := verifyExport(t, file, key)
	if err != nil {
		t.Fatalf("verify-export of an intact export: %v: %s", err, out)
	}
	if want := fmt.Sprintf("%d of the case, versions 1 to %d, no gap", version, version); !strings.Contains(out, want) {
		t.Errorf("verify-export says %q, want it to say %q", out, want)
	}
	if strings.Contains(out, "revision") {
		t.Errorf("verify-export speaks of revisions, the API of versions: %s", out)
	}

	out, err = verifyExport(t, file, key, "--json")
	if err != nil {
		t.Fatalf("verify-export --json: %v: %s", err, out)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("verify-export --json printed %q: %v", out, err)
	}
	if rep["first_version"] != 1.0 || rep["last_version"] != float64(version) {
		t.Errorf("verify-export --json reports versions %v to %v, want 1 to %d: %s", rep["first_version"], rep["last_version"], version, out)
	}
	for k := range rep {
		if strings.Contains(k, "revision") {
			t.Errorf("verify-export --json has %q, the API speaks of versions: %s", k, out)
		}
	}

	for _, tt := range []struct {
		name    string
		version uint64 // the version of the case event left out
		want    string
	}{
		{"the intake left out", 1, "the case's events begin at version 2, not 1"},
		{"a middle event left out", 3, "the case's version 2 is followed by version 4, not 3"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "short.json")
			if err := os.WriteFile(f, resignedWithout(t, bundle, dir, id, tt.version), 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := verifyExport(t, f, key)
			if !errors.Is(err, audit.ErrBundleInvalid) {
				t.Fatalf("verify-export of a bundle without version %d: err %v, want ErrExportInvalid: %s", tt.version, err, out)
			}
			if !strings.Contains(out, tt.want) || strings.Contains(out, "revision") {
				t.Errorf("verify-export says %q, want %q in the API's versions", out, tt.want)
			}
		})
	}
}

// resignedWithout returns bundle without the event of case id at version
// (the API's), signed again with the signing key of the data folder dir,
// as a server holding the key could sign a bundle that leaves events out.
func resignedWithout(t testing.TB, bundle []byte, dir, id string, version uint64) []byte {
	t.Helper()
	var e ops.Export
	if err := json.Unmarshal(bundle, &e); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(e.Events, func(ev audit.BundleEvent) bool {
		return ev.Stream == "case-"+id && ev.Revision+1 == version
	})
	if i < 0 {
		t.Fatalf("the bundle has no event of version %d of the case", version)
	}
	e.Events = slices.Delete(e.Events, i, i+1)
	e.Opened = slices.Delete(e.Opened, i, i+1)
	e.Signature = ""
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	skey, err := os.ReadFile(filepath.Join(dir, audit.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := note.Sign(&note.Note{Text: audit.BundleFormat + "\ncase " + id + "\nsha256 " + hex.EncodeToString(sum[:]) + "\n"}, signer)
	if err != nil {
		t.Fatal(err)
	}
	e.Signature = string(msg)
	if b, err = json.Marshal(e); err != nil {
		t.Fatal(err)
	}
	return b
}

// export downloads the inspector's bundle of case id as an admin and
// returns it as sent and decoded.
func (r *running) export(t testing.TB, id string) ([]byte, ops.Export) {
	t.Helper()
	code, bundle := r.privGet(t, adminToken, "/v1/cases/"+id+"/export")
	if code != 200 {
		t.Fatalf("export: status %d: %s", code, bundle)
	}
	var e ops.Export
	if err := json.Unmarshal(bundle, &e); err != nil {
		t.Fatal(err)
	}
	return bundle, e
}
