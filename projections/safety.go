package projections

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
)

// Rule codes of the safety board (docs/api.md). Shown to clients and used as
// metric labels: never rename or reuse them.
const (
	RuleOverdueStay           = "overdue_stay"
	RuleNoFamilySearchNotice  = "no_family_search_notice"
	RuleDNANotRequested       = "dna_not_requested"
	RuleDNAResultOverdue      = "dna_result_overdue"
	RuleUnaccompaniedMinor    = "unaccompanied_minor"
	RuleMinorInAdultZone      = "minor_in_adult_zone"
	RuleMinorBirthday         = "minor_birthday"
	RulePendingMedical        = "pending_medical"
	RuleAbsconded             = "absconded"
	RuleDeathChecklist        = "death_checklist"
	RuleLongStayNoSettlement  = "long_stay_no_settlement"
	RuleTransferUnanswered    = "transfer_unanswered"
	RuleHandoverOverdue       = "handover_overdue"
	RuleBelongingsNotReturned = "belongings_not_returned"
	RuleRepeatVisitor         = "repeat_visitor"
	RuleReturnedWithoutBed    = "returned_without_bed"

	// RulePoliceReportDue is a work item, never a safety alert.
	RulePoliceReportDue = "police_report_due"
)

// Rules lists every rule code of the safety board.
var Rules = []string{
	RuleOverdueStay, RuleNoFamilySearchNotice, RuleDNANotRequested, RuleDNAResultOverdue,
	RuleUnaccompaniedMinor, RuleMinorInAdultZone, RuleMinorBirthday, RulePendingMedical,
	RuleAbsconded, RuleDeathChecklist, RuleLongStayNoSettlement, RuleTransferUnanswered,
	RuleHandoverOverdue, RuleBelongingsNotReturned, RuleRepeatVisitor, RuleReturnedWithoutBed,
}

// Severities of alerts, from the most urgent.
const (
	SeverityHigh   = "high"
	SeverityMedium = "medium"
	SeverityLow    = "low"
)

// The deadlines of safety signals of docs/domain.md.
const (
	Day                  = 24 * time.Hour
	NoticeDue            = 24 * time.Hour // family-search notice after registration
	DNARequestDue        = 7 * Day        // DNA request after registration
	GuardianshipDue      = 24 * time.Hour // guardianship of a minor after registration
	BirthdayWarning      = 7 * Day        // 16th and 18th birthdays ahead
	HospitalUpdateDue    = 3 * Day        // news of a person in hospital
	ReturnAfterDischarge = 24 * time.Hour // back or exited after discharge
	TransferAnswerDue    = 48 * time.Hour // answer to a transfer request
	HandoverDue          = 72 * time.Hour // handover after the escort left
	RepeatWithin         = 30 * Day       // a new admission this soon after an exit
	SettlementDue        = domain.SettlementAfterDay * Day
)

// DNAResultDue returns when a DNA result requested at t is overdue: a
// month later.
func DNAResultDue(t time.Time) time.Time { return t.AddDate(0, 1, 0) }

// Alert is one safety signal raised on a case. Detail says what is wrong
// in words that carry no personal data.
type Alert struct {
	Rule     string    `json:"rule" doc:"The safety signal raised."`
	Severity string    `json:"severity" doc:"How urgent it is."`
	CaseID   uuid.UUID `json:"case_id" doc:"The case it is about."`
	Station  string    `json:"station" doc:"Code of the case's station."`
	Region   string    `json:"region,omitempty" doc:"Code of the station's region."`
	Since    time.Time `json:"since" doc:"Since when the signal has been raised."`
	Detail   string    `json:"detail" doc:"What is wrong, in words that carry no personal data."`
}

// Filter selects stations: one station, one region, or (both empty) all.
type Filter struct {
	Station string
	Region  string
}

// SafetyBoard is every alert raised at At on the filtered stations, most
// severe first, then oldest first.
type SafetyBoard struct {
	At     time.Time `json:"at" doc:"The moment the board shows."`
	Known  bool      `json:"known,omitempty" doc:"True when the board shows only what had been recorded by then (known=true)."`
	Alerts []Alert   `json:"alerts" doc:"Every alert raised, most severe first, then oldest first."`
}

// Safety returns the safety board of the stations f selects, as of asOf.
// An unknown station or region is a domain not_found error.
func (r *Runner) Safety(f Filter, asOf AsOf) (SafetyBoard, error) {
	var out SafetyBoard
	err := r.view(context.Background(), asOf, func(m *model, at time.Time) error {
		if err := m.checkFilter(f); err != nil {
			return err
		}
		out = SafetyBoard{At: at, Known: asOf.Known && !asOf.At.IsZero(), Alerts: m.alerts(f, at)}
		return nil
	})
	return out, err
}

