package http_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"waystation/domain"
	wshttp "waystation/http"
)

// decoders are every request body the API decodes: the intake, the
// station registration, the token request, each case step, the change of
// a station's zones, the erasure, and the bodies of the login, the
// activation, the TOTP confirmation and the account's creation. New ones
// go at the end: the seeds pick a decoder by index.
func decoders() []func() any {
	out := []func() any{
		func() any { return new(domain.Intake) },
		func() any { return new(domain.RegisterStation) },
		func() any { return new(wshttp.TokenRequest) },
	}
	for _, step := range domain.CaseSteps() {
		out = append(out, func() any { c, _ := domain.NewCommand(step); return c })
	}
	return append(out,
		func() any { return new(domain.ChangeZones) },
		func() any { return new(wshttp.EraseBody) },
		func() any { return new(wshttp.LoginRequest) },
		func() any { return new(wshttp.ActivateRequest) },
		func() any { return new(wshttp.TOTPConfirm) },
		func() any { return new(wshttp.AccountRequest) },
	)
}

// checkDecode decodes body into a fresh value of kind and checks the
// decoder's contract: an error is an invalid (400) domain error, never a
// panic; a body that decoded is valid UTF-8, repeats no member of any
// object and had no text replaced by U+FFFD (each checked here without
// the decoder's own scan); a value that decoded encodes to JSON that
// decodes again to the same value (its text was cleaned once and for
// all).
func checkDecode(t *testing.T, newValue func() any, body []byte) {
	v := newValue()
	err := wshttp.DecodeStrict(body, v)
	if err != nil {
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.CodeInvalid {
			t.Fatalf("decode error %v is not an invalid domain error", err)
		}
		return
	}
	if !utf8.Valid(body) {
		t.Fatalf("accepted a body that is not valid UTF-8: %q", body)
	}
	if k, ok := repeatedMember(body); ok {
		t.Fatalf("accepted a body that repeats member %q: %q", k, body)
	}
	if replaced(body) {
		t.Fatalf("accepted a body whose text was replaced with U+FFFD: %q", body)
	}
	again, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("re-encoding a decoded %T: %v", v, err)
	}
	w := newValue()
	if err := wshttp.DecodeStrict(again, w); err != nil {
		t.Fatalf("re-decoding %s into %T: %v", again, w, err)
	}
	if !reflect.DeepEqual(normalise(t, v), normalise(t, w)) {
		t.Fatalf("round trip changed %T: %s", v, again)
	}
}

// repeatedMember finds a member repeated in one object of the JSON
// document body, with encoding/json's tokenizer.
func repeatedMember(body []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	type frame struct {
		object bool
		keys   map[string]bool
		key    bool // the next string token is a member's name
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch x := tok.(type) {
		case json.Delim:
			switch x {
			case '{':
				if top != nil && top.object {
					top.key = true
				}
				stack = append(stack, &frame{object: true, keys: map[string]bool{}, key: true})
			case '[':
				if top != nil && top.object {
					top.key = true
				}
				stack = append(stack, &frame{})
			default:
				stack = stack[:len(stack)-1]
			}
		case string:
			if top != nil && top.object && top.key {
				if top.keys[x] {
					return x, true
				}
				top.keys[x] = true
				top.key = false
				continue
			}
			if top != nil && top.object {
				top.key = true
			}
		default:
			if top != nil && top.object {
				top.key = true
			}
		}
	}
}

// replaced reports whether decoding body turns some text into U+FFFD
// that body does not spell as U+FFFD itself.
func replaced(body []byte) bool {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return false
	}
	b, _ := json.Marshal(v)
	return bytes.ContainsRune(b, utf8.RuneError) && !bytes.ContainsRune(body, utf8.RuneError) &&
		!bytes.Contains(bytes.ToLower(body), []byte(`\ufffd`))
}

