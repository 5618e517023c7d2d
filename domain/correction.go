package domain

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
)

// correctable is a field a correction may change: the event types that
// record it, and how to read, compare and set it on a case.
type correctable struct {
	types []string
	equal func(c *Case, raw json.RawMessage) (bool, error)
	set   func(c *Case, raw json.RawMessage) error
}

func field[T any](types []string, ptr func(*Case) *T) correctable {
	return correctable{
		types: types,
		equal: func(c *Case, raw json.RawMessage) (bool, error) {
			var v T
			if err := json.Unmarshal(raw, &v); err != nil {
				return false, err
			}
			return reflect.DeepEqual(v, *ptr(c)), nil
		},
		set: func(c *Case, raw json.RawMessage) error {
			var v T
			if err := json.Unmarshal(raw, &v); err != nil {
				return err
			}
			*ptr(c) = v
			return nil
		},
	}
}

var (
	personEvents   = []string{TypeIntakeRegistered, TypeIdentityVerified}
	intakeOnly     = []string{TypeIntakeRegistered}
	correctableMap = map[string]correctable{
		"person.name":                          field(personEvents, func(c *Case) *string { return &c.Person.Name }),
		"person.sex":                           field(intakeOnly, func(c *Case) *Sex { return &c.Person.Sex }),
		"person.birth_date":                    field(personEvents, func(c *Case) *Date { return &c.Person.BirthDate }),
		"person.estimated_age":                 field(intakeOnly, func(c *Case) **int { return &c.Person.EstimatedAge }),
		"person.id_type":                       field(personEvents, func(c *Case) *string { return &c.Person.IDType }),
		"person.id_number":                     field(personEvents, func(c *Case) *string { return &c.Person.IDNumber }),
		"person.hukou_place":                   field(personEvents, func(c *Case) *string { return &c.Person.HukouPlace }),
		"person.dialect":                       field(intakeOnly, func(c *Case) *string { return &c.Person.Dialect }),
		"person.can_state_identity":            field(intakeOnly, func(c *Case) **bool { return &c.Person.CanStateIdentity }),
		"person.street_reason":                 field(intakeOnly, func(c *Case) *string { return &c.Person.StreetReason }),
		"referral.source":                      field(intakeOnly, func(c *Case) *ReferralSource { return &c.Referral.Source }),
		"referral.form_no":                     field(intakeOnly, func(c *Case) *string { return &c.Referral.FormNo }),
		"referral.referred_by":                 field(intakeOnly, func(c *Case) *string { return &c.Referral.ReferredBy }),
		"referral.found_at":                    field(intakeOnly, func(c *Case) *string { return &c.Referral.FoundAt }),
		"inspection.injuries":                  field(intakeOnly, func(c *Case) *bool { return &c.Inspection.Injuries }),
		"inspection.intoxicated":               field(intakeOnly, func(c *Case) *bool { return &c.Inspection.Intoxicated }),
		"inspection.suspected_infectious":      field(intakeOnly, func(c *Case) *bool { return &c.Inspection.SuspectedInfectious }),
		"inspection.suspected_mental_disorder": field(intakeOnly, func(c *Case) *bool { return &c.Inspection.SuspectedMentalDisorder }),
		"inspection.intellectual_disability":   field(intakeOnly, func(c *Case) *bool { return &c.Inspection.IntellectualDisability }),
		"inspection.physical_disability":       field(intakeOnly, func(c *Case) *bool { return &c.Inspection.PhysicalDisability }),
		"inspection.seriously_ill":             field(intakeOnly, func(c *Case) *bool { return &c.Inspection.SeriouslyIll }),
		"inspection.signs_of_harm":             field(intakeOnly, func(c *Case) *bool { return &c.Inspection.SignsOfHarm }),
		"inspection.suspected_trafficked":      field(intakeOnly, func(c *Case) *bool { return &c.Inspection.SuspectedTrafficked }),
		"inspection.suspected_lost":            field(intakeOnly, func(c *Case) *bool { return &c.Inspection.SuspectedLost }),
		"inspection.abandoned":                 field(intakeOnly, func(c *Case) *bool { return &c.Inspection.Abandoned }),
	}
)

// CorrectableFields returns the dotted JSON paths a correction may change,
// sorted.
func CorrectableFields() []string {
	out := make([]string, 0, len(correctableMap))
	for k := range correctableMap {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// applyCorrection sets field to the JSON value raw on a copy of c. A value
// that does not decode leaves c as it was (the decider refuses such
// corrections before they are stored).
func applyCorrection(c Case, name string, raw json.RawMessage) Case {
	f, ok := correctableMap[name]
	if !ok {
		return c
	}
	d := c
	d.Person.Contacts = slices.Clip(d.Person.Contacts)
	if err := f.set(&d, raw); err != nil {
		return c
	}
	if name == "person.birth_date" && !d.Person.BirthDate.IsZero() {
		d.Person.EstimatedAge = nil
	}
	return d
}