// OpenAlertsByRule counts the alerts of the live board now, per rule code;
// every rule is present, with zero when nothing is raised. It is meant for
// a metrics gauge.
func (r *Runner) OpenAlertsByRule() map[string]int {
	r.mu.RLock()
	alerts := r.live.alerts(Filter{}, r.opts.Now())
	r.mu.RUnlock()
	out := make(map[string]int, len(Rules))
	for _, rule := range Rules {
		out[rule] = 0
	}
	for _, a := range alerts {
		out[a.Rule]++
	}
	return out
}

// checkFilter returns not_found for a station or region that has no
// registered station.
func (m *model) checkFilter(f Filter) error {
	if f.Station != "" {
		if s := m.stations[f.Station]; s == nil || !s.st.Registered() {
			return domain.NotFound("no station %q", f.Station)
		}
	}
	if f.Region != "" {
		for _, s := range m.stations {
			if s.st.Region == f.Region {
				return nil
			}
		}
		return domain.NotFound("no region %q", f.Region)
	}
	return nil
}

// selects reports whether the station with code passes f.
func (m *model) selects(f Filter, code string) bool {
	return (f.Station == "" || f.Station == code) && (f.Region == "" || f.Region == m.region(code))
}

// eachCase calls fn with every case opened by at at a station f selects;
// a transfer in flight belongs to both stations' boards. The safety board
// and the worklist, live and "as of", go through here.
func (m *model) eachCase(f Filter, at time.Time, fn func(ce *caseEntry)) {
	visit := func(ce *caseEntry) {
		if ce.opened() && !ce.c.OpenedAt.After(at) {
			fn(ce)
		}
	}
	if f.Station == "" && f.Region == "" {
		for _, ce := range m.order {
			visit(ce)
		}
		return
	}
	// Only the selected stations' cases are read: a case filed under two
	// selected stations (a transfer within a region) is visited from the
	// first of its stations.
	for code, list := range m.atStation {
		if !m.selects(f, code) {
			continue
		}
		for _, ce := range list {
			if boards := boardsOf(&ce.c); boards[slices.IndexFunc(boards, func(s string) bool { return m.selects(f, s) })] == code {
				visit(ce)
			}
		}
	}
}

// alerts evaluates every rule on every case of the stations f selects, at
// at.
func (m *model) alerts(f Filter, at time.Time) []Alert {
	out := []Alert{}
	m.eachCase(f, at, func(ce *caseEntry) { out = m.caseAlerts(out, ce, at) })
	slices.SortFunc(out, func(a, b Alert) int {
		if c := severityRank(a.Severity) - severityRank(b.Severity); c != 0 {
			return c
		}
		if c := a.Since.Compare(b.Since); c != 0 {
			return c
		}
		if c := strings.Compare(a.Rule, b.Rule); c != 0 {
			return c
		}
		return strings.Compare(a.CaseID.String(), b.CaseID.String())
	})
	return out
}

func severityRank(s string) int {
	switch s {
	case SeverityHigh:
		return 0
	case SeverityMedium:
		return 1
	}
	return 2
}

// A signal is one thing a case is due for or raised on, with its rule: a
// deadline, raised strictly after due unless what it asks for is done
// first, or a condition, raised from due on while it holds. The safety
// board shows the raised ones (an Alert since due); the worklist shows the
// ones that a step clears, raised or (deadlines) due within WorklistAhead.
// caseSignals is the one place that says when each rule is due and what
// clears it.
type signal struct {
	rule, severity string
	due            time.Time
	deadline       bool        // raised strictly after due; else from due on
	step           domain.Step // the step that clears it; "" when no step does
	worklistOnly   bool        // a work item, not a safety signal
	detail         string      // the alert's words, without personal data
}

// raised reports whether s is raised at at.
func (s signal) raised(at time.Time) bool {
	if s.deadline {
		return at.After(s.due)
	}
	return !s.due.After(at) // a step recorded ahead of its time raises nothing yet
}

// caseAlerts appends the safety alerts of one case raised at at.
func (m *model) caseAlerts(out []Alert, ce *caseEntry, at time.Time) []Alert {
	c := &ce.c
	m.caseSignals(ce, at, func(s signal) {
		if s.worklistOnly || !s.raised(at) {
			return
		}
		out = append(out, Alert{Rule: s.rule, Severity: s.severity, CaseID: c.ID, Station: c.Station,
			Region: m.region(c.Station), Since: s.due, Detail: s.detail})
	})
	return out
}

