package http_test

import (
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

// rawIntake is an intake at S01 whose person's name is the JSON text
// name (quotes and escapes included) and whose notes are the JSON text
// notes.
func rawIntake(name, notes string) string {
	return `{"station":"S01","referral":{"source":"walk_in"},"notes":` + notes +
		`,"person":{"name":` + name + `,"sex":"male","birth_date":"1980-05-06"}}`
}

// TestTextLongerThanItsFieldAllowsIsRefused: a name of a million
// characters and half a megabyte of notes were stored (201); each is 400
// naming the field, nothing is written, and the limit counts characters,
// not bytes: a 100-character Chinese name (300 bytes) is taken.
func TestTextLongerThanItsFieldAllowsIsRefused(t *testing.T) {
	e := newEnv(t)
	e.station("S01", "R1")
	before := headCount(t, e.store)
	for _, c := range []struct {
		name, body, field string
	}{
		{"a million-character name", rawIntake(`"`+strings.Repeat("a", 1_000_000)+`"`, `""`), "person.name"},
		{"101 Chinese characters", rawIntake(`"`+strings.Repeat("张", 101)+`"`, `""`), "person.name"},
		{"500 KB of notes", rawIntake(`"张三"`, `"`+strings.Repeat("n", 500_000)+`"`), "notes"},
		{"a contact's name", `{"station":"S01","referral":{"source":"walk_in"},"person":{"sex":"male","birth_date":"1980-05-06",` +
			`"contacts":[{"name":"a"},{"name":"` + strings.Repeat("b", 101) + `"}]}}`, "person.contacts.1.name"},
		{"eleven contacts", `{"station":"S01","referral":{"source":"walk_in"},"person":{"sex":"male","birth_date":"1980-05-06","contacts":[` +
			strings.Repeat(`{"name":"a"},`, 10) + `{"name":"a"}]}}`, "person.contacts"},
		{"a station code of 33 characters", `{"station":"` + strings.Repeat("S", 33) + `","referral":{"source":"walk_in"},"person":{"sex":"male","birth_date":"1980-05-06"}}`, "station"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := expectProblem(t, e.call(adminToken, "POST", "/v1/cases", c.body), http.StatusBadRequest, "invalid", c.field)
			if !strings.Contains(p.Detail, "more than") && !strings.Contains(p.Detail, "longer than") {
				t.Errorf("detail %q does not say what the limit is", p.Detail)
			}
		})
	}
	if got := headCount(t, e.store); got != before {
		t.Fatalf("the log grew from %d to %d events on refused requests", before, got)
	}
	rec := e.must(http.StatusCreated, adminToken, "POST", "/v1/cases", rawIntake(`"`+strings.Repeat("张", 100)+`"`, `"`+strings.Repeat("记", 4000)+`"`))
	id := decodeAs[struct{ ID string }](t, rec).ID
	got := decodeAs[struct {
		Person struct{ Name string } `json:"person"`
	}](t, e.must(http.StatusOK, adminToken, "GET", "/v1/cases/"+id, nil))
	if utf8.RuneCountInString(got.Person.Name) != 100 {
		t.Fatalf("the stored name has %d characters, want 100", utf8.RuneCountInString(got.Person.Name))
	}
}

