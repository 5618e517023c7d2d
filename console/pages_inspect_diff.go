package console

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
)

// change is one state field that differs between two moments: its dotted
// path (bed.zone, belongings.0.item), its label and both values as shown.
type change struct {
	Path  string
	Label string
	Old   string
	New   string
}

// diffStates lists the leaves of two JSON states that differ, in path
// order; a nil state (before the intake) has none.
func diffStates(t tr, a, b any) []change {
	la, lb := leaves(a), leaves(b)
	paths := make([]string, 0, len(la)+len(lb))
	for p := range la {
		paths = append(paths, p)
	}
	for p := range lb {
		if _, ok := la[p]; !ok {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	var out []change
	for _, p := range paths {
		va, oka := la[p]
		vb, okb := lb[p]
		if oka && okb && va == vb {
			continue
		}
		out = append(out, change{Path: p, Label: stateLabel(t, p), Old: shownValue(t, p, va, oka),
			New: shownValue(t, p, vb, okb)})
	}
	return out
}

// changedPaths is every path of changes and every prefix of one, for the
// summary to mark the rows that differ.
func changedPaths(cs []change) map[string]bool {
	out := map[string]bool{}
	for _, c := range cs {
		parts := strings.Split(c.Path, ".")
		for i := range parts {
			out[strings.Join(parts[:i+1], ".")] = true
		}
	}
	return out
}

// leaves flattens v (through JSON) into its scalar leaves by dotted path;
// null, empty strings and empty lists are absent.
func leaves(v any) map[string]any {
	out := map[string]any{}
	if v == nil {
		return out
	}
	b, err := json.Marshal(v)
	if err != nil {
		return out
	}
	var tree any
	if json.Unmarshal(b, &tree) != nil {
		return out
	}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		join := func(k string) string {
			if prefix == "" {
				return k
			}
			return prefix + "." + k
		}
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				walk(join(k), e)
			}
		case []any:
			for i, e := range x {
				walk(join(strconv.Itoa(i)), e)
			}
		case nil:
		case string:
			if x != "" {
				out[prefix] = x
			}
		default:
			out[prefix] = x
		}
	}
	walk("", tree)
	return out
}

// stateLabel names a state field: the catalogue's field.* key of its
// path where there is one, else the inspect page's own, else the path.
func stateLabel(t tr, path string) string {
	key := keyOf(path)
	if t.Has(key) {
		return t.T(key)
	}
	own := "inspect.state." + strings.TrimPrefix(key, "field.")
	return t.Maybe(own, path)
}

// enumOfPath is the enumerated type of a state field, for its values'
// labels.
var enumOfPath = map[string]string{
	"status": "enum.status", "exit_type": "enum.exit_type", "bed.zone": "enum.zone", "person.sex": "enum.sex",
}

// shownValue is a state value as the page shows it: times in Beijing
// time, enumerated values labelled, absent as a dash.
func shownValue(t tr, path string, v any, ok bool) string {
	if !ok {
		return "—"
	}
	switch x := v.(type) {
	case string:
		if strings.HasPrefix(path, "flags.") && t.Has("flag."+x) {
			return t.T("flag." + x)
		}
		if kind, ok := enumOfPath[path]; ok && t.Has(kind+"."+x) {
			return t.T(kind + "." + x)
		}
		if at, err := time.Parse(time.RFC3339Nano, x); err == nil {
			return t.Time(at)
		}
		return x
	case bool:
		if x {
			return t.T("form.yes")
		}
		return t.T("form.no")
	}
	return scalarString(v)
}
