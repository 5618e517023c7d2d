package console_test

import (
	"archive/tar"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

var bracketed = regexp.MustCompile(`\[(admin|field|enum|rule|code|error|nav|form)\.[a-z0-9_.]+\]`)

// noMissingKeys fails when p shows a catalogue key in brackets: a key
// the catalogue lacks.
func noMissingKeys(t *testing.T, p page) {
	t.Helper()
	if k := bracketed.FindString(p.Body); k != "" {
		t.Errorf("%s shows the missing catalogue key %s", p.URL, k)
	}
}

func TestAnAdminDownloadsABackup(t *testing.T) {
	// Given the whole server, a station and an admin
	e := newEnvWith(t, envOptions{retention: time.Hour})
	e.station("S01", "R1")
	b := e.admin("wang.fang")
	p := b.get("/admin")
	noMissingKeys(t, p)
	mustContain(t, p, `action="/admin/backup"`, "下载备份")

	// When they press the button
	p = b.post("/admin/backup", url.Values{})

	// Then the browser receives the store as a tar file to save
	if p.Status != http.StatusOK {
		t.Fatalf("status %d:\n%.2000s", p.Status, p.Body)
	}
	if cd := p.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, ".tar") {
		t.Fatalf("Content-Disposition %q", cd)
	}
	if p.Header.Get("Content-Type") != "application/octet-stream" || p.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Content-Type %q, Cache-Control %q", p.Header.Get("Content-Type"), p.Header.Get("Cache-Control"))
	}
	tr := tar.NewReader(strings.NewReader(p.Body))
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the download is not a whole tar archive: %v (after %v)", err, names)
		}
		names = append(names, h.Name)
	}
	if len(names) < 2 {
		t.Fatalf("the archive holds %v", names)
	}
}

// closedCase records, as the admin token, an intake at S01 three days ago,
// its termination and its closure two days ago, and returns its ID.
func (e *env) closedCase(name string) string {
	e.t.Helper()
	at := func(d time.Duration) string { return time.Now().Add(d).UTC().Format(time.RFC3339) }
	var c struct {
		ID string `json:"id"`
	}
	e.api("POST", "/v1/cases", map[string]any{"station": "S01", "occurred_at": at(-72 * time.Hour),
		"referral": map[string]any{"source": "outreach"},
		"person":   map[string]any{"name": name, "sex": "male", "birth_date": "1970-03-04"}}, 201, &c)
	e.api("POST", "/v1/cases/"+c.ID+"/termination", map[string]any{"reason": "no longer eligible",
		"occurred_at": at(-71 * time.Hour)}, 200, nil)
	e.api("POST", "/v1/cases/"+c.ID+"/closure", map[string]any{"occurred_at": at(-48 * time.Hour)}, 200, nil)
	return c.ID
}

func TestAnAdminErasesThePeopleDueAndIsToldWhyAnOpenCaseCannotBe(t *testing.T) {
	// Given a case closed two days ago under a retention of an hour, and
	// a case still open
	e := newEnvWith(t, envOptions{retention: time.Hour})
	e.station("S01", "R1")
	due := e.closedCase("钱七")
	var open struct {
		ID string `json:"id"`
	}
	e.api("POST", "/v1/cases", map[string]any{"station": "S01", "referral": map[string]any{"source": "walk_in"},
		"person": map[string]any{"name": "孙八", "sex": "female", "birth_date": "1985-01-02"}}, 201, &open)
	b := e.admin("wang.fang")

	// When the admin opens the retention page
	p := b.get("/admin/retention")
	noMissingKeys(t, p)

	// Then the closed case is listed as due, with its erasure's reasons
	mustContain(t, p, "保存期限已届满的案件", `href="/cases/`+due+`"`, "1小时", `value="retention_ended" selected`, "本人申请删除")
	mustNotContain(t, p, open.ID)

	// When they erase it: first asked to confirm, then erased
	form := url.Values{"case_id": {due}, "reason": {"retention_ended"}}
	p = b.post("/admin/retention/erase", form)
	mustContain(t, p, "删除案件 "+due+" 当事人的个人信息？", "删除依据：保存期限届满", `name="confirm" value="yes"`)
	form.Set("confirm", "yes")
	p = b.post("/admin/retention/erase", form)
	noMissingKeys(t, p)
	mustContain(t, p, "已删除 1 个案件中的个人信息", due, "目前没有到期的案件")

	// When they try to erase the open case's person on request
	p = b.post("/admin/retention/erase", url.Values{"case_id": {open.ID}, "reason": {"subject_request"},
		"confirm": {"yes"}})

	// Then the API's refusal is shown beside the form, with its rule
	if p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422:\n%s", p.Status, p.Body)
	}
	mustContain(t, p, "案件尚未结案，不能删除个人信息", "erasure_of_open_case", `value="`+open.ID+`"`)

	// And in English
	b.lang = "en"
	p = b.get("/admin/retention")
	noMissingKeys(t, p)
	mustContain(t, p, "Retention and erasure", "Erase on request or by order")
}
