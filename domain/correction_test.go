package domain_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"waystation/domain"
	"waystation/eventstore"
)

func raw(v any) json.RawMessage { b, _ := json.Marshal(v); return b }

// corrected is the Corrected event a correction of an event of type typ
// records.
func corrected(id int, typ, field string, old, new any, reason string) domain.Corrected {
	return domain.Corrected{EventID: eventID(id), CorrectedType: typ, Field: field, Old: raw(old), New: raw(new), Reason: reason}
}

func correct(id int, field string, old, new any) *domain.Correct {
	return &domain.Correct{EventID: eventID(id), Field: field, Old: raw(old), New: raw(new), Reason: "paperwork"}
}

func TestCorrectionsOfAnyField(t *testing.T) {
	base := inStation(man, noFlags) // events 0 intake, 1 eligibility, 2 security check
	verified := with(base, domain.IdentityVerified{Method: domain.VerifiedByPolice, Name: "Zhang Wei"})
	hour := time.Hour
	deposited := domain.BelongingsDeposited{Items: []domain.Item{{Item: "phone", Qty: 1}}}
	extended := domain.StayExtended{Until: t0.Add(20 * 24 * hour), ApprovedBy: "director", Reason: "waiting"}
	requested := domain.TransferRequested{From: "S01", To: "S02", Reason: "closer to hmoe"}
	runCaseSpecs(t, []caseSpec{
		{name: "the intake's name is corrected with the intake's own value after a verification renamed the person", given: verified,
			when: correct(0, "person.name", "Zhang", "Zhang San"),
			then: []domain.Event{corrected(0, domain.TypeIntakeRegistered, "person.name", "Zhang", "Zhang San", "paperwork")}},
		{name: "but not with the verified name, which is not the intake's", given: verified,
			when: correct(0, "person.name", "Zhang Wei", "Zhang San"), rule: domain.RuleCorrectionOldValueMismatch},
		{name: "the verification's name is corrected by its own field", given: verified,
			when: correct(3, "name", "Zhang Wei", "Zhang Wei2"),
			then: []domain.Event{corrected(3, domain.TypeIdentityVerified, "name", "Zhang Wei", "Zhang Wei2", "paperwork")}},
		{name: "the first release's person.name names the verification's name", given: verified,
			when: correct(3, "person.name", "Zhang Wei", "Zhang Wei2"),
			then: []domain.Event{corrected(3, domain.TypeIdentityVerified, "name", "Zhang Wei", "Zhang Wei2", "paperwork")}},
		{name: "old is the value after the earlier corrections of the event",
			given: with(base, corrected(0, domain.TypeIntakeRegistered, "person.name", "Zhang", "Zhang San", "typo")),
			when:  correct(0, "person.name", "Zhang", "Zhang Wu"), rule: domain.RuleCorrectionOldValueMismatch},
		{name: "a second correction starts from the first one's new value",
			given: with(base, corrected(0, domain.TypeIntakeRegistered, "person.name", "Zhang", "Zhang San", "typo")),
			when:  correct(0, "person.name", "Zhang San", "Zhang Wu"),
			then:  []domain.Event{corrected(0, domain.TypeIntakeRegistered, "person.name", "Zhang San", "Zhang Wu", "paperwork")}},
		{name: "when a step happened is corrected", given: with(base, after{5 * hour, domain.DNARequested{Lab: "L"}}),
			when: correct(3, "occurred_at", t0.Add(5*hour), t0.Add(4*hour)),
			then: []domain.Event{corrected(3, domain.TypeDNARequested, "occurred_at", t0.Add(5*hour), t0.Add(4*hour), "paperwork")}},
		{name: "old occurred_at is compared as a moment, whatever its zone", given: with(base, after{5 * hour, domain.DNARequested{Lab: "L"}}),
			when: correct(3, "occurred_at", t0.Add(5*hour).In(domain.CivilZone), t0.Add(4*hour)),
			then: []domain.Event{corrected(3, domain.TypeDNARequested, "occurred_at", t0.Add(5*hour).In(domain.CivilZone), t0.Add(4*hour), "paperwork")}},
		{name: "old occurred_at must be the event's", given: with(base, after{5 * hour, domain.DNARequested{Lab: "L"}}),
			when: correct(3, "occurred_at", t0.Add(6*hour), t0.Add(4*hour)), rule: domain.RuleCorrectionOldValueMismatch},
		{name: "a step is not moved into the future", given: with(base, after{5 * hour, domain.DNARequested{Lab: "L"}}),
			when: correct(3, "occurred_at", t0.Add(5*hour), t0.Add(48*hour)), rule: domain.RuleOccurredInFuture},
		{name: "a step is not moved before the case began", given: with(base, after{5 * hour, domain.DNARequested{Lab: "L"}}),
			when: correct(3, "occurred_at", t0.Add(5*hour), t0.Add(-hour)), rule: domain.RuleOccurredBeforeCaseBegan},
		{name: "an extension's limit is corrected", given: with(base, extended),
			when: correct(3, "until", extended.Until, t0.Add(21*24*hour)),
			then: []domain.Event{corrected(3, domain.TypeStayExtended, "until", extended.Until, t0.Add(21*24*hour), "paperwork")}},
		{name: "a death's place is corrected", given: with(base, domain.Died{Place: "station"}),
			when: correct(3, "place", "station", "hospital"),
			then: []domain.Event{corrected(3, domain.TypeDied, "place", "station", "hospital", "paperwork")}},
		{name: "a checker is corrected", given: base,
			when: correct(2, "checked_by.staff_id", "s1", "s9"),
			then: []domain.Event{corrected(2, domain.TypeSecurityChecked, "checked_by.staff_id", "s1", "s9", "paperwork")}},
		{name: "a woman's checker is not corrected to a man", given: inStation(woman, noFlags),
			when: correct(2, "checked_by.sex", "female", "male"), rule: domain.RuleFemaleCheckedByFemaleStaff},
		{name: "a belongings item is corrected", given: with(base, deposited),
			when: correct(3, "items", deposited.Items, []domain.Item{{Item: "mobile phone", Qty: 1}}),
			then: []domain.Event{corrected(3, domain.TypeBelongingsDeposited, "items", deposited.Items, []domain.Item{{Item: "mobile phone", Qty: 1}}, "paperwork")}},
		{name: "a transfer reason is corrected", given: with(base, requested),
			when: correct(3, "reason", "closer to hmoe", "closer to home"),
			then: []domain.Event{corrected(3, domain.TypeTransferRequested, "reason", "closer to hmoe", "closer to home", "paperwork")}},
		{name: "a new value of the wrong type is invalid", given: with(base, extended),
			when: correct(3, "until", extended.Until, "next week"), code: domain.CodeInvalid},
		{name: "a field the event does not record is refused", given: base,
			when: correct(0, "place", "x", "y"), rule: domain.RuleCorrectionFieldNotInEvent},
		{name: "the decision on eligibility is not corrected", given: base,
			when: correct(1, "eligible", true, false), code: domain.CodeInvalid},
		{name: "the case's station is not corrected", given: base,
			when: correct(0, "station", "S01", "S02"), code: domain.CodeInvalid},
		{name: "a police report's reason is corrected to a known reason only", given: with(base, domain.PoliceReportFiled{Reason: domain.ReportOther}),
			when: correct(3, "reason", domain.ReportOther, "gossip"), code: domain.CodeInvalid},
	})
}

