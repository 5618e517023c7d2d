package http_test

import (
	"testing"
	"time"
)

func TestStationsListAndShow(t *testing.T) {
	w := newWorld(t)
	list := decodeAs[struct {
		Items []struct{ Code, Region string }
	}](t, w.must(200, w.staff1, "GET", "/v1/stations", nil))
	if len(list.Items) != 3 {
		t.Fatalf("stations %+v, want 3", list.Items)
	}
	st := decodeAs[struct{ Code, Region string }](t, w.must(200, w.coord2, "GET", "/v1/stations/S03", nil))
	if st.Code != "S03" || st.Region != "R2" {
		t.Fatalf("station %+v", st)
	}
}

func TestTransferBoardShowsTransfersInFlight(t *testing.T) {
	w := newWorld(t)
	id := w.intake(w.staff1, "S01")
	w.must(200, w.staff1, "POST", "/v1/cases/"+id+"/eligibility", map[string]any{"eligible": true})
	beforeRequest := time.Now().UTC().Format(time.RFC3339Nano)
	time.Sleep(2 * time.Millisecond) // the request happens strictly later than beforeRequest
	w.must(200, w.coord1, "POST", "/v1/cases/"+id+"/transfer-request", map[string]any{"to_station": "S02", "reason": "family nearby"})
	rec := w.must(200, w.coord1, "GET", "/v1/regions/R1/transfers", nil)
	board := decodeAs[struct {
		Transfers []map[string]any `json:"transfers"`
	}](t, rec)
	if len(board.Transfers) != 1 {
		t.Fatalf("transfer board right after the request: %s", rec.Body.String())
	}
	rec = w.must(200, w.insp1, "GET", "/v1/regions/R1/transfers?at="+beforeRequest, nil)
	if n := len(decodeAs[struct {
		Transfers []map[string]any `json:"transfers"`
	}](t, rec).Transfers); n != 0 {
		t.Fatalf("before the request the board had %d transfers, want 0", n)
	}
}

func TestStatsCountIntakes(t *testing.T) {
	w := newWorld(t)
	w.intake(w.staff1, "S01")
	w.intake(w.staff1, "S01")
	w.intake(w.staff2, "S02")
	from := time.Now().UTC().Add(-24 * time.Hour).Format(time.RFC3339)
	to := time.Now().UTC().Add(24 * time.Hour).Format(time.RFC3339)
	rec := w.must(200, w.staff1, "GET", "/v1/stats?from="+from+"&to="+to, nil)
	st := decodeAs[struct {
		Intakes int `json:"intakes"`
	}](t, rec)
	if st.Intakes != 2 {
		t.Fatalf("staff of S01 see %d intakes, want their station's 2: %s", st.Intakes, rec.Body.String())
	}
	rec = w.must(200, w.coord1, "GET", "/v1/stats?from="+from+"&to="+to, nil)
	if n := decodeAs[struct {
		Intakes int `json:"intakes"`
	}](t, rec).Intakes; n != 3 {
		t.Fatalf("the coordinator of R1 sees %d intakes, want 3: %s", n, rec.Body.String())
	}
	expectProblem(t, w.call(w.staff1, "GET", "/v1/stats?from="+to+"&to="+from, nil), 400, "invalid", "from")
}
