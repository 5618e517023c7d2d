package sealed_test

import (
	"testing"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
)

// BenchmarkSealIntake and BenchmarkOpenIntake measure sealing and opening
// an intake with every kind of personal value; BenchmarkOpenClear an event
// with none (the cost every station and access event pays on read).
func BenchmarkSealIntake(b *testing.B) {
	s := openSealed(b, b.TempDir())
	id := uuid.New()
	ev := intake(b, id)
	stream := domain.CaseStream(id)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Seal(stream, ev); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpenIntake(b *testing.B) {
	s := openSealed(b, b.TempDir())
	id := uuid.New()
	ev, err := s.Seal(domain.CaseStream(id), intake(b, id))
	if err != nil {
		b.Fatal(err)
	}
	rec := eventstore.RecordedEvent{ID: ev.ID, Stream: domain.CaseStream(id), Type: ev.Type, Data: ev.Data}
	b.SetBytes(int64(len(ev.Data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Open(rec); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpenClear(b *testing.B) {
	s := openSealed(b, b.TempDir())
	rec := eventstore.RecordedEvent{ID: uuid.New(), Stream: "station-S01", Type: domain.TypeBedAssigned,
		Data: []byte(`{"case_id":"01940000-0000-7000-8000-000000000001","zone":"adult_male","bed":"adult_male-3"}`)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Open(rec); err != nil {
			b.Fatal(err)
		}
	}
}
