package console

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"waystation/domain"
	"waystation/projections"
)

// statsRoutes serves the statistics: tables, charts drawn by the server,
// and each table as a CSV file.
func (c *Console) statsRoutes() {
	c.mux.Handle("GET /stats", c.user(c.statsPage))
	c.mux.Handle("GET /stats/{file}", c.user(c.statsCSV))
}

// maxStatsMonths bounds the months of the by-month tables (one API call
// each).
const maxStatsMonths = 36

// maxCensusBars bounds the nights drawn one bar each in the census chart.
const maxCensusBars = 370

// statsTableNames are the tables of the page, by their file names.
var statsTableNames = []string{"summary", "census", "exits_by_type", "length_of_stay", "age_and_sex", "stations", "months"}

// CSVLink is the address of table name's CSV download with the page's
// selection.
func (p statsPage) CSVLink(name string) string {
	return "/stats/" + name + ".csv?" + p.Query.Encode()
}

// statsPage is the statistics of a selection over a period.
type statsPage struct {
	Query    url.Values // station, region, from, to: codes and dates only
	Stations []projections.StationInfo
	Regions  []string
	Stats    *projections.Stats
	Message  string
	Rule     string
	Tables   []statsTable
	Charts   map[string]*chart
	Months   bool // whether the by-month tables are there
}

// statsTable is one table of figures, as the page and its CSV show it.
type statsTable struct {
	Name string // its file name: census, exits_by_type...
	Head []string
	Rows [][]string
}

// chart is a bar chart drawn in SVG by the server: presentation
// attributes and classes only, no style attribute (the CSP forbids them).
type chart struct {
	Name          string
	Width, Height int
	LabelWidth    int
	Bars          []bar
	Columns       bool // vertical bars (the census), else horizontal
	// For columns: the first and the last label, under the base line.
	First, Last string
	Base        int
}

// bar is one bar of a chart, placed.
type bar struct {
	Label         string
	Value         string
	X, Y          int
	Width, Height int
	TextX, TextY  int
}

// statsQuery reads the page's filter: a station or a region code, and
// two dates; anything else is left out.
func statsQuery(r *http.Request) url.Values {
	in := r.URL.Query()
	out := url.Values{}
	for _, k := range []string{"station", "region"} {
		if v := in.Get(k); v != "" && domain.CheckCode(k, v) == nil {
			out.Set(k, v)
			break
		}
	}
	for _, k := range []string{"from", "to"} {
		if v := in.Get(k); v != "" {
			if _, err := time.Parse(time.DateOnly, v); err == nil {
				out.Set(k, v)
			}
		}
	}
	return out
}

// statsPage shows the figures GET /v1/stats answers for the selection:
// the API decides what the user may count (staff their station).
func (c *Console) statsPage(q *req) error {
	p, err := c.statistics(q)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if p.Stats == nil {
		status = http.StatusBadRequest
	}
	c.render(q, status, "stats", "stats.title", p)
	return nil
}

// statsCSV downloads one table of the page as CSV (UTF-8 with a byte
// order mark, so that spreadsheets read Chinese right).
func (c *Console) statsCSV(q *req) error {
	name, ok := strings.CutSuffix(q.r.PathValue("file"), ".csv")
	if !ok || !slices.Contains(statsTableNames, name) {
		c.notFound(q.w, q.r)
		return nil
	}
	p, err := c.statistics(q)
	if err != nil {
		return err
	}
	if p.Stats == nil {
		return domain.Invalid("from", "%s", p.Message)
	}
	i := slices.IndexFunc(p.Tables, func(t statsTable) bool { return t.Name == name })
	if i < 0 {
		return domain.NotFound("no such table")
	}
	t := p.Tables[i]
	var buf bytes.Buffer
	buf.WriteString("\uFEFF")
	writeCSV(&buf, t.Head)
	for _, r := range t.Rows {
		writeCSV(&buf, r)
	}
	h := q.w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="stats-%s-%s-%s.csv"`, t.Name,
		p.Stats.FromDate, p.Stats.ToDate))
	h.Set("Cache-Control", "no-store")
	_, _ = q.w.Write(buf.Bytes())
	return nil
}

// writeCSV writes one record (RFC 4180): a field with a comma, a quote
// or a line break is quoted, its quotes doubled; a field that a
// spreadsheet would take for a formula is prefixed with an apostrophe.
func writeCSV(buf *bytes.Buffer, record []string) {
	for i, f := range record {
		if i > 0 {
			buf.WriteByte(',')
		}
		if f != "" && strings.ContainsRune("=+-@\t\r", rune(f[0])) {
			if _, err := strconv.ParseFloat(f, 64); err != nil {
				f = "'" + f
			}
		}
		if strings.ContainsAny(f, ",\"\r\n") {
			f = `"` + strings.ReplaceAll(f, `"`, `""`) + `"`
		}
		buf.WriteString(f)
	}
	buf.WriteString("\r\n")
}

