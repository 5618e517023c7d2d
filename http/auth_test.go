package http_test

import (
	"net/http"
	"strings"
	"testing"

	"waystation/domain"
)

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	for name, header := range map[string]string{"no token": "", "unknown token": "Bearer nope", "not bearer": "Basic abc"} {
		t.Run(name, func(t *testing.T) {
			req := e.call("", "GET", "/v1/stations", nil, "Authorization", header)
			expectProblem(t, req, http.StatusUnauthorized, "unauthorized", "")
			if req.Header().Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
		})
	}
}

func TestTokenRevocationTakesEffect(t *testing.T) {
	e := newEnv(t)
	e.station("S01", "R1")
	tok := e.token(domain.RoleStaff, "S01", "")
	e.must(http.StatusOK, tok, "GET", "/v1/stations", nil)
	list := decodeAs[struct {
		Items []struct{ ID, Role string }
	}](t, e.must(http.StatusOK, adminToken, "GET", "/v1/tokens", nil))
	if len(list.Items) != 1 || list.Items[0].Role != "staff" {
		t.Fatalf("tokens %+v", list.Items)
	}
	if body := e.must(http.StatusOK, adminToken, "GET", "/v1/tokens", nil).Body.String(); strings.Contains(body, tok) {
		t.Fatal("the token list shows the secret")
	}
	e.must(http.StatusOK, adminToken, "DELETE", "/v1/tokens/"+list.Items[0].ID, nil)
	expectProblem(t, e.call(tok, "GET", "/v1/stations", nil), http.StatusUnauthorized, "unauthorized", "")
	expectProblem(t, e.call(adminToken, "DELETE", "/v1/tokens/tok_missing", nil), http.StatusNotFound, "not_found", "")

	// The revocation survives a restart: the index is folded from the
	// access stream.
	e.reopen()
	expectProblem(t, e.call(tok, "GET", "/v1/stations", nil), http.StatusUnauthorized, "unauthorized", "")
}

func TestTokenRequestsAreChecked(t *testing.T) {
	e := newEnv(t)
	expectProblem(t, e.call(adminToken, "POST", "/v1/tokens", map[string]any{"role": "janitor"}), http.StatusBadRequest, "invalid", "role")
	expectProblem(t, e.call(adminToken, "POST", "/v1/tokens", map[string]any{"role": "staff", "hash": "x"}), http.StatusBadRequest, "invalid", "hash")
}

