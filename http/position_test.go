package http_test

import (
	"encoding/json"
	"net/http"
	"testing"
)

// eventPositions returns the log position of each event of case id, in
// order, as its history shows them.
func eventPositions(t testing.TB, w *world, id string) map[string]string {
	t.Helper()
	h := decodeAs[struct {
		Events []struct {
			Type     string
			Position string
		}
	}](t, w.must(200, adminToken, "GET", "/v1/cases/"+id+"/history", nil))
	out := map[string]string{}
	for _, ev := range h.Events {
		out[ev.Type] = ev.Position
	}
	return out
}

// listedCases returns the case IDs of the items in the list named list of
// the answer of GET path.
func listedCases(t testing.TB, w *world, token, path, list string) []string {
	t.Helper()
	answer := decodeAs[map[string]json.RawMessage](t, w.must(200, token, "GET", path, nil))
	var items []struct {
		CaseID string `json:"case_id"`
	}
	if err := json.Unmarshal(answer[list], &items); err != nil {
		t.Fatalf("%s of GET %s: %v", list, path, err)
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.CaseID
	}
	return ids
}

func TestBoardsAndHistoryAsOfAPosition(t *testing.T) {
	w := newWorld(t)
	id := w.intake(w.staff1, "S01")
	w.must(200, w.staff1, "POST", "/v1/cases/"+id+"/eligibility", map[string]any{"eligible": true})
	w.must(200, w.staff1, "POST", "/v1/cases/"+id+"/security-check", map[string]any{"checked_by": map[string]any{"staff_id": "s-7", "sex": "male"}})
	w.must(200, w.staff1, "POST", "/v1/cases/"+id+"/bed", map[string]any{"zone": "adult_male"})
	w.must(200, w.staff1, "POST", "/v1/cases/"+id+"/transfer-request", map[string]any{"to_station": "S02", "reason": "closer to home"})
	w.must(200, w.staff1, "POST", "/v1/cases/"+id+"/absconding", map[string]any{})
	pos := eventPositions(t, w, id)
	intake, bed, transfer, absconding := pos["case.intake_registered"], pos["station.bed_assigned"], pos["case.transfer_requested"], pos["case.absconded"]
	if intake == "" || bed == "" || transfer == "" || absconding == "" {
		t.Fatalf("positions of the case's events: %v", pos)
	}

	for _, tc := range []struct {
		name, token, path, list string
		before, after           string // positions where the list must be empty, and hold the case
	}{
		{"occupancy", w.staff1, "/v1/stations/S01/occupancy", "residents", intake, bed},
		{"transfers", w.coord1, "/v1/regions/R1/transfers", "transfers", bed, transfer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := listedCases(t, w, tc.token, tc.path+"?position="+tc.before, tc.list); len(got) != 0 {
				t.Fatalf("%s right before: %v, want none", tc.list, got)
			}
			if got := listedCases(t, w, tc.token, tc.path+"?position="+tc.after, tc.list); len(got) != 1 || got[0] != id {
				t.Fatalf("%s right after: %v, want the case", tc.list, got)
			}
		})
	}
	t.Run("safety", func(t *testing.T) {
		absconded := func(q string) bool {
			t.Helper()
			b := decodeAs[struct {
				Alerts []struct{ Rule, CaseID string }
			}](t, w.must(200, w.staff1, "GET", "/v1/safety"+q, nil))
			for _, a := range b.Alerts {
				if a.Rule == "absconded" {
					return true
				}
			}
			return false
		}
		if absconded("?position=" + transfer) {
			t.Fatal("absconded alert before the absconding")
		}
		if !absconded("?position=" + absconding) {
			t.Fatal("no absconded alert right after the absconding")
		}
	})
	t.Run("history", func(t *testing.T) {
		h := decodeAs[struct {
			Version uint64
			Events  []struct{ Type string }
		}](t, w.must(200, w.insp1, "GET", "/v1/cases/"+id+"/history?position="+intake, nil))
		if h.Version != 1 || len(h.Events) != 1 || h.Events[0].Type != "case.intake_registered" {
			t.Fatalf("history as of the intake's position: %+v", h)
		}
	})
	t.Run("refused", func(t *testing.T) {
		for _, tc := range []struct{ path, field string }{
			{"/v1/safety?position=x", "position"},
			{"/v1/safety?position=0", "position"},
			{"/v1/safety?position=" + bed + "&at=2026-01-02T03:04:05Z", "position"},
			{"/v1/safety?position=" + bed + "&known=true", "known"},
			{"/v1/stations/S01/occupancy?position=-3", "position"},
			{"/v1/regions/R1/transfers?position=" + bed + "&at=2026-01-02T03:04:05Z", "position"},
			{"/v1/cases/" + id + "/history?position=" + bed + "&as_of=2026-01-02T03:04:05Z", "position"},
			{"/v1/cases/" + id + "/history?position=" + bed + "&version=1", "version"},
		} {
			expectProblem(t, w.call(adminToken, "GET", tc.path, nil), http.StatusBadRequest, "invalid", tc.field)
		}
	})
}
