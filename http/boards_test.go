package http_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
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

// clock is a settable clock for a world's service, views and server.
type clock struct{ t atomic.Pointer[time.Time] }

func newClock(t time.Time) *clock    { c := &clock{}; c.set(t); return c }
func (c *clock) set(t time.Time)     { c.t.Store(&t) }
func (c *clock) now() time.Time      { return *c.t.Load() }
func (c *clock) add(d time.Duration) { c.set(c.now().Add(d)) }

// beijing is UTC+8, the zone of the civil dates.
var beijing = time.FixedZone("CST", 8*3600)

// transferBoard is a transfer board as a client reads it.
type transferBoard struct {
	Region, Station string
	Since           time.Time
	Transfers       []struct {
		CaseID           string `json:"case_id"`
		From, To         string
		FromRegion       string `json:"from_region"`
		ToRegion         string `json:"to_region"`
		Direction, State string
		Reason           string
		DeclineReason    string `json:"decline_reason"`
		Sex              string
		AgeBand          string    `json:"age_band"`
		ZoneNeeded       string    `json:"zone_needed"`
		ZonesFitting     []string  `json:"zones_fitting"`
		RequestedAt      time.Time `json:"requested_at"`
		EndedAt          time.Time `json:"ended_at"`
		AgeSeconds       int64     `json:"age_seconds"`
		AgeHours         float64   `json:"age_hours"`
	}
}

// boardCases returns the case IDs on a transfer board, in order, each
// with its state and direction.
func (b transferBoard) boardCases() []string {
	out := []string{}
	for _, t := range b.Transfers {
		out = append(out, t.CaseID+" "+t.State+" "+t.Direction)
	}
	return out
}

