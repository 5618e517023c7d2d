package domain_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"waystation/domain"
)

func TestResidentID(t *testing.T) {
	valid := residentID(t, "110101", "19900307", "002")
	if _, err := domain.CheckResidentID("11010519491231002X"); err != nil {
		t.Fatalf("the GB 11643 sample number is refused: %v", err)
	}
	if d, err := domain.CheckResidentID(valid); err != nil || d != date("1990-03-07") {
		t.Fatalf("CheckResidentID(valid) = %v, %v", d, err)
	}
	lower := strings.ToLower("11010519491231002X")
	if _, err := domain.CheckResidentID(lower); err != nil {
		t.Fatalf("a lowercase x check character is refused: %v", err)
	}
	wrongCheck := valid[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", valid[17])+1)%11])
	bad := map[string]string{
		"too short":         valid[:17],
		"letters":           "11010A199003070021",
		"wrong check digit": wrongCheck,
		"impossible date":   residentID(t, "110101", "19900230", "002"),
	}
	for name, n := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := domain.CheckResidentID(n)
			if err == nil {
				t.Fatal("accepted")
			}
			if strings.Contains(err.Error(), n) {
				t.Fatal("the error repeats the ID number")
			}
		})
	}
}

func TestPersonValidation(t *testing.T) {
	at := t0
	id := residentID(t, "340102", "19850615", "031")
	cases := []struct {
		name  string
		p     domain.Person
		field string
	}{
		{"birth date", domain.Person{Sex: domain.Male, BirthDate: date("1985-06-15")}, ""},
		{"estimated age", domain.Person{Sex: domain.Female, EstimatedAge: ptr(40)}, ""},
		{"ID number gives the age", domain.Person{Sex: domain.Male, IDNumber: id}, ""},
		{"ID number agrees with the birth date", domain.Person{Sex: domain.Male, IDNumber: id, BirthDate: date("1985-06-15")}, ""},
		{"no sex", domain.Person{BirthDate: date("1985-06-15")}, "person.sex"},
		{"unknown sex", domain.Person{Sex: "x", BirthDate: date("1985-06-15")}, "person.sex"},
		{"no age", domain.Person{Sex: domain.Male}, "person.birth_date"},
		{"both ages", domain.Person{Sex: domain.Male, BirthDate: date("1985-06-15"), EstimatedAge: ptr(40)}, "person.estimated_age"},
		{"age over 120", domain.Person{Sex: domain.Male, EstimatedAge: ptr(121)}, "person.estimated_age"},
		{"negative age", domain.Person{Sex: domain.Male, EstimatedAge: ptr(-1)}, "person.estimated_age"},
		{"born in the future", domain.Person{Sex: domain.Male, BirthDate: date("2027-01-01")}, "person.birth_date"},
		{"born 130 years ago", domain.Person{Sex: domain.Male, BirthDate: date("1890-01-01")}, "person.birth_date"},
		{"bad check digit", domain.Person{Sex: domain.Male, IDNumber: id[:17] + "Y"}, "person.id_number"},
		{"ID number disagrees with the birth date", domain.Person{Sex: domain.Male, IDNumber: id, BirthDate: date("1985-06-16")}, "person.id_number"},
		{"passport numbers are not checked", domain.Person{Sex: domain.Male, IDType: domain.IDPassport, IDNumber: "E1234", EstimatedAge: ptr(30)}, ""},
		{"unknown ID type", domain.Person{Sex: domain.Male, IDType: "library_card", IDNumber: "1", EstimatedAge: ptr(30)}, "person.id_type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.p.Validate("person", at)
			var e *domain.Error
			switch {
			case c.field == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.field != "" && !errors.As(err, &e):
				t.Fatalf("accepted, want invalid %s", c.field)
			case c.field != "" && (e.Field != c.field || e.Code != domain.CodeInvalid):
				t.Fatalf("got %v, want invalid %s", err, c.field)
			}
			if err != nil && (strings.Contains(err.Error(), id) || strings.Contains(err.Error(), "1985")) {
				t.Fatalf("the error shows personal data: %v", err)
			}
		})
	}
}

