package http_test

import (
	"testing"

	"waystation/domain"
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
