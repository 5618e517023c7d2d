package http_test

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"reflect"
	"testing"

	"waystation/domain"
	wshttp "waystation/http"
)

// decoders are every request body the API decodes: the intake, the
// station registration, the token request, each case step, the change of
// a station's zones and the erasure. New ones go at the end: the seeds
// pick a decoder by index.
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
	)
}

// checkDecode decodes body into a fresh value of kind and checks the
// decoder's contract: an error is an invalid (400) domain error, never a
// panic; a value that decoded encodes to JSON that decodes again to the
// same value.
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
