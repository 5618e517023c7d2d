package domain_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
)

// samples has one event of every stored type.
var samples = []domain.Event{
	intake(man, domain.Inspection{Injuries: true}), eligible, checkedF,
	domain.BelongingsDeposited{Items: []domain.Item{{Item: "bag", Qty: 2}}}, domain.BelongingsReturned{Items: []string{"bag"}},
	domain.IdentityQueried{Channel: domain.QueryPolice}, domain.IdentityVerified{Method: domain.VerifiedByDNA, BirthDate: date("1980-01-01")},
	domain.NoticePublished{NoticeID: caseID, Shows: []domain.NoticeField{domain.NoticeSex}}, domain.NoticeWithdrawn{NoticeID: caseID, Reason: domain.WithdrawnByStaff},
	domain.PhotoAttached{PhotoID: caseID, ContentType: "image/png"}, domain.PhotoStored{CaseID: caseID, PhotoID: motherID, Image: "aGk="},
	domain.LeadReceived{LeadID: caseID, NoticeID: motherID, Receipt: "r", Message: "m"},
	domain.FamilySearchNoticePublished{Channel: "c"}, domain.DNARequested{Lab: "l"}, domain.DNAResultReceived{Matched: true},
	domain.RelativesContacted{Outcome: "o"}, domain.MedicalReferred{Hospital: "h"}, domain.HospitalAdmitted{Hospital: "h"},
	domain.HospitalDischarged{}, domain.MedicalReturned{}, domain.StayExtended{Until: t0, ApprovedBy: "a", Reason: "r"},
	domain.LongStayStarted{Kind: domain.LongStayOffSite}, domain.SettlementRecorded{Stage: domain.SettlementApplied},
	domain.GuardianshipTaken{Basis: "b"}, domain.PoliceReportFiled{Reason: domain.ReportAbandoned},
	domain.TransferRequested{From: "a", To: "b"}, domain.TransferAccepted{From: "a", To: "b"}, domain.TransferDeclined{From: "a", To: "b"},
	domain.EscortDeparted{From: "a", To: "b", Escorts: []string{"e"}}, domain.HandedOver{From: "a", To: "b", ReceivedBy: "r"},
	domain.LeftVoluntarily{DeclarationRef: "d", CashYuan: 5}, domain.PickedUp{Collector: domain.Collector{Name: "n"}},
	domain.EscortedReturn{Destination: "d"}, domain.Absconded{}, domain.Terminated{Reason: "r"},
	domain.Died{Place: "p", DeathChecklist: domain.DeathChecklist{PoliceNotified: ptr(false)}},
	domain.DeathChecklistUpdated{DeathChecklist: domain.DeathChecklist{PublicNotice: "n"}}, domain.CaseClosed{},
	domain.Corrected{EventID: caseID, Field: "person.name", Old: json.RawMessage(`"a"`), New: json.RawMessage(`"b"`), Reason: "r"},
	station, domain.ZonesChanged{Zones: station.Zones}, domain.BedAssigned{CaseID: caseID, Zone: domain.ZoneMinors, Bed: "minors-1"},
	domain.BedReleased{CaseID: caseID, Zone: domain.ZoneMinors, Bed: "minors-1", Reason: domain.ReleaseExit, Cause: motherID},
	domain.TokenIssued{ID: "t", Role: domain.RoleAdmin, Hash: "h"}, domain.TokenRevoked{ID: "t"},
	domain.CaseRead{CaseID: caseID.String(), Reader: "t", Role: domain.RoleInspector, Route: "/v1/cases/{id}"},
	domain.CaseNumbered{CaseID: caseID, Station: "S01", Year: 2026, Number: 1},
	domain.PersonalDataErased{Reason: "retention ended", Trigger: domain.ErasureRetention, AgeAtIntake: ptr(40)},
	domain.AccountCreated{ID: "acc_1", Username: "li.wei", Name: "李伟", Role: domain.RoleStaff, Station: "S01", Region: "R1",
		ActivationDigest: "d1", ActivationExpires: t0},
	domain.AccountActivated{ID: "acc_1", PasswordHash: "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$a2V5"},
	domain.AccountReset{ID: "acc_1", ActivationDigest: "d2", ActivationExpires: t0},
	domain.AccountDisabled{ID: "acc_1"},
	domain.TOTPEnrolled{ID: "acc_1", Secret: "JBSWY3DPEHPK3PXP", RecoveryDigests: []string{"r1"}, Step: 100},
	domain.RecoveryCodeUsed{ID: "acc_1", Digest: "r1"},
	domain.LoggedIn{Account: "acc_1", Session: "sess_1", Digest: "d", ExpiresAt: t0, Address: "10.0.0.7", TOTPStep: 101},
	domain.LoggedOut{Account: "acc_1", Session: "sess_1", Cause: domain.EndLogout},
	domain.LoginFailed{Account: "acc_1", Address: "10.0.0.7", Addresses: 1, Failures: 5, LockedUntil: ptr(t0)},
	domain.SessionsSeen{Sessions: []domain.SessionSeen{{Session: "sess_1", At: t0}}},
}