// TestTextThatIsNotCleanTextIsRefused: invalid UTF-8, a lone surrogate,
// NUL and other control characters were stored as sent or silently
// replaced with U+FFFD; each is 400 naming the field, and the message
// never repeats the value.
func TestTextThatIsNotCleanTextIsRefused(t *testing.T) {
	e := newEnv(t)
	e.station("S01", "R1")
	before := headCount(t, e.store)
	for _, c := range []struct {
		name, body, field string
	}{
		{"invalid UTF-8 in a name", rawIntake("\"\xff\xfe\"", `""`), "person.name"},
		{"invalid UTF-8 in notes", rawIntake(`"张三"`, "\"ok \xc3\x28\""), "notes"},
		{"a lone high surrogate", rawIntake(`"\ud800"`, `""`), "person.name"},
		{"a lone low surrogate in notes", rawIntake(`"张三"`, `"a\udc00b"`), "notes"},
		{"a high surrogate before another escape", rawIntake(`"\ud800\u0041"`, `""`), "person.name"},
		{"NUL in a name", rawIntake(`"a\u0000b"`, `""`), "person.name"},
		{"NUL in notes", rawIntake(`"张三"`, `"a\u0000b"`), "notes"},
		{"a bell in a name", rawIntake(`"a\u0007"`, `""`), "person.name"},
		{"a C1 control in notes", rawIntake(`"张三"`, `"a\u0085b"`), "notes"},
		{"DEL in a name", rawIntake(`"a\u007fb"`, `""`), "person.name"},
		{"a newline in a name", rawIntake(`"张\n三"`, `""`), "person.name"},
		{"a tab in a name", rawIntake(`"张\t三"`, `""`), "person.name"},
		{"a right-to-left override in a name", rawIntake(`"abc\u202edcb"`, `""`), "person.name"},
		{"a noncharacter in notes", rawIntake(`"张三"`, `"\uffff"`), "notes"},
		{"invalid UTF-8 in a member's name", "{\"station\":\"S01\",\"referral\":{\"source\":\"walk_in\"},\"person\":{\"\xff\":1,\"sex\":\"male\"}}", "person"},
		{"a lone surrogate in a list", `{"station":"S01","referral":{"source":"walk_in"},"person":{"name":"n","sex":"male","birth_date":"1980-05-06","contacts":[{"name":"\udfff"}]}}`, "person.contacts.0.name"},
		{"a code that begins with a space", `{"station":" S01","referral":{"source":"walk_in"},"person":{"sex":"male","birth_date":"1980-05-06"}}`, "station"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := expectProblem(t, e.call(adminToken, "POST", "/v1/cases", c.body), http.StatusBadRequest, "invalid", c.field)
			for _, bad := range []string{"\xff", "\x00", "\ufffd", "dcb", "S01"} {
				if strings.Contains(p.Detail, bad) {
					t.Errorf("detail %q repeats the value", p.Detail)
				}
			}
		})
	}
	if got := headCount(t, e.store); got != before {
		t.Fatalf("the log grew from %d to %d events on refused requests", before, got)
	}
}

// TestTextIsNormalisedAsItsKindSays: a name is trimmed (an ideographic
// space too) and stored in NFC; notes keep their tabs and line breaks,
// with a browser's CRLF read as a newline.
func TestTextIsNormalisedAsItsKindSays(t *testing.T) {
	e := newEnv(t)
	e.station("S01", "R1")
	decomposed := "Zoe\u0308 Li" // e + combining diaeresis
	rec := e.must(http.StatusCreated, adminToken, "POST", "/v1/cases",
		rawIntake(`"\u3000 `+decomposed+` "`, `"line one\r\n\tline two\r\n"`))
	id := decodeAs[struct{ ID string }](t, rec).ID
	c := decodeAs[struct {
		Person struct{ Name string } `json:"person"`
	}](t, e.must(http.StatusOK, adminToken, "GET", "/v1/cases/"+id, nil))
	if c.Person.Name != "Zo\u00eb Li" {
		t.Errorf("stored name %q, want %q (trimmed, NFC)", c.Person.Name, "Zo\u00eb Li")
	}
	h := decodeAs[struct {
		Events []struct {
			Data struct {
				Notes string `json:"notes"`
			} `json:"data"`
		} `json:"events"`
	}](t, e.must(http.StatusOK, adminToken, "GET", "/v1/cases/"+id+"/history", nil))
	if len(h.Events) == 0 || h.Events[0].Data.Notes != "line one\n\tline two\n" {
		t.Errorf("stored notes %+v, want the tab and two newlines kept, CRLF as LF", h.Events)
	}
}