func TestCorrectionsFoldIntoTheState(t *testing.T) {
	base := inStation(man, noFlags)
	hour := time.Hour
	t.Run("an intake's name does not override the verified name", func(t *testing.T) {
		c := foldCase(with(base, domain.IdentityVerified{Method: domain.VerifiedByPolice, Name: "Zhang Wei"},
			corrected(0, domain.TypeIntakeRegistered, "person.name", "Zhang", "Zhang San", "typo")))
		if c.Person.Name != "Zhang Wei" {
			t.Fatalf("name = %q, want the verified one", c.Person.Name)
		}
	})
	t.Run("an intake's name without a verified one is the person's", func(t *testing.T) {
		c := foldCase(with(base, corrected(0, domain.TypeIntakeRegistered, "person.name", "Zhang", "Zhang San", "typo")))
		if c.Person.Name != "Zhang San" {
			t.Fatalf("name = %q, want Zhang San", c.Person.Name)
		}
	})
	t.Run("when the intake happened moves the stay's start", func(t *testing.T) {
		c := foldCase(with(base, corrected(0, domain.TypeIntakeRegistered, "occurred_at", t0, t0.Add(-2*hour), "late")))
		if !c.OpenedAt.Equal(t0.Add(-2 * hour)) {
			t.Fatalf("opened at %s", c.OpenedAt)
		}
	})
	t.Run("when a DNA request happened moves its clock", func(t *testing.T) {
		c := foldCase(with(base, after{5 * hour, domain.DNARequested{}}, corrected(3, domain.TypeDNARequested, "occurred_at", t0.Add(5*hour), t0.Add(4*hour), "x")))
		if !c.Identity.DNARequestedAt.Equal(t0.Add(4 * hour)) {
			t.Fatalf("DNA requested at %s", c.Identity.DNARequestedAt)
		}
	})
	for _, tc := range []struct {
		event domain.Event
		clock func(c domain.Case) time.Time
	}{
		{domain.IdentityQueried{Channel: "police"}, func(c domain.Case) time.Time { return c.Identity.LastQueryAt }},
		{domain.FamilySearchNoticePublished{Channel: "toutiao"}, func(c domain.Case) time.Time { return c.Identity.NoticeAt }},
		{domain.DNARequested{}, func(c domain.Case) time.Time { return c.Identity.DNARequestedAt }},
		{domain.DNAResultReceived{}, func(c domain.Case) time.Time { return c.Identity.DNAResultAt }},
		{domain.RelativesContacted{}, func(c domain.Case) time.Time { return c.Identity.RelativesContactedAt }},
		{domain.MedicalReferred{Hospital: "H"}, func(c domain.Case) time.Time { return c.Medical.ReferredAt }},
		{domain.HospitalAdmitted{Hospital: "H"}, func(c domain.Case) time.Time { return c.Medical.AdmittedAt }},
		{domain.HospitalDischarged{}, func(c domain.Case) time.Time { return c.Medical.DischargedAt }},
		{domain.MedicalReturned{}, func(c domain.Case) time.Time { return c.Medical.ReturnedAt }},
	} {
		t.Run("when a "+tc.event.EventType()+" happened moves its clock", func(t *testing.T) {
			c := foldCase(with(base, after{5 * hour, tc.event}, corrected(3, tc.event.EventType(), "occurred_at", t0.Add(5*hour), t0.Add(4*hour), "x")))
			if got := tc.clock(c); !got.Equal(t0.Add(4 * hour)) {
				t.Fatalf("%s at %s, want the corrected %s", tc.event.EventType(), got, t0.Add(4*hour))
			}
		})
	}
	t.Run("an earlier DNA request's time does not move the later one's clock", func(t *testing.T) {
		c := foldCase(with(base, after{5 * hour, domain.DNARequested{}}, after{9 * hour, domain.DNARequested{}},
			corrected(3, domain.TypeDNARequested, "occurred_at", t0.Add(5*hour), t0.Add(4*hour), "x")))
		if !c.Identity.DNARequestedAt.Equal(t0.Add(9 * hour)) {
			t.Fatalf("DNA requested at %s, want the later request's time", c.Identity.DNARequestedAt)
		}
	})
	t.Run("when the person died moves the exit and the death", func(t *testing.T) {
		c := foldCase(with(base, after{5 * hour, domain.Died{Place: "station"}}, corrected(3, domain.TypeDied, "occurred_at", t0.Add(5*hour), t0.Add(4*hour), "x"),
			corrected(3, domain.TypeDied, "place", "station", "hospital", "x")))
		if !c.ExitedAt.Equal(t0.Add(4*hour)) || !c.Death.At.Equal(t0.Add(4*hour)) || c.Death.Place != "hospital" {
			t.Fatalf("exited %s, death %+v", c.ExitedAt, *c.Death)
		}
	})
	t.Run("an extension's limit moves the deadline", func(t *testing.T) {
		until := t0.Add(20 * 24 * hour)
		c := foldCase(with(base, domain.StayExtended{Until: until, ApprovedBy: "d", Reason: "r"},
			corrected(3, domain.TypeStayExtended, "until", until, until.Add(24*hour), "x")))
		if !c.StayDeadline().Equal(until.Add(24 * hour)) {
			t.Fatalf("deadline %s", c.StayDeadline())
		}
	})
	t.Run("a deposited item is renamed, and returned under its new name", func(t *testing.T) {
		c := foldCase(with(base, domain.BelongingsDeposited{Items: []domain.Item{{Item: "phone", Qty: 1}, {Item: "bag", Qty: 1}}},
			corrected(3, domain.TypeBelongingsDeposited, "items", []domain.Item{{Item: "phone", Qty: 1}, {Item: "bag", Qty: 1}},
				[]domain.Item{{Item: "mobile phone", Qty: 1}, {Item: "bag", Qty: 1}}, "x")))
		want := []domain.Belonging{{Item: "mobile phone", Qty: 1}, {Item: "bag", Qty: 1}}
		if !slices.Equal(c.Belongings, want) {
			t.Fatalf("belongings %+v, want %+v", c.Belongings, want)
		}
	})
	t.Run("a transfer's reason is corrected while it is in flight", func(t *testing.T) {
		c := foldCase(with(base, domain.TransferRequested{From: "S01", To: "S02", Reason: "hmoe"},
			corrected(3, domain.TypeTransferRequested, "reason", "hmoe", "home", "x")))
		if c.Transfer == nil || c.Transfer.Reason != "home" {
			t.Fatalf("transfer %+v", c.Transfer)
		}
	})
	t.Run("a police report's reason corrected to the due one clears the requirement", func(t *testing.T) {
		c := foldCase(with(inStation(man, domain.Inspection{SuspectedLost: true}), domain.PoliceReportFiled{Reason: domain.ReportOther},
			corrected(3, domain.TypePoliceReportFiled, "reason", domain.ReportOther, domain.ReportSuspectedLost, "x")))
		if c.PoliceReportDue() {
			t.Fatalf("still due: %v", c.PoliceReportsDue())
		}
	})
}

