package console_test

import (
	"net/url"
	"testing"
)

// registered is an intake of 张三 with his household registration and
// where he was found, screened and given a bed; it returns the case ID.
func registered(t *testing.T, b *browser) string {
	t.Helper()
	form := intakeForm("save")
	form.Set("person.hukou_place", "河南省周口市")
	form.Set("referral.found_at", "火车站广场")
	form.Set("person.street_reason", "外出务工钱财被盗")
	return admitted(t, b, form)
}

func TestTheOfficialRecordsAreFilledFromTheCase(t *testing.T) {
	// Given 张三, registered, placed and leaving of his own will
	e := newEnv(t)
	e.station("S01", "R1")
	b := e.staff("li.wei", "S01")
	id := registered(t, b)
	forms := "/cases/" + id + "/forms/"

	// Then the case page links every record
	p := b.get("/cases/" + id)
	mustContain(t, p, forms+"intake-register", forms+"stay-exit-register", forms+"voluntary-leave",
		forms+"refusal-notice", forms+"termination-notice", "求助登记表")

	// And the intake register holds the intake's values and who recorded it
	p = b.get(forms + "intake-register")
	mustContain(t, p, "求助登记表", "救助站 S01", "张三", "1980年5月6日", "河南省周口市", "火车站广场",
		"外出务工钱财被盗", "李伟", "受助人员（签名或按手印）", `class="a4 form-intake-register"`)

	// And the declaration is printable before the leave, with blanks
	p = b.get(forms + "voluntary-leave")
	mustContain(t, p, "自行离站声明书", "张三", "本案尚未记录自行离站", "声明人（签名或按手印）")

	// When he leaves of his own will with 20 yuan
	stepOK(t, b, id, "voluntary-leave", url.Values{"declaration_ref": {"SM-2026-001"}, "cash_yuan": {"20"},
		"receipt_ref": {"SJ-2026-001"}})

	// Then the declaration and the register carry the exit
	p = b.get(forms + "voluntary-leave")
	mustContain(t, p, "SM-2026-001", `<span class="fill">20</span>`, "SJ-2026-001", "救助站 S01")
	mustNotContain(t, p, "本案尚未记录自行离站")
	p = b.get(forms + "stay-exit-register")
	mustContain(t, p, "在站服务及离站登记表", "在站服务记录", "自行离站", "SM-2026-001", "1号床", "李伟")

	// And in English
	p = b.get(forms + "voluntary-leave?lang=en")
	mustContain(t, p, "Declaration of leaving of one&#39;s own will", "I, ", "张三", "SM-2026-001")
	mustContain(t, b.get(forms+"intake-register?lang=en"), "registration form", "河南省周口市", "Registered by")
	mustContain(t, b.get(forms+"stay-exit-register?lang=en"), "Services in the station", "left voluntarily")

	if p := b.get(forms + "no-such-form"); p.Status != 404 {
		t.Errorf("an unknown record: status %d, want 404", p.Status)
	}
}

func TestTheNoticesCarryTheRefusalAndTheTermination(t *testing.T) {
	e := newEnv(t)
	e.station("S01", "R1")
	b := e.staff("li.wei", "S01")

	// Given a person refused at screening with a written notice
	refused := caseIDOf(t, b.post("/cases/new", intakeForm("save")))
	if p := b.post("/cases/"+refused+"/steps/eligibility", url.Values{"eligible": {"no"},
		"reason": {"有固定住所和稳定收入"}, "notice_no": {"BY-2026-007"}}); p.Status != 200 {
		t.Fatalf("eligibility: status %d\n%s", p.Status, p.Body)
	}
	p := b.get("/cases/" + refused + "/forms/refusal-notice")
	mustContain(t, p, "不予救助通知书", "张三", "BY-2026-007", "有固定住所和稳定收入", `<span class="fill">救助站 S01</span>（盖章）`,
		"被通知人签收")
	mustContain(t, b.get("/cases/"+refused+"/forms/refusal-notice?lang=en"), "Notice of refusal", "BY-2026-007",
		"Reason for the refusal")

	// Given a person whose assistance was terminated
	ended := registered(t, b)
	p = b.get("/cases/" + ended + "/forms/termination-notice?lang=zh-CN")
	mustContain(t, p, "本案没有终止救助的记录")
	stepOK(t, b, ended, "termination", url.Values{"reason": {"多次违反站内管理规定"}})
	p = b.get("/cases/" + ended + "/forms/termination-notice")
	mustContain(t, p, "终止救助通知书", "张三", "多次违反站内管理规定", "终止对你的救助")
	mustNotContain(t, p, "本案没有终止救助的记录")
	mustContain(t, b.get("/cases/"+ended+"/forms/termination-notice?lang=en"), "Notice of termination",
		"多次违反站内管理规定", "your assistance ends")
	// And a refusal notice of a case screened eligible prints blank
	mustContain(t, b.get("/cases/"+ended+"/forms/refusal-notice?lang=zh-CN"), "本案没有不予救助的甄别记录")
	mustNotContain(t, b.get("/cases/"+ended+"/forms/refusal-notice"), "BY-2026-007")
}

func TestPrintingARecordIsAReadTheAPILogsAndAllows(t *testing.T) {
	e := newEnv(t)
	e.station("S01", "R1")
	e.station("S09", "R2")
	b := e.staff("li.wei", "S01")
	id := registered(t, b)
	path := "/cases/" + id + "/forms/intake-register"
	reads := func() int {
		var log struct {
			Items []struct {
				Role string `json:"role"`
			} `json:"items"`
		}
		e.api("GET", "/v1/access-log?case="+id, nil, 200, &log)
		n := 0
		for _, it := range log.Items {
			if it.Role == "coordinator" {
				n++
			}
		}
		return n
	}

	co := e.coordinator("chen.jing", "R1")
	before := reads()
	mustContain(t, co.get(path), "张三")
	if after := reads(); after <= before {
		t.Errorf("the coordinator's print was not logged: %d reads before, %d after", before, after)
	}
	for _, c := range []struct {
		who  string
		b    *browser
		want int
	}{
		{"staff of the station", b, 200},
		{"staff of another station", e.staff("wang.fang", "S09"), 403},
		{"another region's coordinator", e.coordinator("he.ping", "R2"), 403},
		{"the region's inspector", e.regionInspector("zhou.ming", "R1"), 200},
		{"another region's inspector", e.regionInspector("sun.li", "R2"), 403},
		{"an admin", e.admin("wu.gang"), 200},
	} {
		t.Run(c.who, func(t *testing.T) {
			p := c.b.get(path)
			if p.Status != c.want {
				t.Fatalf("status %d, want %d", p.Status, c.want)
			}
			if c.want != 200 {
				mustNotContain(t, p, "张三")
			}
		})
	}
}
