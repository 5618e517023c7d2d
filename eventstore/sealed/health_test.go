package sealed_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
	"waystation/eventstore/sealed"
)

// Health details and the death checklist's values recorded by the scenario
// of TestHealthDetailsAreSealedAndErased.
const (
	hospital        = "Anding Psychiatric Hospital"
	certifier       = "Dr Wang Jianguo"
	publicNotice    = "PN-Haidian-0417"
	bodyDisposition = "cremated at Babaoshan"
	inspectionNote  = "bruises on both arms"
)

// healthService runs the domain's Service, with its case cache, on a
// sealed store and a clock that each step moves on by an hour.
type healthService struct {
	store *sealed.Store
	svc   *domain.Service
	now   time.Time
}

func newHealthService(tb testing.TB, s *sealed.Store, now time.Time) *healthService {
	tb.Helper()
	h := &healthService{store: s, now: now}
	h.svc = domain.NewService(s, func() time.Time { return h.now })
	return h
}

var (
	healthAdmin = domain.Actor{ID: "admin", Role: domain.RoleAdmin}
	healthStaff = domain.Actor{ID: "staff-1", Role: domain.RoleStaff, Station: "S01"}
)

func (h *healthService) do(tb testing.TB, id uuid.UUID, cmd domain.Command) {
	tb.Helper()
	h.now = h.now.Add(time.Hour)
	if _, err := h.svc.Execute(context.Background(), healthStaff, id, cmd, domain.Options{}); err != nil {
		tb.Fatalf("%T: %v", cmd, err)
	}
}

// storedBytes returns every event of the log as stored (sealed), data and
// metadata.
func storedBytes(tb testing.TB, s *sealed.Store) []byte {
	tb.Helper()
	var all []byte
	for rec, err := range s.Inner().ReadAll(context.Background(), eventstore.ReadAllOptions{}) {
		if err != nil {
			tb.Fatal(err)
		}
		all = append(append(all, rec.Data...), rec.Metadata...)
	}
	return all
}