func TestCorrectionValuesAreSealedLikeTheOriginal(t *testing.T) {
	sealed := func(c domain.Corrected) bool {
		return slices.Contains(domain.PersonalPaths(domain.TypeCorrected, raw(c)), "new")
	}
	for _, tc := range []struct {
		c      domain.Corrected
		sealed bool
	}{
		{corrected(0, domain.TypeIntakeRegistered, "person.name", "a", "b", "r"), true},
		{corrected(0, domain.TypeIntakeRegistered, "person.sex", "male", "female", "r"), false},
		{corrected(0, domain.TypeIntakeRegistered, "inspection.notes", "a", "b", "r"), true},
		{corrected(3, domain.TypeIdentityVerified, "name", "a", "b", "r"), true},
		{corrected(3, domain.TypeDied, "place", "a", "b", "r"), true},
		{corrected(3, domain.TypeDied, "occurred_at", t0, t0, "r"), false},
		{corrected(3, domain.TypeSecurityChecked, "checked_by.sex", "male", "female", "r"), false},
		{corrected(3, domain.TypePickedUp, "collector.name", "a", "b", "r"), true},
		{corrected(3, domain.TypeTransferRequested, "reason", "a", "b", "r"), true},
		{corrected(3, domain.TypeStayExtended, "until", t0, t0, "r"), false},
		// Recorded before event_type was kept: the intake's statistical
		// facts only are clear.
		{domain.Corrected{EventID: eventID(0), Field: "person.sex", Old: raw("male"), New: raw("female"), Reason: "r"}, false},
		{domain.Corrected{EventID: eventID(0), Field: "place", Old: raw("a"), New: raw("b"), Reason: "r"}, true},
	} {
		if got := sealed(tc.c); got != tc.sealed {
			t.Errorf("%s %s: sealed = %v, want %v", tc.c.CorrectedType, tc.c.Field, got, tc.sealed)
		}
	}
}