// statistics gathers the page: the selection's figures, its beds, the
// months of the period, and the tables and charts made of them. A period
// the API refuses is explained on the page.
func (c *Console) statistics(q *req) (statsPage, error) {
	p := statsPage{Query: statsQuery(q.r), Charts: map[string]*chart{}}
	var list struct {
		Items []projections.StationInfo `json:"items"`
	}
	if _, err := c.api.call(q.r, "GET", "/v1/stations", nil, nil, &list); err != nil {
		return p, err
	}
	p.Stations = list.Items
	if q.user.Role == domain.RoleStaff {
		p.Stations = slices.DeleteFunc(p.Stations, func(s projections.StationInfo) bool { return s.Code != q.user.Station })
	} else if q.user.Region != "" {
		p.Stations = slices.DeleteFunc(p.Stations, func(s projections.StationInfo) bool { return s.Region != q.user.Region })
	}
	for _, s := range p.Stations {
		if !slices.Contains(p.Regions, s.Region) {
			p.Regions = append(p.Regions, s.Region)
		}
	}
	slices.Sort(p.Regions)
	var s projections.Stats
	if _, err := c.api.call(q.r, "GET", "/v1/stats", p.Query, nil, &s); err != nil {
		pr, ok := problemOf(err)
		if !ok || pr.Status != http.StatusBadRequest && pr.Status != http.StatusUnprocessableEntity {
			return p, err
		}
		p.Message, p.Rule = explainField(q.t, pr), pr.Rule
		return p, nil
	}
	p.Stats = &s
	beds := map[string]int{}
	for _, st := range list.Items {
		for _, z := range st.Zones {
			beds[st.Code] += z.Beds
		}
	}
	selected := 0
	for _, st := range s.Stations {
		selected += beds[st.Station]
	}
	months, err := c.statsMonths(q, p.Query, s)
	if err != nil {
		return p, err
	}
	p.Months = months != nil
	c.statsTables(q.t, &p, beds, selected, months)
	return p, nil
}

// month is the figures of one calendar month of the period.
type month struct {
	Name  string // 2026-11
	Stats projections.Stats
}

// statsMonths asks the API for each calendar month of s's period (at most
// maxStatsMonths, else none), cut to the period.
func (c *Console) statsMonths(q *req, query url.Values, s projections.Stats) ([]month, error) {
	from, err1 := time.ParseInLocation(time.DateOnly, s.FromDate, domain.CivilZone)
	to, err2 := time.ParseInLocation(time.DateOnly, s.ToDate, domain.CivilZone)
	if err1 != nil || err2 != nil {
		return nil, nil
	}
	today := civilDay(c.now())
	var out []month
	for m := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, domain.CivilZone); !m.After(to); m = m.AddDate(0, 1, 0) {
		if len(out) == maxStatsMonths {
			return nil, nil
		}
		start, end := m, m.AddDate(0, 1, -1)
		if start.Before(from) {
			start = from
		}
		if end.After(to) {
			end = to
		}
		if start.Format(time.DateOnly) > today {
			break
		}
		mq := url.Values{"from": {start.Format(time.DateOnly)}, "to": {end.Format(time.DateOnly)}}
		for _, k := range []string{"station", "region"} {
			if v := query.Get(k); v != "" {
				mq.Set(k, v)
			}
		}
		var ms projections.Stats
		if _, err := c.api.call(q.r, "GET", "/v1/stats", mq, nil, &ms); err != nil {
			return nil, err
		}
		out = append(out, month{Name: m.Format("2006-01"), Stats: ms})
	}
	return out, nil
}

