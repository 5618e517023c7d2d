package domain_test

import (
	"slices"
	"strings"
	"testing"

	"waystation/domain"
	"waystation/internal/sourcetest"
)

// enums are the domain's enumerated types, by name: the API description
// lists each one's Values as the enum of its fields.
var enums = map[string]domain.Enum{
	"AccountState": domain.AccountState(""),
	"Status":       domain.Status(""), "Zone": domain.Zone(""), "StationKind": domain.StationKind(""),
	"ReferralSource": domain.ReferralSource(""), "ExitType": domain.ExitType(""), "LegalBasis": domain.LegalBasis(""),
	"Role": domain.Role(""), "Sex": domain.Sex(""), "IDType": domain.IDType(""), "QueryChannel": domain.QueryChannel(""),
	"QueryResult": domain.QueryResult(""), "VerificationMethod": domain.VerificationMethod(""),
	"LongStayKind": domain.LongStayKind(""), "SettlementStage": domain.SettlementStage(""), "ReportReason": domain.ReportReason(""),
	"NoticeField": domain.NoticeField(""), "WithdrawalReason": domain.WithdrawalReason(""),
}

// notEnums are the types of typed string constants that no request or
// answer field takes as an enumeration of its own: error codes (listed by
// the HTTP layer with its own) and steps (the routes' paths).
var notEnums = []string{"Code", "Step"}

// TestEveryEnumListsExactlyItsConstants reads the domain's source: each
// type of typed string constants is an Enum whose Values are exactly its
// constants, and whose Valid takes each of them and refuses anything
// else, so that what the decoders refuse is what the API lists.
func TestEveryEnumListsExactlyItsConstants(t *testing.T) {
	declared := typedConstants(t)
	for name, consts := range declared {
		if slices.Contains(notEnums, name) {
			continue
		}
		e, ok := enums[name]
		if !ok {
			t.Errorf("type %s has constants %v but is not among the enums the API lists", name, consts)
			continue
		}
		got := e.Values()
		if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(consts))) {
			t.Errorf("%s.Values() = %v, want its constants %v", name, got, consts)
		}
	}
	for name, e := range enums {
		if len(declared[name]) == 0 {
			t.Errorf("enum %s has no constants in the domain's source", name)
		}
		if len(e.Values()) == 0 || e.Valid() {
			t.Errorf("%s: the empty value is valid or there are no values", name)
		}
	}
	// Valid agrees with Values.
	checks := map[string]func(string) bool{
		"Status": func(s string) bool { return domain.Status(s).Valid() }, "Zone": func(s string) bool { return domain.Zone(s).Valid() },
		"IDType": func(s string) bool { return domain.IDType(s).Valid() }, "QueryChannel": func(s string) bool { return domain.QueryChannel(s).Valid() },
		"QueryResult": func(s string) bool { return domain.QueryResult(s).Valid() }, "ReportReason": func(s string) bool { return domain.ReportReason(s).Valid() },
		"VerificationMethod": func(s string) bool { return domain.VerificationMethod(s).Valid() },
		"LongStayKind":       func(s string) bool { return domain.LongStayKind(s).Valid() },
		"SettlementStage":    func(s string) bool { return domain.SettlementStage(s).Valid() },
		"ExitType":           func(s string) bool { return domain.ExitType(s).Valid() },
	}
	for name, valid := range checks {
		for _, v := range enums[name].Values() {
			if !valid(v) || valid(strings.ToUpper(v)) || valid(v+" ") {
				t.Errorf("%s.Valid disagrees with Values on %q", name, v)
			}
		}
	}
}

// typedConstants returns the string constants the domain declares with an
// explicit type, by type name.
func typedConstants(t *testing.T) map[string][]string {
	t.Helper()
	out, err := sourcetest.TypedStringConstants(".")
	if err != nil {
		t.Fatalf("domain sources: %v", err)
	}
	return out
}