// TestRolesAndScopes checks every role against every kind of route, allowed
// and refused.
func TestRolesAndScopes(t *testing.T) {
	w := newWorld(t)
	c1 := w.intake(w.staff1, "S01") // at S01 (R1)
	c3 := w.intake(w.staff3, "S03") // at S03 (R2)
	eligible := map[string]any{"eligible": true}
	cases := []struct {
		name         string
		token        string
		method, path string
		body         any
		want         int
	}{
		{"staff intake at own station", w.staff1, "POST", "/v1/cases", intakeBody("S01"), 201},
		{"staff intake at another station", w.staff1, "POST", "/v1/cases", intakeBody("S02"), 403},
		{"coordinator intake", w.coord1, "POST", "/v1/cases", intakeBody("S01"), 403},
		{"inspector intake", w.insp1, "POST", "/v1/cases", intakeBody("S01"), 403},
		{"admin intake", adminToken, "POST", "/v1/cases", intakeBody("S02"), 201},
		{"staff step on own case", w.staff1, "POST", "/v1/cases/" + c1 + "/eligibility", eligible, 200},
		{"staff step on another station's case", w.staff2, "POST", "/v1/cases/" + c1 + "/identity-query", map[string]any{"channel": "police"}, 403},
		{"coordinator step in region", w.coord1, "POST", "/v1/cases/" + c1 + "/identity-query", map[string]any{"channel": "police"}, 200},
		{"coordinator step outside region", w.coord1, "POST", "/v1/cases/" + c3 + "/eligibility", eligible, 403},
		{"inspector step", w.inspAll, "POST", "/v1/cases/" + c3 + "/eligibility", eligible, 403},
		{"staff reads own case", w.staff1, "GET", "/v1/cases/" + c1, nil, 200},
		{"staff reads another station's case", w.staff2, "GET", "/v1/cases/" + c1, nil, 403},
		{"coordinator reads in region", w.coord1, "GET", "/v1/cases/" + c1, nil, 200},
		{"coordinator reads outside region", w.coord1, "GET", "/v1/cases/" + c3, nil, 403},
		{"regional inspector reads in region", w.insp1, "GET", "/v1/cases/" + c1 + "/history", nil, 200},
		{"regional inspector reads outside region", w.insp1, "GET", "/v1/cases/" + c3, nil, 403},
		{"national inspector reads anywhere", w.inspAll, "GET", "/v1/cases/" + c3 + "/history", nil, 200},
		{"staff registers a station", w.staff1, "POST", "/v1/stations", map[string]any{"code": "S09"}, 403},
		{"coordinator issues a token", w.coord1, "POST", "/v1/tokens", map[string]any{"role": "admin"}, 403},
		{"inspector lists tokens", w.inspAll, "GET", "/v1/tokens", nil, 403},
		{"staff occupancy of own station", w.staff1, "GET", "/v1/stations/S01/occupancy", nil, 200},
		{"staff occupancy of another station", w.staff1, "GET", "/v1/stations/S02/occupancy", nil, 403},
		{"coordinator occupancy outside region", w.coord1, "GET", "/v1/stations/S03/occupancy", nil, 403},
		{"staff safety board of own station", w.staff1, "GET", "/v1/safety", nil, 200},
		{"staff safety board of the region", w.staff1, "GET", "/v1/safety?region=R1", nil, 403},
		{"coordinator safety board of own region", w.coord1, "GET", "/v1/safety?region=R1", nil, 200},
		{"coordinator safety board of another region", w.coord1, "GET", "/v1/safety?region=R2", nil, 403},
		{"inspector safety board outside region", w.insp1, "GET", "/v1/safety?station=S03", nil, 403},
		{"staff transfers board of own station", w.staff1, "GET", "/v1/regions/R1/transfers", nil, 200},
		{"staff transfers board of another station", w.staff1, "GET", "/v1/regions/R1/transfers?station=S02", nil, 403},
		{"coordinator transfers of another region", w.coord1, "GET", "/v1/regions/R2/transfers", nil, 403},
		{"staff stats of another station", w.staff1, "GET", "/v1/stats?station=S02", nil, 403},
		{"staff search of another station", w.staff1, "GET", "/v1/cases?station=S02", nil, 403},
		{"coordinator search in region", w.coord1, "GET", "/v1/cases?region=R1", nil, 200},
		{"staff reads the log", w.staff1, "GET", "/v1/events", nil, 403},
		{"coordinator reads the log", w.coord1, "GET", "/v1/events", nil, 403},
		{"regional inspector reads the whole log", w.insp1, "GET", "/v1/events", nil, 403},
		{"regional inspector streams the whole log", w.insp1, "GET", "/v1/events/stream", nil, 403},
		{"national inspector reads the log", w.inspAll, "GET", "/v1/events", nil, 200},
		{"staff reads the checkpoint", w.staff1, "GET", "/v1/audit/checkpoint", nil, 403},
		{"inspector reads the checkpoint", w.insp1, "GET", "/v1/audit/checkpoint", nil, 200},
		{"inspector reads the access log", w.inspAll, "GET", "/v1/access-log", nil, 403},
		{"admin reads the access log", adminToken, "GET", "/v1/access-log", nil, 200},
		{"coordinator takes a backup", w.coord1, "POST", "/v1/admin/backup", nil, 403},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := w.call(c.token, c.method, c.path, c.body)
			if rec.Code != c.want {
				t.Fatalf("status %d, want %d; body %s", rec.Code, c.want, rec.Body.String())
			}
			if c.want == 403 {
				expectProblem(t, rec, 403, "forbidden", "")
			}
		})
	}
}

// TestTransferScopes: the receiving station's staff answer a transfer
// addressed to them; the sending station's staff may not.
func TestTransferScopes(t *testing.T) {
	w := newWorld(t)
	id := w.intake(w.staff1, "S01")
	w.must(200, w.staff1, "POST", "/v1/cases/"+id+"/eligibility", map[string]any{"eligible": true})
	w.must(200, w.staff1, "POST", "/v1/cases/"+id+"/transfer-request", map[string]any{"to_station": "S02", "reason": "closer to home"})
	expectProblem(t, w.call(w.staff1, "POST", "/v1/cases/"+id+"/transfer-accept", map[string]any{}), 403, "forbidden", "")
	w.must(200, w.staff2, "GET", "/v1/cases/"+id, nil)
	w.must(200, w.staff2, "POST", "/v1/cases/"+id+"/transfer-accept", map[string]any{})
	w.must(200, w.staff1, "POST", "/v1/cases/"+id+"/escort-departure", map[string]any{"escorts": []string{"e-1"}})
	expectProblem(t, w.call(w.staff1, "POST", "/v1/cases/"+id+"/handover", map[string]any{"received_by": "r-1"}), 403, "forbidden", "")
	w.must(200, w.staff2, "POST", "/v1/cases/"+id+"/handover", map[string]any{"received_by": "r-1"})
	// From then on the case belongs to S02.
	expectProblem(t, w.call(w.staff1, "GET", "/v1/cases/"+id, nil), 403, "forbidden", "")
	st := decodeAs[struct{ Station string }](t, w.must(200, w.staff2, "GET", "/v1/cases/"+id, nil))
	if st.Station != "S02" {
		t.Fatalf("after the handover the case is at %q, want S02", st.Station)
	}
}
