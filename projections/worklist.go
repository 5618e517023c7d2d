package projections

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
)

// WorklistAhead is how long before its deadline a work item shows on the
// worklist: a deadline due within it is "due soon".
const WorklistAhead = 3 * Day

// WorklistRules lists every rule code a work item can have: the safety
// rules that a step clears (the same deadline or condition as on the
// board) and police_report_due. Shown to clients: never rename or reuse
// them.
var WorklistRules = []string{
	RuleOverdueStay, RuleNoFamilySearchNotice, RuleDNANotRequested, RuleDNAResultOverdue,
	RuleUnaccompaniedMinor, RuleMinorInAdultZone, RulePendingMedical, RuleAbsconded, RuleDeathChecklist,
	RuleLongStayNoSettlement, RuleTransferUnanswered, RuleHandoverOverdue, RuleBelongingsNotReturned,
	RuleReturnedWithoutBed, RulePoliceReportDue, RuleLeadReceived,
}

// WorkItem is one thing due on a case: the rule, its deadline, whether it
// has passed, and the step that clears it.
type WorkItem struct {
	Rule     string      `json:"rule" doc:"What is due: a safety rule's code (the same deadline as on the safety board) or police_report_due."`
	Severity string      `json:"severity" doc:"How urgent it is once overdue, as on the safety board."`
	CaseID   uuid.UUID   `json:"case_id" doc:"The case it is about."`
	Station  string      `json:"station" doc:"Code of the case's station."`
	Region   string      `json:"region,omitempty" doc:"Code of the station's region."`
	Due      time.Time   `json:"due" doc:"The deadline; for what is wrong as soon as it happens (a minor in an adult zone, belongings kept at exit), when it happened."`
	Overdue  bool        `json:"overdue" doc:"True once the deadline has passed: the item is then on the safety board too (police_report_due excepted)."`
	Step     domain.Step `json:"step" doc:"The step that clears it (POST /v1/cases/{id}/<step>)."`
}

// Worklist is what is due soon and overdue at At on the filtered
// stations, most urgent first.
type Worklist struct {
	At    time.Time  `json:"at" doc:"The moment the worklist shows."`
	Known bool       `json:"known,omitempty" doc:"True when the worklist shows only what had been recorded by then (known=true)."`
	Items []WorkItem `json:"items" doc:"Every item due within 3 days or overdue: the overdue first, then by deadline, soonest first."`
}

// Worklist returns the worklist of the stations f selects, as of asOf: the
// signals of the safety board that a step clears (caseSignals), raised or
// due within WorklistAhead, and the police reports due. An unknown station
// or region is a domain not_found error.
func (r *Runner) Worklist(f Filter, asOf AsOf) (Worklist, error) {
	var out Worklist
	err := r.view(context.Background(), asOf, func(m *model, at time.Time) error {
		if err := m.checkFilter(f); err != nil {
			return err
		}
		out = Worklist{At: at, Known: asOf.Known && !asOf.At.IsZero(), Items: m.workItems(f, at)}
		return nil
	})
	return out, err
}

// workItems lists the work items of the stations f selects at at.
func (m *model) workItems(f Filter, at time.Time) []WorkItem {
	out := []WorkItem{}
	horizon := at.Add(WorklistAhead)
	m.eachCase(f, at, func(ce *caseEntry) {
		c := &ce.c
		m.caseSignals(ce, at, func(s signal) {
			if s.step == "" {
				return
			}
			raised := s.raised(at)
			if !raised && (!s.deadline || s.due.After(horizon)) {
				return
			}
			out = append(out, WorkItem{Rule: s.rule, Severity: s.severity, CaseID: c.ID, Station: c.Station,
				Region: m.region(c.Station), Due: s.due, Overdue: raised, Step: s.step})
		})
	})
	slices.SortFunc(out, func(a, b WorkItem) int {
		if a.Overdue != b.Overdue {
			if a.Overdue {
				return -1
			}
			return 1
		}
		if c := a.Due.Compare(b.Due); c != 0 {
			return c
		}
		if c := severityRank(a.Severity) - severityRank(b.Severity); c != 0 {
			return c
		}
		if c := strings.Compare(a.Rule, b.Rule); c != 0 {
			return c
		}
		return strings.Compare(a.CaseID.String(), b.CaseID.String())
	})
	return out
}