// TestHealthDetailsAreSealedAndErased: a case records every health detail
// (the inspection's flags and notes, a trafficking police report, a DNA
// match, a hospital stay, a correction of a flag, a death with its whole
// checklist) through the Service on a sealed store. Open, the case reads
// them and the rules that need them see them; stored, none is in clear;
// erased, the state the Service kept folding and one folded afresh from
// the history agree, show them as erased (flags not raised, not as true),
// keep the completed checklist complete and keep what statistics count.
func TestHealthDetailsAreSealedAndErased(t *testing.T) {
	dir := t.TempDir()
	s := openSealed(t, dir)
	ctx := context.Background()
	h := newHealthService(t, s, time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC))
	reg := &domain.RegisterStation{Code: "S01", Name: "S01", Region: "R1", Kind: domain.KindStation,
		Zones: []domain.ZoneBeds{{Zone: domain.ZoneAdultMale, Beds: 2}}}
	if _, err := h.svc.RegisterStation(ctx, healthAdmin, reg, domain.Options{}); err != nil {
		t.Fatal(err)
	}
	flags := domain.Inspection{Injuries: true, Intoxicated: true, SuspectedInfectious: true, SuspectedMentalDisorder: true,
		IntellectualDisability: true, SeriouslyIll: true, SignsOfHarm: true, SuspectedTrafficked: true, Notes: inspectionNote}
	r, err := h.svc.Intake(ctx, healthStaff, &domain.Intake{
		Station:    "S01",
		Referral:   domain.Referral{Source: domain.SourceWalkIn},
		Person:     domain.Person{Name: name, Sex: domain.Male, BirthDate: mustDate(t, "1970-02-03")},
		Inspection: flags,
	}, domain.Options{})
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.MustParse(r.ID)
	yes := true
	h.do(t, id, &domain.EligibilityCmd{Eligible: &yes})
	h.do(t, id, &domain.SecurityCheckCmd{CheckedBy: domain.Checker{StaffID: "c", Sex: domain.Male}})

	t.Run("an open case reads its health details and raises what they require", func(t *testing.T) {
		c, err := h.svc.Case(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if c.Inspection != flags {
			t.Errorf("inspection = %+v, want %+v", c.Inspection, flags)
		}
		// The absconding rule's special group, the pending-medical rule's
		// suspected conditions and the trafficking police report.
		if !c.Disabled() {
			t.Errorf("an open case with a suspected mental disorder is not in a special group")
		}
		for _, f := range []string{
			domain.FlagSuspectedInfectious, domain.FlagSuspectedMentalDisorder, domain.FlagIntellectualDisability,
		} {
			if !c.HasFlag(f, h.now) {
				t.Errorf("open case lacks flag %s: %v", f, c.Flags(h.now))
			}
		}
		if !slices.Contains(c.PoliceReportsDue(), domain.ReportSuspectedTrafficked) {
			t.Errorf("police reports due = %v, want %s", c.PoliceReportsDue(), domain.ReportSuspectedTrafficked)
		}
	})

	h.do(t, id, &domain.PoliceReportCmd{Reason: domain.ReportSuspectedTrafficked, ReportNo: "JB-1"})
	h.do(t, id, &domain.DNARequest{SampleRef: "S-1"})
	h.do(t, id, &domain.DNAResult{Matched: &yes})
	h.do(t, id, &domain.MedicalReferral{Hospital: hospital})
	h.do(t, id, &domain.HospitalAdmission{Hospital: hospital})
	h.do(t, id, &domain.HospitalDischarge{Hospital: hospital})
	h.do(t, id, &domain.MedicalReturn{})
	intakeID := readCase(t, s, id)[0].ID
	h.do(t, id, &domain.Correct{EventID: intakeID, Field: "inspection.intoxicated",
		Old: json.RawMessage(`true`), New: json.RawMessage(`false`), Reason: "misread at the gate"})
	h.do(
		t, id,
		&domain.DeathCmd{
			Place:          "the station's care room",
			DeathChecklist: domain.DeathChecklist{CertifiedBy: certifier, PoliceNotified: &yes},
		},
	)
	h.do(
		t, id,
		&domain.DeathCmd{
			DeathChecklist: domain.DeathChecklist{
				RelativesNotified: &yes, PublicNotice: publicNotice, BodyDisposition: bodyDisposition,
			},
		},
	)

	before, err := h.svc.Case(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if before.Death == nil || !before.Death.ChecklistComplete() || !before.Identity.DNAMatched ||
		before.Medical.Hospital != hospital {
		t.Fatalf(
			"before erasure: death %+v, DNA matched %v, hospital %q", before.Death,
			before.Identity.DNAMatched, before.Medical.Hospital,
		)
	}

	t.Run("no health detail is stored in clear", func(t *testing.T) {
		raw := storedBytes(t, s)
		for _, secret := range []string{
			hospital, certifier, publicNotice, bodyDisposition, inspectionNote, "care room",
			`"injuries"`, `"intoxicated"`, `"suspected_infectious"`, `"suspected_mental_disorder"`, `"intellectual_disability"`,
			`"seriously_ill"`, `"signs_of_harm"`, `"suspected_trafficked"`, `"matched":true`, `"misread`,
		} {
			if bytes.Contains(raw, []byte(secret)) {
				t.Errorf("the stored log holds %s in clear", secret)
			}
		}
	})

	h.now = h.now.Add(time.Hour)
	if _, err := h.svc.ErasePersonalData(ctx, healthAdmin, id, domain.Erasure{
		Reason: domain.ErasureSubjectRequest, Trigger: domain.ErasureOnRequest,
	},
		func(ctx context.Context, subject string) error { return s.Erase(ctx, subject) }); err != nil {
		t.Fatal(err)
	}

	// live is the state the service kept folding (the values seen opened,
	// then the erasure); rebuilt is folded afresh from the erased history.
	live, err := h.svc.Case(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	history := readCase(t, s, id)
	rebuilt := domain.Fold(history)
	for _, st := range []struct {
		name string
		c    domain.Case
	}{{"live", live}, {"rebuilt", rebuilt}} {
		t.Run("after erasure the "+st.name+" state shows the health details as erased", func(t *testing.T) {
			c := st.c
			if !c.PersonalDataErased() {
				t.Fatalf("not marked erased")
			}
			if c.Inspection != (domain.Inspection{}) || c.Disabled() || c.Identity.DNAMatched || c.Medical.Hospital != "" {
				t.Errorf("erased health details still read: inspection %+v, DNA matched %v, hospital %q",
					c.Inspection, c.Identity.DNAMatched, c.Medical.Hospital)
			}
			for _, f := range []string{
				domain.FlagSuspectedInfectious,
				domain.FlagSuspectedMentalDisorder,
				domain.FlagIntellectualDisability,
				domain.FlagPoliceReportDue,
			} {
				if c.HasFlag(f, h.now) {
					t.Errorf("an erased flag reads as raised: %s in %v", f, c.Flags(h.now))
				}
			}
			d := c.Death
			if d == nil || d.Place != "" || d.CertifiedBy != "" || d.PublicNotice != "" || d.BodyDisposition != "" {
				t.Fatalf("death after erasure = %+v, want its values erased", d)
			}
			if !d.ChecklistComplete() {
				t.Errorf("a complete death checklist became incomplete by erasure: missing %v", d.Missing())
			}
			if age, ok := c.AgeOn(
				c.OpenedAt,
			); !ok || age != 56 || c.Person.Sex != domain.Male || c.ExitType != domain.ExitDeath {
				t.Errorf("statistics facts lost: age %d (%v), sex %s, exit %s", age, ok, c.Person.Sex, c.ExitType)
			}
			for _, r := range c.PoliceReports {
				if r.Reason != "" || r.ReportNo != "" {
					t.Errorf("police report after erasure = %+v", r)
				}
			}
		})
	}
	t.Run("the live and the rebuilt state agree", func(t *testing.T) {
		// The case number is on the station's register, not the case's
		// stream: the service adds it to the state it reads.
		numbered := live
		numbered.CaseNumber = ""
		if l, r := mustJSON(t, numbered), mustJSON(t, rebuilt); l != r {
			t.Errorf("live and rebuilt states differ:\n live    %s\n rebuilt %s", l, r)
		}
	})
	t.Run("the history shows the erased values as null", func(t *testing.T) {
		var sawIntake, sawDNA, sawDeath bool
		for _, env := range history {
			switch e := env.Event.(type) {
			case domain.IntakeRegistered:
				sawIntake = e.Inspection == (domain.Inspection{})
			case domain.DNAResultReceived:
				sawDNA = !e.Matched
			case domain.Died:
				sawDeath = e.CertifiedBy == "" && e.Place == ""
			}
		}
		if !sawIntake || !sawDNA || !sawDeath {
			t.Errorf(
				"erased values read back: inspection erased %v, DNA erased %v, death erased %v", sawIntake, sawDNA, sawDeath,
			)
		}
		for rec, err := range s.ReadStream(ctx, domain.CaseStream(id), eventstore.ReadStreamOptions{}) {
			if err != nil {
				t.Fatal(err)
			}
			switch rec.Type {
			case domain.TypeIntakeRegistered:
				if !bytes.Contains(rec.Data, []byte(`"inspection":null`)) {
					t.Errorf("intake after erasure: %s", rec.Data)
				}
			case domain.TypeDNAResultReceived:
				if !bytes.Contains(rec.Data, []byte(`"matched":null`)) {
					t.Errorf("DNA result after erasure: %s", rec.Data)
				}
			}
		}
	})
}

func mustDate(tb testing.TB, s string) domain.Date {
	tb.Helper()
	d, err := domain.ParseDate(s)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}
