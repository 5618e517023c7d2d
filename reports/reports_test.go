package reports_test

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"waystation/domain"
	"waystation/projections"
	"waystation/reports"
)

func sample() projections.Report {
	occ := 0.5
	f := projections.ReportFigures{Assisted: 12, BedNights: 150, BedNightsAvailable: 300, OccupancyRate: &occ,
		ExitsByType: map[string]int{"pickup": 3}, AlertsByRule: map[string]int{}}
	return projections.Report{Period: "2026-11", Kind: projections.ReportMonthly, FromDate: "2026-11-01",
		ToDate: "2026-11-30", Scope: "station", Station: "S01", Basis: projections.BasisKnown,
		AsOf: time.Date(2026, 12, 1, 0, 0, 0, 0, domain.CivilZone), Complete: true, ReportFigures: f,
		Stations: []projections.StationReport{{Station: "S01", Name: "一站", Region: "R1", ReportFigures: f}}}
}

// find returns the row whose first cell is code.
func find(t *testing.T, rows [][]string, code string) []string {
	t.Helper()
	for _, r := range rows {
		if len(r) > 0 && r[0] == code {
			return r
		}
	}
	t.Fatalf("no row %s", code)
	return nil
}

func TestXLSXReadsBackWithChineseHeadersAndEveryFigure(t *testing.T) {
	var buf bytes.Buffer
	if err := reports.WriteXLSX(&buf, sample(), "zh-CN"); err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	rows, err := x.GetRows("报表")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(rows[0], "|"), "代码|指标|定义|合计|S01 一站"; got != want {
		t.Errorf("header %q, want %q", got, want)
	}
	if r := find(t, rows, "assisted"); r[1] != "救助人次" || r[3] != "12" || r[4] != "12" {
		t.Errorf("assisted row %q", r)
	}
	if r := find(t, rows, "basis"); r[2] != "截至该时点已录入" {
		t.Errorf("basis row %q", r)
	}
	if r := find(t, rows, "occupancy_rate"); r[3] != "0.5" {
		t.Errorf("occupancy row %q", r)
	}
	// Numbers are numbers, not text.
	if typ, _ := x.GetCellType("报表", "D8"); typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
		t.Errorf("D8 is a string cell")
	}
	if r := find(t, rows, "returns_across_provinces"); len(r) > 3 && r[3] != "" {
		t.Errorf("null figure written as %q", r[3])
	}
	for _, f := range reports.Figures {
		if r := find(t, rows, f.Code); r[2] == "" {
			t.Errorf("%s has no definition", f.Code)
		}
	}
}

func TestCSVInEnglish(t *testing.T) {
	var buf bytes.Buffer
	if err := reports.WriteCSV(&buf, sample(), "en-GB"); err != nil {
		t.Fatal(err)
	}
	body, ok := strings.CutPrefix(buf.String(), "\ufeff")
	if !ok {
		t.Fatal("no byte-order mark")
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rows[0][:4], "|"); got != "Code|Figure|Definition|Total" {
		t.Errorf("header %q", got)
	}
	if r := find(t, rows, "exits_by_type.pickup"); r[3] != "3" {
		t.Errorf("pickup row %q", r)
	}
	if r := find(t, rows, "period"); r[2] != "2026-11" {
		t.Errorf("period row %q", r)
	}
}
