// Package reports lays a projections.Report out as a table, one row per
// figure with its definition (docs/reports.md), in Chinese or English, and
// writes it as CSV or as an XLSX workbook (github.com/xuri/excelize/v2).
package reports

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	"waystation/projections"
)

// Languages of a table.
const (
	Chinese = "zh"
	English = "en"
)

// Media types of the files.
const (
	MediaCSV  = "text/csv"
	MediaXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)

// Figure is one row of a report: its code (the JSON field, with the key
// for the by-type and by-rule maps), its names and one-line definitions,
// and how to read it from a row of figures.
type Figure struct {
	Code   string
	ZH, EN string
	DefZH  string
	DefEN  string
	value  func(f *projections.ReportFigures) any // int, *int or *float64
}

// Figures lists every figure of a report, in the order a table shows
// them; docs/reports.md holds the full definitions.
var Figures = []Figure{
	{Code: "assisted", ZH: "救助人次", EN: "People assisted (person-times)",
		DefZH: "期内到站(按北京时间日期)的案件,按到达站计,不含不予救助",
		DefEN: "Intakes on the period's dates (Beijing time) at the station of arrival, refusals left out",
		value: func(f *projections.ReportFigures) any { return f.Assisted }},
	{Code: "assisted_minors", ZH: "其中:未成年人", EN: "of them: minors",
		DefZH: "到站当日未满18周岁", DefEN: "Under 18 on the intake's date",
		value: func(f *projections.ReportFigures) any { return f.AssistedMinors }},
	{Code: "assisted_elderly", ZH: "其中:老年人(60岁以上)", EN: "of them: elderly (60+)",
		DefZH: "到站当日年满60周岁", DefEN: "60 or over on the intake's date",
		value: func(f *projections.ReportFigures) any { return f.AssistedElderly }},
	{Code: "assisted_disabled", ZH: "其中:残疾人或精神障碍患者", EN: "of them: disability or mental disorder",
		DefZH: "检视记录肢体或智力残疾、疑似精神障碍", DefEN: "Inspection records a physical or intellectual disability or a suspected mental disorder",
		value: func(f *projections.ReportFigures) any { return f.AssistedDisabled }},
	{Code: "refused", ZH: "不予救助", EN: "Assistance refused",
		DefZH: "期内经甄别不予救助或拒绝安全检查的案件,按作出日期", DefEN: "Refused at eligibility or at the security check in the period",
		value: func(f *projections.ReportFigures) any { return f.Refused }},
	{Code: "in_station_at_end", ZH: "期末在站人数", EN: "In the station at the period's end",
		DefZH: "期末时点未离站的案件(含住院、转移途中),按当时所属站", DefEN: "Cases begun and not exited at the period's end (hospital and transit included)",
		value: func(f *projections.ReportFigures) any { return f.InStationAtEnd }},
	{Code: "beds", ZH: "床位数", EN: "Beds",
		DefZH: "期末各区床位数(含季节性床位)", DefEN: "Beds of every zone at the period's end, seasonal included",
		value: func(f *projections.ReportFigures) any { return f.Beds }},
	{Code: "bed_nights", ZH: "床日数", EN: "Bed nights",
		DefZH: "期内每日24时(北京时间)占用床位的人数之和", DefEN: "People holding a bed at each midnight (Beijing) ending a date of the period",
		value: func(f *projections.ReportFigures) any { return f.BedNights }},
	{Code: "bed_nights_available", ZH: "可用床日数", EN: "Bed nights available",
		DefZH: "期内每日24时的床位数之和", DefEN: "Beds at each of those midnights",
		value: func(f *projections.ReportFigures) any { return f.BedNightsAvailable }},
	{Code: "occupancy_rate", ZH: "床位使用率", EN: "Occupancy rate",
		DefZH: "床日数÷可用床日数", DefEN: "Bed nights over bed nights available",
		value: func(f *projections.ReportFigures) any { return f.OccupancyRate }},
	{Code: "exits", ZH: "离站人次", EN: "Exits",
		DefZH: "以下各类离站之和", DefEN: "The sum of the exits by type below",
		value: func(f *projections.ReportFigures) any { return f.Exits }},
	exitRow("escorted_return", "护送返乡", "Returned home escorted", "期内护送返乡", "Escorted returns home in the period"),
	exitRow("pickup", "亲属接领", "Collected by family", "期内亲属接领", "Pickups by family in the period"),
	exitRow("voluntary_leave", "自愿离站", "Voluntary leave", "期内自愿离站", "Voluntary leaves in the period"),
	exitRow("transferred", "转移至其他站", "Transferred", "期内交接至本范围以外的站", "Handovers in the period to a station outside the row's scope"),
	exitRow("settlement", "转介安置", "Referred to care", "期内落户安置、特困供养", "Settlements (household registration, care) in the period"),
	exitRow("absconding", "擅自离站", "Absconded", "期内擅自离站", "Absconding in the period"),
	exitRow("death", "死亡", "Died", "期内死亡", "Deaths in the period"),
	exitRow("termination", "终止救助", "Terminated", "期内终止救助", "Terminations in the period"),
	{Code: "stay_exits", ZH: "计入住站天数的离站人次", EN: "Exits ending a case",
		DefZH: "除转移外的离站", DefEN: "Every exit but transferred: the stays averaged",
		value: func(f *projections.ReportFigures) any { return f.StayExits }},
	{Code: "average_stay_days", ZH: "平均住站天数", EN: "Average length of stay (days)",
		DefZH: "到站日期至离站日期的天数(北京时间)的平均数", DefEN: "Mean of the civil days from the intake's date to the exit's date",
		value: func(f *projections.ReportFigures) any { return f.AverageStayDays }},
	{Code: "median_stay_days", ZH: "住站天数中位数", EN: "Median length of stay (days)",
		DefZH: "同上天数的中位数", DefEN: "Median of the same",
		value: func(f *projections.ReportFigures) any { return f.MedianStayDays }},
	{Code: "returns_across_provinces", ZH: "跨省护送返乡", EN: "Returns across provinces",
		DefZH: "暂无:救助站尚未登记所在省份", DefEN: "Not available: stations do not record their province yet",
		value: func(f *projections.ReportFigures) any { return f.ReturnsAcrossProvinces }},
	{Code: "repeat_visitors", ZH: "多次救助", EN: "Repeat visitors",
		DefZH: "救助人次中此前另有案件的人", DefEN: "People assisted with an earlier case of the same person",
		value: func(f *projections.ReportFigures) any { return f.RepeatVisitors }},
	{Code: "alerts_raised", ZH: "预警次数", EN: "Alerts raised",
		DefZH: "期内触发的以下预警", DefEN: "Alerts of the rules below raised in the period",
		value: func(f *projections.ReportFigures) any { return f.AlertsRaised }},
	alertRow(projections.RuleNoFamilySearchNotice, "未发寻亲公告", "No family-search notice", "登记24小时后未发公告", "24 hours after the intake with no notice"),
	alertRow(projections.RuleDNANotRequested, "未采集DNA", "DNA not requested", "登记7日后未申请DNA比对", "7 days after the intake with no DNA request"),
	alertRow(projections.RuleUnaccompaniedMinor, "未成年人未监护", "Unaccompanied minor", "未成年人登记24小时后未临时监护", "A minor with no guardianship 24 hours after the intake"),
	alertRow(projections.RuleTransferUnanswered, "转移未答复", "Transfer unanswered", "转移申请48小时未答复", "A transfer request unanswered after 48 hours"),
	alertRow(projections.RuleHandoverOverdue, "交接超时", "Handover overdue", "护送出发72小时未交接", "No handover 72 hours after the escort left"),
	alertRow(projections.RuleAbsconded, "擅自离站预警", "Absconded", "擅自离站至结案", "From the absconding to the closure"),
	{Code: "alerts_cleared", ZH: "已解除预警", EN: "Alerts cleared",
		DefZH: "上述预警中截至报表时点已解除的", DefEN: "Of them, cleared by the report's moment",
		value: func(f *projections.ReportFigures) any { return f.AlertsCleared }},
	{Code: "alert_clear_hours_average", ZH: "平均解除时长(小时)", EN: "Average hours to clear",
		DefZH: "触发至解除的小时数平均值", DefEN: "Mean hours from raising to clearing",
		value: func(f *projections.ReportFigures) any { return f.AlertClearHoursAverage }},
	{Code: "alert_clear_hours_median", ZH: "解除时长中位数(小时)", EN: "Median hours to clear",
		DefZH: "触发至解除的小时数中位数", DefEN: "Median hours from raising to clearing",
		value: func(f *projections.ReportFigures) any { return f.AlertClearHoursMedian }},
}