func TestEveryEventTypeRoundTrips(t *testing.T) {
	var names []string
	for _, e := range samples {
		names = append(names, e.EventType())
	}
	registered := domain.Events.Types()
	slices.Sort(names)
	slices.Sort(registered)
	if !slices.Equal(names, registered) {
		t.Fatalf("samples cover %v\nregistered %v", names, registered)
	}
	for i, e := range samples {
		meta := domain.Metadata{OccurredAt: t0, RecordedAt: t0.Add(time.Hour), Actor: "a", Role: domain.RoleStaff, Station: "S01", LegalBasis: domain.BasisStatutoryDuty}
		d, err := domain.Encode(eventID(i), e, meta)
		if err != nil {
			t.Fatal(err)
		}
		rec := eventstore.RecordedEvent{ID: d.ID, Stream: "s", Revision: 3, Position: eventstore.At(9), Type: d.Type, Data: d.Data, Metadata: d.Metadata}
		env, err := domain.Decode(rec)
		if err != nil {
			t.Fatalf("%s: %v", e.EventType(), err)
		}
		if !reflect.DeepEqual(env.Event, e) {
			t.Errorf("%s: decoded %#v, want %#v", e.EventType(), env.Event, e)
		}
		if env.Meta.Actor != "a" || !env.Meta.OccurredAt.Equal(t0) || env.Revision != 3 || env.Position != eventstore.At(9) || env.ID != eventID(i) {
			t.Errorf("%s: envelope %+v", e.EventType(), env)
		}
		kinds := []string{"case.", "station.", "access.", "numbers.", "photo."} // numbers: the case number registers
		if !slices.ContainsFunc(kinds, func(k string) bool { return strings.HasPrefix(e.EventType(), k) }) {
			t.Errorf("%s: stored names start with their stream's kind", e.EventType())
		}
	}
}