// TestTransferBoardShowsATransferToBothStationsAndBothRegions: the
// receiving station's staff see a transfer addressed to them (they were
// refused the board), across regions too; each station and region sees
// its own transfers and no others; no name or birth date is on a board.
func TestTransferBoardShowsATransferToBothStationsAndBothRegions(t *testing.T) {
	clk := newClock(time.Date(2026, 12, 2, 10, 0, 0, 0, beijing))
	w := newWorldAt(t, clk.now)
	across := w.intake(w.staff1, "S01")
	w.must(200, w.staff1, "POST", "/v1/cases/"+across+"/eligibility", map[string]any{"eligible": true})
	w.must(200, w.staff1, "POST", "/v1/cases/"+across+"/transfer-request", map[string]any{"to_station": "S03", "reason": "hometown in R2"})
	girl := intakeBody("S01")
	girl["person"] = map[string]any{"name": "李小红", "sex": "female", "birth_date": "2012-02-03"}
	within := decodeAs[struct{ ID string }](t, w.must(201, w.staff1, "POST", "/v1/cases", girl)).ID
	w.must(200, w.staff1, "POST", "/v1/cases/"+within+"/eligibility", map[string]any{"eligible": true})
	clk.add(time.Hour)
	w.must(200, w.coord1, "POST", "/v1/cases/"+within+"/transfer-request", map[string]any{"to_station": "S02", "reason": "minors' beds"})
	clk.add(20 * time.Minute)

	for _, tt := range []struct {
		name, token, path string
		want              []string // case, state, direction; nil: 403
	}{
		{"the receiving station's staff, their region's board", w.staff3, "/v1/regions/R2/transfers", []string{across + " requested incoming"}},
		{"the receiving station's staff, the sending region's board", w.staff3, "/v1/regions/R1/transfers", []string{across + " requested incoming"}},
		{"staff of a receiving station in the region", w.staff2, "/v1/regions/R1/transfers", []string{within + " requested incoming"}},
		{"staff name their own station", w.staff2, "/v1/regions/R1/transfers?station=S02", []string{within + " requested incoming"}},
		{"the sending station's staff", w.staff1, "/v1/regions/R1/transfers", []string{across + " requested outgoing", within + " requested outgoing"}},
		{"staff ask for another station", w.staff2, "/v1/regions/R1/transfers?station=S01", nil},
		{"the receiving region's coordinator", w.coord2, "/v1/regions/R2/transfers", []string{across + " requested "}},
		{"the sending region's coordinator", w.coord1, "/v1/regions/R1/transfers", []string{across + " requested ", within + " requested "}},
		{"a coordinator narrows to a station", w.coord1, "/v1/regions/R1/transfers?station=S02", []string{within + " requested incoming"}},
		{"a coordinator asks for another region", w.coord2, "/v1/regions/R1/transfers", nil},
		{"an inspector of the sending region", w.insp1, "/v1/regions/R1/transfers", []string{across + " requested ", within + " requested "}},
		{"an inspector asks for another region", w.insp1, "/v1/regions/R2/transfers", nil},
		{"an inspector of every region", w.inspAll, "/v1/regions/R2/transfers", []string{across + " requested "}},
		{"an admin narrows to a station", adminToken, "/v1/regions/R2/transfers?station=S03", []string{across + " requested incoming"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := w.call(tt.token, "GET", tt.path, nil)
			if tt.want == nil {
				expectProblem(t, rec, 403, "forbidden", "")
				return
			}
			if rec.Code != 200 {
				t.Fatalf("status %d, want 200: %s", rec.Code, rec.Body.String())
			}
			if got := decodeAs[transferBoard](t, rec).boardCases(); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			for _, personal := range []string{"张三", "李小红", "1980-05-06", "2012-02-03", "birth", "name"} {
				if strings.Contains(rec.Body.String(), personal) {
					t.Errorf("the board holds %q: %s", personal, rec.Body.String())
				}
			}
		})
	}
	expectProblem(t, w.call(w.staff3, "GET", "/v1/regions/R9/transfers", nil), 404, "not_found", "")

	// What the receiving station needs to decide, without opening the case.
	b := decodeAs[transferBoard](t, w.must(200, w.staff3, "GET", "/v1/regions/R2/transfers", nil))
	got := b.Transfers[0]
	if b.Station != "S03" || got.From != "S01" || got.To != "S03" || got.FromRegion != "R1" || got.ToRegion != "R2" ||
		got.Sex != "male" || got.AgeBand != "18-59" || got.ZoneNeeded != "adult_male" || got.Reason != "hometown in R2" ||
		!got.RequestedAt.Equal(time.Date(2026, 12, 2, 10, 0, 0, 0, beijing)) || got.AgeSeconds != 80*60 || got.AgeHours != 1.3 {
		t.Errorf("the transfer to S03: %+v", got)
	}
	b = decodeAs[transferBoard](t, w.must(200, w.staff2, "GET", "/v1/regions/R1/transfers", nil))
	if got := b.Transfers[0]; got.Sex != "female" || got.AgeBand != "14-15" || got.ZoneNeeded != "minors" || !slices.Equal(got.ZonesFitting, []string{"minors", "isolation", "observation"}) {
		t.Errorf("the transfer to S02: %+v", got)
	}
	// The receiving staff can answer it, and the board follows.
	w.must(200, w.staff3, "POST", "/v1/cases/"+across+"/transfer-accept", map[string]any{})
	b = decodeAs[transferBoard](t, w.must(200, w.staff3, "GET", "/v1/regions/R2/transfers", nil))
	if got := b.boardCases(); !slices.Equal(got, []string{across + " accepted incoming"}) {
		t.Errorf("after the acceptance: %v", got)
	}
}