// normalise compares through JSON, as clients see values.
func normalise(t *testing.T, v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// FuzzDecodeCommand fuzzes every request decoder; the first byte picks the
// decoder.
func FuzzDecodeCommand(f *testing.F) {
	f.Add(byte(0), []byte(`{"station":"S01","referral":{"source":"walk_in"},"person":{"sex":"male","birth_date":"1980-05-06"}}`))
	f.Add(byte(1), []byte(`{"code":"S01","name":"n","region":"R1","kind":"station","zones":[{"zone":"minors","beds":2}]}`))
	f.Add(byte(2), []byte(`{"role":"staff","station":"S01"}`))
	f.Add(byte(3), []byte(`{"eligible":false,"reason":"r","notice_no":"n-1"}`))
	f.Add(byte(7), []byte(`{"zone":"adult_male","bed":"adult_male-3","occurred_at":"2026-01-02T03:04:05+08:00"}`))
	f.Add(byte(18), []byte(`{"until":"2026-01-02T03:04:05Z","approved_by":"a","reason":"r"}`))
	f.Add(byte(30), []byte(`{"collector":{"name":"n","id_number":"x","relationship":"son"}}`))
	f.Add(byte(35), []byte(`{"event_id":"0190a0b0-0000-7000-8000-000000000000","field":"person.sex","old":"male","new":"female","reason":"r"}`))
	f.Add(byte(4), []byte(`{"checked_by":{"staff_id":"s","sex":"female"},"items_to_police":["knife"],"zz":1}`))
	ds := decoders()
	f.Fuzz(func(t *testing.T, which byte, body []byte) {
		checkDecode(t, ds[int(which)%len(ds)], body)
	})
}

// FuzzDecodeErasure fuzzes the erase body of POST /v1/people/{id}/erase:
// a refusal is invalid, and an accepted body keeps its reason through a
// round trip.
func FuzzDecodeErasure(f *testing.F) {
	for _, s := range []string{`{"reason":"retention ended"}`, `{}`, `{"reason":1}`, `{"reason":"r","trigger":"retention"}`, `{"reason":"r"} {}`, `null`, `{"REASON":"r"}`, `{"reason":"\ud800"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkDecode(t, func() any { return new(wshttp.EraseBody) }, body)
	})
}

func TestErasureDecoderRefusesNamingTheField(t *testing.T) {
	for body, field := range map[string]string{`{"reason":1}`: "reason", `{"reason":"r","trigger":"retention"}`: "trigger"} {
		var de *domain.Error
		if err := wshttp.DecodeStrict([]byte(body), new(wshttp.EraseBody)); !errors.As(err, &de) || de.Code != domain.CodeInvalid || de.Field != field {
			t.Errorf("%s: error %v, want invalid naming %s", body, err, field)
		}
	}
}

// FuzzRequestOptions fuzzes the header decoders (If-Match,
// Idempotency-Key): an accepted If-Match never allows version 0 (no
// case or station is ever at it), and a refusal names the header.
func FuzzRequestOptions(f *testing.F) {
	for _, s := range []string{`"3"`, `W/"7"`, `*`, `12`, `"0"`, `"-1"`, `"x"`, ``, `"2", "3"`, `W/"3", "x"`, `, ,`, `"a"b"`} {
		f.Add(s, "key-1")
	}
	f.Fuzz(func(t *testing.T, ifMatch, key string) {
		r := httptest.NewRequest("POST", "/v1/cases", nil)
		r.Header["If-Match"] = []string{ifMatch}
		r.Header["Idempotency-Key"] = []string{key}
		o, err := wshttp.RequestOptions(r)
		if err != nil {
			var de *domain.Error
			if !errors.As(err, &de) || de.Code != domain.CodeInvalid || (de.Field != "If-Match" && de.Field != "Idempotency-Key") {
				t.Fatalf("refusal %v does not name a header", err)
			}
			return
		}
		if o.IfMatch != nil && o.IfMatch.Allows(0) {
			t.Fatal("accepted If-Match version 0")
		}
	})
}

func TestDecodersAcceptTheirSeeds(t *testing.T) {
	v := new(domain.Intake)
	if err := wshttp.DecodeStrict([]byte(`{"station":"S01","referral":{"source":"walk_in"},"person":{"sex":"male","birth_date":"1980-05-06"},"occurred_at":"2026-01-02T03:04:05Z"}`), v); err != nil {
		t.Fatal(err)
	}
	if v.Station != "S01" || v.Person.BirthDate.Year != 1980 || v.OccurredAt.IsZero() {
		t.Fatalf("decoded %+v", v)
	}
}

// FuzzQueryParams fuzzes the query decoders: a refusal is invalid and
// names one of the parameters.
func FuzzQueryParams(f *testing.F) {
	for _, q := range []string{"at=2026-01-02T03:04:05Z&known=true", "at=2026-01-02T03:04:05+08:00", "known=true", "limit=501", "after=3/4", "after=x", "at=%zz", "limit=-1", "position=7", "position=3/4&at=2026-01-02T03:04:05Z", "position=0"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		r := httptest.NewRequest("GET", "/v1/safety", nil)
		r.URL.RawQuery = q
		err := wshttp.QueryParams(r)
		if err == nil {
			return
		}
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.CodeInvalid {
			t.Fatalf("refusal %v is not invalid", err)
		}
		switch de.Field {
		case "at", "known", "position", "limit", "after":
		default:
			t.Fatalf("refusal names %q, not a parameter", de.Field)
		}
	})
}

func TestAMemberWithAnEmptyNameIsRefusedNamingItsObject(t *testing.T) {
	for body, field := range map[string]string{`{"":""}`: "", `{"person":{"":1}}`: "person"} {
		var de *domain.Error
		err := wshttp.DecodeStrict([]byte(body), new(domain.Intake))
		if !errors.As(err, &de) || de.Code != domain.CodeInvalid || de.Field != field || !strings.Contains(de.Message, "empty name") {
			t.Errorf("%s: error %v, want invalid naming %q and the empty name", body, err, field)
		}
	}
}
