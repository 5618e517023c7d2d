package console_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"waystation/domain"
)

// ago is the datetime-local value of d before now, in Beijing time.
func ago(d time.Duration) string {
	return time.Now().Add(-d).In(domain.CivilZone).Format("2006-01-02T15:04")
}

// stayedAndLeft admits a man at b's station five days ago, gives him a
// bed and records his voluntary leave a day ago; it returns the case ID.
func stayedAndLeft(t *testing.T, b *browser) string {
	t.Helper()
	day := 24 * time.Hour
	form := intakeForm("save")
	form.Set("occurred_at", ago(5*day))
	id := caseIDOf(t, b.post("/cases/new", form))
	stepOK(t, b, id, "eligibility", url.Values{"eligible": {"yes"}, "occurred_at": {ago(5*day - time.Hour)}})
	stepOK(t, b, id, "security-check", url.Values{"checked_by.staff_id": {"S01-007"}, "checked_by.sex": {"male"},
		"occurred_at": {ago(5*day - 2*time.Hour)}})
	stepOK(t, b, id, "bed", url.Values{"zone": {"adult_male"}, "occurred_at": {ago(5*day - 3*time.Hour)}})
	stepOK(t, b, id, "voluntary-leave", url.Values{"declaration_ref": {"SM-2026-001"}, "cash_yuan": {"20"},
		"receipt_ref": {"SJ-2026-001"}, "occurred_at": {ago(day)}})
	return id
}

func TestStatisticsShowTheStationsFiguresAsTablesChartsAndCSV(t *testing.T) {
	// Given a man who stayed four nights at S01 and left of his own will
	e := newEnv(t)
	e.station("S01", "R1")
	e.station("S02", "R1")
	b := e.staff("li.wei", "S01")
	stayedAndLeft(t, b)
	var want struct {
		BedNights int `json:"bed_nights"`
	}
	e.api("GET", "/v1/stats?station=S01", nil, 200, &want)
	if want.BedNights == 0 {
		t.Fatal("the API counts no bed nights")
	}

	// When staff open the statistics
	p := b.get("/stats")

	// Then they see their station's last 30 days: intakes, exits by type,
	// bed nights, length of stay, as tables and server-drawn charts
	mustContain(t, p, "每日在站人数", "离站方式", "在站时长", "分站统计", "分月统计",
		`<th scope="row">床日数</th><td>`+strconv.Itoa(want.BedNights)+`</td>`,
		`<th scope="row">自行离站</th><td>1</td>`, `<th scope="row">10天以内</th><td>1</td>`,
		`<svg class="chart"`, `<rect class="bar"`, "/stats/exits_by_type.csv?")
	mustNotContain(t, p, "style=", "<script>")
	mustNotContain(t, p, `value="S02"`)

	// And a table's download keeps the period chosen on the page
	chosen := b.get("/stats?from=2026-01-01&to=2026-01-31")
	if link := between(chosen.Body, `href="/stats/exits_by_type.csv?`, `"`); link != "from=2026-01-01&amp;to=2026-01-31" {
		t.Fatalf("the CSV link of the chosen period is ?%s", link)
	}

	// And each table downloads as CSV that spreadsheets read as UTF-8
	csv := b.get("/stats/exits_by_type.csv")
	if csv.Status != 200 || !strings.HasPrefix(csv.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV: status %d, %s", csv.Status, csv.Header.Get("Content-Type"))
	}
	if !strings.HasPrefix(csv.Body, "\uFEFF离站方式,离站人数\r\n") || !strings.Contains(csv.Body, "\r\n自行离站,1\r\n") {
		t.Fatalf("CSV:\n%q", csv.Body)
	}
	if !strings.Contains(csv.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("Content-Disposition %q", csv.Header.Get("Content-Disposition"))
	}
	if p := b.get("/stats/nonsense.csv"); p.Status != 404 {
		t.Errorf("an unknown table: status %d, want 404", p.Status)
	}

	// And in English
	mustContain(t, b.get("/stats?lang=en"), "Exits by type", "left voluntarily", "Bed nights")
}

func TestAPeriodTheAPIRefusesIsExplained(t *testing.T) {
	e := newEnv(t)
	e.station("S01", "R1")
	b := e.staff("li.wei", "S01")
	p := b.get("/stats?from=2026-02-01&to=2026-01-01")
	if p.Status != 400 {
		t.Fatalf("status %d, want 400", p.Status)
	}
	mustContain(t, p, `class="refusal"`, `name="from"`)
}

func TestWhoMayCountWhatIsWhatTheAPIDecides(t *testing.T) {
	e := newEnv(t)
	e.station("S01", "R1")
	e.station("S09", "R2")
	for _, c := range []struct {
		who   string
		b     *browser
		query string
		want  int
	}{
		{"staff, their station", e.staff("li.wei", "S01"), "station=S01", 200},
		{"staff, another station", e.staff("wang.fang", "S01"), "station=S09", 403},
		{"staff, a region", e.staff("zhao.min", "S01"), "region=R1", 403},
		{"a coordinator, their region", e.coordinator("chen.jing", "R1"), "region=R1", 200},
		{"a coordinator, another region", e.coordinator("he.ping", "R1"), "region=R2", 403},
		{"a coordinator, a station of another region", e.coordinator("lu.yan", "R1"), "station=S09", 403},
		{"an inspector of the region", e.regionInspector("zhou.ming", "R1"), "station=S01", 200},
		{"an inspector of every region", e.regionInspector("qian.yu", ""), "region=R2", 200},
		{"an admin", e.admin("wu.gang"), "", 200},
	} {
		t.Run(c.who, func(t *testing.T) {
			if p := c.b.get("/stats?" + c.query); p.Status != c.want {
				t.Errorf("status %d, want %d", p.Status, c.want)
			}
			if p := c.b.get("/stats/summary.csv?" + c.query); p.Status != c.want {
				t.Errorf("CSV: status %d, want %d", p.Status, c.want)
			}
		})
	}
}