func TestServiceCorrectsAgainstTheNamedEvent(t *testing.T) {
	f := newFixture(t)
	id := f.admit(t, man, noFlags)
	ok(t)(f.svc.Execute(f.ctx, staff1, id, &domain.IdentityVerification{Method: domain.VerifiedByPolice, Name: "Zhang Wei"}, domain.Options{}))
	var intake eventstore.RecordedEvent
	for rec, err := range f.store.ReadStream(f.ctx, domain.CaseStream(id), eventstore.ReadStreamOptions{Limit: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		intake = rec
	}
	fix := &domain.Correct{EventID: intake.ID, Field: "person.name", Old: raw("Zhang"), New: raw("Zhang San"), Reason: "typo"}
	ok(t)(f.svc.Execute(f.ctx, staff1, id, fix, domain.Options{}))
	again := &domain.Correct{EventID: intake.ID, Field: "person.name", Old: raw("Zhang"), New: raw("Zhang Wu"), Reason: "typo"}
	_, err := f.svc.Execute(f.ctx, staff1, id, again, domain.Options{})
	wantRule(t, err, domain.RuleCorrectionOldValueMismatch)
	when := &domain.Correct{EventID: intake.ID, Field: "occurred_at", Old: raw(t0), New: raw(t0.Add(-time.Hour)), Reason: "arrived earlier"}
	ok(t)(f.svc.Execute(f.ctx, staff1, id, when, domain.Options{}))
	c, err := f.svc.Case(f.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if c.Person.Name != "Zhang Wei" || !c.OpenedAt.Equal(t0.Add(-time.Hour)) {
		t.Fatalf("name %q, opened %s", c.Person.Name, c.OpenedAt)
	}
}