// occupancy is bed nights over the beds of the nights counted, in
// percent with one decimal, or "" when there is nothing to divide by.
func occupancy(bedNights, beds, nights int) string {
	if beds == 0 || nights == 0 {
		return ""
	}
	return strconv.FormatFloat(float64(bedNights)*100/float64(beds*nights), 'f', 1, 64)
}

// statsTables builds the page's tables and charts from its figures.
func (c *Console) statsTables(t tr, p *statsPage, beds map[string]int, selected int, months []month) {
	s := p.Stats
	nights := len(s.Census)
	num := strconv.Itoa
	add := func(tb statsTable) { p.Tables = append(p.Tables, tb) }
	avg := ""
	if nights > 0 {
		avg = strconv.FormatFloat(float64(s.BedNights)/float64(nights), 'f', 1, 64)
	}
	add(statsTable{Name: "summary", Head: []string{t.T("stats.measure"), t.T("stats.value")}, Rows: [][]string{
		{t.T("stats.intakes"), num(s.Intakes)},
		{t.T("stats.exits"), num(s.Exits)},
		{t.T("stats.bed_nights"), num(s.BedNights)},
		{t.T("stats.nights"), num(nights)},
		{t.T("stats.average_census"), avg},
		{t.T("stats.beds"), num(selected)},
		{t.T("stats.occupancy"), occupancy(s.BedNights, selected, nights)},
	}})

	census := statsTable{Name: "census", Head: []string{t.T("stats.date"), t.T("stats.census")}}
	var censusBars []barValue
	for _, d := range s.Census {
		census.Rows = append(census.Rows, []string{d.Date, num(d.Count)})
		censusBars = append(censusBars, barValue{d.Date, d.Count})
	}
	add(census)
	if len(censusBars) > 0 && len(censusBars) <= maxCensusBars {
		p.Charts["census"] = ptr(columnChart("census", censusBars))
	}

	exitTypes := domain.ExitType("").Values()
	byType := statsTable{Name: "exits_by_type", Head: []string{t.T("stats.exit_type"), t.T("stats.exits")}}
	var typeBars []barValue
	for _, et := range exitTypes {
		n := s.ExitsByType[et]
		label := t.T("enum.exit_type." + et)
		byType.Rows = append(byType.Rows, []string{label, num(n)})
		typeBars = append(typeBars, barValue{label, n})
	}
	add(byType)
	p.Charts["exits_by_type"] = ptr(barChart("exits_by_type", typeBars))

	stays := []string{projections.StayUpTo10Days, projections.StayTo1Month, projections.StayTo3Months,
		projections.StayOver3Months}
	los := statsTable{Name: "length_of_stay", Head: []string{t.T("stats.length_of_stay"), t.T("stats.exits")}}
	var stayBars []barValue
	for _, b := range stays {
		label := t.T("stats.stay." + b)
		los.Rows = append(los.Rows, []string{label, num(s.LengthOfStay[b])})
		stayBars = append(stayBars, barValue{label, s.LengthOfStay[b]})
	}
	add(los)
	p.Charts["length_of_stay"] = ptr(barChart("length_of_stay", stayBars))

	people := statsTable{Name: "age_and_sex", Head: []string{t.T("stats.group"), t.T("stats.intakes"), t.T("stats.exits")}}
	for _, sex := range []string{"male", "female", ""} {
		label := t.T("stats.sex_unknown")
		if sex != "" {
			label = t.T("enum.sex." + sex)
		}
		people.Rows = append(people.Rows, []string{label, num(s.IntakesBySex[sex]), num(s.ExitsBySex[sex])})
	}
	for _, b := range projections.AgeBands {
		people.Rows = append(people.Rows, []string{t.T("age_band." + b), num(s.IntakesByAgeBand[b]),
			num(s.ExitsByAgeBand[b])})
	}
	add(people)

	typeHeads := make([]string, 0, len(exitTypes))
	for _, et := range exitTypes {
		typeHeads = append(typeHeads, t.T("enum.exit_type."+et))
	}
	stations := statsTable{Name: "stations", Head: append([]string{t.T("stats.station"), t.T("stats.region"),
		t.T("stats.intakes"), t.T("stats.exits"), t.T("stats.bed_nights"), t.T("stats.beds"), t.T("stats.occupancy")},
		typeHeads...)}
	var stationBars []barValue
	for _, st := range s.Stations {
		row := []string{st.Station, st.Region, num(st.Intakes), num(st.Exits), num(st.BedNights),
			num(beds[st.Station]), occupancy(st.BedNights, beds[st.Station], nights)}
		for _, et := range exitTypes {
			row = append(row, num(st.ExitsByType[et]))
		}
		stations.Rows = append(stations.Rows, row)
		stationBars = append(stationBars, barValue{st.Station, st.BedNights})
	}
	add(stations)
	if len(stationBars) > 1 {
		p.Charts["stations"] = ptr(barChart("stations", stationBars))
	}

	if months == nil {
		return
	}
	byMonth := statsTable{Name: "months", Head: append([]string{t.T("stats.month"), t.T("stats.intakes"),
		t.T("stats.exits"), t.T("stats.bed_nights"), t.T("stats.occupancy")}, typeHeads...)}
	var monthBars []barValue
	for _, m := range months {
		row := []string{m.Name, num(m.Stats.Intakes), num(m.Stats.Exits), num(m.Stats.BedNights),
			occupancy(m.Stats.BedNights, selected, len(m.Stats.Census))}
		for _, et := range exitTypes {
			row = append(row, num(m.Stats.ExitsByType[et]))
		}
		byMonth.Rows = append(byMonth.Rows, row)
		monthBars = append(monthBars, barValue{m.Name, m.Stats.BedNights})
	}
	add(byMonth)
	p.Charts["months"] = ptr(barChart("months", monthBars))
}

