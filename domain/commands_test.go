package domain_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"waystation/domain"
)

// decode decodes an API body for step the way the HTTP layer does.
func decode(tb testing.TB, step domain.Step, body string) (domain.Command, error) {
	tb.Helper()
	cmd, ok := domain.NewCommand(step)
	if !ok {
		tb.Fatalf("no command for step %s", step)
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(cmd); err != nil {
		return nil, err
	}
	return cmd, cmd.Validate()
}

func TestEveryStepHasACommand(t *testing.T) {
	steps := domain.CaseSteps()
	if len(steps) != 35 {
		t.Fatalf("%d case steps, docs/api.md lists 35", len(steps))
	}
	for _, s := range append(steps, domain.StepIntake, domain.StepRegisterStation, domain.StepChangeZones, domain.StepIssueToken, domain.StepRevokeToken) {
		cmd, ok := domain.NewCommand(s)
		if !ok || cmd.Step() != s {
			t.Errorf("NewCommand(%s) = %T, %v", s, cmd, ok)
		}
	}
	if _, ok := domain.NewCommand("teleport"); ok {
		t.Error("an unknown step has a command")
	}
	if !slices.Contains(domain.CorrectableFields(), "person.birth_date") {
		t.Error("the birth date cannot be corrected")
	}
}

func TestAPIBodiesDecode(t *testing.T) {
	id := residentID(t, "110101", "19900307", "002")
	valid := map[domain.Step]string{
		domain.StepIntake: `{"station":"S01","occurred_at":"2026-01-10T08:00:00+08:00","referral":{"source":"police_escort","form_no":"F-1"},` +
			`"person":{"name":"n","sex":"female","birth_date":"1990-03-07","id_number":"` + id + `","hukou_place":"h","dialect":"d","can_state_identity":true},"inspection":{"injuries":true}}`,
		domain.StepEligibility:        `{"eligible":false,"reason":"r","notice_no":"n"}`,
		domain.StepSecurityCheck:      `{"checked_by":{"staff_id":"s","sex":"female"},"items_to_police":["knife"]}`,
		domain.StepBelongings:         `{"deposited":[{"item":"bag","qty":1}]}`,
		domain.StepBed:                `{"zone":"adult_male","bed":"adult_male-3"}`,
		domain.StepBedRelease:         `{}`,
		domain.StepIdentityQuery:      `{"channel":"police","result":"pending"}`,
		domain.StepIdentityVerified:   `{"method":"police_query","id_number":"` + id + `"}`,
		domain.StepFamilySearchNotice: `{"channel":"c"}`,
		domain.StepDNARequest:         `{"lab":"l"}`,
		domain.StepDNAResult:          `{"matched":false}`,
		domain.StepRelativesContacted: `{"relationship":"son"}`,
		domain.StepMedicalReferral:    `{"hospital":"h"}`,
		domain.StepHospitalAdmission:  `{}`,
		domain.StepHospitalDischarge:  `{}`,
		domain.StepMedicalReturn:      `{"notes":"n"}`,
		domain.StepExtension:          `{"until":"2026-02-01T00:00:00Z","approved_by":"a","reason":"r"}`,
		domain.StepLongStay:           `{"kind":"off_site"}`,
		domain.StepSettlement:         `{"stage":"applied"}`,
		domain.StepGuardianship:       `{"basis":"b"}`,
		domain.StepPoliceReport:       `{"reason":"harm_to_minor"}`,
		domain.StepTransferRequest:    `{"to_station":"S02","reason":"r"}`,
		domain.StepTransferAccept:     `{}`,
		domain.StepTransferDecline:    `{"reason":"full"}`,
		domain.StepEscortDeparture:    `{"escorts":["e"],"transport":"train"}`,
		domain.StepHandover:           `{"received_by":"r"}`,
		domain.StepVoluntaryLeave:     `{"declaration_ref":"d","cash_yuan":10,"receipt_ref":"r"}`,
		domain.StepPickup:             `{"collector":{"name":"n","id_number":"` + id + `","relationship":"father"}}`,
		domain.StepEscortedReturn:     `{"destination":"d"}`,
		domain.StepAbsconding:         `{}`,
		domain.StepTermination:        `{"reason":"r"}`,
		domain.StepDeath:              `{"place":"p","certified_by":"hospital","police_notified":true}`,
		domain.StepClosure:            `{}`,
		domain.StepCorrection:         `{"event_id":"01940000-0000-7000-8000-000000000001","field":"person.name","old":"a","new":"b","reason":"r"}`,
		domain.StepRegisterStation:    `{"code":"S01","name":"n","region":"R1","kind":"station","zones":[{"zone":"adult_male","beds":20}]}`,
		domain.StepChangeZones:        `{"zones":[{"zone":"isolation","beds":2,"seasonal":1}]}`,
		domain.StepIssueToken:         `{"id":"t","role":"coordinator","region":"R1","hash":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}`,
		domain.StepRevokeToken:        `{"id":"t"}`,
		domain.StepPublicNotice:       `{"shows":["sex","age","height","contact"],"height_cm":160,"contact":"0311-1"}`,
		domain.StepWithdrawNotice:     `{"notes":"n"}`,
	}
	for step, body := range valid {
		t.Run(string(step), func(t *testing.T) {
			if _, err := decode(t, step, body); err != nil {
				t.Fatalf("refused: %v", err)
			}
		})
	}
	for _, s := range domain.CaseSteps() {
		if _, ok := valid[s]; !ok {
			t.Errorf("no sample body for %s", s)
		}
	}
}

func TestInvalidBodiesNameTheField(t *testing.T) {
	bad := []struct {
		step  domain.Step
		body  string
		field string
	}{
		{domain.StepIntake, `{"referral":{"source":"walk_in"},"person":{"sex":"male","estimated_age":3}}`, "station"},
		{domain.StepIntake, `{"station":"S01","referral":{"source":"taxi"},"person":{"sex":"male","estimated_age":3}}`, "referral.source"},
		{domain.StepIntake, `{"station":"S01","referral":{"source":"police_escort"},"person":{"sex":"male","estimated_age":3}}`, "referral.form_no"},
		{domain.StepIntake, `{"station":"S01","referral":{"source":"walk_in"},"person":{"sex":"male","estimated_age":130}}`, "person.estimated_age"},
		{domain.StepIntake, `{"station":"S01","referral":{"source":"walk_in"},"person":{"sex":"male","id_number":"110101199003070000"}}`, "person.id_number"},
		{domain.StepIntake, `{"station":"S01","legal_basis":"whim","referral":{"source":"walk_in"},"person":{"sex":"male","estimated_age":3}}`, "legal_basis"},
		{domain.StepEligibility, `{}`, "eligible"},
		{domain.StepEligibility, `{"eligible":false}`, "reason"},
		{domain.StepEligibility, `{"eligible":false,"reason":"r"}`, "notice_no"},
		{domain.StepEligibility, `{"eligible":false,"assist_first":true}`, "assist_first"},
		{domain.StepSecurityCheck, `{"checked_by":{"sex":"female"}}`, "checked_by.staff_id"},
		{domain.StepSecurityCheck, `{"checked_by":{"staff_id":"s","sex":"other"}}`, "checked_by.sex"},
		{domain.StepBelongings, `{}`, "deposited"},
		{domain.StepBelongings, `{"deposited":[{"item":"bag","qty":0}]}`, "deposited.0.qty"},
		{domain.StepBelongings, `{"deposited":[{"item":"","qty":1}]}`, "deposited.0.item"},
		{domain.StepBelongings, `{"returned":[""]}`, "returned.0"},
		{domain.StepBed, `{"zone":"roof"}`, "zone"},
		{domain.StepBed, `{"zone":"minors","bed":"minors-0"}`, "bed"},
		{domain.StepIdentityQuery, `{"channel":"psychic"}`, "channel"},
		{domain.StepIdentityQuery, `{"channel":"police","result":"maybe"}`, "result"},
		{domain.StepIdentityVerified, `{"method":"guess"}`, "method"},
		{domain.StepIdentityVerified, `{"method":"dna","id_number":"12345"}`, "id_number"},
		{domain.StepIdentityVerified, `{"method":"dna","id_type":"library_card"}`, "id_type"},
		{domain.StepDNAResult, `{}`, "matched"},
		{domain.StepMedicalReferral, `{}`, "hospital"},
		{domain.StepExtension, `{"approved_by":"a","reason":"r"}`, "until"},
		{domain.StepExtension, `{"until":"2026-02-01T00:00:00Z","reason":"r"}`, "approved_by"},
		{domain.StepLongStay, `{"kind":"forever"}`, "kind"},
		{domain.StepSettlement, `{"stage":"maybe"}`, "stage"},
		{domain.StepGuardianship, `{}`, "basis"},
		{domain.StepPoliceReport, `{"reason":"bored"}`, "reason"},
		{domain.StepTransferRequest, `{"reason":"r"}`, "to_station"},
		{domain.StepEscortDeparture, `{}`, "escorts"},
		{domain.StepEscortDeparture, `{"escorts":[" "]}`, "escorts.0"},
		{domain.StepHandover, `{}`, "received_by"},
		{domain.StepVoluntaryLeave, `{}`, "declaration_ref"},
		{domain.StepVoluntaryLeave, `{"declaration_ref":"d","cash_yuan":-1}`, "cash_yuan"},
		{domain.StepPickup, `{"collector":{"name":"n","relationship":"r"}}`, "collector.id_number"},
		{domain.StepPickup, `{"collector":{"name":"n","id_number":"110101199003070000","relationship":"r"}}`, "collector.id_number"},
		{domain.StepPickup, `{"collector":{"name":"n","id_type":"badge","id_number":"1","relationship":"r"}}`, "collector.id_type"},
		{domain.StepEscortedReturn, `{}`, "destination"},
		{domain.StepTermination, `{}`, "reason"},
		{domain.StepCorrection, `{"field":"person.name","old":"a","new":"b","reason":"r"}`, "event_id"},
		{domain.StepCorrection, `{"event_id":"01940000-0000-7000-8000-000000000001","field":"person.name","new":"b","reason":"r"}`, "old"},
		{domain.StepCorrection, `{"event_id":"01940000-0000-7000-8000-000000000001","field":"person.name","old":"a","reason":"r"}`, "new"},
		{domain.StepCorrection, `{"event_id":"01940000-0000-7000-8000-000000000001","field":"person.name","old":"a","new":"b"}`, "reason"},
		{domain.StepRegisterStation, `{"code":"bad code","name":"n","region":"R","kind":"station"}`, "code"},
		{domain.StepRegisterStation, `{"code":"S1","name":"n","region":"R","kind":"hotel"}`, "kind"},
		{domain.StepRegisterStation, `{"code":"S1","region":"R","kind":"station"}`, "name"},
		{domain.StepRegisterStation, `{"code":"S1","name":"n","region":"R","kind":"station","zones":[{"zone":"minors","beds":1},{"zone":"minors","beds":2}]}`, "zones.1.zone"},
		{domain.StepChangeZones, `{"zones":[{"zone":"minors","beds":-1}]}`, "zones.0.beds"},
		{domain.StepChangeZones, `{"zones":[{"zone":"minors","beds":1,"seasonal":-1}]}`, "zones.0.seasonal"},
		{domain.StepChangeZones, `{"zones":[{"zone":"attic","beds":1}]}`, "zones.0.zone"},
		{domain.StepIssueToken, `{"id":"t","role":"staff","hash":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}`, "station"},
		{domain.StepIssueToken, `{"id":"t","role":"coordinator","hash":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}`, "region"},
		{domain.StepIssueToken, `{"id":"t","role":"king","hash":"00"}`, "role"},
		{domain.StepIssueToken, `{"id":"t","role":"admin","hash":"00"}`, "hash"},
		{domain.StepRevokeToken, `{}`, "id"},
	}
	for _, b := range bad {
		t.Run(string(b.step)+" "+b.field, func(t *testing.T) {
			_, err := decode(t, b.step, b.body)
			var e *domain.Error
			if !errors.As(err, &e) || e.Code != domain.CodeInvalid || e.Field != b.field {
				t.Fatalf("got %v, want invalid %s", err, b.field)
			}
		})
	}
	// A malformed date is a decoding error the HTTP layer reports as invalid.
	if _, err := decode(t, domain.StepIntake, `{"person":{"birth_date":"1990-02-30"}}`); err == nil {
		t.Fatal("an impossible birth date decoded")
	}
}

func TestErrorsNeverShowPersonalData(t *testing.T) {
	id := residentID(t, "110101", "19900307", "002")
	bad := id[:17] + "0"
	if bad == id {
		bad = id[:17] + "1"
	}
	_, err := decode(t, domain.StepPickup, `{"collector":{"name":"Secret Name","id_number":"`+bad+`","relationship":"r"}}`)
	if err == nil || bytes.Contains([]byte(err.Error()), []byte(bad)) || bytes.Contains([]byte(err.Error()), []byte("Secret")) {
		t.Fatalf("error %v", err)
	}
	e := domain.Internal(errors.New("disk on fire"), "the event store failed")
	if !errors.Is(e, domain.ErrInternal) || errors.Is(e, domain.ErrNotFound) || errors.Unwrap(e) == nil {
		t.Fatalf("internal error %v", e)
	}
	if domain.ErrorCode(errors.New("plain")) != domain.CodeInternal || domain.ErrorCode(nil) != "" {
		t.Fatal("plain errors are internal, nil has no code")
	}
	v := domain.Violation(domain.RuleZoneFull, "full")
	if !errors.Is(v, &domain.Error{Code: domain.CodeRuleViolation, Rule: domain.RuleZoneFull}) || errors.Is(v, &domain.Error{Code: domain.CodeRuleViolation, Rule: domain.RuleBedTaken}) {
		t.Fatal("rule sentinels do not match by rule")
	}
}

func FuzzCommandBodies(f *testing.F) {
	f.Add("intake", `{"station":"S01","referral":{"source":"walk_in"},"person":{"sex":"male","id_number":"11010519491231002X"}}`)
	f.Add("correction", `{"event_id":"01940000-0000-7000-8000-000000000001","field":"person.birth_date","old":null,"new":"1990-01-01","reason":"r"}`)
	f.Add("bed", `{"zone":"minors","bed":"minors-12"}`)
	f.Add("pickup", `{"collector":{"name":"n","id_number":"110105194912310020","relationship":"r"}}`)
	f.Fuzz(func(t *testing.T, step, body string) {
		cmd, ok := domain.NewCommand(domain.Step(step))
		if !ok {
			return
		}
		if json.Unmarshal([]byte(body), cmd) != nil {
			return
		}
		err := cmd.Validate()
		var e *domain.Error
		if err != nil && (!errors.As(err, &e) || e.Code != domain.CodeInvalid || e.Field == "") {
			t.Fatalf("Validate returned %v", err)
		}
		c := foldCase(inStation(man, noFlags))
		if _, err := domain.Decide(c, cmd, t0.Add(24*3600e9)); err != nil {
			if errors.As(err, &e) && e.Code == domain.CodeInternal && !isNonCase(cmd) {
				t.Fatalf("Decide failed internally: %v", err)
			}
		}
	})
}

func isNonCase(cmd domain.Command) bool {
	switch cmd.(type) {
	case *domain.AssignBed, *domain.ReleaseBed, *domain.RegisterStation, *domain.ChangeZones, *domain.IssueToken, *domain.RevokeToken:
		return true
	}
	return false
}
