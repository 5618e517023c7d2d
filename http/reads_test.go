package http_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"waystation/domain"
	"waystation/eventstore"
	wshttp "waystation/http"
)

func TestAccessLogRecordsReadsByOversight(t *testing.T) {
	w := newWorld(t)
	id := w.intake(w.staff1, "S01")
	other := w.intake(w.staff1, "S01")
	w.must(200, w.staff1, "GET", "/v1/cases/"+id, nil) // staff reads are not logged
	w.must(200, w.insp1, "GET", "/v1/cases/"+id, nil)
	w.must(200, w.insp1, "GET", "/v1/cases/"+id+"/history", nil)
	w.must(200, w.coord1, "GET", "/v1/cases/"+other, nil)
	w.must(403, w.insp1, "GET", "/v1/cases/"+w.intake(w.staff3, "S03"), nil) // refused reads show nothing and are not logged

	type entry struct {
		CaseID string `json:"case_id"`
		Reader string
		Role   string
		Route  string
		At     time.Time
	}
	all := decodeAs[struct{ Items []entry }](t, w.must(200, adminToken, "GET", "/v1/access-log", nil))
	if len(all.Items) != 3 {
		t.Fatalf("access log has %d entries, want 3: %+v", len(all.Items), all.Items)
	}
	if all.Items[0].CaseID != id || all.Items[0].Role != "inspector" || all.Items[0].Route != "/v1/cases/{id}" || all.Items[0].At.IsZero() {
		t.Fatalf("first entry %+v", all.Items[0])
	}
	if all.Items[1].Route != "/v1/cases/{id}/history" {
		t.Fatalf("second entry route %q", all.Items[1].Route)
	}
	byCase := decodeAs[struct{ Items []entry }](t, w.must(200, adminToken, "GET", "/v1/access-log?case="+other, nil))
	if len(byCase.Items) != 1 || byCase.Items[0].Role != "coordinator" {
		t.Fatalf("entries for the other case: %+v", byCase.Items)
	}
	byReader := decodeAs[struct{ Items []entry }](t, w.must(200, adminToken, "GET", "/v1/access-log?reader="+all.Items[0].Reader, nil))
	if len(byReader.Items) != 2 {
		t.Fatalf("entries of the inspector: %d, want 2", len(byReader.Items))
	}
	page := decodeAs[struct {
		Items []entry
		Next  string `json:"next_after"`
	}](t, w.must(200, adminToken, "GET", "/v1/access-log?limit=2", nil))
	if len(page.Items) != 2 || page.Next == "" {
		t.Fatalf("first page %d items, next %q", len(page.Items), page.Next)
	}
	rest := decodeAs[struct{ Items []entry }](t, w.must(200, adminToken, "GET", "/v1/access-log?after="+page.Next, nil))
	if len(rest.Items) != 1 || rest.Items[0].CaseID != other {
		t.Fatalf("second page %+v", rest.Items)
	}
	raw := w.must(200, adminToken, "GET", "/v1/access-log", nil).Body.String()
	if strings.Contains(raw, "张三") || strings.Contains(raw, "1980-05-06") {
		t.Fatal("the access log holds personal data")
	}
}

