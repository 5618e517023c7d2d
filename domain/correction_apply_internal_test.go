package domain

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestErasedCaseKeepsNoPersonalValues: once a case's personal data is
// erased, the payloads the case keeps for corrections hold none of the
// values PersonalPaths names.
func TestErasedCaseKeepsNoPersonalValues(t *testing.T) {
	at := time.Date(2026, 1, 10, 8, 0, 0, 0, time.UTC)
	id := func(i int) uuid.UUID { return uuid.UUID{15: byte(i + 1)} }
	events := []Event{
		IntakeRegistered{
			CaseID: id(99), Station: "S01", Person: Person{Name: "Zhang", Sex: Male, Dialect: "Wu"},
			Referral:   Referral{Source: SourceWalkIn, FoundAt: "Bridge 3"},
			Inspection: Inspection{Injuries: true},
		},
		MedicalReferred{Hospital: "First People's", Notes: "fever"},
		Corrected{EventID: id(1), CorrectedType: TypeMedicalReferred, Field: "hospital",
			Old: json.RawMessage(`"First People's"`), New: json.RawMessage(`"Second"`), Reason: "typo"},
		PersonalDataErased{Reason: ErasureSubjectRequest, Trigger: ErasureOnRequest},
	}
	var c Case
	for i, e := range events {
		meta := Metadata{OccurredAt: at.Add(time.Duration(i) * time.Hour)}
		c.Apply(Envelope{Revision: uint64(i), ID: id(i), Meta: meta, Event: e})
	}
	for _, ev := range c.eventPayloads() {
		data := string(rawOf(ev))
		for _, s := range []string{"Zhang", "Wu", "Bridge", "injuries", "People", "Second", "fever", "typo"} {
			if strings.Contains(data, s) {
				t.Errorf("%s keeps %q: %s", ev.EventType(), s, data)
			}
		}
	}
	intake := func(ev Event) bool { return ev.EventType() == TypeIntakeRegistered }
	if c.Person.Sex != Male || !slices.ContainsFunc(c.eventPayloads(), intake) {
		t.Errorf("the erased case lost its clear facts: %+v", c.Person)
	}
}