// caseSignals calls emit with every signal of one case that is pending at
// at: each rule states when it is due and what clears it.
func (m *model) caseSignals(ce *caseEntry, at time.Time, emit func(signal)) {
	c := &ce.c
	deadline := func(rule, severity string, due time.Time, step domain.Step, detail string) {
		emit(signal{rule: rule, severity: severity, due: due, deadline: true, step: step, detail: detail})
	}
	condition := func(rule, severity string, since time.Time, step domain.Step, detail string) {
		emit(signal{rule: rule, severity: severity, due: since, step: step, detail: detail})
	}
	leadSignals(c, emit)
	active := c.Active()
	// Ages are taken on the civil date in China Standard Time.
	age, ageKnown := c.AgeOn(at.In(domain.CivilZone))
	minor := ageKnown && age < domain.AdultAge

	if active {
		present := c.Status == domain.StatusReceived || c.Status == domain.StatusInStation
		// Overdue stay: in station past the limit (16+, no disability flag),
		// unless in long-stay care. Cleared by an extension or an exit.
		if present && c.LongStay == nil && c.StayLimitApplies(at) {
			what := "in station past the 10-day limit with no extension"
			if c.Extended {
				what = "in station past the extended stay limit"
			}
			deadline(RuleOverdueStay, SeverityMedium, c.StayDeadline(), domain.StepExtension, what)
		}
		// Police report: due at once (at the intake) for the reasons the
		// inspection found, until filed; a work item only (the exits wait
		// for it, domain's reportFirst).
		if c.PoliceReportDue() {
			emit(signal{rule: RulePoliceReportDue, severity: SeverityHigh, due: c.OpenedAt, deadline: true,
				step: domain.StepPoliceReport, worklistOnly: true, detail: "police report not filed"})
		}
		if !c.Identity.Verified {
			// Cleared by a notice, an identification or an exit.
			if c.Identity.NoticeAt.IsZero() {
				deadline(
					RuleNoFamilySearchNotice, SeverityMedium, c.OpenedAt.Add(NoticeDue), domain.StepFamilySearchNotice,
					"not identified and no family-search notice 24 hours after registration",
				)
			}
			if c.Identity.DNARequestedAt.IsZero() {
				deadline(RuleDNANotRequested, SeverityMedium, c.OpenedAt.Add(DNARequestDue), domain.StepDNARequest,
					"not identified and no DNA request 7 days after registration")
			}
			if req := c.Identity.DNARequestedAt; !req.IsZero() && c.Identity.DNAResultAt.IsZero() {
				deadline(RuleDNAResultOverdue, SeverityMedium, DNAResultDue(req), domain.StepDNAResult,
					"no DNA result a month after the request")
			}
			// Long stay: over 3 months with no settlement application.
			if c.Settlement == nil {
				deadline(RuleLongStayNoSettlement, SeverityMedium, c.OpenedAt.Add(SettlementDue), domain.StepSettlement,
					"over 3 months unidentified with no settlement application")
			}
		}
		if minor {
			if c.Guardianship == nil {
				deadline(RuleUnaccompaniedMinor, SeverityHigh, c.OpenedAt.Add(GuardianshipDue), domain.StepGuardianship,
					"minor with no guardianship step 24 hours after registration")
			}
			if ce.bed != nil && ce.bed.Zone.Adult() {
				condition(RuleMinorInAdultZone, SeverityHigh, ce.bed.Since, domain.StepBed,
					"minor placed in zone "+string(ce.bed.Zone))
			}
		}
		// The 16th and 18th birthdays change which rules apply. Birthdays
		// are civil dates: the warning starts at 00:00 in domain.CivilZone
		// seven days before, and ends when the birthday begins there.
		if born := birthDate(c.Person); !born.IsZero() {
			today := dayStart(at)
			for _, n := range []int{domain.VoluntaryLeaveAge, domain.AdultAge} {
				// A 29 February birthday falls on 1 March in common years,
				// as time.Date normalises it.
				bday := time.Date(born.Year+n, born.Month, born.Day, 0, 0, 0, 0, domain.CivilZone)
				if warn := bday.AddDate(0, 0, -int(BirthdayWarning/Day)); !at.Before(warn) && at.Before(bday) {
					days := int(bday.Sub(today) / Day)
					condition(RuleMinorBirthday, SeverityLow, warn, "", fmt.Sprintf("turns %d within %d day(s)", n, days))
				}
			}
		}
		medicalSignals(deadline, condition, c, ce)
		// Back from hospital without a bed (the bed was released at the
		// admission): raised at the return, cleared by a bed placement,
		// another absence or an exit.
		inStationCare := present || (c.Status == domain.StatusLongStay && c.LongStay != nil &&
			c.LongStay.Kind == domain.LongStayInStation)
		if inStationCare && ce.bed == nil && c.Medical.State == domain.MedicalStateReturned {
			condition(RuleReturnedWithoutBed, SeverityMedium, c.Medical.ReturnedAt, domain.StepBed,
				"back from hospital with no bed")
		}
		if t := c.Transfer; t != nil {
			switch t.State {
			case domain.TransferStateRequested:
				deadline(RuleTransferUnanswered, SeverityMedium, t.RequestedAt.Add(TransferAnswerDue),
					domain.StepTransferAccept, "transfer to "+t.To+" not answered in 48 hours")
			case domain.TransferStateDeparted:
				deadline(RuleHandoverOverdue, SeverityHigh, t.DepartedAt.Add(HandoverDue), domain.StepHandover,
					"no handover at "+t.To+" 72 hours after the escort left")
			}
		}
		if prev, other := m.previousVisit(ce); prev != nil {
			detail := "admitted again within 30 days of a previous case"
			if other {
				detail = "has a previous case at another station"
			}
			condition(RuleRepeatVisitor, SeverityLow, c.OpenedAt, "", detail)
		}
	}

	// Absconding: raised at the exit, until the case is closed.
	if c.ExitType == domain.ExitAbsconding && c.Status == domain.StatusExited {
		sev := SeverityMedium
		exitAge, known := c.AgeOn(c.ExitedAt.In(domain.CivilZone))
		if known && (exitAge < domain.AdultAge || exitAge >= domain.ElderlyAge) || c.Disabled() {
			sev = SeverityHigh
		}
		condition(RuleAbsconded, sev, c.ExitedAt, domain.StepClosure, "left without notice")
	}
	// Death: until the checklist is complete.
	if d := c.Death; d != nil && !d.ChecklistComplete() {
		condition(RuleDeathChecklist, SeverityHigh, d.At, domain.StepDeath,
			"death checklist incomplete: "+strings.Join(missingChecklist(d), ", "))
	}
	// Belongings: the person left (an exit of any kind; the deciders refuse
	// the exits they attend while belongings are deposited) with deposited
	// belongings not returned: raised at the exit, cleared when every item
	// is recorded returned.
	if c.Status == domain.StatusExited || c.Status == domain.StatusClosed {
		if n := c.BelongingsDeposited(); n > 0 {
			condition(
				RuleBelongingsNotReturned, SeverityMedium, c.ExitedAt, domain.StepBelongings,
				fmt.Sprintf("left with %d deposited item(s) not returned", n),
			)
		}
	}
}