// TestTransferBoardKeepsEndedTransfersForThirtyDays: a transfer handed
// over or declined stays on the board, filterable by state, for 30 days
// after it ended, and further back with since.
func TestTransferBoardKeepsEndedTransfersForThirtyDays(t *testing.T) {
	clk := newClock(time.Date(2026, 11, 2, 9, 0, 0, 0, beijing))
	w := newWorldAt(t, clk.now)
	handed := w.intake(w.staff1, "S01")
	w.must(200, w.staff1, "POST", "/v1/cases/"+handed+"/eligibility", map[string]any{"eligible": true})
	w.must(200, w.staff1, "POST", "/v1/cases/"+handed+"/transfer-request", map[string]any{"to_station": "S02", "reason": "hometown"})
	declined := w.intake(w.staff1, "S01")
	w.must(200, w.staff1, "POST", "/v1/cases/"+declined+"/eligibility", map[string]any{"eligible": true})
	w.must(200, w.staff1, "POST", "/v1/cases/"+declined+"/transfer-request", map[string]any{"to_station": "S02", "reason": "care"})
	clk.add(time.Hour)
	w.must(200, w.staff2, "POST", "/v1/cases/"+handed+"/transfer-accept", map[string]any{})
	w.must(200, w.staff2, "POST", "/v1/cases/"+declined+"/transfer-decline", map[string]any{"reason": "no bed"})
	clk.add(time.Hour)
	w.must(200, w.staff1, "POST", "/v1/cases/"+handed+"/escort-departure", map[string]any{"escorts": []string{"e-1"}})
	clk.add(time.Hour)
	handoverAt := clk.now()
	w.must(200, w.staff2, "POST", "/v1/cases/"+handed+"/handover", map[string]any{"received_by": "r-1"})
	both := []string{handed + " handed_over incoming", declined + " declined incoming"}

	board := func(q string) []string {
		t.Helper()
		return decodeAs[transferBoard](t, w.must(200, w.staff2, "GET", "/v1/regions/R1/transfers"+q, nil)).boardCases()
	}
	if got := board(""); !slices.Equal(got, both) {
		t.Fatalf("right after: %v, want %v", got, both)
	}
	b := decodeAs[transferBoard](t, w.must(200, w.staff2, "GET", "/v1/regions/R1/transfers", nil))
	if h := b.Transfers[0]; !h.EndedAt.Equal(handoverAt) || h.AgeSeconds != 3*3600 || h.AgeHours != 3 {
		t.Errorf("the handed over transfer: %+v", h)
	}
	if d := b.Transfers[1]; d.DeclineReason != "no bed" || !d.EndedAt.Equal(handoverAt.Add(-2*time.Hour)) {
		t.Errorf("the declined transfer: %+v", d)
	}
	clk.set(handoverAt.Add(30 * 24 * time.Hour))
	if got := board(""); !slices.Equal(got, both[:1]) {
		t.Errorf("30 days after the handover: %v, want the handover still (the decline ended 2 hours earlier)", got)
	}
	clk.add(time.Second)
	if got := board(""); len(got) != 0 {
		t.Errorf("30 days and a second after: %v, want none", got)
	}
	for q, want := range map[string][]string{
		"?since=2026-11-02":                   both,
		"?since=2026-11-02T10:00:00%2B08:00":  both,
		"?since=2026-11-02T10:00:01%2B08:00":  both[:1],
		"?since=2026-11-01&state=ended":       both,
		"?since=2026-11-01&state=declined":    both[1:],
		"?since=2026-11-01&state=handed_over": both[:1],
		"?since=2026-11-01&state=in_flight":   {},
		"?since=2026-11-01&state=requested":   {},
	} {
		if got := board(q); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", q, got, want)
		}
	}
	expectProblem(t, w.call(w.staff2, "GET", "/v1/regions/R1/transfers?state=done", nil), 400, "invalid", "state")
	expectProblem(t, w.call(w.staff2, "GET", "/v1/regions/R1/transfers?since=last+month", nil), 400, "invalid", "since")
	expectProblem(t, w.call(w.staff2, "GET", "/v1/regions/R1/transfers?since=2026-11-31", nil), 400, "invalid", "since")
	expectProblem(t, w.call(w.staff2, "GET", "/v1/regions/R1/transfers?since=0001-01-01T00:00:00Z", nil), 400, "invalid", "since")
}

// numbersInExponentForm returns every number of the JSON document raw
// that is written in exponent form (3.3e-06).
func numbersInExponentForm(t testing.TB, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out []string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("decode %s: %v", raw, err)
		}
		if n, ok := tok.(json.Number); ok && strings.ContainsAny(string(n), "eE") {
			out = append(out, string(n))
		}
	}
}

