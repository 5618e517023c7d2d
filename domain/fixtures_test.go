package domain_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
)

// t0 is when every test case begins.
var t0 = time.Date(2026, 1, 10, 8, 0, 0, 0, time.UTC)

var (
	caseID   = uuid.MustParse("01940000-0000-7000-8000-000000000001")
	motherID = uuid.MustParse("01940000-0000-7000-8000-000000000002")
)

func date(s string) domain.Date {
	d, err := domain.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func ptr[T any](v T) *T { return &v }

// residentID completes a resident ID number from a region code, a birth
// date and a sequence number.
func residentID(tb testing.TB, region, birth, seq string) string {
	tb.Helper()
	first := region + birth + seq
	c, err := domain.ResidentIDCheckChar(first)
	if err != nil {
		tb.Fatal(err)
	}
	return first + string(c)
}

var (
	man      = domain.Person{Name: "Zhang", Sex: domain.Male, BirthDate: date("1980-05-01")}
	woman    = domain.Person{Name: "Li", Sex: domain.Female, BirthDate: date("1990-03-04")}
	boy10    = domain.Person{Name: "Wang", Sex: domain.Male, BirthDate: date("2015-06-01")}
	girl17   = domain.Person{Name: "Zhao", Sex: domain.Female, BirthDate: date("2008-07-01")}
	child4   = domain.Person{Name: "Xiao", Sex: domain.Male, BirthDate: date("2021-09-09")}
	elderly  = domain.Person{Name: "Liu", Sex: domain.Male, EstimatedAge: ptr(75), AgeEstimatedOn: date("2026-01-10")}
	walkIn   = domain.Referral{Source: domain.SourceWalkIn}
	noFlags  = domain.Inspection{}
	mindFlag = domain.Inspection{SuspectedMentalDisorder: true}
)

func intake(p domain.Person, in domain.Inspection) domain.IntakeRegistered {
	return domain.IntakeRegistered{CaseID: caseID, Station: "S01", Referral: walkIn, Person: p, Inspection: in}
}

// after shifts an event in time: the wrapped event occurred d after t0.
type after struct {
	d time.Duration
	e domain.Event
}

func eventID(i int) uuid.UUID {
	return uuid.MustParse(fmt.Sprintf("01940000-0000-7000-8000-%012d", 1000+i))
}

// envelopes turns a given list into stored envelopes of one stream: plain
// events occur a minute apart from t0, after{} ones at t0+d.
func envelopes(stream string, given []any) []domain.Envelope {
	out := make([]domain.Envelope, len(given))
	for i, g := range given {
		at := t0.Add(time.Duration(i) * time.Minute)
		var e domain.Event
		switch v := g.(type) {
		case after:
			at, e = t0.Add(v.d), v.e
		case domain.Event:
			e = v
		default:
			panic(fmt.Sprintf("given %T", g))
		}
		out[i] = domain.Envelope{Stream: stream, Revision: uint64(i), ID: eventID(i),
			Meta: domain.Metadata{OccurredAt: at, RecordedAt: at, Actor: "t", Role: domain.RoleStaff}, Event: e}
	}
	return out
}

func foldCase(given []any) domain.Case {
	return domain.Fold(envelopes(domain.CaseStream(caseID), given))
}

func foldStation(given []any) domain.Station {
	var st domain.Station
	for _, env := range envelopes(domain.StationStream("S01"), given) {
		st.Evolve(env)
	}
	return st
}

// wantOutcome checks Decide's answer: the events, or the rule, or the code.
func wantOutcome(tb testing.TB, got []domain.Event, err error, then []domain.Event, rule string, code domain.Code) {
	tb.Helper()
	switch {
	case rule != "":
		if domain.RuleOf(err) != rule {
			tb.Fatalf("got events %v, error %v; want rule %s", got, err, rule)
		}
		if domain.ErrorCode(err) != domain.CodeRuleViolation && domain.ErrorCode(err) != domain.CodeConflict {
			tb.Fatalf("rule %s came with code %s", rule, domain.ErrorCode(err))
		}
	case code != "":
		if domain.ErrorCode(err) != code {
			tb.Fatalf("got events %v, error %v; want code %s", got, err, code)
		}
	default:
		if err != nil {
			tb.Fatalf("got error %v; want %v", err, then)
		}
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(then)
		if len(got) != len(then) || string(gj) != string(wj) {
			tb.Fatalf("got events\n %s\nwant\n %s", gj, wj)
		}
		for i := range got {
			if got[i].EventType() != then[i].EventType() {
				tb.Fatalf("event %d: got %s, want %s", i, got[i].EventType(), then[i].EventType())
			}
		}
	}
}

var station = domain.StationRegistered{Code: "S01", Name: "First", Region: "R1", Kind: domain.KindStation, Zones: []domain.ZoneBeds{
	{Zone: domain.ZoneAdultMale, Beds: 2}, {Zone: domain.ZoneAdultFemale, Beds: 1, Seasonal: 1},
	{Zone: domain.ZoneMinors, Beds: 1}, {Zone: domain.ZoneMotherChild, Beds: 1},
	{Zone: domain.ZoneCare, Beds: 1}, {Zone: domain.ZoneIsolation, Beds: 1},
}}
