package http_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

// TestCaseNumbersInTheAnswerTheViewAndSearch: an intake answers its case
// number, the case view and its history show it, and a search by it finds
// that case alone.
func TestCaseNumbersInTheAnswerTheViewAndSearch(t *testing.T) {
	clk := newClock(time.Date(2026, 12, 2, 10, 0, 0, 0, beijing))
	w := newWorldAt(t, clk.now)
	type answer struct {
		ID         string `json:"id"`
		CaseNumber string `json:"case_number"`
	}
	var cases []answer
	for range 3 {
		cases = append(cases, decodeAs[answer](t, w.must(http.StatusCreated, w.staff1, "POST", "/v1/cases", intakeBody("S01"))))
	}
	other := decodeAs[answer](t, w.must(http.StatusCreated, w.staff2, "POST", "/v1/cases", intakeBody("S02")))
	for i, want := range []string{"S01-2026-000001", "S01-2026-000002", "S01-2026-000003"} {
		if cases[i].CaseNumber != want {
			t.Errorf("intake %d answered number %q, want %q", i, cases[i].CaseNumber, want)
		}
	}
	if other.CaseNumber != "S02-2026-000001" {
		t.Errorf("S02's intake answered number %q, want S02-2026-000001", other.CaseNumber)
	}
	second := cases[1]
	view := decodeAs[answer](t, w.must(http.StatusOK, w.staff1, "GET", "/v1/cases/"+second.ID, nil))
	if view.CaseNumber != second.CaseNumber {
		t.Errorf("the case view shows number %q, want %q", view.CaseNumber, second.CaseNumber)
	}
	h := decodeAs[struct {
		State answer `json:"state"`
	}](t, w.must(http.StatusOK, w.staff1, "GET", "/v1/cases/"+second.ID+"/history", nil))
	if h.State.CaseNumber != second.CaseNumber {
		t.Errorf("the history's state shows number %q, want %q", h.State.CaseNumber, second.CaseNumber)
	}
	for _, tc := range []struct {
		token, q string
		want     []string
	}{
		{w.staff1, second.CaseNumber, []string{second.ID}},
		{w.staff1, "s01-2026-000003", []string{cases[2].ID}}, // as typed, in lower case
		{adminToken, "S02-2026-000001", []string{other.ID}},
		{w.staff1, "S02-2026-000001", nil}, // another station's case is outside staff's scope
	} {
		page := decodeAs[struct {
			Items []answer `json:"items"`
		}](t, w.must(http.StatusOK, tc.token, "GET", "/v1/cases?q="+url.QueryEscape(tc.q), nil))
		var got []string
		for _, it := range page.Items {
			got = append(got, it.ID)
			if it.CaseNumber == "" {
				t.Errorf("search hit %s without its case number", it.ID)
			}
		}
		if len(got) != len(tc.want) || len(got) > 0 && got[0] != tc.want[0] {
			t.Errorf("q=%s: found %v, want %v", tc.q, got, tc.want)
		}
	}
}

// TestASearchByNumberFindsThatCaseAlone: number= is the exact case
// number, so a lookup answers (and logs as read) one case, where q= would
// answer every case whose number, name or ID number holds the text.
func TestASearchByNumberFindsThatCaseAlone(t *testing.T) {
	clk := newClock(time.Date(2026, 12, 2, 10, 0, 0, 0, beijing))
	w := newWorldAt(t, clk.now)
	var ids []string
	for range 12 {
		ids = append(ids, decodeAs[struct{ ID string }](t, w.must(http.StatusCreated, w.staff1, "POST", "/v1/cases", intakeBody("S01"))).ID)
	}
	search := func(query string) []string {
		t.Helper()
		page := decodeAs[struct {
			Items []struct{ ID string }
		}](t, w.must(http.StatusOK, w.insp1, "GET", "/v1/cases?"+query, nil))
		var got []string
		for _, it := range page.Items {
			got = append(got, it.ID)
		}
		return got
	}
	before := len(accessLogOf(t, w, "/v1/cases"))
	if got := search("number=s01-2026-000001"); len(got) != 1 || got[0] != ids[0] {
		t.Fatalf("number=: %v, want %s alone", got, ids[0])
	}
	if logged := len(accessLogOf(t, w, "/v1/cases")) - before; logged != 1 {
		t.Fatalf("the lookup logged %d reads, want 1", logged)
	}
	if got := search("q=S01-2026-00001"); len(got) != 3 { // 000010 to 000012
		t.Fatalf("q= fragment: %d cases, want 3", len(got))
	}
	if got := search("number=S01-2026-00001"); len(got) != 0 {
		t.Fatalf("a fragment as number= found %v", got)
	}
}
