package domain_test

import (
	"testing"

	"waystation/domain"
)

func TestAuthorize(t *testing.T) {
	regions := map[string]string{"S01": "R1", "S02": "R1", "S09": "R9"}
	regionOf := func(code string) (string, bool) { r, ok := regions[code]; return r, ok }
	atS01 := &domain.Case{Station: "S01"}
	toS02 := &domain.Case{Station: "S01", Transfer: &domain.Transfer{From: "S01", To: "S02", State: domain.TransferStateRequested}}
	toS09 := &domain.Case{Station: "S01", Transfer: &domain.Transfer{From: "S01", To: "S09", State: domain.TransferStateRequested}}
	fromS09 := &domain.Case{Station: "S09", Transfer: &domain.Transfer{From: "S09", To: "S01", State: domain.TransferStateRequested}}
	staff := func(s string) domain.Actor { return domain.Actor{ID: "x", Role: domain.RoleStaff, Station: s} }
	coord := func(r string) domain.Actor { return domain.Actor{ID: "x", Role: domain.RoleCoordinator, Region: r} }
	inspector := func(r string) domain.Actor { return domain.Actor{ID: "x", Role: domain.RoleInspector, Region: r} }
	admin := domain.Actor{ID: "x", Role: domain.RoleAdmin}
	cases := []struct {
		name  string
		actor domain.Actor
		step  domain.Step
		c     *domain.Case
		allow bool
	}{
		{"staff record steps of their station's cases", staff("S01"), domain.StepEligibility, atS01, true},
		{"staff do not touch another station's cases", staff("S02"), domain.StepEligibility, atS01, false},
		{"staff record intakes at their station", staff("S01"), domain.StepIntake, &domain.Case{Station: "S01"}, true},
		{"staff record no intakes elsewhere", staff("S01"), domain.StepIntake, &domain.Case{Station: "S02"}, false},
		{"a staff token without a station does nothing", staff(""), domain.StepEligibility, atS01, false},
		{"the sending station requests a transfer", staff("S01"), domain.StepTransferRequest, atS01, true},
		{"the sending station does not accept its own transfer", staff("S01"), domain.StepTransferAccept, toS02, false},
		{"the receiving station accepts", staff("S02"), domain.StepTransferAccept, toS02, true},
		{"the receiving station declines", staff("S02"), domain.StepTransferDecline, toS02, true},
		{"the receiving station confirms the handover", staff("S02"), domain.StepHandover, toS02, true},
		{"the sending station does not confirm the handover", staff("S01"), domain.StepHandover, toS02, false},
		{"the sending station escorts", staff("S01"), domain.StepEscortDeparture, toS02, true},
		{"the receiving station does not escort", staff("S02"), domain.StepEscortDeparture, toS02, false},
		{"the receiving station reads the incoming case", staff("S02"), domain.StepRead, toS02, true},
		{"a third station does not read it", staff("S03"), domain.StepRead, toS02, false},
		{"a third station does not accept it", staff("S03"), domain.StepTransferAccept, toS02, false},
		{"the coordinator acts on the region's cases", coord("R1"), domain.StepTransferRequest, atS01, true},
		{"the coordinator does both sides", coord("R1"), domain.StepTransferAccept, toS02, true},
		{"the coordinator does not record intakes", coord("R1"), domain.StepIntake, &domain.Case{Station: "S01"}, false},
		{"another region's coordinator does nothing here", coord("R9"), domain.StepEligibility, atS01, false},
		{"the receiving region's coordinator accepts", coord("R9"), domain.StepTransferAccept, toS09, true},
		{"the receiving region's coordinator reads the incoming case", coord("R9"), domain.StepRead, toS09, true},
		{"the receiving region's coordinator does not escort", coord("R9"), domain.StepEscortDeparture, toS09, false},
		{"the sending region's coordinator does not accept for another region", coord("R1"), domain.StepTransferAccept, toS09, false},
		{"the sending region's coordinator does not decline for another region", coord("R1"), domain.StepTransferDecline, toS09, false},
		{"the sending region's coordinator does not confirm another region's handover", coord("R1"), domain.StepHandover, toS09, false},
		{"the sending region's coordinator escorts", coord("R1"), domain.StepEscortDeparture, toS09, true},
		{"the receiving region's coordinator declines", coord("R9"), domain.StepTransferDecline, toS09, true},
		{"the receiving region's coordinator confirms the handover", coord("R9"), domain.StepHandover, toS09, true},
		{"the receiving region's coordinator does not answer the opposite transfer", coord("R9"), domain.StepTransferAccept, fromS09, false},
		{"the receiving station's staff do not answer a transfer to another station", staff("S01"), domain.StepTransferDecline, toS09, false},
		{"the sending region's coordinator requests", coord("R9"), domain.StepTransferRequest, fromS09, true},
		{"inspectors write nothing", inspector(""), domain.StepEligibility, atS01, false},
		{"inspectors read everywhere without a region", inspector(""), domain.StepRead, atS01, true},
		{"a region's inspector reads its cases", inspector("R1"), domain.StepRead, atS01, true},
		{"a region's inspector does not read elsewhere", inspector("R9"), domain.StepRead, atS01, false},
		{"admins do everything", admin, domain.StepHandover, toS02, true},
		{"admins register stations", admin, domain.StepRegisterStation, nil, true},
		{"staff do not register stations", staff("S01"), domain.StepRegisterStation, nil, false},
		{"coordinators issue no tokens", coord("R1"), domain.StepIssueToken, nil, false},
		{"an unknown role does nothing", domain.Actor{ID: "x", Role: "guest"}, domain.StepRead, atS01, false},
		{"admins erase personal data", admin, domain.StepErasure, nil, true},
		{"staff erase no personal data", staff("S01"), domain.StepErasure, nil, false},
		{"coordinators erase no personal data", coord("R1"), domain.StepErasure, nil, false},
		{"inspectors erase no personal data", inspector(""), domain.StepErasure, nil, false},
		{"the retention job's name alone erases nothing",
			domain.Actor{ID: domain.RetentionActor, Role: domain.RoleStaff, Station: "S01"}, domain.StepErasure, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := domain.Authorize(c.actor, c.step, c.c, regionOf)
			if c.allow && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !c.allow && domain.ErrorCode(err) != domain.CodeForbidden {
				t.Fatalf("got %v, want forbidden", err)
			}
		})
	}
}
