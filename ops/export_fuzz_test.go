package ops_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"waystation/domain"
	"waystation/eventstore/audit"
	"waystation/ops"
)

// FuzzVerifyExport feeds verify-export bundles changed at random: an
// inspector's file is outside input. Whatever the bytes, VerifyExport must
// not panic, must refuse with ErrExportInvalid, or, if it accepts, must
// vouch for exactly the case and events that the log signed.
func FuzzVerifyExport(f *testing.F) {
	r := start(f, f.TempDir())
	staff := r.seed(f)
	created := r.must(f, 201, staff, "POST", "/v1/cases", intake("Fuzz Person", time.Now().Add(-time.Hour)))
	id := created["id"].(string)
	r.must(f, 200, staff, "POST", "/v1/cases/"+id+"/eligibility", map[string]any{"eligible": true})
	code, bundle := r.privGet(f, adminToken, "/v1/cases/"+id+"/export")
	if code != 200 {
		f.Fatalf("export: status %d: %s", code, bundle)
	}
	var e ops.Export
	if err := json.Unmarshal(bundle, &e); err != nil {
		f.Fatal(err)
	}
	key := e.VerifierKey
	want, err := audit.VerifyBundle(bundle, key, domain.CaseStream)
	if err != nil {
		f.Fatalf("the intact export does not verify: %v", err)
	}
	f.Add(bundle)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"format":"waystation-export/v1"}`))
	f.Add(bundle[:len(bundle)/2])

	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := audit.VerifyBundle(b, key, domain.CaseStream)
		if err != nil {
			if !errors.Is(err, audit.ErrBundleInvalid) {
				t.Fatalf("refusal does not wrap ErrExportInvalid: %v", err)
			}
			return
		}
		if got.CaseID != want.CaseID || got.Events != want.Events || got.CaseEvent != want.CaseEvent || got.TreeSize != want.TreeSize {
			t.Fatalf("accepted a changed bundle as %+v, the signed one is %+v", got, want)
		}
	})
}
