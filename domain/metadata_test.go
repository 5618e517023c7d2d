package domain

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func FuzzMetadataFastPathEqualsEncodingJSON(f *testing.F) {
	at := time.Date(2026, 1, 10, 8, 0, 0, 123, time.FixedZone("CST", 8*3600))
	full, _ := json.Marshal(Metadata{SchemaVersion: 2, OccurredAt: at, RecordedAt: at.UTC(), Actor: "a", Role: RoleStaff, Station: "S01",
		Region: "R1", CorrelationID: "c", CausationID: "d", LegalBasis: BasisStatutoryDuty, RequestHash: "h"})
	for _, s := range []string{string(full), `{}`, ` { "actor" : null } `, `{"schema_version":01}`, `{"schema_version":1e0}`,
		`{"Actor":"x"}`, `{"actor":"\u00e9"}`, `{"actor":"é"}`, `{"occurred_at":"2026-01-10T08:00:00Z","occurred_at":"2027-01-10T08:00:00Z"}`,
		`{"occurred_at":"2026-01-10 08:00:00Z"}`, `{"role":"staff"} x`, `{"schema_version":-3}`, `{"extra":{"a":1}}`, `[]`, `{"actor":"a",}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast, std Metadata
		ok := fastMetadata(b, &fast)
		stdErr := json.Unmarshal(b, &std)
		if !ok {
			return
		}
		if stdErr != nil {
			t.Fatalf("fast path accepted %q, encoding/json refused it: %v", b, stdErr)
		}
		if !reflect.DeepEqual(fast, std) {
			t.Fatalf("%q: fast %+v, encoding/json %+v", b, fast, std)
		}
	})
}

func TestMetadataFastPathTakesEncodedMetadata(t *testing.T) {
	at := time.Date(2026, 1, 10, 8, 0, 0, 5, time.UTC)
	b, _ := json.Marshal(Metadata{SchemaVersion: 1, OccurredAt: at, RecordedAt: at, Actor: "a", Role: RoleAdmin, LegalBasis: BasisConsent, RequestHash: "h"})
	var m Metadata
	if !fastMetadata(b, &m) || !m.OccurredAt.Equal(at) || m.Role != RoleAdmin || m.LegalBasis != BasisConsent {
		t.Fatalf("fast path on %s: %+v", b, m)
	}
	if err := decodeMetadata([]byte(`{"Actor":"x"}`), &m); err != nil || m.Actor != "x" {
		t.Fatalf("fallback: %+v %v", m, err)
	}
}

func BenchmarkDecodeMetadata(b *testing.B) {
	at := time.Date(2026, 1, 10, 8, 0, 0, 123456789, time.UTC)
	doc, err := json.Marshal(Metadata{SchemaVersion: 2, OccurredAt: at, RecordedAt: at.Add(time.Second), Actor: "tok-w3", Role: RoleStaff,
		Station: "S01", CorrelationID: "01940000-0000-7000-8000-000000000001", LegalBasis: BasisStatutoryDuty,
		RequestHash: "0123456789abcdef0123456789abcdef"})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var m Metadata
	for b.Loop() {
		if err := decodeMetadata(doc, &m); err != nil || m.Actor != "tok-w3" {
			b.Fatal(m, err)
		}
	}
}
