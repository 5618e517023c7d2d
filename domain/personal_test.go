package domain_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"waystation/domain"
)

// TestHealthDetailsArePersonal: the health details of issue 8 are among
// the values the event store seals, in the events that record them and in
// corrections of them; the facts the statistics need stay in clear.
func TestHealthDetailsArePersonal(t *testing.T) {
	tests := []struct {
		event    domain.Event
		personal []string
		clear    []string
	}{
		{intake(man, domain.Inspection{SuspectedTrafficked: true}), []string{"inspection", "person.name"}, []string{"person.sex", "referral.source"}},
		{domain.DNAResultReceived{Matched: true}, []string{"matched"}, nil},
		{domain.MedicalReferred{Hospital: "h"}, []string{"hospital", "reason"}, nil},
		{domain.HospitalAdmitted{Hospital: "h"}, []string{"hospital"}, nil},
		{domain.HospitalDischarged{Hospital: "h"}, []string{"hospital"}, nil},
		{domain.PoliceReportFiled{Reason: domain.ReportSuspectedTrafficked}, []string{"reason", "report_no"}, []string{"agency"}},
		{domain.Died{Place: "p"}, []string{"place", "certified_by", "public_notice", "body_disposition"}, []string{"police_notified", "relatives_notified"}},
		{domain.DeathChecklistUpdated{}, []string{"certified_by", "public_notice", "body_disposition"}, []string{"police_notified", "relatives_notified"}},
		{domain.PersonalDataErased{Reason: domain.ErasureSubjectRequest}, nil, []string{"reason", "trigger", "age_at_intake", "death_checklist_done"}},
	}
	for _, tt := range tests {
		t.Run(tt.event.EventType(), func(t *testing.T) {
			got := domain.PersonalPaths(tt.event.EventType(), raw(tt.event))
			for _, p := range tt.personal {
				if !slices.Contains(got, p) {
					t.Errorf("%s is not sealed; personal paths %v", p, got)
				}
			}
			for _, p := range tt.clear {
				if slices.Contains(got, p) {
					t.Errorf("%s is sealed; it must stay in clear", p)
				}
			}
		})
	}
}

func TestCorrectionsOfHealthDetailsAreSealed(t *testing.T) {
	sealed := func(c domain.Corrected) bool {
		return slices.Contains(domain.PersonalPaths(domain.TypeCorrected, raw(c)), "new")
	}
	for _, tc := range []struct {
		c      domain.Corrected
		sealed bool
	}{
		{corrected(0, domain.TypeIntakeRegistered, "inspection.suspected_mental_disorder", true, false, "r"), true},
		{corrected(0, domain.TypeIntakeRegistered, "inspection.signs_of_harm", false, true, "r"), true},
		{corrected(0, domain.TypeIntakeRegistered, "inspection", map[string]bool{}, map[string]bool{"injuries": true}, "r"), true},
		{corrected(3, domain.TypeDNAResultReceived, "matched", false, true, "r"), true},
		{corrected(3, domain.TypeMedicalReferred, "hospital", "a", "b", "r"), true},
		{corrected(3, domain.TypeHospitalAdmitted, "hospital", "a", "b", "r"), true},
		{corrected(3, domain.TypeHospitalDischarged, "hospital", "a", "b", "r"), true},
		{corrected(3, domain.TypePoliceReportFiled, "reason", "a", "b", "r"), true},
		{corrected(3, domain.TypeDied, "certified_by", "a", "b", "r"), true},
		{corrected(3, domain.TypeDeathChecklistUpdated, "body_disposition", "a", "b", "r"), true},
		{corrected(3, domain.TypeDeathChecklistUpdated, "police_notified", false, true, "r"), false},
		{corrected(0, domain.TypeIntakeRegistered, "person.estimated_age", 40, 41, "r"), false},
		// Recorded before event_type was kept: an inspection flag is now
		// sealed too.
		{domain.Corrected{EventID: eventID(0), Field: "inspection.injuries", Old: raw(false), New: raw(true), Reason: "r"}, true},
		{domain.Corrected{EventID: eventID(0), Field: "person.sex", Old: raw("male"), New: raw("female"), Reason: "r"}, false},
	} {
		if got := sealed(tc.c); got != tc.sealed {
			t.Errorf("%s %s: sealed = %v, want %v", tc.c.CorrectedType, tc.c.Field, got, tc.sealed)
		}
	}
}

