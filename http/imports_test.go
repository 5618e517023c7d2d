package http_test

import (
	"encoding/json"
	"testing"
	"time"

	"waystation/domain"
)

func TestAnImportLoadsAnExportOfAnotherServerOnce(t *testing.T) {
	src := newWorld(t)
	src.intake(src.staff1, "S01")
	src.intake(src.staff3, "S03")
	today := time.Now().In(domain.CivilZone).Format(time.DateOnly)
	zip := src.must(200, adminToken, "GET", "/v1/exports?from="+today+"&to="+today+"&personal=true", nil).Body.String()

	dst := newWorld(t) // the same stations, registered there already
	type report struct {
		Cases   int  `json:"cases"`
		Refused int  `json:"cases_refused"`
		Written int  `json:"written"`
		DryRun  bool `json:"dry_run"`
	}
	post := func(q string) report {
		t.Helper()
		rec := dst.must(200, adminToken, "POST", "/v1/imports"+q, zip, "Content-Type", "application/zip")
		var r report
		if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := post("?dry_run=true"); r.Cases != 2 || r.Written != 0 || !r.DryRun {
		t.Fatalf("dry run %+v", r)
	}
	if r := post(""); r.Cases != 2 || r.Refused != 0 || r.Written != 2 {
		t.Fatalf("import %+v", r)
	}
	if r := post(""); r.Written != 0 {
		t.Fatalf("importing again wrote %d events", r.Written)
	}
	list := decodeAs[struct{ Items []map[string]any }](t, dst.must(200, adminToken, "GET", "/v1/cases?station=S01", nil))
	if len(list.Items) != 1 {
		t.Errorf("S01 has %d cases after the import, want 1", len(list.Items))
	}
	expectProblem(t, dst.call(dst.inspAll, "POST", "/v1/imports", zip, "Content-Type", "application/zip"), 403, "forbidden", "")
	expectProblem(t, dst.call(adminToken, "POST", "/v1/imports", "not a zip", "Content-Type", "application/zip"), 400, "invalid", "")
}
