package http_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"waystation/domain"
	wshttp "waystation/http"
)

// benchIntake is an intake as a station's client sends it: a police
// escort with the person's details, two contacts and inspection notes.
const benchIntake = `{"station":"S01","occurred_at":"2026-03-01T20:15:00+08:00","notes":"arrived by police car; calm",` +
	`"referral":{"source":"police_escort","form_no":"JX-2026-0042","referred_by":"城南派出所 王警官","found_at":"人民路桥下"},` +
	`"person":{"name":"张三","sex":"male","birth_date":"1980-05-06","id_type":"resident_id","hukou_place":"河南省周口市",` +
	`"dialect":"河南话","can_state_identity":true,"street_reason":"lost his job",` +
	`"contacts":[{"name":"张丽","relationship":"sister","phone":"13800138000"},{"name":"李四","relationship":"friend","phone":"13900139000"}]},` +
	`"inspection":{"injuries":true,"seriously_ill":false,"notes":"bruise on the left arm"}}`

// BenchmarkDecodeStrict decodes a typical intake body with the API's
// strict decoder, as POST /v1/cases does, and, for comparison in the same
// run, with encoding/json alone refusing unknown fields (what the strict
// decoder adds is the rest).
func BenchmarkDecodeStrict(b *testing.B) {
	body := []byte(benchIntake)
	b.Run("strict", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var cmd domain.Intake
			if err := wshttp.DecodeStrict(body, &cmd); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var cmd domain.Intake
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&cmd); err != nil {
				b.Fatal(err)
			}
		}
	})
}