// TestRepeatedAndMiscasedMembersAreRefused: {"eligible":false,
// "eligible":true} recorded true, and {"ELIGIBLE":true} matched
// "eligible"; both are 400 naming the member, at every level of nesting.
func TestRepeatedAndMiscasedMembersAreRefused(t *testing.T) {
	e := newEnv(t)
	e.station("S01", "R1")
	id := e.intake(adminToken, "S01")
	before := headCount(t, e.store)
	for _, c := range []struct {
		name, path, body, field string
	}{
		{"a repeated member", "/v1/cases/" + id + "/eligibility", `{"eligible":false,"eligible":true}`, "eligible"},
		{"a member in capitals", "/v1/cases/" + id + "/eligibility", `{"ELIGIBLE":true}`, "ELIGIBLE"},
		{"a member with one capital", "/v1/cases/" + id + "/eligibility", `{"Eligible":true}`, "Eligible"},
		{"a member spelt with the Kelvin sign", "/v1/cases/" + id + "/long-stay", `{"\u212aind":"in_station"}`, "\u212aind"},
		{"a repeated member written with an escape", "/v1/cases/" + id + "/eligibility", `{"eligible":true,"\u0065ligible":false}`, "eligible"},
		{"a repeated nested member", "/v1/cases", `{"station":"S01","referral":{"source":"walk_in"},"person":{"sex":"male","sex":"female","birth_date":"1980-05-06"}}`, "person.sex"},
		{"a nested member in capitals", "/v1/cases", `{"station":"S01","referral":{"source":"walk_in"},"person":{"SEX":"male","birth_date":"1980-05-06"}}`, "person.SEX"},
		{"a repeated member in a list", "/v1/cases/" + id + "/belongings", `{"deposited":[{"item":"phone","qty":1},{"item":"cash","item":"card","qty":1}]}`, "deposited.1.item"},
		{"a repeated member inside a raw value", "/v1/cases/" + id + "/correction", `{"event_id":"0190a0b0-0000-7000-8000-000000000000","field":"person.name","old":"a","new":{"x":1,"x":2},"reason":"r"}`, "new.x"},
		{"a repeated top-level object", "/v1/cases", `{"station":"S01","station":"S02","referral":{"source":"walk_in"},"person":{"sex":"male","birth_date":"1980-05-06"}}`, "station"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := expectProblem(t, e.call(adminToken, "POST", c.path, c.body), http.StatusBadRequest, "invalid", c.field)
			if c.name == "a member in capitals" && !strings.Contains(p.Detail, "eligible") {
				t.Errorf("detail %q does not name the field's spelling", p.Detail)
			}
		})
	}
	if got := headCount(t, e.store); got != before {
		t.Fatalf("the log grew from %d to %d events on refused requests", before, got)
	}
	// Each member once, spelt as documented, is taken.
	e.must(http.StatusOK, adminToken, "POST", "/v1/cases/"+id+"/eligibility", `{"eligible":true}`)
}

// TestDeeplyNestedBodiesAreRefused: a body nested past the limit is 400,
// not a stack's worth of recursion.
func TestDeeplyNestedBodiesAreRefused(t *testing.T) {
	e := newEnv(t)
	e.station("S01", "R1")
	id := e.intake(adminToken, "S01")
	deep := strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)
	body := `{"event_id":"0190a0b0-0000-7000-8000-000000000000","field":"person.name","old":"a","new":` + deep + `,"reason":"r"}`
	p := expectProblem(t, e.call(adminToken, "POST", "/v1/cases/"+id+"/correction", body), http.StatusBadRequest, "invalid", "")
	if len(p.Errors) != 1 || !strings.HasPrefix(p.Errors[0].Field, "new.0.0.") || !strings.Contains(p.Detail, "levels deep") {
		t.Fatalf("problem %+v, want the nesting refused inside new", p)
	}
}

// TestACorrectionsNewTextIsHeldToTheFieldsKind: a correction could put
// into person.name what the intake refuses (a name longer than 100
// characters, a NUL); its new value is cleaned and bounded as the field's
// own kind says, and refused naming new.
func TestACorrectionsNewTextIsHeldToTheFieldsKind(t *testing.T) {
	e := newEnv(t)
	e.station("S01", "R1")
	id := e.intake(adminToken, "S01")
	h := decodeAs[struct {
		Events []struct {
			EventID string `json:"event_id"`
		} `json:"events"`
	}](t, e.must(http.StatusOK, adminToken, "GET", "/v1/cases/"+id+"/history", nil))
	correct := func(newValue string) string {
		return `{"event_id":"` + h.Events[0].EventID + `","field":"person.name","old":"张三","new":` + newValue + `,"reason":"misspelt"}`
	}
	for name, v := range map[string]string{
		"101 characters": `"` + strings.Repeat("李", 101) + `"`,
		"a NUL":          `"李\u0000四"`,
		"a line break":   `"李\n四"`,
	} {
		t.Run(name, func(t *testing.T) {
			expectProblem(t, e.call(adminToken, "POST", "/v1/cases/"+id+"/correction", correct(v)), http.StatusBadRequest, "invalid", "new")
		})
	}
	e.must(http.StatusOK, adminToken, "POST", "/v1/cases/"+id+"/correction", correct(`"  李四\u3000"`))
	c := decodeAs[struct {
		Person struct{ Name string } `json:"person"`
	}](t, e.must(http.StatusOK, adminToken, "GET", "/v1/cases/"+id, nil))
	if c.Person.Name != "李四" {
		t.Fatalf("corrected name %q, want it trimmed to %q", c.Person.Name, "李四")
	}
}
