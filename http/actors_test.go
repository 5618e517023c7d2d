package http_test

import (
	"bytes"
	"context"
	"testing"

	"waystation/domain"
	"waystation/eventstore"
	wshttp "waystation/http"
)

func TestActorsResolveWithinTheCallersScope(t *testing.T) {
	w := newWorld(t)
	create := func(username, role, station, region string) string {
		body := map[string]any{"username": username, "name": "名字 " + username, "role": role}
		if station != "" {
			body["station"] = station
		}
		if region != "" {
			body["region"] = region
		}
		return decodeAs[map[string]any](t, w.must(201, adminToken, "POST", "/v1/accounts", body))["id"].(string)
	}
	staffS01 := create("staff.s01", "staff", "S01", "")
	staffS03 := create("staff.s03", "staff", "S03", "")
	coordR1 := create("coord.r1", "coordinator", "", "R1")
	inspAll := create("insp.all", "inspector", "", "")
	admin := create("admin.one", "admin", "", "")
	tok := decodeAs[map[string]any](t, w.must(201, adminToken, "POST", "/v1/tokens",
		map[string]any{"role": "staff", "station": "S02", "name": "S02 front desk"}))["id"].(string)

	service := []string{domain.ServiceActorID, domain.BootstrapAdminID, domain.CommandLineActorID,
		domain.RetentionActor, domain.ActivationActorID}
	cases := []struct {
		reader  string
		name    string
		visible []string
		hidden  []string
	}{
		{w.staff1, "staff of S01", append([]string{staffS01}, service...), []string{staffS03, coordR1, inspAll, admin, tok}},
		{w.staff2, "staff of S02", []string{tok}, []string{staffS01, staffS03}},
		{w.staff3, "staff of S03", []string{staffS03}, []string{staffS01, tok}},
		{w.coord1, "coordinator of R1", append([]string{staffS01, coordR1, tok}, service...), []string{staffS03, inspAll, admin}},
		{w.coord2, "coordinator of R2", []string{staffS03}, []string{staffS01, coordR1, tok}},
		{w.insp1, "inspector of R1", []string{staffS01, coordR1, tok}, []string{staffS03, inspAll, admin}},
		{w.inspAll, "inspector of every region", []string{staffS01, staffS03, coordR1, tok}, []string{admin}},
		{adminToken, "admin", append([]string{staffS01, staffS03, coordR1, inspAll, admin, tok}, service...), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			unknown := expectProblem(t, w.call(c.reader, "GET", "/v1/actors/acc_0000000000000000", nil), 404, "not_found", "")
			for _, id := range c.visible {
				a := decodeAs[map[string]any](t, w.must(200, c.reader, "GET", "/v1/actors/"+id, nil))
				if a["id"] != id || a["name"] == "" || a["name"] == nil {
					t.Errorf("GET /v1/actors/%s = %v", id, a)
				}
			}
			for _, id := range c.hidden {
				p := expectProblem(t, w.call(c.reader, "GET", "/v1/actors/"+id, nil), 404, "not_found", "")
				if p.Detail != unknown.Detail {
					t.Errorf("a hidden actor answers %q, an unknown one %q", p.Detail, unknown.Detail)
				}
			}
		})
	}
}

func TestTheServicesOwnActorsHaveFixedNamesAndRoles(t *testing.T) {
	e := newEnv(t)
	for _, sa := range domain.ServiceActors() {
		a := decodeAs[map[string]any](t, e.must(200, adminToken, "GET", "/v1/actors/"+sa.ID, nil))
		if a["kind"] != "service" || a["name"] != sa.Name || a["name"] == sa.ID {
			t.Errorf("GET /v1/actors/%s = %v; want the service's fixed name %q", sa.ID, a, sa.Name)
		}
		role, _ := a["role"].(string)
		if role != string(sa.Role) {
			t.Errorf("GET /v1/actors/%s: role %q, want %q", sa.ID, role, sa.Role)
		}
	}
	for _, id := range []string{domain.ServiceActorID, domain.BootstrapAdminID, "system:command-line", "system:retention", "activation"} {
		if _, ok := domain.ServiceActorOf(id); !ok {
			t.Errorf("%s is not one of the service's actors", id)
		}
	}
}

// person creates and activates an account named name and logs it in; it
// returns the account's ID and the session cookie.
func (e *env) person(username, name, role, station, region string) (string, string) {
	e.t.Helper()
	body := map[string]any{"username": username, "name": name, "role": role}
	if station != "" {
		body["station"] = station
	}
	if region != "" {
		body["region"] = region
	}
	created := decodeAs[map[string]any](e.t, e.must(201, adminToken, "POST", "/v1/accounts", body))
	e.must(204, "", "POST", "/v1/accounts/activate", map[string]any{"username": username,
		"activation_code": created["activation_code"], "password": "trout lake in spring"})
	return created["id"].(string), e.login(username, "trout lake in spring")
}

func TestHistoriesAndTheAccessLogNameTheAccountsBesideTheirIDs(t *testing.T) {
	e, _ := newAccountsEnv(t)
	e.station("S01", "R1")
	staff, staffCookie := e.person("li.wei", "李伟", "staff", "S01", "")
	coord, coordCookie := e.person("wang.fang", "王芳", "coordinator", "", "R1")
	rec := e.cookieCall(staffCookie, "POST", "/v1/cases", intakeBody("S01"))
	if rec.Code != 201 {
		t.Fatalf("intake: %d %s", rec.Code, rec.Body)
	}
	id := decodeAs[map[string]any](t, rec)["id"].(string)
	byToken := e.token(domain.RoleStaff, "S01", "")
	e.must(200, byToken, "POST", "/v1/cases/"+id+"/security-check", map[string]any{"checked_by": map[string]any{"staff_id": "s-7", "sex": "male"}})

	// The history, read by the coordinator: the intake names the staff
	// member; the token's step has no name.
	h := decodeAs[map[string]any](t, e.must(200, "", "GET", "/v1/cases/"+id+"/history", nil, "Cookie", wshttp.SessionCookie+"="+coordCookie))
	events := h["events"].([]any)
	intake := events[0].(map[string]any)
	if intake["actor"] != staff || intake["actor_name"] != "李伟" || intake["role"] != "staff" {
		t.Errorf("the intake in the history: actor %v %v %v; want %s 李伟 staff", intake["actor"], intake["actor_name"], intake["role"], staff)
	}
	last := events[len(events)-1].(map[string]any)
	if _, named := last["actor_name"]; named || last["type"] != domain.TypeSecurityChecked {
		t.Errorf("the token's step %v: want no actor_name", last)
	}

	// The name is on the access stream (the account's creation), never in
	// the case's events: it is resolved when read.
	if !e.storedBytesHold("李伟") {
		t.Fatal("the name is nowhere in the store, so the scan below proves nothing")
	}
	for rec, err := range e.store.ReadStream(context.Background(), "case-"+id, eventstore.ReadStreamOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(rec.Data, []byte("李伟")) || bytes.Contains(rec.Metadata, []byte("李伟")) {
			t.Fatalf("the case's %s stores the actor's name", rec.Type)
		}
	}

	// The access log names the coordinator beside the read.
	log := decodeAs[map[string][]map[string]any](t, e.must(200, adminToken, "GET", "/v1/access-log?case="+id, nil))["items"]
	if len(log) != 1 || log[0]["reader"] != coord || log[0]["reader_name"] != "王芳" || log[0]["role"] != "coordinator" {
		t.Fatalf("access log %v; want one read by %s 王芳 coordinator", log, coord)
	}
}