func TestStoredJSONFieldNamesAreStable(t *testing.T) {
	d, err := domain.Encode(eventID(0), domain.BedAssigned{CaseID: caseID, Zone: domain.ZoneMinors, Bed: "minors-1"}, domain.Metadata{OccurredAt: t0, Actor: "a", Role: domain.RoleStaff})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"case_id":"01940000-0000-7000-8000-000000000001","zone":"minors","bed":"minors-1"}`
	if string(d.Data) != want {
		t.Errorf("data %s\nwant %s", d.Data, want)
	}
	var meta map[string]any
	if err := json.Unmarshal(d.Metadata, &meta); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schema_version", "occurred_at", "recorded_at", "actor", "role"} {
		if _, ok := meta[k]; !ok {
			t.Errorf("metadata lacks %s: %s", k, d.Metadata)
		}
	}
}

func TestRegistryRefusesDuplicatesAndBadUpcasters(t *testing.T) {
	r := domain.NewRegistry()
	if err := domain.Register[domain.CaseClosed](r, 1); err != nil {
		t.Fatal(err)
	}
	if err := domain.Register[domain.CaseClosed](r, 2); err == nil {
		t.Fatal("a duplicate name was registered")
	}
	up := func(b []byte, _ domain.Metadata) ([]byte, error) { return b, nil }
	if err := r.AddUpcaster(domain.TypeCaseClosed, 1, up); err == nil {
		t.Fatal("an upcaster from the current version was accepted")
	}
	if err := r.AddUpcaster("case.nothing", 1, up); err == nil {
		t.Fatal("an upcaster for an unknown type was accepted")
	}
	if err := domain.Register[domain.Absconded](r, 3); err != nil {
		t.Fatal(err)
	}
	if err := r.AddUpcaster(domain.TypeAbsconded, 1, up); err != nil {
		t.Fatal(err)
	}
	if err := r.AddUpcaster(domain.TypeAbsconded, 1, up); err == nil {
		t.Fatal("a duplicate upcaster was accepted")
	}
	// Version 2 has no upcaster: reading a version-1 event fails loudly.
	_, err := r.Decode(eventstore.RecordedEvent{Type: domain.TypeAbsconded, Data: []byte(`{}`), Metadata: []byte(`{"schema_version":1}`)})
	if err == nil {
		t.Fatal("decoded without the missing upcaster")
	}
	if v, ok := r.Version(domain.TypeAbsconded); !ok || v != 3 {
		t.Fatalf("version %d %v", v, ok)
	}
}

func TestDecodeRefusesWhatItCannotRead(t *testing.T) {
	bad := []eventstore.RecordedEvent{
		{Type: "case.unheard_of", Data: []byte(`{}`)},
		{Type: domain.TypeCaseClosed, Data: []byte(`{`)},
		{Type: domain.TypeCaseClosed, Data: []byte(`{}`), Metadata: []byte(`[`)},
		{Type: domain.TypeCaseClosed, Data: []byte(`{}`), Metadata: []byte(`{"schema_version":7}`)},
	}
	for _, rec := range bad {
		if _, err := domain.Decode(rec); err == nil {
			t.Errorf("decoded %s %s %s", rec.Type, rec.Data, rec.Metadata)
		}
	}
}

// v1Intake is how the first release stored an intake: one "age" number.
const v1Intake = `{"case_id":"01940000-0000-7000-8000-000000000001","station":"S01","referral":{"source":"walk_in"},` +
	`"person":{"name":"Old","sex":"male","age":58},"inspection":{}}`

func TestVersion1IntakeReadsAsToday(t *testing.T) {
	occurred := time.Date(2024, 11, 3, 22, 0, 0, 0, time.UTC)
	meta, _ := json.Marshal(map[string]any{"schema_version": 1, "occurred_at": occurred, "actor": "a", "role": "staff"})
	env, err := domain.Decode(eventstore.RecordedEvent{ID: uuid.New(), Type: domain.TypeIntakeRegistered, Data: []byte(v1Intake), Metadata: meta})
	if err != nil {
		t.Fatal(err)
	}
	in, ok := env.Event.(domain.IntakeRegistered)
	if !ok {
		t.Fatalf("decoded %T", env.Event)
	}
	// 22:00Z on 3 November is already 4 November in Beijing: the age was
	// estimated on the intake's civil date.
	if in.Person.EstimatedAge == nil || *in.Person.EstimatedAge != 58 || in.Person.AgeEstimatedOn != date("2024-11-04") || in.Person.Name != "Old" {
		t.Fatalf("person %+v", in.Person)
	}
	if env.Meta.SchemaVersion != 2 {
		t.Errorf("schema version after upcasting = %d", env.Meta.SchemaVersion)
	}
	c := domain.Evolve(domain.Case{}, env)
	if age, _ := c.AgeOn(time.Date(2026, 11, 3, 23, 0, 0, 0, time.UTC)); age != 60 {
		t.Errorf("age two years later = %d, want 60", age)
	}
	if !c.HasFlag(domain.FlagElderly, time.Date(2026, 11, 4, 0, 0, 0, 0, time.UTC)) {
		t.Error("not elderly at 60")
	}
	// An intake without an age passes through unchanged.
	noAge := strings.Replace(v1Intake, `,"age":58`, "", 1)
	env, err = domain.Decode(eventstore.RecordedEvent{Type: domain.TypeIntakeRegistered, Data: []byte(noAge), Metadata: meta})
	if err != nil || env.Event.(domain.IntakeRegistered).Person.EstimatedAge != nil {
		t.Fatalf("no age: %+v %v", env.Event, err)
	}
}

func TestStreamNames(t *testing.T) {
	if id, ok := domain.CaseIDOf(domain.CaseStream(caseID)); !ok || id != caseID {
		t.Errorf("case stream round trip: %v %v", id, ok)
	}
	if _, ok := domain.CaseIDOf("station-S01"); ok {
		t.Error("a station stream read as a case")
	}
	if _, ok := domain.CaseIDOf("case-nope"); ok {
		t.Error("a bad case ID was accepted")
	}
	if code, ok := domain.StationCodeOf(domain.StationStream("S01")); !ok || code != "S01" {
		t.Errorf("station stream round trip: %v %v", code, ok)
	}
}

func BenchmarkDecode(b *testing.B) {
	d, err := domain.Encode(eventID(0), intake(man, noFlags), domain.Metadata{OccurredAt: t0, RecordedAt: t0, Actor: "a", Role: domain.RoleStaff, Station: "S01"})
	if err != nil {
		b.Fatal(err)
	}
	rec := eventstore.RecordedEvent{ID: d.ID, Stream: "s", Type: d.Type, Data: d.Data, Metadata: d.Metadata}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := domain.Decode(rec); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBedAssigned(b *testing.B) {
	meta := domain.Metadata{OccurredAt: t0, RecordedAt: t0, Actor: "staff-1", Role: domain.RoleStaff, Station: "S01",
		LegalBasis: domain.BasisStatutoryDuty, RequestHash: "0123456789abcdef0123456789abcdef"}
	d, err := domain.Encode(eventID(0), domain.BedAssigned{CaseID: caseID, Zone: domain.ZoneMinors, Bed: "minors-1"}, meta)
	if err != nil {
		b.Fatal(err)
	}
	rec := eventstore.RecordedEvent{ID: d.ID, Stream: "s", Type: d.Type, Data: d.Data, Metadata: d.Metadata}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := domain.Decode(rec); err != nil {
			b.Fatal(err)
		}
	}
}