// signalFunc emits a deadline or a condition of a rule (caseSignals).
type signalFunc func(rule, severity string, due time.Time, step domain.Step, detail string)

// medicalSignals emits pending_medical: a suspected infectious or mental
// disorder never referred (a condition from the intake, cleared by a
// referral); a hospital stay with no news of the case for 3 days (cleared
// by any step on the case, so by no one step); a discharge not followed
// within 24 hours by the return or an exit.
func medicalSignals(deadline, condition signalFunc, c *domain.Case, ce *caseEntry) {
	in := c.Inspection
	switch c.Medical.State {
	case "":
		if in.SuspectedInfectious || in.SuspectedMentalDisorder {
			condition(
				RulePendingMedical, SeverityHigh, c.OpenedAt, domain.StepMedicalReferral,
				"suspected condition found at inspection and not referred to a hospital",
			)
		}
	case domain.MedicalStateAdmitted:
		deadline(RulePendingMedical, SeverityMedium, ce.lastAt.Add(HospitalUpdateDue), "",
			"in hospital with no update for 3 days")
	case domain.MedicalStateDischarged:
		deadline(RulePendingMedical, SeverityHigh, c.Medical.DischargedAt.Add(ReturnAfterDischarge),
			domain.StepMedicalReturn, "discharged from hospital and not back within 24 hours")
	}
}

// missingChecklist names, in the board's words, the death checklist's items
// not done.
func missingChecklist(d *domain.Death) []string {
	missing := d.Missing() // counts items done before an erasure sealed them away
	out := make([]string, len(missing))
	for i, item := range missing {
		out[i] = checklistLabels[item]
	}
	return out
}

// checklistLabels are the words the board uses for the death checklist's
// items.
var checklistLabels = map[string]string{
	domain.ChecklistCertifiedBy:       "certifier",
	domain.ChecklistPoliceNotified:    "police notified",
	domain.ChecklistRelativesNotified: "relatives notified",
	domain.ChecklistPublicNotice:      "public notice",
	domain.ChecklistBodyDisposition:   "body disposition",
}

// previousVisit returns an earlier case of the same person that makes ce a
// repeat visit: one at another station (other is true), or one that was
// still open, or had ended within 30 days, when ce began.
func (m *model) previousVisit(ce *caseEntry) (prev *caseEntry, other bool) {
	for _, k := range ce.keys {
		for _, p := range m.persons[k] {
			if p.seq >= ce.seq {
				break
			}
			if p.stays[0].Station != ce.stays[0].Station {
				return p, true
			}
			if !p.c.Status.Ended() && p.c.ExitedAt.IsZero() || !ce.c.OpenedAt.After(p.c.ExitedAt.Add(RepeatWithin)) {
				prev = p
			}
		}
	}
	return prev, false
}