// barValue is a labelled count, before it is drawn.
type barValue struct {
	Label string
	N     int
}

// Chart geometry, in SVG user units.
const (
	chartWidth = 640
	labelWidth = 170
	barHeight  = 22
	barGap     = 6
	valueRoom  = 60
)

// barChart draws values as horizontal bars, the largest the full width.
func barChart(name string, values []barValue) chart {
	top := 1
	for _, v := range values {
		top = max(top, v.N)
	}
	ch := chart{Name: name, Width: chartWidth, LabelWidth: labelWidth,
		Height: len(values)*(barHeight+barGap) + barGap}
	room := chartWidth - labelWidth - valueRoom
	for i, v := range values {
		y := barGap + i*(barHeight+barGap)
		w := v.N * room / top
		ch.Bars = append(ch.Bars, bar{Label: v.Label, Value: strconv.Itoa(v.N), X: labelWidth, Y: y,
			Width: w, Height: barHeight, TextX: labelWidth + w + 6, TextY: y + barHeight - 6})
	}
	return ch
}

// columnChart draws values (one a night) as columns, the highest the full
// height, labelled by their values in the titles.
func columnChart(name string, values []barValue) chart {
	const height = 160
	top := 1
	for _, v := range values {
		top = max(top, v.N)
	}
	w := max(chartWidth/len(values), 2)
	ch := chart{Name: name, Width: w * len(values), Height: height + 20, Columns: true}
	for i, v := range values {
		h := v.N * height / top
		ch.Bars = append(ch.Bars, bar{Label: v.Label, Value: strconv.Itoa(v.N), X: i * w, Y: height - h,
			Width: max(w-1, 1), Height: h})
	}
	ch.First, ch.Last, ch.Base = values[0].Label, values[len(values)-1].Label, height+15
	return ch
}

func ptr[T any](v T) *T { return &v }