func exitRow(typ, zh, en, defZH, defEN string) Figure {
	return Figure{Code: "exits_by_type." + typ, ZH: "  " + zh, EN: "  " + en, DefZH: defZH, DefEN: defEN,
		value: func(f *projections.ReportFigures) any { return f.ExitsByType[typ] }}
}

func alertRow(rule, zh, en, defZH, defEN string) Figure {
	return Figure{Code: "alerts_by_rule." + rule, ZH: "  " + zh, EN: "  " + en, DefZH: defZH, DefEN: defEN,
		value: func(f *projections.ReportFigures) any { return f.AlertsByRule[rule] }}
}

// words are the table's other labels by language.
var words = map[string]map[string]string{
	Chinese: {
		"code": "代码", "figure": "指标", "definition": "定义", "total": "合计", "region": "区域",
		"period": "报表期", "scope": "范围", "basis": "口径", "as_of": "统计时点", "complete": "期间已结束",
		"live": "当前(含补录)", "occurred": "按发生时间(含其后补录)", "known": "截至该时点已录入",
		"station": "救助站", "all": "全部", "yes": "是", "no": "否", "sheet": "报表",
		"dates": "日期", "note": "日期均为北京时间;定义详见 docs/reports.md",
	},
	English: {
		"code": "Code", "figure": "Figure", "definition": "Definition", "total": "Total", "region": "Region",
		"period": "Period", "scope": "Scope", "basis": "Basis", "as_of": "As of", "complete": "Period ended",
		"live": "now (late paperwork included)", "occurred": "by occurred time (recorded since included)",
		"known": "as recorded by then", "station": "Station", "all": "all", "yes": "yes", "no": "no",
		"sheet": "Report", "dates": "Dates", "note": "Dates are civil dates in Beijing time; see docs/reports.md",
	},
}