func TestFlagsAsOfADate(t *testing.T) {
	c := foldCase([]any{intake(domain.Person{Sex: domain.Male, BirthDate: date("2010-03-01")}, noFlags)})
	cases := []struct {
		at   string
		want []string
		not  []string
	}{
		{"2026-01-10", []string{domain.FlagMinor, domain.FlagUnder16}, []string{domain.FlagUnder14, domain.FlagUnder6}},
		{"2026-02-28", []string{domain.FlagMinor, domain.FlagUnder16}, nil},
		{"2026-03-01", []string{domain.FlagMinor}, []string{domain.FlagUnder16}},
		{"2028-03-01", nil, []string{domain.FlagMinor, domain.FlagUnder16}},
	}
	for _, cs := range cases {
		f := c.Flags(date(cs.at).Time().Add(12 * time.Hour))
		for _, w := range cs.want {
			if !slices.Contains(f, w) {
				t.Errorf("on %s: flags %v lack %s", cs.at, f, w)
			}
		}
		for _, n := range cs.not {
			if slices.Contains(f, n) {
				t.Errorf("on %s: flags %v have %s", cs.at, f, n)
			}
		}
	}
	old := foldCase([]any{intake(elderly, domain.Inspection{SuspectedInfectious: true, IntellectualDisability: true, PhysicalDisability: true, SuspectedMentalDisorder: true})})
	f := old.Flags(t0)
	for _, w := range []string{domain.FlagElderly, domain.FlagSuspectedInfectious, domain.FlagIntellectualDisability, domain.FlagPhysicalDisability, domain.FlagSuspectedMentalDisorder, domain.FlagUnidentified} {
		if !slices.Contains(f, w) {
			t.Errorf("flags %v lack %s", f, w)
		}
	}
	// An estimated age grows with time.
	if age, _ := old.AgeOn(t0.AddDate(2, 0, 0)); age != 77 {
		t.Errorf("estimated 75 in 2026, age in 2028 = %d", age)
	}
	baby := foldCase([]any{intake(child4, noFlags)})
	if f := baby.Flags(t0); !slices.Contains(f, domain.FlagUnder6) || !slices.Contains(f, domain.FlagUnder14) {
		t.Errorf("a 4-year-old's flags %v", f)
	}
	lost := foldCase([]any{intake(domain.Person{Sex: domain.Male, EstimatedAge: ptr(30), CanStateIdentity: ptr(false)}, domain.Inspection{SuspectedLost: true})})
	if f := lost.Flags(t0); !slices.Contains(f, domain.FlagCannotStateIdentity) || !slices.Contains(f, domain.FlagPoliceReportDue) {
		t.Errorf("flags %v", f)
	}
	reported := foldCase([]any{intake(domain.Person{Sex: domain.Male, EstimatedAge: ptr(30)}, domain.Inspection{SuspectedLost: true}), domain.PoliceReportFiled{Reason: domain.ReportSuspectedLost}})
	if reported.HasFlag(domain.FlagPoliceReportDue, t0) {
		t.Error("a filed report leaves the police report due")
	}
}

func TestDateText(t *testing.T) {
	var d domain.Date
	if err := d.UnmarshalText([]byte("2024-02-29")); err != nil || d.String() != "2024-02-29" {
		t.Fatalf("leap day: %v %v", d, err)
	}
	if err := d.UnmarshalText([]byte("2023-02-29")); err == nil {
		t.Fatal("accepted 29 February 2023")
	}
	if err := d.UnmarshalText(nil); err != nil || !d.IsZero() || d.String() != "" {
		t.Fatalf("empty date: %v %v", d, err)
	}
	// Someone born on 29 February turns a year older on 1 March in common years.
	leap := date("2008-02-29")
	if n := leap.YearsOn(date("2026-02-28").Time()); n != 17 {
		t.Errorf("on 28 Feb 2026: %d", n)
	}
	if n := leap.YearsOn(date("2026-03-01").Time()); n != 18 {
		t.Errorf("on 1 Mar 2026: %d", n)
	}
}

