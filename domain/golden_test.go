package domain_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"waystation/domain"
	"waystation/eventstore"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata (events, fields) from the code")

// filled is one example of every stored event type with every field set,
// so that renaming any stored JSON field changes its golden file.
var filled = []domain.Event{
	domain.IntakeRegistered{CaseID: caseID, Station: "S01",
		Referral: domain.Referral{Source: domain.SourcePoliceEscort, FormNo: "F-1", ReferredBy: "officer 12", FoundAt: "north gate"},
		Person: domain.Person{Name: "Zhang", Sex: domain.Male, BirthDate: date("1980-05-01"), EstimatedAge: ptr(45), AgeEstimatedOn: date("2026-01-10"),
			IDType: domain.IDResidentCard, IDNumber: "110101198005010012", HukouPlace: "Anhui", Dialect: "Wu", CanStateIdentity: ptr(true),
			StreetReason: "lost work", PhotoRef: "photo-1", FingerprintRef: "fp-1", Contacts: []domain.Contact{{Name: "Li", Relationship: "sister", Phone: "130"}}},
		Inspection: domain.Inspection{Injuries: true, Intoxicated: true, SuspectedInfectious: true, SuspectedMentalDisorder: true, IntellectualDisability: true,
			PhysicalDisability: true, SeriouslyIll: true, SignsOfHarm: true, SuspectedTrafficked: true, SuspectedLost: true, Abandoned: true, Notes: "bruises"},
		MotherCaseID: motherID, Notes: "n"},
	domain.EligibilityDecided{Eligible: true, AssistFirst: true, Reason: "r", NoticeNo: "N-1", Notes: "n"},
	domain.SecurityChecked{CheckedBy: domain.Checker{StaffID: "s1", Sex: domain.Female}, Refused: true, ItemsToPolice: []string{"knife"}, Notes: "n"},
	domain.BelongingsDeposited{Items: []domain.Item{{Item: "bag", Qty: 2}}, Notes: "n"},
	domain.BelongingsReturned{Items: []string{"bag"}, Notes: "n"},
	domain.IdentityQueried{Channel: domain.QueryPolice, Result: domain.QueryNoMatch, Reference: "Q-1", Notes: "n"},
	domain.IdentityVerified{Method: domain.VerifiedByPolice, Name: "Zhang Wei", IDType: domain.IDResidentCard, IDNumber: "110101198005010012",
		BirthDate: date("1980-05-01"), HukouPlace: "Anhui", Reference: "V-1", Notes: "n"},
	domain.FamilySearchNoticePublished{Channel: "national_platform", Reference: "FS-1", Notes: "n"},
	domain.NoticePublished{NoticeID: caseID, Shows: []domain.NoticeField{domain.NoticeSex, domain.NoticePhoto}, Sex: domain.Female,
		Age: ptr(9), HeightCM: 120, Health: "calm", Features: "mole", Clothing: "red coat", FoundPlace: "north gate",
		FoundOn: date("2026-01-10"), Contact: "0311-1", PhotoID: motherID, PhotoBasis: "art. 92", Notes: "n"},
	domain.NoticeWithdrawn{NoticeID: caseID, Reason: domain.WithdrawnIdentity, Notes: "n"},
	domain.PhotoAttached{PhotoID: motherID, ContentType: "image/jpeg", Width: 640, Height: 480, Bytes: 1000},
	domain.PhotoStored{CaseID: caseID, PhotoID: motherID, ContentType: "image/jpeg", Image: "aGk="},
	domain.LeadReceived{LeadID: motherID, NoticeID: caseID, Receipt: "L-1", Name: "Wang", Phone: "138", Relationship: "son",
		Message: "m"},
	domain.DNARequested{SampleRef: "DNA-1", Lab: "lab", Notes: "n"},
	domain.DNAResultReceived{Matched: true, Reference: "DR-1", Notes: "n"},
	domain.RelativesContacted{Relationship: "son", Channel: "phone", Outcome: "reached", Notes: "n"},
	domain.MedicalReferred{Hospital: "H1", Reason: "fever", Notes: "n"},
	domain.HospitalAdmitted{Hospital: "H1", Notes: "n"},
	domain.HospitalDischarged{Hospital: "H1", Notes: "n"},
	domain.MedicalReturned{Notes: "n"},
	domain.StayExtended{Until: t0.Add(20 * 24 * time.Hour), ApprovedBy: "director", Reason: "waiting", Notes: "n"},
	domain.LongStayStarted{Kind: domain.LongStayOffSite, Place: "home", Notes: "n"},
	domain.SettlementRecorded{Stage: domain.SettlementApplied, Place: "county", Reference: "S-1", Notes: "n"},
	domain.GuardianshipTaken{Basis: "art. 92", Guardian: "civil_affairs", Notes: "n"},
	domain.PoliceReportFiled{Reason: domain.ReportAbandoned, ReportNo: "P-1", Agency: "PSB", Notes: "n"},
	domain.TransferRequested{From: "S01", To: "S02", Reason: "closer to home", Notes: "n"},
	domain.TransferAccepted{From: "S01", To: "S02", Notes: "n"},
	domain.TransferDeclined{From: "S01", To: "S02", Reason: "full", Notes: "n"},
	domain.EscortDeparted{From: "S01", To: "S02", Escorts: []string{"e1"}, Transport: "train", Notes: "n"},
	domain.HandedOver{From: "S01", To: "S02", ReceivedBy: "r1", Notes: "n"},
	domain.LeftVoluntarily{DeclarationRef: "D-1", CashYuan: 20, ReceiptRef: "R-1", Notes: "n"},
	domain.PickedUp{Collector: domain.Collector{Name: "Zhang Senior", IDType: domain.IDPassport, IDNumber: "E1", Relationship: "father"}, Notes: "n"},
	domain.EscortedReturn{Destination: "Anhui", Escorts: []string{"e1"}, Transport: "bus", ReceivedBy: "village", Notes: "n"},
	domain.Absconded{LastSeen: "gate", Notes: "n"},
	domain.Terminated{Reason: "rules", Notes: "n"},
	domain.Died{Place: "station", DeathChecklist: domain.DeathChecklist{CertifiedBy: "hospital", PoliceNotified: ptr(true), RelativesNotified: ptr(false),
		PublicNotice: "PN-1", BodyDisposition: "cremated"}, Notes: "n"},
	domain.DeathChecklistUpdated{DeathChecklist: domain.DeathChecklist{CertifiedBy: "hospital", PoliceNotified: ptr(true), RelativesNotified: ptr(true),
		PublicNotice: "PN-1", BodyDisposition: "cremated"}, Notes: "n"},
	domain.CaseClosed{Notes: "n"},
	domain.Corrected{EventID: eventID(0), CorrectedType: domain.TypeIntakeRegistered, Field: "person.name", Old: json.RawMessage(`"Zhang"`),
		New: json.RawMessage(`"Zhang San"`), Reason: "typo"},
	domain.PersonalDataErased{Reason: domain.ErasureRetentionEnded, Trigger: domain.ErasureRetention, AgeAtIntake: ptr(40),
		DeathChecklistDone: []string{domain.ChecklistCertifiedBy, domain.ChecklistBodyDisposition}},
	domain.StationRegistered{Code: "S01", Name: "First", Region: "R1", Kind: domain.KindStation,
		Zones: []domain.ZoneBeds{{Zone: domain.ZoneAdultMale, Beds: 2, Seasonal: 1}}},
	domain.ZonesChanged{Zones: []domain.ZoneBeds{{Zone: domain.ZoneMinors, Beds: 3, Seasonal: 2}}},
	domain.BedAssigned{CaseID: caseID, Zone: domain.ZoneMotherChild, Bed: "mother_child-1", MotherCaseID: motherID},
	domain.BedReleased{CaseID: caseID, Zone: domain.ZoneMinors, Bed: "minors-1", Reason: domain.ReleaseExit, Cause: motherID},
	domain.TokenIssued{ID: "t1", Name: "desk", Role: domain.RoleStaff, Station: "S01", Region: "R1", Hash: "abc"},
	domain.TokenRevoked{ID: "t1"},
	domain.CaseRead{CaseID: caseID.String(), Reader: "t1", Role: domain.RoleInspector, Route: "/v1/cases/{id}"},
	domain.CaseNumbered{CaseID: caseID, Station: "S01", Year: 2026, Number: 123},
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

// unset returns the path of the first field of v that holds its zero value
// (an empty list counts), or "".
func unset(v reflect.Value, path string) string {
	switch v.Kind() {
	case reflect.Struct:
		if _, ok := v.Interface().(time.Time); ok {
			if v.Interface().(time.Time).IsZero() {
				return path
			}
			return ""
		}
		if v.IsZero() {
			return path
		}
		for i := range v.NumField() {
			if !v.Type().Field(i).IsExported() {
				continue
			}
			if p := unset(v.Field(i), path+"."+v.Type().Field(i).Name); p != "" {
				return p
			}
		}
	case reflect.Pointer:
		if v.IsNil() {
			return path
		}
		if v.Elem().Kind() == reflect.Struct {
			return unset(v.Elem(), path)
		}
		return "" // a pointer to false or 0 is a value given
	case reflect.Slice:
		if v.Len() == 0 {
			return path
		}
		return unset(v.Index(0), path+"[0]")
	default:
		if v.IsZero() {
			return path
		}
	}
	return ""
}

// TestGoldenEvents: each registered event type has a golden file holding
// the payload a fully filled example encodes to; encoding is compared byte
// for byte, and the file decodes back to the example. Run with -update to
// rewrite the files after a deliberate change.
func TestGoldenEvents(t *testing.T) {
	dir := filepath.Join("testdata", "events")
	covered := map[string]bool{}
	for _, e := range filled {
		typ := e.EventType()
		t.Run(typ, func(t *testing.T) {
			if covered[typ] {
				t.Fatalf("two examples of %s", typ)
			}
			covered[typ] = true
			if p := unset(reflect.ValueOf(e), typ); p != "" {
				t.Fatalf("the example leaves %s unset; fill every field", p)
			}
			d, err := domain.Encode(eventID(0), e, domain.Metadata{OccurredAt: t0, RecordedAt: t0, Actor: "a", Role: domain.RoleStaff})
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := json.Indent(&got, d.Data, "", "  "); err != nil {
				t.Fatal(err)
			}
			got.WriteByte('\n')
			file := filepath.Join(dir, typ+".json")
			if *update {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("no golden file for %s (run go test ./domain -run TestGoldenEvents -update): %v", typ, err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Fatalf("%s encodes to\n%s\nthe golden file holds\n%s", typ, got.Bytes(), want)
			}
			var stored bytes.Buffer
			if err := json.Compact(&stored, want); err != nil {
				t.Fatal(err)
			}
			env, err := domain.Decode(eventstore.RecordedEvent{ID: eventID(0), Type: typ, Data: stored.Bytes(), Metadata: d.Metadata})
			if err != nil {
				t.Fatalf("the golden file does not decode: %v", err)
			}
			if !reflect.DeepEqual(env.Event, e) {
				t.Fatalf("the golden file decodes to\n%#v\nwant\n%#v", env.Event, e)
			}
		})
	}
	registered := domain.Events.Types()
	slices.Sort(registered)
	for _, typ := range registered {
		if !covered[typ] {
			t.Errorf("%s is registered but has no example and golden file", typ)
		}
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if typ := strings.TrimSuffix(filepath.Base(f), ".json"); !slices.Contains(registered, typ) {
			t.Errorf("golden file %s names no registered type", f)
		}
	}
}
