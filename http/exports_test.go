package http_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"waystation/domain"
	"waystation/exchange"
)

func TestExportsFollowTheScopeAndLogEveryCase(t *testing.T) {
	w := newWorld(t)
	a := w.intake(w.staff1, "S01")
	w.intake(w.staff3, "S03")
	today := time.Now().In(domain.CivilZone).Format(time.DateOnly)
	q := "/v1/exports?from=" + today + "&to=" + today
	check := func(t *testing.T, body []byte) map[string]string {
		t.Helper()
		man, problems := exchange.Check(bytes.NewReader(body), int64(len(body)))
		if len(problems) > 0 {
			t.Fatalf("export-check: %v", problems)
		}
		return man
	}
	t.Run("a regional inspector exports the region", func(t *testing.T) {
		rec := w.must(200, w.insp1, "GET", q, nil)
		if ct := rec.Header().Get("Content-Type"); ct != "application/zip" {
			t.Fatalf("Content-Type %q", ct)
		}
		man := check(t, rec.Body.Bytes())
		if man["scope"] != "region" || man["scope_code"] != "R1" || man["personal"] != "false" || !strings.HasPrefix(man["rows"], "2;") {
			t.Errorf("manifest %v", man)
		}
		log := w.must(200, adminToken, "GET", "/v1/access-log?case="+a, nil).Body.String()
		if !strings.Contains(log, "/v1/exports") {
			t.Errorf("the export is not in the access log of case %s: %s", a, log)
		}
	})
	t.Run("an admin exports personal values", func(t *testing.T) {
		rec := w.must(200, adminToken, "GET", q+"&station=S01&personal=true", nil)
		if man := check(t, rec.Body.Bytes()); man["personal"] != "true" || man["scope_code"] != "S01" {
			t.Errorf("manifest %v", man)
		}
	})
	t.Run("refusals", func(t *testing.T) {
		expectProblem(t, w.call(w.insp1, "GET", q+"&personal=true", nil), http.StatusForbidden, "forbidden", "")
		expectProblem(t, w.call(w.insp1, "GET", q+"&region=R2", nil), http.StatusForbidden, "forbidden", "")
		expectProblem(t, w.call(w.staff1, "GET", q, nil), http.StatusForbidden, "forbidden", "")
		expectProblem(t, w.call(adminToken, "GET", "/v1/exports?from="+today, nil), http.StatusBadRequest, "invalid", "to")
		expectProblem(t, w.call(adminToken, "GET", "/v1/exports?from=2026-13-01&to="+today, nil), http.StatusBadRequest, "invalid", "from")
	})
}