func TestHistoryAsOfAndVersion(t *testing.T) {
	w := newWorld(t)
	now := time.Now().UTC()
	arrived := now.Add(-48 * time.Hour)
	body := intakeBody("S01")
	body["occurred_at"] = arrived.Format(time.RFC3339)
	id := decodeAs[struct{ ID string }](t, w.must(201, w.staff1, "POST", "/v1/cases", body)).ID
	// Eligibility decided yesterday, typed in now (late paperwork).
	w.must(200, w.staff1, "POST", "/v1/cases/"+id+"/eligibility", map[string]any{"eligible": true, "occurred_at": now.Add(-24 * time.Hour).Format(time.RFC3339)})

	type hist struct {
		Version uint64
		State   struct{ Version uint64 }
		Events  []struct {
			Type    string
			Version uint64
		}
	}
	full := decodeAs[hist](t, w.must(200, w.insp1, "GET", "/v1/cases/"+id+"/history", nil))
	if full.Version != 2 || len(full.Events) != 2 || full.Events[1].Type != "case.eligibility_decided" {
		t.Fatalf("full history %+v", full)
	}
	at := now.Add(-36 * time.Hour).Format(time.RFC3339)
	then := decodeAs[hist](t, w.must(200, w.insp1, "GET", "/v1/cases/"+id+"/history?as_of="+at, nil))
	if then.Version != 1 || len(then.Events) != 1 {
		t.Fatalf("history as of 36 hours ago: %+v, want the intake only", then)
	}
	at = now.Add(-12 * time.Hour).Format(time.RFC3339)
	trueThen := decodeAs[hist](t, w.must(200, w.insp1, "GET", "/v1/cases/"+id+"/history?as_of="+at, nil))
	if len(trueThen.Events) != 2 {
		t.Fatalf("12 hours ago: true then %d events, want 2", len(trueThen.Events))
	}
	// Nothing about the case had been recorded 12 hours ago: staff could
	// not have known it then.
	expectProblem(t, w.call(w.insp1, "GET", "/v1/cases/"+id+"/history?as_of="+at+"&known=true", nil), http.StatusNotFound, "not_found", "")
	v1 := decodeAs[hist](t, w.must(200, w.insp1, "GET", "/v1/cases/"+id+"/history?version=1", nil))
	if v1.Version != 1 || v1.State.Version != 1 || len(v1.Events) != 1 {
		t.Fatalf("version 1: %+v", v1)
	}
	expectProblem(t, w.call(w.insp1, "GET", "/v1/cases/"+id+"/history?version=9", nil), http.StatusBadRequest, "invalid", "version")
	expectProblem(t, w.call(w.insp1, "GET", "/v1/cases/"+id+"/history?version=3", nil), http.StatusBadRequest, "invalid", "version")
}

// TestOnlySucceededReadsAreLogged: a history that could not be shown (a
// version beyond the case's, a moment before it began) writes no access-log
// entry; one that was shown writes one.
func TestOnlySucceededReadsAreLogged(t *testing.T) {
	w := newWorld(t)
	id := w.intake(w.staff1, "S01")
	before := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	expectProblem(t, w.call(w.insp1, "GET", "/v1/cases/"+id+"/history?version=9", nil), http.StatusBadRequest, "invalid", "version")
	expectProblem(t, w.call(w.insp1, "GET", "/v1/cases/"+id+"/history?as_of="+before, nil), http.StatusNotFound, "not_found", "")
	expectProblem(t, w.call(w.insp1, "GET", "/v1/cases/"+id+"/history?position=x", nil), http.StatusBadRequest, "invalid", "position")
	if got := accessLogOf(t, w, "/v1/cases/{id}/history"); len(got) != 0 {
		t.Fatalf("failed history reads logged: %v", got)
	}
	w.must(200, w.insp1, "GET", "/v1/cases/"+id+"/history?version=1", nil)
	if got := accessLogOf(t, w, "/v1/cases/{id}/history"); len(got) != 1 || got[0] != id {
		t.Fatalf("a shown history logged %v, want one entry for %s", got, id)
	}
}

// TestSearchHitsAreLogged: a search shows names and ages, so each case of
// the page an inspector, coordinator or admin is answered is logged, under
// the search's route, unless the same reader's read of it through the
// search is logged already (within the window); staff searches of their
// station are not.
func TestSearchHitsAreLogged(t *testing.T) {
	w := newWorld(t)
	a := w.intake(w.staff1, "S01")
	b := w.intake(w.staff2, "S02")
	c := w.intake(w.staff3, "S03")
	type page struct {
		Items []struct{ ID string }
	}
	already := map[string]bool{} // token and case logged through the search
	for _, tc := range []struct {
		name, token, query string
		logged             bool
	}{
		{"staff", w.staff1, "", false},
		{"a coordinator", w.coord1, "", true},
		{"a bound inspector", w.insp1, "?station=S02", true},
		{"an unbound inspector", w.inspAll, "", true},
		{"an admin", adminToken, "?region=R2", true},
		{"an admin finding nobody", adminToken, "?q=nobody-by-this-name", true},
		{"an admin, one page", adminToken, "?limit=2", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(accessLogOf(t, w, "/v1/cases"))
			got := decodeAs[page](t, w.must(200, tc.token, "GET", "/v1/cases"+tc.query, nil))
			shown := []string{}
			for _, it := range got.Items {
				shown = append(shown, it.ID)
			}
			logged := append([]string{}, accessLogOf(t, w, "/v1/cases")[before:]...)
			want := []string{}
			for _, id := range shown {
				if tc.logged && !already[tc.token+" "+id] {
					want = append(want, id)
					already[tc.token+" "+id] = true
				}
			}
			if !slices.Equal(logged, want) {
				t.Fatalf("search showed %v and logged %v, want %v logged", shown, logged, want)
			}
		})
	}
	if all := accessLogOf(t, w, "/v1/cases"); !slices.Contains(all, a) || !slices.Contains(all, b) || !slices.Contains(all, c) {
		t.Fatalf("search reads logged %v, want each of %s %s %s among them", all, a, b, c)
	}
	expectProblem(t, w.call(w.coord1, "GET", "/v1/cases?region=R2", nil), http.StatusForbidden, "forbidden", "")
	if n := len(accessLogOf(t, w, "/v1/cases")); n == 0 {
		t.Fatal("no search reads logged")
	}
}

