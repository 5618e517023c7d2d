package domain

import "testing"

// TestEveryCaseStepIsDeclared: every step of CaseSteps has its declaration
// in caseStepRules, with a decider unless it is a bed step (DecideBed's),
// and nothing else is declared there.
func TestEveryCaseStepIsDeclared(t *testing.T) {
	for _, step := range caseSteps {
		s, ok := caseStepRules[step]
		if !ok {
			t.Errorf("step %s is not declared", step)
			continue
		}
		bed := step == StepBed || step == StepBedRelease
		if (s.decide == nil) != bed {
			t.Errorf("step %s: decider %v, want one unless it is a bed step", step, s.decide != nil)
		}
	}
	if len(caseStepRules) != len(caseSteps) {
		t.Errorf("%d steps declared, want the %d case steps", len(caseStepRules), len(caseSteps))
	}
}