// TestNoBoardWritesANumberInExponentForm: a transfer 1 ms old is 0.0
// hours old, not 2.777777777777778e-07; no board, statistic or case
// answer writes a number in exponent form.
func TestNoBoardWritesANumberInExponentForm(t *testing.T) {
	clk := newClock(time.Date(2026, 12, 2, 10, 0, 0, 0, beijing))
	w := newWorldAt(t, clk.now)
	id := w.intake(w.staff1, "S01")
	w.must(200, w.staff1, "POST", "/v1/cases/"+id+"/eligibility", map[string]any{"eligible": true})
	w.must(200, w.staff1, "POST", "/v1/cases/"+id+"/security-check", map[string]any{"checked_by": map[string]any{"staff_id": "s-7", "sex": "male"}})
	w.must(200, w.staff1, "POST", "/v1/cases/"+id+"/bed", map[string]any{"zone": "adult_male"})
	w.must(200, w.staff1, "POST", "/v1/cases/"+id+"/transfer-request", map[string]any{"to_station": "S03", "reason": "hometown"})
	clk.add(time.Millisecond)
	rec := w.must(200, w.coord1, "GET", "/v1/regions/R1/transfers", nil)
	if !strings.Contains(rec.Body.String(), `"age_seconds":0,"age_hours":0.0`) {
		t.Errorf("a transfer 1 ms old: %s, want age_seconds 0 and age_hours 0.0", rec.Body.String())
	}
	for _, path := range []string{
		"/v1/regions/R1/transfers", "/v1/regions/R2/transfers?at=2026-12-02T02:00:00.001Z", "/v1/stats", "/v1/stats?from=2026-12-02",
		"/v1/safety", "/v1/stations", "/v1/stations/S01", "/v1/stations/S01/occupancy", "/v1/cases", "/v1/cases/" + id,
		"/v1/cases/" + id + "/history", "/v1/cases/" + id + "/person", "/v1/repeat-visitors",
	} {
		rec := w.must(200, adminToken, "GET", path, nil)
		if got := numbersInExponentForm(t, rec.Body.Bytes()); len(got) > 0 {
			t.Errorf("%s writes %v: %s", path, got, rec.Body.String())
		}
	}
}

// stats is a statistics answer as a client reads it.
type stats struct {
	From, To    string
	ToInclusive bool   `json:"to_inclusive"`
	FromDate    string `json:"from_date"`
	ToDate      string `json:"to_date"`
	Intakes     int
	BedNights   int `json:"bed_nights"`
	Census      []struct{ Date string }
}

