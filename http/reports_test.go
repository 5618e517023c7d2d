package http_test

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"waystation/domain"
)

// thisMonth is the report period of the current month in Beijing time.
func thisMonth() string { return time.Now().In(domain.CivilZone).Format("2006-01") }

func TestReportScopeFollowsTheToken(t *testing.T) {
	w := newWorld(t)
	w.intake(w.staff1, "S01")
	w.intake(w.staff1, "S01")
	w.intake(w.staff2, "S02")
	w.intake(w.staff3, "S03")
	type rep struct {
		Scope, Station, Region, Basis string
		Assisted                      int
		Stations                      []struct{ Station string }
	}
	path := "/v1/reports/" + thisMonth()
	for _, tc := range []struct {
		name, token, query string
		scope, station     string
		region             string
		assisted           int
	}{
		{"staff get their own station", w.staff1, "", "station", "S01", "", 2},
		{"a coordinator gets the region", w.coord1, "", "region", "", "R1", 3},
		{"a coordinator gets a station of the region", w.coord1, "?station=S02", "station", "S02", "R1", 1},
		{"a regional inspector gets the region", w.insp1, "", "region", "", "R1", 3},
		{"an inspector of everywhere gets everything", w.inspAll, "", "all", "", "", 4},
		{"an admin gets a region", adminToken, "?region=R2", "region", "", "R2", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := decodeAs[rep](t, w.must(200, tc.token, "GET", path+tc.query, nil))
			if got.Scope != tc.scope || got.Station != tc.station || got.Region != tc.region || got.Assisted != tc.assisted ||
				got.Basis != "live" {
				t.Errorf("got %+v, want scope %s station %q region %q assisted %d, live", got, tc.scope, tc.station, tc.region, tc.assisted)
			}
		})
	}
	for _, tc := range []struct{ name, token, query string }{
		{"staff of another station", w.staff1, "?station=S02"},
		{"staff asking for their region", w.staff1, "?region=R1"},
		{"a coordinator of another region", w.coord1, "?region=R2"},
		{"a coordinator at a station of another region", w.coord1, "?station=S03"},
		{"a regional inspector elsewhere", w.insp1, "?station=S03"},
	} {
		t.Run(tc.name+" is refused", func(t *testing.T) {
			expectProblem(t, w.call(tc.token, "GET", path+tc.query, nil), http.StatusForbidden, "forbidden", "")
		})
	}
	expectProblem(t, w.call(w.staff1, "GET", "/v1/reports/2026-Q5", nil), 400, "invalid", "period")
	expectProblem(t, w.call(w.staff1, "GET", path+"?format=pdf", nil), 400, "invalid", "format")
	expectProblem(t, w.call(w.staff1, "GET", path+"?known=true", nil), 400, "invalid", "known")
	expectProblem(t, w.call(adminToken, "GET", path+"?station=S09", nil), 404, "not_found", "")
}

func TestReportAsXLSXReadsBackInChineseAndInEnglish(t *testing.T) {
	w := newWorld(t)
	w.intake(w.staff1, "S01")
	path := "/v1/reports/" + thisMonth()
	xlsx := "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	for _, tc := range []struct {
		name, query, accept, lang string
		sheet, header, assisted   string
	}{
		{"by Accept, Chinese by default", "", xlsx, "", "报表", "代码|指标|定义|合计", "救助人次"},
		{"by format, English by Accept-Language", "?format=xlsx", "", "en-US,en;q=0.9", "Report", "Code|Figure|Definition|Total", "People assisted (person-times)"},
		{"English by lang", "?format=xlsx&lang=en", "", "zh-CN", "Report", "Code|Figure|Definition|Total", "People assisted (person-times)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var headers []string
			if tc.accept != "" {
				headers = append(headers, "Accept", tc.accept)
			}
			if tc.lang != "" {
				headers = append(headers, "Accept-Language", tc.lang)
			}
			rec := w.must(200, w.staff1, "GET", path+tc.query, nil, headers...)
			if ct := rec.Header().Get("Content-Type"); ct != xlsx {
				t.Fatalf("Content-Type %q", ct)
			}
			if cd := rec.Header().Get("Content-Disposition"); !strings.Contains(cd, "report-"+thisMonth()+"-station-S01.xlsx") {
				t.Errorf("Content-Disposition %q", cd)
			}
			x, err := excelize.OpenReader(bytes.NewReader(rec.Body.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			defer x.Close()
			rows, err := x.GetRows(tc.sheet)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(rows[0][:4], "|"); got != tc.header {
				t.Errorf("header %q, want %q", got, tc.header)
			}
			found := false
			for _, r := range rows {
				if r[0] == "assisted" {
					found = true
					if r[1] != tc.assisted || r[3] != "1" {
						t.Errorf("assisted row %q", r)
					}
				}
			}
			if !found {
				t.Error("no assisted row")
			}
		})
	}
}

func TestReportAsCSVSaysWhichMomentItIs(t *testing.T) {
	w := newWorld(t)
	w.intake(w.staff1, "S01")
	at := time.Now().UTC().Format(time.RFC3339Nano)
	rec := w.must(200, w.staff1, "GET", "/v1/reports/"+thisMonth()+"?as_of="+at+"&known=true", nil, "Accept", "text/csv")
	if ct := rec.Header().Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(rec.Body.String(), "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	byCode := map[string][]string{}
	for _, r := range rows {
		byCode[r[0]] = r
	}
	if got := byCode["basis"][2]; got != "截至该时点已录入" {
		t.Errorf("basis %q", got)
	}
	if got := byCode["assisted"][3]; got != "1" {
		t.Errorf("assisted %q", got)
	}
	if byCode["as_of"][2] == "" {
		t.Error("no as_of")
	}
}
