package ops_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	nethttp "net/http"
	"strings"
	"testing"
	"time"

	"waystation/domain"
	"waystation/ops"
)

// TestTheDemoRegionSurvivesExportAndImport: the demo region exported,
// imported into an empty store through POST /v1/imports and exported again
// gives the same files (a bed release the domain writes itself is
// recorded at its own moment, a little after the step that caused it: its
// recorded_at alone may differ), and the same report.
func TestTheDemoRegionSurvivesExportAndImport(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, domain.CivilZone)
	src := startAt(t, t.TempDir(), now)
	if _, err := ops.SeedDemo(context.Background(), src.base, adminToken, ops.DemoOptions{Cases: 60, Seed: ops.DefaultDemoSeed, Now: now}); err != nil {
		t.Fatal(err)
	}
	asOf := now.Add(time.Minute).Format(time.RFC3339)
	export := "/v1/exports?from=2026-01-01&to=2026-12-31&personal=true"
	report := "/v1/reports/2026-Q4?as_of=" + strings.ReplaceAll(asOf, "+", "%2B")
	get := func(r *running, path string) []byte {
		t.Helper()
		status, body := r.raw(t, adminToken, path)
		if status != 200 {
			t.Fatalf("GET %s: %d %s", path, status, body)
		}
		return body
	}
	first, wantReport := get(src, export), get(src, report)
	var top struct{ Assisted, Exits int }
	if err := json.Unmarshal(wantReport, &top); err != nil || top.Assisted == 0 || top.Exits == 0 || len(zipFiles(t, first)["Step.csv"]) < 10000 {
		t.Fatalf("the demo exported little: report %s", wantReport)
	}

	dst := startAt(t, t.TempDir(), now.Add(time.Hour))
	req, _ := nethttp.NewRequest("POST", dst.base+"/v1/imports", bytes.NewReader(first))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/zip")
	resp, err := nethttp.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(answer), `"cases_refused":0`) {
		t.Fatalf("import: %d %s", resp.StatusCode, answer)
	}
	if got := get(dst, report); !bytes.Equal(got, wantReport) {
		t.Errorf("the report after the import\n got %s\nwant %s", got, wantReport)
	}
	a, b := zipFiles(t, first), zipFiles(t, get(dst, export))
	for name, want := range a {
		if name == "Export.csv" {
			continue
		}
		got := b[name]
		if name == "Step.csv" {
			got, want = withoutDerivedTimes(t, got), withoutDerivedTimes(t, want)
		}
		if got != want {
			t.Errorf("%s differs after export, import, export", name)
		}
	}
}

func zipFiles(t *testing.T, z []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		out[f.Name] = string(b)
	}
	return out
}

// withoutDerivedTimes blanks the recorded_at of the bed releases in a
// Step.csv.
func withoutDerivedTimes(t *testing.T, s string) string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows[1:] {
		if r[4] == domain.TypeBedReleased {
			r[6] = ""
		}
	}
	var buf bytes.Buffer
	csv.NewWriter(&buf).WriteAll(rows)
	return buf.String()
}
