package domain_test

import (
	"strings"
	"testing"

	"waystation/domain"
)

// TestTextKindsCleanAndRefuse: given each kind of text field, when a
// value is cleaned, then it is trimmed, normalised or kept as the kind
// says, and refused with a reason that never repeats it.
func TestTextKindsCleanAndRefuse(t *testing.T) {
	kind := func(name string) domain.TextKind {
		k, ok := domain.TextKindOf(name)
		if !ok {
			t.Fatalf("no kind %q", name)
		}
		return k
	}
	for _, c := range []struct {
		kind, in, want, refusal string
	}{
		{"name", "\u3000 张三 ", "张三", ""},
		{"name", "Zoe\u0308", "Zo\u00eb", ""},
		{"name", strings.Repeat("张", 100), strings.Repeat("张", 100), ""},
		{"name", strings.Repeat("张", 101), "", "longer than 100"},
		{"name", "a\tb", "", "one line"},
		{"name", "a\x00b", "", "NUL"},
		{"name", "a\u0085b", "", "control"},
		{"name", "abc\u202edcb", "", "reorders"},
		{"name", "a\uffffb", "", "noncharacter"},
		{"name", "\xff\xfe", "", "UTF-8"},
		{"code", "S01", "S01", ""},
		{"code", " S01", "", "space"},
		{"code", strings.Repeat("S", 33), "", "longer than 32"},
		{"notes", "one\r\n\ttwo\rthree", "one\n\ttwo\nthree", ""},
		{"notes", " kept as written ", " kept as written ", ""},
		{"notes", strings.Repeat("n", 4001), "", "longer than 4000"},
		{"", "a line", "a line", ""},
	} {
		got, refusal := kind(c.kind).CleanText(c.in)
		switch {
		case c.refusal == "" && (refusal != "" || got != c.want):
			t.Errorf("%s %q: got %q, refused %q; want %q", c.kind, c.in, got, refusal, c.want)
		case c.refusal != "" && !strings.Contains(refusal, c.refusal):
			t.Errorf("%s %q: refused %q, want a refusal saying %q", c.kind, c.in, refusal, c.refusal)
		case c.refusal != "" && len(c.in) > 2 && strings.Contains(refusal, c.in):
			t.Errorf("%s: the refusal %q repeats the value", c.kind, refusal)
		}
	}
	if _, ok := domain.TextKindOf("names"); ok {
		t.Error("an unknown kind was found")
	}
}
