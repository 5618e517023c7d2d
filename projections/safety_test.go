package projections_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/projections"
)

// signal is one safety rule's story: given events, the moment the signal
// must be raised (due), and the step that clears it (nil when the passing
// of time clears it) at clearAt.
type signal struct {
	name     string
	rule     string
	severity string
	given    func(w *world) uuid.UUID
	due      time.Time
	clear    func(w *world, id uuid.UUID, at time.Time)
	clearAt  time.Time
}

func admitted(w *world, p domain.Person, in domain.Inspection) uuid.UUID {
	id := w.intake("S01", t0, p, in)
	w.step(id, t0.Add(time.Minute), domain.EligibilityDecided{Eligible: true})
	return id
}

func step(e domain.Event) func(w *world, id uuid.UUID, at time.Time) {
	return func(w *world, id uuid.UUID, at time.Time) { w.step(id, at, e) }
}

// boyBornOn is the story of the boy, born on birth, admitted at t0.
func boyBornOn(birth domain.Date) func(w *world) uuid.UUID {
	return func(w *world) uuid.UUID {
		p := boy
		p.BirthDate = birth
		return admitted(w, p, domain.Inspection{})
	}
}

// inHospital is the story of a man admitted at t0, referred to hospital
// half an hour later and admitted there an hour after t0.
func inHospital(w *world) uuid.UUID {
	id := admitted(w, man, domain.Inspection{})
	w.step(id, t0.Add(30*time.Minute), domain.MedicalReferred{Hospital: "designated"})
	w.step(id, t0.Add(time.Hour), domain.HospitalAdmitted{Hospital: "designated"})
	return id
}

// discharged is inHospital, then discharged two hours after t0.
func discharged(w *world) uuid.UUID {
	id := inHospital(w)
	w.step(id, t0.Add(2*time.Hour), domain.HospitalDischarged{})
	return id
}

// absconding is the signal of p, inspected as in, who absconds 5 hours
// after t0 once the steps before are taken (from 10 minutes after t0, a
// minute apart): an absconded alert of severity from then, cleared by
// closing the case.
func absconding(name string, p domain.Person, in domain.Inspection, severity string, before ...domain.Event) signal {
	return signal{
		name: name, rule: projections.RuleAbsconded, severity: severity,
		given: func(w *world) uuid.UUID {
			id := admitted(w, p, in)
			for i, e := range before {
				w.step(id, t0.Add(10*time.Minute+time.Duration(i)*time.Minute), e)
			}
			w.step(id, t0.Add(5*time.Hour), domain.Absconded{})
			return id
		},
		due:   t0.Add(5 * time.Hour),
		clear: step(domain.CaseClosed{}), clearAt: t0.Add(6 * time.Hour),
	}
}