func TestErasureReasonIsACode(t *testing.T) {
	freeText := "at the request of Zhang San"
	tests := []struct {
		name    string
		req     domain.Erasure
		invalid string // the field named, "" when accepted
	}{
		{"a code on request", domain.Erasure{Reason: domain.ErasureSubjectRequest, Trigger: domain.ErasureOnRequest}, ""},
		{"retention ended, by an admin", domain.Erasure{Reason: domain.ErasureRetentionEnded, Trigger: domain.ErasureOnRequest}, ""},
		{"the retention job", domain.Erasure{Reason: domain.ErasureRetentionEnded, Trigger: domain.ErasureRetention}, ""},
		{"free text is refused", domain.Erasure{Reason: freeText, Trigger: domain.ErasureOnRequest}, "reason"},
		{"no reason", domain.Erasure{Trigger: domain.ErasureOnRequest}, "reason"},
		{"the retention job with another reason", domain.Erasure{Reason: domain.ErasureLegalOrder, Trigger: domain.ErasureRetention}, "reason"},
		{"an unknown trigger", domain.Erasure{Reason: domain.ErasureLegalOrder, Trigger: "cron"}, "trigger"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.req.Validate()
			if tt.invalid == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var de *domain.Error
			if !errors.As(err, &de) || de.Code != domain.CodeInvalid || de.Field != tt.invalid {
				t.Fatalf("got %v, want invalid naming %s", err, tt.invalid)
			}
			if strings.Contains(err.Error(), freeText) {
				t.Errorf("the error repeats the reason given: %v", err)
			}
		})
	}
}

// TestErasureKeepsWhatTheDeathChecklistHad: given a death, when the
// person's data is erased, then the checklist items done stay done and
// those not done stay missing, whether the fold saw the values or only
// the erased events.
func TestErasureKeepsWhatTheDeathChecklistHad(t *testing.T) {
	yes := ptr(true)
	died := domain.Died{Place: "p", DeathChecklist: domain.DeathChecklist{CertifiedBy: "dr", PoliceNotified: yes}}
	erasure := domain.PersonalDataErased{Reason: domain.ErasureSubjectRequest, Trigger: domain.ErasureOnRequest,
		DeathChecklistDone: []string{domain.ChecklistCertifiedBy}}
	erasedDied := domain.Died{DeathChecklist: domain.DeathChecklist{PoliceNotified: yes}}
	want := []string{domain.ChecklistRelativesNotified, domain.ChecklistPublicNotice, domain.ChecklistBodyDisposition}
	for _, tt := range []struct {
		name  string
		given []any
	}{
		{"folded with the values", []any{intake(man, noFlags), died, erasure}},
		{"folded from the erased events", []any{intake(domain.Person{Sex: domain.Male}, noFlags), erasedDied, erasure}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := foldCase(tt.given)
			if c.Death == nil || c.Death.CertifiedBy != "" {
				t.Fatalf("death = %+v, want the certifier erased", c.Death)
			}
			if got := c.Death.Missing(); !slices.Equal(got, want) {
				t.Errorf("missing %v, want %v", got, want)
			}
		})
	}
	t.Run("without the erasure an empty certifier is missing", func(t *testing.T) {
		c := foldCase([]any{intake(man, noFlags), erasedDied})
		if got := c.Death.Missing(); !slices.Contains(got, domain.ChecklistCertifiedBy) {
			t.Errorf("missing %v, want the certifier among them", got)
		}
	})
}
