package console_test

import (
	"net/url"
	"testing"
	"time"

	"waystation/domain"
)

// coordinator is a logged-in browser of a coordinator of region.
func (e *env) coordinator(username, region string) *browser {
	e.t.Helper()
	return e.person(username, "陈静", "coordinator", "", region, time.Now())
}

// regionInspector is a logged-in browser of an inspector of region (every
// region when empty), enrolled in two-factor through the console.
func (e *env) regionInspector(username, region string) *browser {
	e.t.Helper()
	return e.person(username, "周明", "inspector", "", region, time.Now())
}

// admitted records an intake of an adult man at b's station, screens him
// and gives him a bed in the men's zone; it returns the case ID.
func admitted(t *testing.T, b *browser, form url.Values) string {
	t.Helper()
	id := caseIDOf(t, b.post("/cases/new", form))
	screen(t, b, id)
	if p := b.post("/cases/"+id+"/steps/bed", url.Values{"zone": {"adult_male"}}); p.URL.Path != "/cases/"+id {
		t.Fatalf("bed: status %d at %s\n%s", p.Status, p.URL, p.Body)
	}
	return id
}

// stepOK posts a step's form and expects to land on the case page.
func stepOK(t *testing.T, b *browser, id, step string, form url.Values) {
	t.Helper()
	if p := b.post("/cases/"+id+"/steps/"+step, form); p.URL.Path != "/cases/"+id || p.Status != 200 {
		t.Fatalf("%s: status %d at %s\n%s", step, p.Status, p.URL, p.Body)
	}
}

func TestATransferIsAConversationBetweenTwoStationsThatStaysListed(t *testing.T) {
	// Given staff at S01 and S02 of region R1, and the region's coordinator
	e := newEnv(t)
	e.station("S01", "R1")
	e.station("S02", "R1")
	s1 := e.staff("li.wei", "S01")
	s2 := e.staff("wang.fang", "S02")
	co := e.coordinator("chen.jing", "R1")
	id := admitted(t, s1, intakeForm("save"))
	board := "/regions/R1/transfers"

	// When S01 requests a transfer to S02
	stepOK(t, s1, id, "transfer-request", url.Values{"to_station": {"S02"}, "reason": {"离户籍地较近，便于寻亲"}})

	// Then S02 sees it waiting for its answer, with the person's summary
	// and its free beds in the zone he needs, and may accept or decline
	p := s2.get(board)
	mustContain(t, p, "S01", "S02", "申请转移", "离户籍地较近，便于寻亲", "男", "18至59周岁", "成年男性区",
		"该区有空床 3 张", "/cases/"+id+"/steps/transfer-accept", "/cases/"+id+"/steps/transfer-decline")
	mustNotContain(t, p, "张三")
	// And S01 sees the same request without the receiver's buttons
	p = s1.get(board)
	mustContain(t, p, "待答复", "离户籍地较近，便于寻亲")
	mustNotContain(t, p, "/steps/transfer-accept")
	// And the coordinator sees the request
	mustContain(t, co.get(board), "申请转移", "待答复")

	// When S02 accepts it
	mustContain(t, s2.get("/cases/"+id+"/steps/transfer-accept"), `action="/cases/`+id+`/steps/transfer-accept"`)
	stepOK(t, s2, id, "transfer-accept", url.Values{})
	// Then the coordinator sees the acceptance and S01's turn to send the escort
	p = co.get(board)
	mustContain(t, p, "同意接收", "待安排护送出发", "/cases/"+id+"/steps/escort-departure")
	mustContain(t, s1.get(board), "/cases/"+id+"/steps/escort-departure")
	mustNotContain(t, s2.get(board), "/steps/escort-departure")

	// When S01 records the escort's departure
	stepOK(t, s1, id, "escort-departure", url.Values{"escorts": {"王强\n刘洋"}, "transport": {"站车"}})
	p = co.get(board)
	mustContain(t, p, "护送人员出发", "护送途中", "待确认交接")
	mustContain(t, s2.get(board), "/cases/"+id+"/steps/handover")

	// When S02 confirms the handover
	stepOK(t, s2, id, "handover", url.Values{"received_by": {"赵敏"}})

	// Then the transfer stays listed, handed over, with every stage
	p = co.get(board)
	mustContain(t, p, "已交接", "申请转移", "同意接收", "护送人员出发", "确认交接")
	mustNotContain(t, p, "/steps/handover")
	mustContain(t, co.get(board+"?state=ended"), "已交接")
	mustNotContain(t, co.get(board+"?state=in_flight"), "已交接")
	// And in English too
	mustContain(t, co.get(board+"?lang=en"), "handed over", "requested the transfer", "confirmed the handover",
		"adult men")
}

