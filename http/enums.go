package http

import (
	"reflect"
	"slices"

	"waystation/domain"
	"waystation/projections"
)

// enumValues lists the values of the enumerated types of the HTTP layer:
// error codes, from the one table that maps them to statuses (statusOf).
// The domain's enumerated types list their own (domain.Enum): the OpenAPI
// schema of a field of any of these types lists the values as its enum.
var enumValues = map[reflect.Type][]string{
	reflect.TypeFor[domain.Code](): sortedKeys(statusOf),
}

// enumType is the domain's interface of enumerated types.
var enumType = reflect.TypeFor[domain.Enum]()

// enumOf returns the values of enumerated type t, and whether it is one.
func enumOf(t reflect.Type) ([]string, bool) {
	if vs, ok := enumValues[t]; ok {
		return vs, true
	}
	if t.Kind() == reflect.String && t.Implements(enumType) {
		return reflect.Zero(t).Interface().(domain.Enum).Values(), true
	}
	return nil, false
}

// fieldKey names one field of a struct by its Go name.
type fieldKey struct {
	Struct reflect.Type
	Field  string
}

// fieldEnums lists the values of fields that are plain strings in Go but
// take values from a list their package declares: the safety rules, the
// erasure reasons, the fields a correction may name.
var fieldEnums = map[fieldKey][]string{
	{reflect.TypeFor[projections.Alert](), "Rule"}:    projections.Rules,
	{reflect.TypeFor[eraseBody](), "Reason"}:          domain.ErasureReasons,
	{reflect.TypeFor[domain.Correct](), "Field"}:      domain.CorrectableFields(),
	{reflect.TypeFor[caseState](), "AllowedSteps"}:    caseStepNames(),
	{reflect.TypeFor[projections.WorkItem](), "Rule"}: projections.WorklistRules,
	{reflect.TypeFor[projections.WorkItem](), "Step"}: caseStepNames(),
}

// caseStepNames returns the names of the steps on an existing case
// (domain.CaseSteps), in their order.
func caseStepNames() []string {
	steps := domain.CaseSteps()
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = string(s)
	}
	return out
}

// statuses are the case statuses a search may ask for.
var statuses = domain.Status("").Values()

func sortedKeys[K ~string, V any](m map[K]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, string(k))
	}
	slices.Sort(out)
	return out
}
