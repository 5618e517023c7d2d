package http

import (
	"reflect"
	"slices"

	"waystation/domain"
	"waystation/projections"
)

// enumValues lists the values of each enumerated type the API takes or
// answers; the OpenAPI schema of a field of such a type lists them as its
// enum. Each list is the domain's own where the domain declares one
// (domain.Zones) or the one table that defines it (statusOf for error
// codes). Where the domain declares only constants, the list names those
// constants, never their values, and TestEnumsListEveryDomainConstant
// fails when the domain declares a constant of one of these types that is
// missing here, so no list can fall behind the domain unnoticed.
var enumValues = map[reflect.Type][]string{
	reflect.TypeFor[domain.Zone]():        strs(domain.Zones...),
	reflect.TypeFor[domain.Sex]():         strs(domain.Male, domain.Female),
	reflect.TypeFor[domain.StationKind](): strs(domain.KindStation, domain.KindRegionalCenter, domain.KindMinorsCenter),
	reflect.TypeFor[domain.ReferralSource](): strs(domain.SourceWalkIn, domain.SourceHotline, domain.SourcePoliceEscort,
		domain.SourceUrbanManagement, domain.SourceHospital, domain.SourceOutreach, domain.SourcePublicReport, domain.SourceOther),
	reflect.TypeFor[domain.Role](): strs(domain.RoleAdmin, domain.RoleStaff, domain.RoleCoordinator, domain.RoleInspector),
	reflect.TypeFor[domain.Status](): strs(domain.StatusReceived, domain.StatusInStation, domain.StatusInHospital,
		domain.StatusLongStay, domain.StatusInTransit, domain.StatusExited, domain.StatusRefused, domain.StatusClosed),
	reflect.TypeFor[domain.ExitType](): strs(domain.ExitVoluntaryLeave, domain.ExitPickup, domain.ExitEscortedReturn,
		domain.ExitAbsconding, domain.ExitTermination, domain.ExitDeath, domain.ExitSettlement, domain.ExitNotEligible,
		domain.ExitSecurityCheckRefused),
	reflect.TypeFor[domain.LegalBasis](): strs(domain.BasisStatutoryDuty, domain.BasisConsent, domain.BasisGuardianConsent,
		domain.BasisVitalInterests),
	reflect.TypeFor[domain.Code](): sortedKeys(statusOf),
}

// fieldKey names one field of a struct by its Go name.
type fieldKey struct {
	Struct reflect.Type
	Field  string
}

// fieldEnums lists the values of fields that are plain strings in Go but
// take values from a declared list.
var fieldEnums = map[fieldKey][]string{
	{reflect.TypeFor[projections.Alert](), "Rule"}: projections.Rules,
	{reflect.TypeFor[eraseBody](), "Reason"}:       domain.ErasureReasons,
}

// statuses are the case statuses a search may ask for.
var statuses = enumValues[reflect.TypeFor[domain.Status]()]

func strs[T ~string](vs ...T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

func sortedKeys[K ~string, V any](m map[K]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, string(k))
	}
	slices.Sort(out)
	return out
}