// TestStatsCountTheDatesAndTimesAUserSends: dates are Beijing civil dates
// (to inclusive), times count up to their instant, the default window
// is the 30 days that end today, and the answer says what was counted.
func TestStatsCountTheDatesAndTimesAUserSends(t *testing.T) {
	clk := newClock(time.Date(2026, 12, 2, 10, 0, 0, 0, beijing))
	w := newWorldAt(t, clk.now)
	intakeAt := func(at string) string {
		t.Helper()
		body := intakeBody("S01")
		body["occurred_at"] = at
		return decodeAs[struct{ ID string }](t, w.must(201, w.staff1, "POST", "/v1/cases", body)).ID
	}
	first := intakeAt("2026-11-01T00:00:00+08:00")
	w.must(200, w.staff1, "POST", "/v1/cases/"+first+"/eligibility", map[string]any{"eligible": true, "occurred_at": "2026-11-01T00:05:00+08:00"})
	w.must(200, w.staff1, "POST", "/v1/cases/"+first+"/security-check", map[string]any{"checked_by": map[string]any{"staff_id": "s-7", "sex": "male"}, "occurred_at": "2026-11-01T00:06:00+08:00"})
	w.must(200, w.staff1, "POST", "/v1/cases/"+first+"/bed", map[string]any{"zone": "adult_male", "occurred_at": "2026-11-01T00:10:00+08:00"})
	intakeAt("2026-10-31T23:59:59+08:00")
	intakeAt("2026-11-30T23:59:59+08:00")
	intakeAt("2026-12-01T00:00:00+08:00")
	intakeAt("2026-12-02T09:00:00+08:00")

	dates := func(from, to string) []string {
		out := []string{}
		for d, _ := time.Parse(time.DateOnly, from); d.Format(time.DateOnly) <= to; d = d.AddDate(0, 0, 1) {
			out = append(out, d.Format(time.DateOnly))
		}
		return out
	}
	for _, tt := range []struct {
		name, query string
		interval    string // from to to_inclusive from_date to_date
		intakes     int
		census      []string
	}{
		{"November by dates", "?from=2026-11-01&to=2026-11-30",
			"2026-11-01T00:00:00+08:00 2026-12-01T00:00:00+08:00 false 2026-11-01 2026-11-30", 2, dates("2026-11-01", "2026-11-30")},
		{"November to 23:59:59 on the 30th: the 30th's intakes in, its night (counted at midnight) not reached", "?from=2026-11-01&to=2026-11-30T23:59:59%2B08:00",
			"2026-11-01T00:00:00+08:00 2026-11-30T23:59:59+08:00 true 2026-11-01 2026-11-30", 2, dates("2026-11-01", "2026-11-29")},
		{"an unescaped + in the zone", "?from=2026-11-01&to=2026-11-30T23:59:59+08:00",
			"2026-11-01T00:00:00+08:00 2026-11-30T23:59:59+08:00 true 2026-11-01 2026-11-30", 2, dates("2026-11-01", "2026-11-29")},
		{"times in UTC", "?from=2026-10-31T16:00:00Z&to=2026-11-30T16:00:00Z",
			"2026-11-01T00:00:00+08:00 2026-12-01T00:00:00+08:00 true 2026-11-01 2026-12-01", 3, dates("2026-11-01", "2026-11-30")},
		{"from a date, to today", "?from=2026-11-01",
			"2026-11-01T00:00:00+08:00 2026-12-03T00:00:00+08:00 false 2026-11-01 2026-12-02", 4, dates("2026-11-01", "2026-12-01")},
		{"no dates: the 30 days that end today", "",
			"2026-11-03T00:00:00+08:00 2026-12-03T00:00:00+08:00 false 2026-11-03 2026-12-02", 3, dates("2026-11-03", "2026-12-01")},
		{"to a date: the 30 days that end then", "?to=2026-11-30",
			"2026-11-01T00:00:00+08:00 2026-12-01T00:00:00+08:00 false 2026-11-01 2026-11-30", 2, dates("2026-11-01", "2026-11-30")},
		{"to a date in 1900: from its first", "?to=1900-01-05",
			"1900-01-01T00:00:00+08:00 1900-01-06T00:00:00+08:00 false 1900-01-01 1900-01-05", 0, []string{"1900-01-01", "1900-01-02", "1900-01-03", "1900-01-04", "1900-01-05"}},
		{"one date", "?from=2026-11-30&to=2026-11-30",
			"2026-11-30T00:00:00+08:00 2026-12-01T00:00:00+08:00 false 2026-11-30 2026-11-30", 1, dates("2026-11-30", "2026-11-30")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := w.must(200, w.staff1, "GET", "/v1/stats"+tt.query, nil)
			s := decodeAs[stats](t, rec)
			got := strings.Join([]string{s.From, s.To, strconv.FormatBool(s.ToInclusive), s.FromDate, s.ToDate}, " ")
			if got != tt.interval {
				t.Errorf("interval %s, want %s", got, tt.interval)
			}
			census := []string{}
			for _, d := range s.Census {
				census = append(census, d.Date)
			}
			nights := 0 // the first case is in bed every night from 1 November
			for _, d := range tt.census {
				if d >= "2026-11-01" {
					nights++
				}
			}
			if s.Intakes != tt.intakes || !slices.Equal(census, tt.census) || s.BedNights != nights {
				t.Errorf("intakes %d, bed nights %d, census %v; want %d, %d, %v", s.Intakes, s.BedNights, census, tt.intakes, nights, tt.census)
			}
		})
	}
	for _, tt := range []struct{ name, query, field string }{
		{"from after to", "?from=2026-12-01&to=2026-11-30", "from"},
		{"from after to, in times", "?from=2026-11-30T12:00:00%2B08:00&to=2026-11-30T11:59:59%2B08:00", "from"},
		{"40 years", "?from=1986-11-01&to=2026-11-30", "to"},
		{"from in the future", "?from=2026-12-03", "from"},
		{"a word", "?from=yesterday", "from"},
		{"no such date", "?to=2026-02-30", "to"},
		{"a time without a zone", "?to=2026-11-30T23:59:59", "to"},
		{"a date with a time zone", "?to=2026-11-30%2B08:00", "to"},
		{"a bare year", "?from=2026", "from"},
		{"the zero time", "?from=0001-01-01T00:00:00Z&to=0001-01-02", "from"},
	} {
		t.Run("refused: "+tt.name, func(t *testing.T) {
			p := expectProblem(t, w.call(w.staff1, "GET", "/v1/stats"+tt.query, nil), http.StatusBadRequest, "invalid", tt.field)
			if p.Detail == "" && len(p.Errors) == 0 {
				t.Errorf("no message: %+v", p)
			}
		})
	}
}
