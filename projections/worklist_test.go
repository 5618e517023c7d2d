package projections_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/projections"
)

// workStory is one work item's story: given these events, the item of rule
// is due at due (a deadline: listed from WorklistAhead before it, overdue
// strictly after it; a condition: listed, overdue, from due on), cleared
// by step, taken by clear at clearAt.
type workStory struct {
	name     string
	rule     string
	step     domain.Step
	deadline bool
	given    func(w *world) uuid.UUID
	due      time.Time
	clear    func(w *world, id uuid.UUID, at time.Time)
	clearAt  time.Time
}

func TestWorklistItemsComeDueGoOverdueAndClear(t *testing.T) {
	cannotState := man
	cannotState.CanStateIdentity = ptr(false)
	extendedUntil := t0.Add(12 * 24 * time.Hour)
	stories := []workStory{
		{
			name: "the 10-day stay limit, cleared by an extension",
			rule: projections.RuleOverdueStay, step: domain.StepExtension, deadline: true,
			given:   func(w *world) uuid.UUID { return admitted(w, man, domain.Inspection{}) },
			due:     t0.Add(10 * 24 * time.Hour),
			clear:   step(domain.StayExtended{Until: t0.Add(20 * 24 * time.Hour), ApprovedBy: "head", Reason: "train"}),
			clearAt: t0.Add(10*24*time.Hour + time.Hour),
		},
		{
			name: "an extension ending, cleared by another",
			rule: projections.RuleOverdueStay, step: domain.StepExtension, deadline: true,
			given: func(w *world) uuid.UUID {
				id := admitted(w, man, domain.Inspection{})
				w.step(id, t0.Add(24*time.Hour), domain.StayExtended{Until: extendedUntil, ApprovedBy: "head", Reason: "train"})
				return id
			},
			due:     extendedUntil,
			clear:   step(domain.StayExtended{Until: t0.Add(30 * 24 * time.Hour), ApprovedBy: "head", Reason: "ill"}),
			clearAt: extendedUntil.Add(time.Hour),
		},
		{
			name: "a minor's guardianship, cleared by guardianship",
			rule: projections.RuleUnaccompaniedMinor, step: domain.StepGuardianship, deadline: true,
			given:   func(w *world) uuid.UUID { return admitted(w, boy, domain.Inspection{}) },
			due:     t0.Add(24 * time.Hour),
			clear:   step(domain.GuardianshipTaken{Basis: "art. 92"}),
			clearAt: t0.Add(30 * time.Hour),
		},
		{
			name: "a police report due at once, cleared by the report",
			rule: projections.RulePoliceReportDue, step: domain.StepPoliceReport, deadline: true,
			given:   func(w *world) uuid.UUID { return admitted(w, man, domain.Inspection{SuspectedLost: true}) },
			due:     t0,
			clear:   step(domain.PoliceReportFiled{Reason: domain.ReportSuspectedLost}),
			clearAt: t0.Add(2 * time.Hour),
		},
		{
			name: "a family-search notice for a person who cannot state who they are, cleared by the notice",
			rule: projections.RuleNoFamilySearchNotice, step: domain.StepFamilySearchNotice, deadline: true,
			given:   func(w *world) uuid.UUID { return admitted(w, cannotState, domain.Inspection{}) },
			due:     t0.Add(24 * time.Hour),
			clear:   step(domain.FamilySearchNoticePublished{Channel: "national_platform"}),
			clearAt: t0.Add(25 * time.Hour),
		},
		{
			name: "a DNA result outstanding, cleared by the result",
			rule: projections.RuleDNAResultOverdue, step: domain.StepDNAResult, deadline: true,
			given: func(w *world) uuid.UUID {
				id := admitted(w, man, domain.Inspection{})
				w.step(id, t0.Add(time.Hour), domain.DNARequested{Lab: "police lab"})
				return id
			},
			due:     t0.Add(time.Hour).AddDate(0, 1, 0),
			clear:   step(domain.DNAResultReceived{Matched: false}),
			clearAt: t0.Add(2*time.Hour).AddDate(0, 1, 0),
		},
		{
			name: "a discharge not followed by a return, cleared by the return",
			rule: projections.RulePendingMedical, step: domain.StepMedicalReturn, deadline: true,
			given:   discharged,
			due:     t0.Add(26 * time.Hour),
			clear:   step(domain.MedicalReturned{}),
			clearAt: t0.Add(27 * time.Hour),
		},
		{
			name: "back from hospital without a bed, cleared by a bed",
			rule: projections.RuleReturnedWithoutBed, step: domain.StepBed,
			given: func(w *world) uuid.UUID {
				id := discharged(w)
				w.step(id, t0.Add(3*time.Hour), domain.MedicalReturned{})
				return id
			},
			due:     t0.Add(3 * time.Hour),
			clear:   func(w *world, id uuid.UUID, at time.Time) { w.bed("S01", id, at, domain.ZoneAdultMale, 1) },
			clearAt: t0.Add(4 * time.Hour),
		},
		{
			name: "a minor in an adult zone, cleared by a move",
			rule: projections.RuleMinorInAdultZone, step: domain.StepBed,
			given: func(w *world) uuid.UUID {
				id := admitted(w, boy, domain.Inspection{})
				w.bed("S01", id, t0.Add(time.Hour), domain.ZoneAdultMale, 1)
				return id
			},
			due:     t0.Add(time.Hour),
			clear:   func(w *world, id uuid.UUID, at time.Time) { w.bed("S01", id, at, domain.ZoneMinors, 1) },
			clearAt: t0.Add(2 * time.Hour),
		},
		{
			name: "belongings still held at the exit, cleared by returning them",
			rule: projections.RuleBelongingsNotReturned, step: domain.StepBelongings,
			given: func(w *world) uuid.UUID {
				id := admitted(w, man, domain.Inspection{})
				w.step(id, t0.Add(2*time.Minute), domain.BelongingsDeposited{Items: []domain.Item{{Item: "phone", Qty: 1}}})
				w.step(id, t0.Add(2*time.Hour), domain.Absconded{})
				return id
			},
			due:     t0.Add(2 * time.Hour),
			clear:   step(domain.BelongingsReturned{Items: []string{"phone"}}),
			clearAt: t0.Add(4 * time.Hour),
		},
	}
	for _, s := range stories {
		t.Run(s.name, func(t *testing.T) {
			w := newWorld(t)
			w.station("S01", "R1", stdZones...)
			w.station("S02", "R2", stdZones...)
			id := s.given(w)
			clk := newClock(s.due.Add(time.Minute))
			r := w.runner(clk.now)
			at := func(when time.Time) *projections.WorkItem {
				return workItemOf(t, r, projections.AsOf{At: when}, s.rule, id)
			}
			listed := func(when time.Time, overdue bool) {
				t.Helper()
				it := at(when)
				if it == nil {
					t.Fatalf("at %s: no %s item", when, s.rule)
				}
				if !it.Due.Equal(s.due) || it.Overdue != overdue || it.Step != s.step || it.Station != "S01" {
					t.Errorf("at %s: item %+v, want due %s, overdue %t, step %s at S01", when, *it, s.due, overdue, s.step)
				}
			}
			if s.deadline {
				soon := s.due.Add(-projections.WorklistAhead)
				if soon.After(t0.Add(time.Minute)) {
					if it := at(soon.Add(-time.Minute)); it != nil {
						t.Errorf("more than %s ahead of the deadline: listed %+v", projections.WorklistAhead, *it)
					}
					listed(soon, false)
				}
				listed(s.due, false)
			} else if it := at(s.due.Add(-time.Minute)); it != nil {
				t.Errorf("a minute before the condition: listed %+v", *it)
			}
			listed(s.due.Add(time.Minute), true)

			// The live worklist at the same moment agrees, and an overdue
			// item is on the safety board from its deadline (a police
			// report excepted: a work item only).
			if it := workItemOf(t, r, projections.AsOf{}, s.rule, id); it == nil || !it.Overdue {
				t.Errorf("live, a minute after the deadline: item %v, want it overdue", it)
			}
			a := alertOf(t, r, projections.AsOf{}, s.rule, id)
			switch {
			case s.rule == projections.RulePoliceReportDue && a != nil:
				t.Errorf("police_report_due on the safety board: %+v", *a)
			case s.rule != projections.RulePoliceReportDue && (a == nil || !a.Since.Equal(s.due)):
				t.Errorf("safety board: alert %v, want one since %s", a, s.due)
			}

			s.clear(w, id, s.clearAt)
			clk.set(s.clearAt.Add(time.Minute))
			w.sync(r)
			if it := workItemOf(t, r, projections.AsOf{}, s.rule, id); it != nil {
				t.Errorf("live after %s: still listed %+v", s.step, *it)
			}
			if it := at(s.clearAt.Add(time.Minute)); it != nil {
				t.Errorf("as of after %s: still listed %+v", s.step, *it)
			}
			listed(s.due.Add(time.Minute), true) // the past is unchanged
		})
	}
}

