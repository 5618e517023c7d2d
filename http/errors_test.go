package http_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestBadInputIsRefusedNamingTheField: every malformed request is refused
// with the right code, names the field when there is one, and writes
// nothing.
func TestBadInputIsRefusedNamingTheField(t *testing.T) {
	w := newWorld(t)
	id := w.intake(w.staff1, "S01")
	big := `{"station":"S01","notes":"` + strings.Repeat("x", 1<<20) + `"}`
	cases := []struct {
		name, path, body, ctype string
		status                  int
		code, field             string
	}{
		{"malformed JSON", "/v1/cases", `{"station":`, "application/json", 400, "invalid", ""},
		{"not an object", "/v1/cases", `[1,2]`, "application/json", 400, "invalid", ""},
		{"trailing data", "/v1/cases", `{"station":"S01"} {}`, "application/json", 400, "invalid", ""},
		{"unknown field", "/v1/cases", `{"station":"S01","colour":"red"}`, "application/json", 400, "invalid", "colour"},
		{"unknown nested field", "/v1/cases", `{"station":"S01","person":{"sex":"male","shoe":42}}`, "application/json", 400, "invalid", "person.shoe"},
		{"wrong type", "/v1/cases", `{"station":"S01","person":{"sex":"male","estimated_age":"forty"}}`, "application/json", 400, "invalid", "person.estimated_age"},
		{"bad time", "/v1/cases", `{"station":"S01","occurred_at":"yesterday"}`, "application/json", 400, "invalid", "occurred_at"},
		{"bad date", "/v1/cases", `{"station":"S01","referral":{"source":"walk_in"},"person":{"sex":"male","birth_date":"1980-13-45"}}`, "application/json", 400, "invalid", "person.birth_date"},
		{"invalid enum", "/v1/cases", `{"station":"S01","referral":{"source":"teleport"},"person":{"sex":"male","estimated_age":30}}`, "application/json", 400, "invalid", "referral.source"},
		{"invalid sex", "/v1/cases", `{"station":"S01","referral":{"source":"walk_in"},"person":{"sex":"x","estimated_age":30}}`, "application/json", 400, "invalid", "person.sex"},
		{"bad ID check digit", "/v1/cases", `{"station":"S01","referral":{"source":"walk_in"},"person":{"sex":"male","id_number":"110101199003074511"}}`, "application/json", 400, "invalid", "person.id_number"},
		{"impossible age", "/v1/cases", `{"station":"S01","referral":{"source":"walk_in"},"person":{"sex":"male","estimated_age":300}}`, "application/json", 400, "invalid", "person.estimated_age"},
		{"step enum", "/v1/cases/" + id + "/bed", `{"zone":"attic"}`, "application/json", 400, "invalid", "zone"},
		{"step wrong type", "/v1/cases/" + id + "/eligibility", `{"eligible":"yes"}`, "application/json", 400, "invalid", "eligible"},
		{"step time", "/v1/cases/" + id + "/extension", `{"until":"2026-99-01","approved_by":"a","reason":"r"}`, "application/json", 400, "invalid", "until"},
		{"too large", "/v1/cases", big, "application/json", 413, "payload_too_large", ""},
		{"wrong content type", "/v1/cases", `{"station":"S01"}`, "text/plain", 415, "unsupported_media_type", ""},
		{"no content type", "/v1/cases", `{"station":"S01"}`, "", 415, "unsupported_media_type", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := headCount(t, w.store)
			req := w.call(w.staff1, "POST", c.path, c.body, "Content-Type", c.ctype)
			p := expectProblem(t, req, c.status, c.code, c.field)
			if c.field != "" && !strings.Contains(p.Errors[0].Message, c.field) {
				t.Fatalf("message %q does not name the field %q", p.Errors[0].Message, c.field)
			}
			if after := headCount(t, w.store); after != before {
				t.Fatalf("a refused request wrote %d events", after-before)
			}
		})
	}
}