// Lang returns Chinese or English for a lang value ("en", "en-GB", ...);
// anything else is Chinese.
func Lang(s string) string {
	if len(s) >= 2 && (s[:2] == "en" || s[:2] == "EN" || s[:2] == "En") {
		return English
	}
	return Chinese
}

// Table lays rep out in lang: a header row (code, figure, definition, then
// one column for the selection, each station and each region), the rows
// that say which report it is (period, dates, scope, basis, as of,
// complete: the value in the definition's column), then one row per
// figure. A null figure is an empty cell.
// Cells are strings, ints or float64s.
func Table(rep projections.Report, lang string) [][]any {
	w := words[Lang(lang)]
	en := Lang(lang) == English
	cols := []*projections.ReportFigures{&rep.ReportFigures}
	header := []any{w["code"], w["figure"], w["definition"], w["total"]}
	for i := range rep.Stations {
		s := &rep.Stations[i]
		cols = append(cols, &s.ReportFigures)
		header = append(header, s.Station+" "+s.Name)
	}
	for i := range rep.Regions {
		g := &rep.Regions[i]
		cols = append(cols, &g.ReportFigures)
		header = append(header, w["region"]+" "+g.Region)
	}
	scope := w["all"]
	switch {
	case rep.Station != "":
		scope = w["station"] + " " + rep.Station
	case rep.Region != "":
		scope = w["region"] + " " + rep.Region
	}
	complete := w["no"]
	if rep.Complete {
		complete = w["yes"]
	}
	out := [][]any{header}
	meta := func(code, value string) {
		row := make([]any, len(header))
		for i := range row {
			row[i] = ""
		}
		row[0], row[1], row[2] = code, w[code], value
		out = append(out, row)
	}
	meta("period", rep.Period)
	meta("dates", rep.FromDate+" – "+rep.ToDate)
	meta("scope", scope)
	meta("basis", w[rep.Basis])
	meta("as_of", rep.AsOf.Format(time.RFC3339))
	meta("complete", complete)
	for _, f := range Figures {
		name, def := f.ZH, f.DefZH
		if en {
			name, def = f.EN, f.DefEN
		}
		row := []any{f.Code, name, def}
		for _, c := range cols {
			row = append(row, cell(f.value(c)))
		}
		out = append(out, row)
	}
	return out
}

// cell turns a figure's value into a cell: "" for null.
func cell(v any) any {
	switch v := v.(type) {
	case *float64:
		if v == nil {
			return ""
		}
		return *v
	case *int:
		if v == nil {
			return ""
		}
		return *v
	}
	return v
}

// WriteCSV writes the table of rep in lang as CSV (UTF-8 with a byte-order
// mark, which spreadsheets need to read Chinese from CSV).
func WriteCSV(out io.Writer, rep projections.Report, lang string) error {
	if _, err := io.WriteString(out, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(out)
	for _, row := range Table(rep, lang) {
		rec := make([]string, len(row))
		for i, c := range row {
			switch c := c.(type) {
			case string:
				rec[i] = c
			case int:
				rec[i] = strconv.Itoa(c)
			case float64:
				rec[i] = strconv.FormatFloat(c, 'f', -1, 64)
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// SheetName returns the name of the workbook's one sheet in lang.
func SheetName(lang string) string { return words[Lang(lang)]["sheet"] }

// WriteXLSX writes the table of rep in lang as a one-sheet workbook: the
// header row bold and frozen, numbers as numbers.
func WriteXLSX(out io.Writer, rep projections.Report, lang string) error {
	x := excelize.NewFile()
	defer x.Close()
	sheet := SheetName(lang)
	if err := x.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	for i, row := range Table(rep, lang) {
		ref, err := excelize.CoordinatesToCellName(1, i+1)
		if err != nil {
			return err
		}
		if err := x.SetSheetRow(sheet, ref, &row); err != nil {
			return fmt.Errorf("reports: row %d: %w", i+1, err)
		}
	}
	bold, err := x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	last, _ := excelize.ColumnNumberToName(3 + 1 + len(rep.Stations) + len(rep.Regions))
	if err := x.SetCellStyle(sheet, "A1", last+"1", bold); err != nil {
		return err
	}
	if err := x.SetColWidth(sheet, "B", "B", 28); err != nil {
		return err
	}
	if err := x.SetColWidth(sheet, "C", "C", 60); err != nil {
		return err
	}
	if err := x.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	_, err = x.WriteTo(out)
	return err
}
