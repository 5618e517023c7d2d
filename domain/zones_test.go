package domain_test

import (
	"slices"
	"testing"

	"waystation/domain"
)

func TestFittingZones(t *testing.T) {
	const (
		male, female, minors, motherChild = domain.ZoneAdultMale, domain.ZoneAdultFemale, domain.ZoneMinors, domain.ZoneMotherChild
		care, isolation, observation      = domain.ZoneCare, domain.ZoneIsolation, domain.ZoneObservation
	)
	unknownAge := domain.Person{Name: "X", Sex: domain.Female}
	for _, s := range []struct {
		name  string
		given []any
		then  []domain.Zone
	}{
		{"an adult man: the male zone first", inStation(man, noFlags), []domain.Zone{male, isolation, observation}},
		{"an adult woman: the female zone first, the mother-and-child room too", inStation(woman, noFlags), []domain.Zone{female, motherChild, isolation, observation}},
		{"a 17-year-old: the minors' zone, no adult zone", inStation(girl17, noFlags), []domain.Zone{minors, isolation, observation}},
		{"a person of unknown age is kept with minors", inStation(unknownAge, noFlags), []domain.Zone{minors, isolation, observation}},
		{"the elderly: care first", inStation(elderly, noFlags), []domain.Zone{care, male, isolation, observation}},
		{"a suspected mental disorder: care first", inStation(woman, mindFlag), []domain.Zone{care, female, motherChild, isolation, observation}},
		{"a suspected infectious disease: isolation only", inStation(man, domain.Inspection{SuspectedInfectious: true}), []domain.Zone{isolation}},
		{"a child under 6 linked to the mother: the minors' zone, or with the mother", []any{
			domain.IntakeRegistered{CaseID: caseID, Station: "S01", Referral: walkIn, Person: child4, MotherCaseID: motherID},
		}, []domain.Zone{minors, motherChild, isolation, observation}},
		{"a child under 6 with no mother's case: the minors' zone", inStation(child4, noFlags), []domain.Zone{minors, isolation, observation}},
	} {
		t.Run(s.name, func(t *testing.T) {
			c := foldCase(s.given)
			if got := domain.FittingZones(c, t0); !slices.Equal(got, s.then) {
				t.Errorf("got %v, want %v", got, s.then)
			}
		})
	}
}