// TestErrorMessagesCarryNoPersonalData: a refused value is never echoed.
func TestErrorMessagesCarryNoPersonalData(t *testing.T) {
	w := newWorld(t)
	for _, body := range []string{
		`{"station":"S01","referral":{"source":"walk_in"},"person":{"name":"李四","sex":"male","birth_date":"1980-02-31"}}`,
		`{"station":"S01","referral":{"source":"walk_in"},"person":{"name":"李四","sex":"male","id_number":"11010119900307451X"}}`,
		`{"station":"S01","referral":{"source":"walk_in"},"person":{"name":"李四","sex":"李四"}}`,
	} {
		rec := w.call(w.staff1, "POST", "/v1/cases", body)
		if rec.Code < 400 {
			t.Fatalf("accepted %s", body)
		}
		for _, secret := range []string{"李四", "1980-02-31", "11010119900307451X"} {
			if strings.Contains(rec.Body.String(), secret) {
				t.Fatalf("the problem answer echoes %q: %s", secret, rec.Body.String())
			}
		}
	}
}

func TestNotFoundAndMethodNotAllowed(t *testing.T) {
	w := newWorld(t)
	expectProblem(t, w.call(w.staff1, "GET", "/v1/cases/not-a-uuid", nil), 404, "not_found", "")
	expectProblem(t, w.call(w.staff1, "GET", "/v1/cases/0190a0b0-0000-7000-8000-000000000000", nil), 404, "not_found", "")
	expectProblem(t, w.call(w.staff1, "POST", "/v1/cases/0190a0b0-0000-7000-8000-000000000000/eligibility", `{"eligible":true}`), 404, "not_found", "")
	expectProblem(t, w.call(w.staff1, "GET", "/v1/nowhere", nil), 404, "not_found", "")
	expectProblem(t, w.call(w.staff1, "POST", "/v1/cases/0190a0b0-0000-7000-8000-000000000000/teleport", `{}`), 404, "not_found", "")
	expectProblem(t, w.call(w.staff1, "GET", "/v1/stations/S99", nil), 404, "not_found", "")
	expectProblem(t, w.call(w.staff1, "PUT", "/v1/cases", `{}`), 405, "method_not_allowed", "")
}

func TestConflictOnDuplicateStation(t *testing.T) {
	w := newWorld(t)
	rec := w.call(adminToken, "POST", "/v1/stations", map[string]any{
		"code": "S01", "name": "again", "region": "R1", "kind": "station",
		"zones": []map[string]any{{"zone": "adult_male", "beds": 1}},
	})
	expectProblem(t, rec, http.StatusConflict, "conflict", "station_exists")
}

func TestBadQueryParameters(t *testing.T) {
	w := newWorld(t)
	id := w.intake(w.staff1, "S01")
	expectProblem(t, w.call(w.staff1, "GET", "/v1/cases/"+id+"/history?as_of=noon", nil), 400, "invalid", "as_of")
	expectProblem(t, w.call(w.staff1, "GET", "/v1/cases/"+id+"/history?version=x", nil), 400, "invalid", "version")
	expectProblem(t, w.call(w.staff1, "GET", "/v1/safety?at=later", nil), 400, "invalid", "at")
	expectProblem(t, w.call(w.staff1, "GET", "/v1/cases?status=asleep", nil), 400, "invalid", "status")
	expectProblem(t, w.call(w.staff1, "GET", "/v1/cases?limit=100000", nil), 400, "invalid", "limit")
	expectProblem(t, w.call(w.inspAll, "GET", "/v1/events?after=x", nil), 400, "invalid", "after")
	expectProblem(t, w.call(w.insp1, "GET", "/v1/audit/proof?position=5&size=2", nil), 400, "invalid", "position")
}

func TestUnescapedZoneOffsetInQuery(t *testing.T) {
	w := newWorld(t)
	at := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.RFC3339Nano)
	if !strings.Contains(at, "+08:00") {
		t.Fatalf("test time %q has no offset", at)
	}
	w.must(200, w.staff1, "GET", "/v1/safety?at="+at, nil)
}
