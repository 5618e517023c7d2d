package domain_test

import (
	"encoding/json"
	"testing"
	"time"

	"waystation/domain"
)

// caseJSON returns c as the API shows it, without its version and
// corrections.
func caseJSON(tb testing.TB, c domain.Case) string {
	tb.Helper()
	c.Version, c.Corrections = 0, nil
	b, err := json.Marshal(c)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// TestCorrectionFoldsTheCorrectedEvent: a case with a correction is the
// case folded from its events with the corrected value recorded from the
// start, whatever came after the corrected event.
func TestCorrectionFoldsTheCorrectedEvent(t *testing.T) {
	admitted := domain.HospitalAdmitted{Hospital: "First People's"}
	guardianship := domain.GuardianshipTaken{Basis: "art. 92", Guardian: "Bureau"}
	report := domain.PoliceReportFiled{Reason: domain.ReportSuspectedLost, ReportNo: "P-1"}
	given := []any{intake(boy10, noFlags), eligible, checkedM,
		domain.MedicalReferred{Hospital: "First People's"}, admitted, guardianship, report,
		domain.PoliceReportFiled{Reason: domain.ReportOther, ReportNo: "P-2"}}
	tests := []struct {
		name  string
		event int // index in given
		field string
		new   any
		fixed any // given[event] with the field set to new
	}{
		{"hospital", 4, "hospital", "Second People's", domain.HospitalAdmitted{Hospital: "Second People's"}},
		{"guardian", 5, "guardian", "Civil affairs", domain.GuardianshipTaken{Basis: "art. 92", Guardian: "Civil affairs"}},
		{"first of two reports", 6, "report_no", "P-9",
			domain.PoliceReportFiled{Reason: domain.ReportSuspectedLost, ReportNo: "P-9"}},
		{"person", 0, "person.name", "Wang Ming", func() any {
			e := intake(boy10, noFlags)
			e.Person.Name = "Wang Ming"
			return e
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fixed := append([]any(nil), given...)
			fixed[tt.event] = tt.fixed
			want := foldCase(fixed)
			raw, _ := json.Marshal(tt.new)
			got := foldCase(append(append([]any(nil), given...),
				domain.Corrected{EventID: eventID(tt.event), Field: tt.field, New: raw, Reason: "typo"}))
			if g, w := caseJSON(t, got), caseJSON(t, want); g != w {
				t.Errorf("got %s\nwant %s", g, w)
			}
			if len(got.Corrections) != 1 || got.Version != uint64(len(given)+1) {
				t.Errorf("got corrections %v, version %d", got.Corrections, got.Version)
			}
		})
	}
}

// TestCorrectionKeepsTimeZones: folding a case again for a correction
// keeps the offsets its times were given with.
func TestCorrectionKeepsTimeZones(t *testing.T) {
	envs := envelopes(domain.CaseStream(caseID), []any{intake(man, noFlags), eligible, checkedM})
	for i := range envs {
		envs[i].Meta.OccurredAt = envs[i].Meta.OccurredAt.In(domain.CivilZone)
	}
	c := domain.Fold(envs)
	before := c.OpenedAt.Format(time.RFC3339)
	raw, _ := json.Marshal("Zhang Wei")
	c = domain.Evolve(c, domain.Envelope{Revision: 3, ID: eventID(3), Meta: domain.Metadata{OccurredAt: t0.Add(time.Hour)},
		Event: domain.Corrected{EventID: eventID(0), Field: "person.name", New: raw, Reason: "typo"}})
	if got := c.OpenedAt.Format(time.RFC3339); got != before || c.Person.Name != "Zhang Wei" {
		t.Errorf("opened at %s, name %q; want %s, Zhang Wei", got, c.Person.Name, before)
	}
}

// TestCorrectionOfEstimatedAgeKeepsItsDate: moving an intake whose
// estimated age has no date of its own keeps the date the age was
// estimated on, which the intake's original time gave.
func TestCorrectionOfEstimatedAgeKeepsItsDate(t *testing.T) {
	p := elderly
	p.AgeEstimatedOn = domain.Date{}
	c := foldCase([]any{intake(p, noFlags)})
	raw, _ := json.Marshal(t0.Add(-72 * time.Hour))
	c = domain.Evolve(c, domain.Envelope{Revision: 1, ID: eventID(1), Meta: domain.Metadata{OccurredAt: t0.Add(time.Hour)},
		Event: domain.Corrected{EventID: eventID(0), Field: domain.OccurredAtField, New: raw, Reason: "late"}})
	moved := t0.Add(-72 * time.Hour)
	if got, want := c.Person.AgeEstimatedOn, domain.CivilDate(t0); got != want || !c.OpenedAt.Equal(moved) {
		t.Errorf("age estimated on %v, opened at %v; want %v, %v", got, c.OpenedAt, want, moved)
	}
}

// TestCaseWithoutPayloads: a case that keeps no payloads of its events
// folds every other event to the state a case with them folds to, and
// refuses, by a panic, to fold itself again for a correction; the case
// folded from its stream through the correction is the corrected one.
func TestCaseWithoutPayloads(t *testing.T) {
	envs := envelopes(domain.CaseStream(caseID), []any{intake(boy10, noFlags), eligible, checkedM,
		domain.MedicalReferred{Hospital: "First People's"}, domain.HospitalAdmitted{Hospital: "First People's"}})
	c := domain.Case{}.WithoutPayloads()
	for _, env := range envs {
		c = domain.Evolve(c, env)
	}
	if got, want := caseJSON(t, c), caseJSON(t, domain.Fold(envs)); got != want {
		t.Errorf("without payloads: got %s\nwant %s", got, want)
	}
	raw, _ := json.Marshal("Second People's")
	correction := domain.Envelope{Revision: uint64(len(envs)), ID: eventID(len(envs)),
		Meta:  domain.Metadata{OccurredAt: t0.Add(time.Hour)},
		Event: domain.Corrected{EventID: eventID(4), Field: "hospital", New: raw, Reason: "typo"}}
	t.Run("a correction panics", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Error("Evolve of a correction on a case without payloads did not panic")
			}
		}()
		domain.Evolve(c, correction)
	})
	folded := domain.Fold(append(envs, correction)).WithoutPayloads()
	if folded.Medical.Hospital != "Second People's" || len(folded.Corrections) != 1 {
		t.Errorf("folded from the stream: hospital %q, corrections %v", folded.Medical.Hospital, folded.Corrections)
	}
}