// boundedAppends refuses an append of more than max entries to the access
// log, as EventStoreDB refuses an append over its maximum size, and keeps
// the sizes of the appends to the access log it let through.
type boundedAppends struct {
	eventstore.Store
	max int

	mu    sync.Mutex
	sizes []int // guarded by mu
}

func (b *boundedAppends) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if stream == domain.CaseReadsStream {
		if len(events) > b.max {
			return eventstore.AppendResult{}, fmt.Errorf("%w: %d events in one append, over %d", eventstore.ErrInvalid, len(events), b.max)
		}
		b.mu.Lock()
		b.sizes = append(b.sizes, len(events))
		b.mu.Unlock()
	}
	return b.Store.Append(ctx, stream, expected, events...)
}

// appendSizes returns the sizes of the access-log appends let through.
func (b *boundedAppends) appendSizes() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.sizes)
}

func TestReadsOfMoreCasesThanAnAppendHoldsAreAllLogged(t *testing.T) {
	const batch = 3
	bounded := &boundedAppends{max: batch}
	e := newEnvWrapping(t, func(st eventstore.Store) eventstore.Store {
		bounded.Store = st
		return bounded
	})
	wshttp.SetAccessLogBatch(e.srv, batch)
	e.station("S01", "R1")
	staff := e.token(domain.RoleStaff, "S01", "")
	// One person who came 2*batch+1 times: a search page and the person's
	// repeat-visitor entry each show every case.
	var opened []string
	for range 2*batch + 1 {
		body := intakeBody("S01")
		body["person"] = map[string]any{"name": "李四", "sex": "male", "birth_date": "1990-03-07", "id_number": "110101199003074514"}
		opened = append(opened, decodeAs[struct{ ID string }](t, e.must(http.StatusCreated, staff, "POST", "/v1/cases", body)).ID)
	}
	newestFirst := slices.Clone(opened)
	slices.Reverse(newestFirst)
	w := &world{env: e}
	for _, tc := range []struct {
		name, path, route string
		shown             func(t *testing.T, rec *httptest.ResponseRecorder) []string
		want              []string
	}{
		{
			name: "a search page", path: "/v1/cases?limit=7", route: "/v1/cases", want: newestFirst,
			shown: func(t *testing.T, rec *httptest.ResponseRecorder) []string {
				var out []string
				for _, it := range decodeAs[struct{ Items []struct{ ID string } }](t, rec).Items {
					out = append(out, it.ID)
				}
				return out
			},
		},
		{
			name: "a page of repeat visitors", path: "/v1/repeat-visitors", route: "/v1/repeat-visitors", want: opened,
			shown: func(t *testing.T, rec *httptest.ResponseRecorder) []string {
				var out []string
				for _, v := range decodeAs[struct {
					Items []struct{ Cases []personCase }
				}](t, rec).Items {
					out = append(out, caseIDs(v.Cases)...)
				}
				return out
			},
		},
	} {
		t.Run(tc.name+" logs every case shown, "+strconv.Itoa(batch)+" to an append", func(t *testing.T) {
			appendsBefore := len(bounded.appendSizes())
			rec := e.call(adminToken, "GET", tc.path, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("GET %s: status %d, want 200; body %s", tc.path, rec.Code, rec.Body.String())
			}
			shown := tc.shown(t, rec)
			if !slices.Equal(shown, tc.want) {
				t.Fatalf("shown %v, want %v", shown, tc.want)
			}
			if logged := accessLogOf(t, w, tc.route); !slices.Equal(logged, tc.want) {
				t.Fatalf("access log entries %v, want %v", logged, tc.want)
			}
			if got, want := bounded.appendSizes()[appendsBefore:], []int{batch, batch, 1}; !slices.Equal(got, want) {
				t.Fatalf("access-log appends of %v entries, want %v", got, want)
			}
		})
	}
}
