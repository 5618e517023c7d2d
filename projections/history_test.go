package projections_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
	"waystation/projections"
)

func TestCaseViewAndHistory(t *testing.T) {
	w := newWorld(t)
	w.station("S01", "R1", stdZones...)
	w.station("S02", "R2", stdZones...)
	id := w.intake("S01", t0, man, domain.Inspection{})
	w.step(id, t0.Add(time.Minute), domain.EligibilityDecided{Eligible: true})
	w.bed("S01", id, t0.Add(2*time.Minute), domain.ZoneAdultMale, 2)
	w.step(id, t0.Add(48*time.Hour), domain.TransferRequested{From: "S01", To: "S02", Reason: "hometown"})
	w.step(id, t0.Add(49*time.Hour), domain.TransferAccepted{From: "S01", To: "S02"})
	w.step(id, t0.Add(50*time.Hour), domain.EscortDeparted{From: "S01", To: "S02", Escorts: []string{"e1"}})
	w.step(id, t0.Add(60*time.Hour), domain.HandedOver{From: "S01", To: "S02", ReceivedBy: "staff-2"})
	w.release("S01", id, t0.Add(60*time.Hour), domain.ZoneAdultMale, 2, domain.ReleaseHandover)
	r := w.runner(newClock(t0.Add(61 * time.Hour)).now)

	c, ok := r.Case(id)
	if !ok {
		t.Fatal("case not found")
	}
	if c.Station != "S02" || c.Region != "R2" || c.Status != domain.StatusInStation || c.Bed != nil || c.Version != 6 {
		t.Errorf("case: station %s region %s status %s bed %v version %d", c.Station, c.Region, c.Status, c.Bed, c.Version)
	}

	h, err := r.History(id, projections.AsOf{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Events) != 8 {
		t.Fatalf("history has %d events, want 8 (6 of the case, 2 of the station)", len(h.Events))
	}
	for i := 1; i < len(h.Events); i++ {
		if !h.Events[i-1].Position.Before(h.Events[i].Position) {
			t.Errorf("events %d and %d are not in log order", i-1, i)
		}
	}
	if h.Events[2].Type != domain.TypeBedAssigned {
		t.Errorf("third event: got %s, want the bed assignment", h.Events[2].Type)
	}
	var bed domain.BedAssigned
	if err := json.Unmarshal(h.Events[2].Data, &bed); err != nil || bed.CaseID != id || bed.Bed != "adult_male-2" ||
		h.Events[2].Stream != domain.StationStream("S01") || h.Events[2].OccurredAt.IsZero() {
		t.Errorf(
			"bed assignment in the history: %+v (%v), stream %s, occurred %v", bed, err, h.Events[2].Stream,
			h.Events[2].OccurredAt,
		)
	}

	// At version 3 (the transfer request), the case held its bed at S01.
	v3, err := r.History(id, projections.AsOf{}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if v3.Version != 3 || v3.State.Station != "S01" || v3.State.Bed == nil ||
		v3.State.Bed.Bed != "adult_male-2" || v3.State.Transfer == nil {
		t.Errorf(
			"version 3: got version %d station %s bed %v transfer %v", v3.Version, v3.State.Station,
			v3.State.Bed, v3.State.Transfer,
		)
	}
	// As of 55 hours in, the person was in transit.
	mid, err := r.History(id, projections.AsOf{At: t0.Add(55 * time.Hour)}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if mid.State.Status != domain.StatusInTransit || mid.Version != 5 {
		t.Errorf("as of +55h: status %s version %d, want in_transit 5", mid.State.Status, mid.Version)
	}
	if _, err := r.History(id, projections.AsOf{At: t0.Add(-time.Hour)}, 0); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("before the intake: got %v, want not_found", err)
	}
	var de *domain.Error
	if _, err := r.History(
		id, projections.AsOf{}, 7,
	); !errors.Is(err, domain.ErrInvalid) || !errors.As(err, &de) || de.Field != "version" {
		t.Errorf("version 7 of 6: got %v, want invalid naming version", err)
	}
}

// TestHistoryGivesEachEventsIDAndPosition: staff take the event_id that a
// correction needs from a case's history, for the case's own events and
// for the station's bed events about it alike.
func TestHistoryGivesEachEventsIDAndPosition(t *testing.T) {
	w := newWorld(t)
	w.station("S01", "R1", stdZones...)
	id := w.intake("S01", t0, man, domain.Inspection{})
	w.step(id, t0.Add(time.Minute), domain.EligibilityDecided{Eligible: true})
	w.bed("S01", id, t0.Add(2*time.Minute), domain.ZoneAdultMale, 2)
	other := w.intake("S01", t0.Add(3*time.Minute), woman, domain.Inspection{})
	w.bed("S01", other, t0.Add(4*time.Minute), domain.ZoneAdultFemale, 1)
	r := w.runner(newClock(t0.Add(time.Hour)).now)

	// What the log holds, by position: the IDs a correction may name.
	stored := map[eventstore.Position]uuid.UUID{}
	for _, stream := range []string{domain.CaseStream(id), domain.StationStream("S01")} {
		for rec, err := range w.store.ReadStream(context.Background(), stream, eventstore.ReadStreamOptions{}) {
			if err != nil {
				t.Fatal(err)
			}
			stored[rec.Position] = rec.ID
		}
	}
	h, err := r.History(id, projections.AsOf{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Events) != 3 {
		t.Fatalf("history has %d events, want 3", len(h.Events))
	}
	seen := map[uuid.UUID]bool{}
	for i, e := range h.Events {
		want, ok := stored[e.Position]
		if !ok || e.EventID != want || e.EventID == (uuid.UUID{}) {
			t.Errorf("event %d (%s at %s): event_id %s, want %s", i, e.Type, e.Position, e.EventID, want)
		}
		seen[e.EventID] = true
	}
	if len(seen) != 3 {
		t.Errorf("history event IDs are not distinct: %v", seen)
	}
	b, err := json.Marshal(h.Events[0])
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatal(err)
	}
	if fields["event_id"] != h.Events[0].EventID.String() || fields["position"] == nil {
		t.Errorf("a history event in JSON: %s, want event_id and position", b)
	}

	// A correction that names the intake by the history's event_id is
	// recognised by the case.
	w.step(id, t0.Add(2*time.Hour), domain.Corrected{EventID: h.Events[0].EventID, Field: "person.hukou_place",
		Old: json.RawMessage(`"Hunan"`), New: json.RawMessage(`"Hubei"`), Reason: "misheard"})
	w.sync(r)
	c, _ := r.Case(id)
	if typ, ok := c.EventType(h.Events[0].EventID); !ok || typ != domain.TypeIntakeRegistered {
		t.Errorf("the case does not know the history's event_id of its intake: %q %v", typ, ok)
	}
}

// TestViewsFoldCorrectionsAsTheCaseStreamDoes: the views keep no payloads
// of the cases' events, so they fold a correction from the case's stream;
// the state they show is the fold of that stream, live, after a rebuild
// and as of a moment between two corrections (the fold of the events that
// had happened by then: the later correction and a report recorded before
// the first but dated after the moment left out).
func TestViewsFoldCorrectionsAsTheCaseStreamDoes(t *testing.T) {
	w := newWorld(t)
	w.station("S01", "R1", stdZones...)
	id := admitted(w, man, domain.Inspection{})
	w.step(id, t0.Add(time.Hour), domain.MedicalReferred{Hospital: "First"})
	w.step(id, t0.Add(2*time.Hour), domain.HospitalAdmitted{Hospital: "First"})
	w.step(id, t0.Add(5*time.Hour), domain.PoliceReportFiled{Reason: domain.ReportOther, ReportNo: "P-1"})
	r := w.runner(newClock(t0.Add(6 * time.Hour)).now)
	h, err := r.History(id, projections.AsOf{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	intake, admission := h.Events[0].EventID, h.Events[3].EventID
	w.step(id, t0.Add(3*time.Hour), domain.Corrected{EventID: admission, CorrectedType: domain.TypeHospitalAdmitted,
		Field: "hospital", Old: json.RawMessage(`"First"`), New: json.RawMessage(`"Second"`), Reason: "typo"})
	w.step(id, t0.Add(4*time.Hour), domain.Corrected{EventID: intake, CorrectedType: domain.TypeIntakeRegistered,
		Field: "person.name", Old: json.RawMessage(`"Zhang San"`), New: json.RawMessage(`"Zhang Shan"`), Reason: "misheard"})
	w.sync(r)

	var stream []domain.Envelope
	for rec, err := range w.store.ReadStream(context.Background(), domain.CaseStream(id), eventstore.ReadStreamOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		env, err := domain.Decode(rec)
		if err != nil {
			t.Fatal(err)
		}
		stream = append(stream, env)
	}
	stateJSON := func(c domain.Case) string {
		t.Helper()
		c.Bed, c.CaseNumber = nil, ""
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	moment := t0.Add(3*time.Hour + 30*time.Minute)
	var happened []domain.Envelope
	for _, env := range stream {
		if !env.Meta.OccurredAt.After(moment) {
			happened = append(happened, env)
		}
	}
	all, then := domain.Fold(stream), domain.Fold(happened)
	if all.Medical.Hospital != "Second" || all.Person.Name != "Zhang Shan" ||
		then.Medical.Hospital != "Second" || then.Person.Name == "Zhang Shan" || len(then.PoliceReports) != 0 {
		t.Fatalf("the stream folds to hospital %q, name %q (as of %s: %q, %q, reports %v)",
			all.Medical.Hospital, all.Person.Name, moment, then.Medical.Hospital, then.Person.Name, then.PoliceReports)
	}
	live, _ := r.Case(id)
	if got, want := stateJSON(live.Case), stateJSON(all); got != want {
		t.Errorf("live views:\n got  %s\n want %s", got, want)
	}
	if err := r.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	rebuilt, _ := r.Case(id)
	if got, want := stateJSON(rebuilt.Case), stateJSON(all); got != want {
		t.Errorf("rebuilt views:\n got  %s\n want %s", got, want)
	}
	h, err = r.History(id, projections.AsOf{At: moment}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := stateJSON(h.State.Case), stateJSON(then); got != want {
		t.Errorf("history as of between the corrections:\n got  %s\n want %s", got, want)
	}
}