func TestADeclinedTransferShowsTheReceiversReason(t *testing.T) {
	e := newEnv(t)
	e.station("S01", "R1")
	e.station("S02", "R1")
	s1 := e.staff("li.wei", "S01")
	s2 := e.staff("wang.fang", "S02")
	id := admitted(t, s1, intakeForm("save"))
	stepOK(t, s1, id, "transfer-request", url.Values{"to_station": {"S02"}, "reason": {"便于寻亲"}})
	// Declined, the case is no longer S02's to read: its staff go back to
	// the page they came from, or to their board.
	p := s2.post("/cases/"+id+"/steps/transfer-decline", url.Values{"reason": {"床位已满"}})
	if p.Status != 200 || p.URL.Path != "/" {
		t.Fatalf("after the decline: status %d at %s", p.Status, p.URL)
	}
	p = s1.get("/regions/R1/transfers")
	mustContain(t, p, "拒绝接收", "床位已满", "已拒绝")
}

func TestTheRegionPageShowsFreeBedsAndAFilteredSafetyBoard(t *testing.T) {
	// Given a man admitted at S01 twelve days ago, past the 10-day limit
	e := newEnv(t)
	e.station("S01", "R1")
	e.station("S02", "R1")
	e.station("S09", "R2")
	s1 := e.staff("li.wei", "S01")
	form := intakeForm("save")
	form.Set("occurred_at", time.Now().In(domain.CivilZone).AddDate(0, 0, -12).Format("2006-01-02T15:04"))
	id := admitted(t, s1, form)
	co := e.coordinator("chen.jing", "R1")

	// When the coordinator opens the region
	p := co.get("/regions/R1")

	// Then every station of the region shows its free beds by zone
	mustContain(t, p, "救助站 S01", "救助站 S02", "成年男性区 空2 / 共3", "成年男性区 空3 / 共3", "<td>超过救助期限",
		"<td>未发布寻亲公告", "/cases/"+id)
	mustNotContain(t, p, "救助站 S09", "张三")
	// And the safety board narrows to one rule, one severity, one station
	p = co.get("/regions/R1?rule=overdue_stay")
	mustContain(t, p, "超过救助期限")
	mustNotContain(t, p, "<td>未发布寻亲公告")
	mustNotContain(t, co.get("/regions/R1?station=S02"), "/cases/"+id)
	mustContain(t, co.get("/regions/R1?station=S01"), "/cases/"+id)
	mustContain(t, co.get("/regions/R1?severity=low&rule=overdue_stay"), "没有符合条件的预警")
	mustContain(t, co.get("/regions/R1?lang=en"), "Region R1", "Safety board", "adult men 2 free of 3")
}

func TestWhoMaySeeARegionIsWhatTheAPIDecides(t *testing.T) {
	e := newEnv(t)
	e.station("S01", "R1")
	e.station("S09", "R2")
	for _, c := range []struct {
		who    string
		b      *browser
		region int
		board  int
	}{
		{"the region's coordinator", e.coordinator("chen.jing", "R1"), 200, 200},
		{"another region's coordinator", e.coordinator("he.ping", "R2"), 403, 403},
		{"the region's inspector", e.regionInspector("zhou.ming", "R1"), 200, 200},
		{"another region's inspector", e.regionInspector("sun.li", "R2"), 403, 403},
		{"an inspector of every region", e.regionInspector("qian.yu", ""), 200, 200},
		{"an admin", e.admin("wu.gang"), 200, 200},
		// Staff see their own station's transfers only, not the region.
		{"staff", e.staff("li.wei", "S01"), 403, 200},
	} {
		t.Run(c.who, func(t *testing.T) {
			if p := c.b.get("/regions/R1"); p.Status != c.region {
				t.Errorf("region page: status %d, want %d", p.Status, c.region)
			}
			if p := c.b.get("/regions/R1/transfers"); p.Status != c.board {
				t.Errorf("transfers page: status %d, want %d", p.Status, c.board)
			}
		})
	}
	if p := e.browser().get("/regions/R1"); p.URL.Path != "/login" {
		t.Errorf("an anonymous visit ended at %s, want /login", p.URL)
	}
}