func TestWorklistPutsTheOverdueFirstThenTheSoonestAndKeepsToItsStations(t *testing.T) {
	w := newWorld(t)
	w.station("S01", "R1", stdZones...)
	w.station("S02", "R2", stdZones...)
	minor := admitted(w, boy, domain.Inspection{})                   // guardianship due t0+24h
	lost := admitted(w, man, domain.Inspection{SuspectedLost: true}) // police report due t0
	elsewhere := w.intake("S02", t0, boy, domain.Inspection{})       // S02's own
	moving := admitted(w, man, domain.Inspection{})                  // a transfer to S02
	w.step(moving, t0.Add(time.Hour), domain.TransferRequested{From: "S01", To: "S02", Reason: "hometown"})
	// In hospital with no news for 3 days: a safety alert that no one step
	// clears, so no work item.
	hosp := w.intake("S01", t0.Add(-5*24*time.Hour), man, domain.Inspection{})
	w.step(hosp, t0.Add(-5*24*time.Hour+time.Minute), domain.MedicalReferred{Hospital: "designated"})
	w.step(hosp, t0.Add(-5*24*time.Hour+time.Hour), domain.HospitalAdmitted{Hospital: "designated"})
	r := w.runner(newClock(t0.Add(2 * time.Hour)).now)
	if alertOf(t, r, projections.AsOf{}, projections.RulePendingMedical, hosp) == nil {
		t.Fatal("no pending_medical alert for the stay in hospital with no news")
	}

	wl, err := r.Worklist(projections.Filter{Station: "S01"}, projections.AsOf{})
	if err != nil {
		t.Fatal(err)
	}
	if len(wl.Items) < 2 || !wl.Items[0].Overdue || wl.Items[len(wl.Items)-1].Overdue {
		t.Fatalf("worklist %+v, want overdue items first, then items due soon", wl.Items)
	}
	if it := workItemOf(t, r, projections.AsOf{}, projections.RulePoliceReportDue, lost); it == nil || !it.Overdue {
		t.Errorf("police report item %v, want it overdue", it)
	}
	for i := 1; i < len(wl.Items); i++ {
		a, b := wl.Items[i-1], wl.Items[i]
		if a.Overdue != b.Overdue && !a.Overdue || a.Overdue == b.Overdue && a.Due.After(b.Due) {
			t.Errorf("item %d %+v before item %d %+v", i-1, a, i, b)
		}
	}
	var guardianship, transfer bool
	for _, it := range wl.Items {
		if it.CaseID == elsewhere {
			t.Errorf("S01's worklist lists S02's case: %+v", it)
		}
		if it.Step == "" || it.CaseID == hosp && it.Rule == projections.RulePendingMedical {
			t.Errorf("an item with no step to clear it: %+v", it)
		}
		guardianship = guardianship || it.CaseID == minor && it.Step == domain.StepGuardianship && !it.Overdue
		transfer = transfer || it.CaseID == moving && it.Rule == projections.RuleTransferUnanswered
	}
	if !guardianship || !transfer {
		t.Errorf("worklist %+v lacks the minor's guardianship (%t) or the transfer's answer (%t)", wl.Items, guardianship, transfer)
	}
	// The transfer in flight is on the receiving station's list too.
	wl2, err := r.Worklist(projections.Filter{Station: "S02"}, projections.AsOf{})
	if err != nil {
		t.Fatal(err)
	}
	var answer bool
	for _, it := range wl2.Items {
		answer = answer || it.CaseID == moving && it.Step == domain.StepTransferAccept
	}
	if !answer {
		t.Errorf("S02's worklist %+v lacks the transfer to answer", wl2.Items)
	}
	if _, err := r.Worklist(projections.Filter{Station: "S09"}, projections.AsOf{}); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Errorf("unknown station: %v, want not_found", err)
	}
}

func workItemOf(
	tb testing.TB, r *projections.Runner, asOf projections.AsOf, rule string, id uuid.UUID,
) *projections.WorkItem {
	tb.Helper()
	wl, err := r.Worklist(projections.Filter{Station: "S01"}, asOf)
	if err != nil {
		tb.Fatal(err)
	}
	var found *projections.WorkItem
	for i, it := range wl.Items {
		if it.Rule == rule && it.CaseID == id {
			if found != nil {
				tb.Errorf("rule %s listed twice on one case", rule)
			}
			found = &wl.Items[i]
		}
	}
	return found
}