// TestAgesInChinaStandardTime: ages, age flags and birthdays follow the
// civil date in Beijing, whatever the location of the clock's time: a
// person turns 18 at 00:00 Beijing time, 16:00Z the day before.
func TestAgesInChinaStandardTime(t *testing.T) {
	p := domain.Person{Name: "Zhao", Sex: domain.Female, BirthDate: date("2008-03-02")}
	eveUTC := time.Date(2026, 3, 1, 15, 59, 59, 0, time.UTC)
	midnightBeijing := time.Date(2026, 3, 1, 16, 0, 0, 0, time.UTC)
	newYork := time.FixedZone("EST", -5*60*60)
	cases := []struct {
		name  string
		at    time.Time
		age   int
		minor bool
	}{
		{"a second before midnight in Beijing she is 17", eveUTC, 17, true},
		{"at midnight in Beijing (16:00Z the day before) she is 18", midnightBeijing, 18, false},
		{"at 20:00Z it is already her birthday in Beijing", time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC), 18, false},
		{"a clock in another zone gives the same age", midnightBeijing.In(newYork), 18, false},
		{"a clock in another zone, a second earlier", eveUTC.In(newYork), 17, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if age, ok := p.AgeOn(c.at); !ok || age != c.age {
				t.Fatalf("AgeOn = %d, %v; want %d", age, ok, c.age)
			}
			if got := date("2008-03-02").YearsOn(c.at); got != c.age {
				t.Fatalf("YearsOn = %d, want %d", got, c.age)
			}
			cs := foldCase([]any{intake(p, noFlags)})
			if got := cs.HasFlag(domain.FlagMinor, c.at); got != c.minor {
				t.Fatalf("minor flag = %v, want %v (flags %v)", got, c.minor, cs.Flags(c.at))
			}
		})
	}
	t.Run("under_16, under_6 and elderly turn at midnight in Beijing", func(t *testing.T) {
		for _, f := range []struct {
			born string
			flag string
			had  bool // before the birthday
		}{
			{"2010-03-02", domain.FlagUnder16, true},
			{"2020-03-02", domain.FlagUnder6, true},
			{"1966-03-02", domain.FlagElderly, false},
		} {
			cs := foldCase([]any{intake(domain.Person{Name: "X", Sex: domain.Male, BirthDate: date(f.born)}, noFlags)})
			if got := cs.HasFlag(f.flag, eveUTC); got != f.had {
				t.Errorf("born %s, at %s: %s = %v, want %v", f.born, eveUTC.Format(time.RFC3339), f.flag, got, f.had)
			}
			if got := cs.HasFlag(f.flag, midnightBeijing); got == f.had {
				t.Errorf("born %s, at %s: %s = %v, want %v", f.born, midnightBeijing.Format(time.RFC3339), f.flag, got, !f.had)
			}
		}
	})
	t.Run("a 29 February birthday is reached at midnight in Beijing on 1 March", func(t *testing.T) {
		leap := date("2008-02-29")
		if got := leap.YearsOn(time.Date(2026, 2, 28, 15, 59, 0, 0, time.UTC)); got != 17 {
			t.Fatalf("on 28 February in Beijing: %d, want 17", got)
		}
		if got := leap.YearsOn(time.Date(2026, 2, 28, 16, 0, 0, 0, time.UTC)); got != 18 {
			t.Fatalf("on 1 March in Beijing: %d, want 18", got)
		}
	})
	t.Run("a date begins at midnight in Beijing", func(t *testing.T) {
		if got := date("2026-03-02").Time(); !got.Equal(midnightBeijing) {
			t.Fatalf("Time() = %s, want %s", got.Format(time.RFC3339), midnightBeijing.Format(time.RFC3339))
		}
		if got := date("2008-03-02").Time().AddDate(18, 0, 0); !got.Equal(midnightBeijing) {
			t.Fatalf("18th birthday begins %s, want %s", got.Format(time.RFC3339), midnightBeijing.Format(time.RFC3339))
		}
	})
	t.Run("the civil date of a moment is its date in Beijing", func(t *testing.T) {
		if got := domain.CivilDate(time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC)); got != date("2026-03-02") {
			t.Fatalf("CivilDate = %s, want 2026-03-02", got)
		}
		if got := domain.CivilDate(eveUTC); got != date("2026-03-01") {
			t.Fatalf("CivilDate = %s, want 2026-03-01", got)
		}
	})
	t.Run("an age estimated late in the UTC day is estimated on Beijing's date", func(t *testing.T) {
		late := time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC)
		evs, err := domain.Decide(domain.Case{ID: caseID}, &domain.Intake{Common: domain.Common{OccurredAt: ptr(late)}, Station: "S01", Referral: walkIn,
			Person: domain.Person{Sex: domain.Male, EstimatedAge: ptr(40)}}, late)
		if err != nil {
			t.Fatal(err)
		}
		if got := evs[0].(domain.IntakeRegistered).Person.AgeEstimatedOn; got != date("2026-03-02") {
			t.Fatalf("age estimated on %s, want 2026-03-02", got)
		}
	})
}