func TestSafetySignalsRaiseOnTimeAndClear(t *testing.T) {
	// Birthdays begin at midnight in Beijing.
	bday16 := time.Date(2026, 3, 12, 0, 0, 0, 0, domain.CivilZone)
	bday18 := time.Date(2026, 3, 20, 0, 0, 0, 0, domain.CivilZone)
	signals := []signal{
		{
			name: "stay past 10 days, cleared by an extension",
			rule: projections.RuleOverdueStay, severity: projections.SeverityMedium,
			given: func(w *world) uuid.UUID { return admitted(w, man, domain.Inspection{}) },
			due:   t0.Add(10 * 24 * time.Hour),
			clear: step(
				domain.StayExtended{Until: t0.Add(20 * 24 * time.Hour), ApprovedBy: "head", Reason: "awaiting train"},
			), clearAt: t0.Add(10*24*time.Hour + time.Hour),
		},
		{
			name: "no notice 24 hours after registration, cleared by a notice",
			rule: projections.RuleNoFamilySearchNotice, severity: projections.SeverityMedium,
			given: func(w *world) uuid.UUID { return admitted(w, man, domain.Inspection{}) },
			due:   t0.Add(24 * time.Hour),
			clear: step(domain.FamilySearchNoticePublished{Channel: "national_platform"}), clearAt: t0.Add(25 * time.Hour),
		},
		{
			name: "no DNA request after 7 days, cleared by the request",
			rule: projections.RuleDNANotRequested, severity: projections.SeverityMedium,
			given: func(w *world) uuid.UUID { return admitted(w, man, domain.Inspection{}) },
			due:   t0.Add(7 * 24 * time.Hour),
			clear: step(domain.DNARequested{Lab: "police lab"}), clearAt: t0.Add(7*24*time.Hour + time.Hour),
		},
		{
			name: "no DNA result a month after the request, cleared by the result",
			rule: projections.RuleDNAResultOverdue, severity: projections.SeverityMedium,
			given: func(w *world) uuid.UUID {
				id := admitted(w, man, domain.Inspection{})
				w.step(id, t0.Add(time.Hour), domain.DNARequested{Lab: "police lab"})
				return id
			},
			due:   t0.Add(time.Hour).AddDate(0, 1, 0),
			clear: step(domain.DNAResultReceived{Matched: false}), clearAt: t0.Add(time.Hour).AddDate(0, 1, 1),
		},
		{
			name: "minor without guardianship after 24 hours, cleared by guardianship",
			rule: projections.RuleUnaccompaniedMinor, severity: projections.SeverityHigh,
			given: func(w *world) uuid.UUID { return admitted(w, boy, domain.Inspection{}) },
			due:   t0.Add(24 * time.Hour),
			clear: step(domain.GuardianshipTaken{Basis: "art. 92"}), clearAt: t0.Add(30 * time.Hour),
		},
		{
			name: "minor placed in an adult zone, cleared by a move to the minors' zone",
			rule: projections.RuleMinorInAdultZone, severity: projections.SeverityHigh,
			given: func(w *world) uuid.UUID {
				id := admitted(w, boy, domain.Inspection{})
				w.bed("S01", id, t0.Add(time.Hour), domain.ZoneAdultMale, 1)
				return id
			},
			due: t0.Add(time.Hour),
			clear: func(w *world, id uuid.UUID, at time.Time) {
				w.bed("S01", id, at, domain.ZoneMinors, 1)
			},
			clearAt: t0.Add(2 * time.Hour),
		},
		{
			name: "16th birthday within 7 days, cleared when it passes",
			rule: projections.RuleMinorBirthday, severity: projections.SeverityLow,
			given:   boyBornOn(domain.Date{Year: 2010, Month: 3, Day: 12}),
			due:     bday16.Add(-7 * 24 * time.Hour),
			clearAt: bday16,
		},
		{
			name: "18th birthday within 7 days, cleared when it passes",
			rule: projections.RuleMinorBirthday, severity: projections.SeverityLow,
			given:   boyBornOn(domain.Date{Year: 2008, Month: 3, Day: 20}),
			due:     bday18.Add(-7 * 24 * time.Hour),
			clearAt: bday18,
		},
		{
			name: "suspected infectious disease not referred, cleared by a referral",
			rule: projections.RulePendingMedical, severity: projections.SeverityHigh,
			given: func(w *world) uuid.UUID { return admitted(w, man, domain.Inspection{SuspectedInfectious: true}) },
			due:   t0,
			clear: step(domain.MedicalReferred{Hospital: "designated"}), clearAt: t0.Add(2 * time.Hour),
		},
		{
			name: "in hospital with no update for 3 days, cleared by the discharge",
			rule: projections.RulePendingMedical, severity: projections.SeverityMedium,
			given: inHospital,
			due:   t0.Add(time.Hour + 3*24*time.Hour),
			clear: step(domain.HospitalDischarged{}), clearAt: t0.Add(2*time.Hour + 3*24*time.Hour),
		},
		{
			name: "discharged and not back in 24 hours, cleared by the return",
			rule: projections.RulePendingMedical, severity: projections.SeverityHigh,
			given: discharged,
			due:   t0.Add(26 * time.Hour),
			clear: step(domain.MedicalReturned{}), clearAt: t0.Add(27 * time.Hour),
		},
		{
			name: "discharged and not back in 24 hours, cleared by an exit",
			rule: projections.RulePendingMedical, severity: projections.SeverityHigh,
			given: discharged,
			due:   t0.Add(26 * time.Hour),
			clear: step(
				domain.PickedUp{Collector: domain.Collector{Name: "Zhang Yi", Relationship: "brother"}},
			), clearAt: t0.Add(27 * time.Hour),
		},
		{
			name: "back from hospital without a bed, raised at the return and cleared by a bed",
			rule: projections.RuleReturnedWithoutBed, severity: projections.SeverityMedium,
			given: func(w *world) uuid.UUID {
				id := discharged(w)
				w.step(id, t0.Add(3*time.Hour), domain.MedicalReturned{})
				return id
			},
			due: t0.Add(3 * time.Hour),
			clear: func(w *world, id uuid.UUID, at time.Time) {
				w.bed("S01", id, at, domain.ZoneAdultMale, 1)
			},
			clearAt: t0.Add(4 * time.Hour),
		},
		absconding("an elderly person absconds (high), cleared by closure", old,
			domain.Inspection{}, projections.SeverityHigh),
		absconding("an adult with an intellectual disability absconds (high), cleared by closure", man,
			domain.Inspection{IntellectualDisability: true}, projections.SeverityHigh),
		absconding("an adult with a suspected mental disorder absconds (high), cleared by closure", man,
			domain.Inspection{SuspectedMentalDisorder: true}, projections.SeverityHigh,
			domain.MedicalReferred{Hospital: "designated"}),
		absconding("a minor absconds (high), cleared by closure", boy, domain.Inspection{}, projections.SeverityHigh),
		absconding("an adult absconds (medium), cleared by closure", man, domain.Inspection{}, projections.SeverityMedium),
		{
			name: "death with the checklist incomplete, cleared by completing it",
			rule: projections.RuleDeathChecklist, severity: projections.SeverityHigh,
			given: func(w *world) uuid.UUID {
				id := admitted(w, old, domain.Inspection{})
				w.step(
					id, t0.Add(5*time.Hour),
					domain.Died{
						Place: "station", DeathChecklist: domain.DeathChecklist{CertifiedBy: "hospital", PoliceNotified: ptr(true)},
					},
				)
				return id
			},
			due: t0.Add(5 * time.Hour),
			clear: step(domain.DeathChecklistUpdated{DeathChecklist: domain.DeathChecklist{
				RelativesNotified: ptr(true), PublicNotice: "N-1", BodyDisposition: "cremation"}}),
			clearAt: t0.Add(30 * time.Hour),
		},
		{
			name: "over 3 months unidentified, cleared by a settlement application",
			rule: projections.RuleLongStayNoSettlement, severity: projections.SeverityMedium,
			given: func(w *world) uuid.UUID {
				id := admitted(w, old, domain.Inspection{})
				w.step(id, t0.Add(11*24*time.Hour), domain.LongStayStarted{Kind: domain.LongStayInStation})
				return id
			},
			due:   t0.Add(90 * 24 * time.Hour),
			clear: step(domain.SettlementRecorded{Stage: domain.SettlementApplied}), clearAt: t0.Add(91 * 24 * time.Hour),
		},
		{
			name: "transfer unanswered for 48 hours, cleared by the answer",
			rule: projections.RuleTransferUnanswered, severity: projections.SeverityMedium,
			given: func(w *world) uuid.UUID {
				id := admitted(w, man, domain.Inspection{})
				w.step(id, t0.Add(time.Hour), domain.TransferRequested{From: "S01", To: "S02", Reason: "hometown"})
				return id
			},
			due:   t0.Add(49 * time.Hour),
			clear: step(domain.TransferAccepted{From: "S01", To: "S02"}), clearAt: t0.Add(50 * time.Hour),
		},
		{
			name: "no handover 72 hours after departure, cleared by the handover",
			rule: projections.RuleHandoverOverdue, severity: projections.SeverityHigh,
			given: func(w *world) uuid.UUID {
				id := admitted(w, man, domain.Inspection{})
				w.step(id, t0.Add(time.Hour), domain.TransferRequested{From: "S01", To: "S02", Reason: "hometown"})
				w.step(id, t0.Add(2*time.Hour), domain.TransferAccepted{From: "S01", To: "S02"})
				w.step(id, t0.Add(3*time.Hour), domain.EscortDeparted{From: "S01", To: "S02", Escorts: []string{"e1"}})
				return id
			},
			due:   t0.Add(75 * time.Hour),
			clear: step(domain.HandedOver{From: "S01", To: "S02", ReceivedBy: "s2"}), clearAt: t0.Add(76 * time.Hour),
		},
		{
			name: "absconded with belongings deposited, raised at the exit and cleared by returning them",
			rule: projections.RuleBelongingsNotReturned, severity: projections.SeverityMedium,
			given: func(w *world) uuid.UUID {
				id := admitted(w, man, domain.Inspection{})
				w.step(id, t0.Add(2*time.Minute), domain.BelongingsDeposited{Items: []domain.Item{{Item: "phone", Qty: 1}}})
				w.step(id, t0.Add(2*time.Hour), domain.Absconded{})
				w.step(id, t0.Add(3*time.Hour), domain.CaseClosed{})
				return id
			},
			due:   t0.Add(2 * time.Hour),
			clear: step(domain.BelongingsReturned{Items: []string{"phone"}}), clearAt: t0.Add(4 * time.Hour),
		},
		{
			name: "admitted again within 30 days, cleared by the exit",
			rule: projections.RuleRepeatVisitor, severity: projections.SeverityLow,
			given: func(w *world) uuid.UUID {
				first := admitted(w, man, domain.Inspection{})
				w.step(first, t0.Add(24*time.Hour), domain.LeftVoluntarily{DeclarationRef: "D-1"})
				p := man
				p.Name = " zhang  SAN" // the same person, written differently
				return w.intake("S01", t0.Add(20*24*time.Hour), p, domain.Inspection{})
			},
			due:   t0.Add(20 * 24 * time.Hour),
			clear: step(domain.LeftVoluntarily{DeclarationRef: "D-2"}), clearAt: t0.Add(21 * 24 * time.Hour),
		},
	}
	for _, s := range signals {
		t.Run(s.name, func(t *testing.T) {
			w := newWorld(t)
			w.station("S01", "R1", stdZones...)
			w.station("S02", "R2", stdZones...)
			id := s.given(w)
			clk := newClock(s.due.Add(-time.Minute))
			r := w.runner(clk.now)

			if a := alertOf(t, r, projections.AsOf{}, s.rule, id); a != nil {
				t.Errorf("live a minute before %s: raised %+v", s.due, *a)
			}
			if a := alertOf(t, r, projections.AsOf{At: s.due.Add(-time.Minute)}, s.rule, id); a != nil {
				t.Errorf("as of a minute before: raised %+v", *a)
			}
			clk.set(s.due.Add(time.Minute))
			a := alertOf(t, r, projections.AsOf{}, s.rule, id)
			if a == nil {
				t.Fatalf("live a minute after %s: not raised", s.due)
			}
			if !a.Since.Equal(s.due) || a.Severity != s.severity || a.Station != "S01" || a.Detail == "" {
				t.Errorf(
					"alert: got since %s severity %s station %s detail %q; want since %s severity %s", a.Since,
					a.Severity, a.Station, a.Detail, s.due, s.severity,
				)
			}
			if a := alertOf(t, r, projections.AsOf{At: s.due.Add(time.Minute)}, s.rule, id); a == nil {
				t.Errorf("as of a minute after: not raised")
			}
			if s.clear != nil {
				s.clear(w, id, s.clearAt)
				w.sync(r)
			}
			clk.set(s.clearAt.Add(time.Minute))
			if a := alertOf(t, r, projections.AsOf{}, s.rule, id); a != nil {
				t.Errorf("live after the clearing step: still raised %+v", *a)
			}
			if a := alertOf(t, r, projections.AsOf{At: s.clearAt.Add(time.Minute)}, s.rule, id); a != nil {
				t.Errorf("as of after the clearing step: still raised %+v", *a)
			}
		})
	}
}

