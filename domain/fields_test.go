package domain_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"waystation/domain"
)

// sorted returns a sorted copy of s.
func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// TestPersonalPathsFromTags: the personal paths that the event structs'
// personal tags declare, type by type, are those of
// testdata/fields/personal.txt, each once; station, access and erasure
// events have none. The file is the reviewable record of what the service
// seals: a tag added or removed shows there (rewrite it with -update).
func TestPersonalPathsFromTags(t *testing.T) {
	checkFieldsFile(t, "personal.txt", func(typ string) []string {
		got := domain.PersonalPaths(typ, nil)
		if len(slices.Compact(sorted(got))) != len(got) {
			t.Errorf("PersonalPaths(%s) = %q lists a path twice", typ, got)
		}
		return sorted(got)
	})
}

// TestCorrectableFieldsFromTags: the fields a correction may name, derived
// from the event structs (correctable:"false" leaves a field out), are
// type by type those of testdata/fields/correctable.txt; only case events
// other than corrections and erasures are corrected.
func TestCorrectableFieldsFromTags(t *testing.T) {
	checkFieldsFile(t, "correctable.txt", domain.CorrectableFieldsOf)
}

// checkFieldsFile compares, for every stored event type, fieldsOf(type)
// with the line of that type in testdata/fields/name ("type: a b c"; a
// type with no field has no line), and rewrites the file with -update.
func checkFieldsFile(t *testing.T, name string, fieldsOf func(typ string) []string) {
	t.Helper()
	var b strings.Builder
	for _, typ := range sorted(domain.Events.Types()) {
		if f := fieldsOf(typ); len(f) > 0 {
			fmt.Fprintf(&b, "%s: %s\n", typ, strings.Join(f, " "))
		}
	}
	path := filepath.Join("testdata", "fields", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./domain -run %s -update)", err, t.Name())
	}
	wantLines, gotLines := strings.Split(string(want), "\n"), strings.Split(b.String(), "\n")
	for _, l := range gotLines {
		if !slices.Contains(wantLines, l) {
			t.Errorf("%s: not in %s: %q", t.Name(), path, l)
		}
	}
	for _, l := range wantLines {
		if !slices.Contains(gotLines, l) {
			t.Errorf("%s: in %s but not derived from the structs: %q", t.Name(), path, l)
		}
	}
}