// alertOf returns the alert of rule on case id on the board of station
// S01 as of asOf, or nil.
func alertOf(
	tb testing.TB, r *projections.Runner, asOf projections.AsOf, rule string, id uuid.UUID,
) *projections.Alert {
	tb.Helper()
	b, err := r.Safety(projections.Filter{Station: "S01"}, asOf)
	if err != nil {
		tb.Fatal(err)
	}
	var found *projections.Alert
	for i, a := range b.Alerts {
		if a.Rule == rule && a.CaseID == id {
			if found != nil {
				tb.Errorf("rule %s raised twice on one case", rule)
			}
			found = &b.Alerts[i]
		}
	}
	return found
}

func TestRepeatVisitorOnlyWithin30DaysOrAtAnotherStation(t *testing.T) {
	w := newWorld(t)
	w.station("S01", "R1", stdZones...)
	w.station("S02", "R1", stdZones...)
	first := admitted(w, man, domain.Inspection{})
	w.step(first, t0.Add(24*time.Hour), domain.LeftVoluntarily{DeclarationRef: "D-1"})
	late := w.intake("S01", t0.Add(24*time.Hour+31*24*time.Hour), man, domain.Inspection{})
	elsewhere := w.intake("S02", t0.Add(24*time.Hour+40*24*time.Hour), man, domain.Inspection{})
	r := w.runner(newClock(t0.Add(70 * 24 * time.Hour)).now)
	if a := alertOf(t, r, projections.AsOf{}, projections.RuleRepeatVisitor, late); a != nil {
		t.Errorf("admitted 31 days after the exit: raised %+v", *a)
	}
	b, err := r.Safety(projections.Filter{Region: "R1"}, projections.AsOf{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range b.Alerts {
		if a.Rule == projections.RuleRepeatVisitor && a.CaseID == elsewhere {
			n++
		}
	}
	if n != 1 {
		t.Errorf("admitted at another station: %d repeat_visitor alerts, want 1", n)
	}
	if got := r.OpenAlertsByRule()[projections.RuleRepeatVisitor]; got != 1 {
		t.Errorf("OpenAlertsByRule: got %d repeat visitors, want 1", got)
	}
}

// TestBirthdayWarningFollowsBeijingDates: the 16th birthday's warning
// starts at midnight in Beijing seven days before and ends when the
// birthday begins there (16:00 UTC the day before).
func TestBirthdayWarningFollowsBeijingDates(t *testing.T) {
	w := newWorld(t)
	w.station("S01", "R1", stdZones...)
	id := boyBornOn(domain.Date{Year: 2010, Month: 3, Day: 12})(w)
	w.step(id, t0.Add(time.Hour), domain.GuardianshipTaken{Basis: "art. 92"})
	clk := newClock(t0)
	r := w.runner(clk.now)
	for _, c := range []struct {
		at     time.Time // in UTC
		detail string    // "" when nothing is raised
	}{
		{time.Date(2026, 3, 4, 15, 59, 0, 0, time.UTC), ""}, // 23:59 on 4 March in Beijing
		{time.Date(2026, 3, 4, 16, 1, 0, 0, time.UTC), "turns 16 within 7 day(s)"},
		{time.Date(2026, 3, 11, 15, 59, 0, 0, time.UTC), "turns 16 within 1 day(s)"}, // 23:59 on 11 March
		{time.Date(2026, 3, 11, 16, 1, 0, 0, time.UTC), ""},                          // 00:01 on the birthday
	} {
		clk.set(c.at)
		for _, asOf := range []projections.AsOf{{}, {At: c.at}} {
			a := alertOf(t, r, asOf, projections.RuleMinorBirthday, id)
			switch {
			case c.detail == "" && a != nil:
				t.Errorf("at %s (as of %v): raised %q", c.at, !asOf.IsLive(), a.Detail)
			case c.detail != "" && a == nil:
				t.Errorf("at %s (as of %v): not raised", c.at, !asOf.IsLive())
			case a != nil && (a.Detail != c.detail || !a.Since.Equal(time.Date(2026, 3, 4, 16, 0, 0, 0, time.UTC))):
				t.Errorf("at %s: got %q since %s, want %q since 00:00 on 5 March in Beijing", c.at, a.Detail, a.Since, c.detail)
			}
		}
	}
}
