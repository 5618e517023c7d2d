package domain

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/domain/internal/gendecode"
)

// fullEvents has one event of every type with a fast decoder, with every
// field set, as the service would write it.
func fullEvents() []Event {
	id := uuid.MustParse("018cc251-f400-7400-8000-00000000002a")
	other := uuid.MustParse("018cc2f6-bf80-7400-8000-00000000003d")
	age, yes, no := 40, true, false
	at := time.Date(2026, 1, 10, 8, 0, 0, 0, time.UTC)
	return []Event{
		IntakeRegistered{CaseID: id, Station: "S01",
			Referral: Referral{Source: "police_escort", FormNo: "F-1", ReferredBy: "派出所", FoundAt: "桥下"},
			Person: Person{Name: "张三", Sex: Male, BirthDate: Date{1990, 5, 6}, EstimatedAge: &age, AgeEstimatedOn: Date{2026, 1, 10},
				IDType: IDResidentCard, IDNumber: "11010519491231002X", HukouPlace: "河北省", Dialect: "冀", CanStateIdentity: &yes,
				StreetReason: "r", PhotoRef: "p", FingerprintRef: "f", Contacts: []Contact{{Name: "李四", Relationship: "brother", Phone: "1"}}},
			Inspection: Inspection{Injuries: true, Intoxicated: true, SuspectedInfectious: true, SuspectedMentalDisorder: true,
				IntellectualDisability: true, PhysicalDisability: true, SeriouslyIll: true, SignsOfHarm: true, SuspectedTrafficked: true,
				SuspectedLost: true, Abandoned: true, Notes: "n"},
			MotherCaseID: other, Notes: "n"},
		EligibilityDecided{Eligible: true, AssistFirst: true, Reason: "r", NoticeNo: "N", Notes: "n"},
		SecurityChecked{CheckedBy: Checker{StaffID: "s", Sex: Female}, Refused: true, ItemsToPolice: []string{"knife", "刀"}, Notes: "n"},
		BelongingsDeposited{Items: []Item{{Item: "bag", Qty: 2}, {Item: "phone", Qty: -1}}, Notes: "n"},
		BelongingsReturned{Items: []string{"bag"}, Notes: "n"},
		IdentityQueried{Channel: "police", Result: "pending", Reference: "R", Notes: "n"},
		IdentityVerified{Method: "dna", Name: "张三", IDType: IDPassport, IDNumber: "E1", BirthDate: Date{1980, 1, 1}, HukouPlace: "h", Reference: "R", Notes: "n"},
		FamilySearchNoticePublished{Channel: "national_platform", Reference: "R", Notes: "n"},
		NoticePublished{NoticeID: id, Shows: []NoticeField{NoticeSex, NoticePhoto}, Sex: Female, Age: &age, HeightCM: 160,
			Health: "h", Features: "f", Clothing: "c", FoundPlace: "p", FoundOn: Date{2026, 1, 10}, Contact: "0311", PhotoID: other,
			PhotoBasis: "b", Notes: "n"},
		NoticeWithdrawn{NoticeID: id, Reason: WithdrawnByStaff, Notes: "n"},
		PhotoAttached{PhotoID: id, ContentType: "image/png", Width: 1, Height: 2, Bytes: 3},
		PhotoStored{CaseID: id, PhotoID: other, ContentType: "image/png", Image: "aGk="},
		LeadReceived{LeadID: id, NoticeID: other, Receipt: "L-1", Name: "n", Phone: "1", Relationship: "r", Message: "m"},
		DNARequested{SampleRef: "S", Lab: "police lab", Notes: "n"},
		DNAResultReceived{Matched: true, Reference: "R", Notes: "n"},
		RelativesContacted{Relationship: "son", Channel: "phone", Outcome: "reached", Notes: "n"},
		MedicalReferred{Hospital: "designated", Reason: "r", Notes: "n"},
		HospitalAdmitted{Hospital: "designated", Notes: "n"},
		HospitalDischarged{Hospital: "designated", Notes: "n"},
		MedicalReturned{Notes: "n"},
		StayExtended{Until: at, ApprovedBy: "head", Reason: "unidentified", Notes: "n"},
		LongStayStarted{Kind: LongStayOffSite, Place: "p", Notes: "n"},
		SettlementRecorded{Stage: SettlementApplied, Place: "p", Reference: "R", Notes: "n"},
		GuardianshipTaken{Basis: "art. 92", Guardian: "g", Notes: "n"},
		TransferRequested{From: "S01", To: "S02", Reason: "hometown", Notes: "n"},
		TransferAccepted{From: "S01", To: "S02", Notes: "n"},
		EscortDeparted{From: "S01", To: "S02", Escorts: []string{"e1", "e2"}, Transport: "train", Notes: "n"},
		HandedOver{From: "S01", To: "S02", ReceivedBy: "staff", Notes: "n"},
		LeftVoluntarily{DeclarationRef: "D", CashYuan: 20, ReceiptRef: "R", Notes: "n"},
		PickedUp{Collector: Collector{Name: "n", IDType: IDResidentCard, IDNumber: "x", Relationship: "parent"}, Notes: "n"},
		EscortedReturn{Destination: "County 47", Escorts: []string{"e"}, Transport: "bus", ReceivedBy: "r", Notes: "n"},
		Absconded{LastSeen: "gate", Notes: "n"},
		CaseClosed{Notes: "n"},
		BedAssigned{CaseID: id, Zone: ZoneMinors, Bed: "minors-1", MotherCaseID: other},
		BedReleased{CaseID: id, Zone: ZoneMinors, Bed: "minors-1", Reason: ReleaseExit, Cause: other},
		PoliceReportFiled{Reason: ReportSuspectedLost, ReportNo: "P-1", Agency: "派出所", Notes: "n"},
		TransferDeclined{From: "S01", To: "S02", Reason: "full", Notes: "n"},
		Terminated{Reason: "rules", Notes: "n"},
		Died{Place: "p", DeathChecklist: DeathChecklist{CertifiedBy: "h", PoliceNotified: &yes, RelativesNotified: &no,
			PublicNotice: "N", BodyDisposition: "d"}, Notes: "n"},
		DeathChecklistUpdated{DeathChecklist: DeathChecklist{CertifiedBy: "h", PoliceNotified: &yes, RelativesNotified: &no,
			PublicNotice: "N", BodyDisposition: "d"}, Notes: "n"},
		StationRegistered{Code: "S01", Name: "站", Region: "R1", Kind: KindStation,
			Zones: []ZoneBeds{{Zone: ZoneMinors, Beds: 4, Seasonal: 2}, {Zone: ZoneCare, Beds: 1}}},
		ZonesChanged{Zones: []ZoneBeds{{Zone: ZoneAdultMale, Beds: 10, Seasonal: 5}}},
		TokenIssued{ID: "tok-1", Name: "desk", Role: RoleStaff, Station: "S01", Region: "R1", Hash: "ab"},
		TokenRevoked{ID: "tok-1"},
		CaseRead{CaseID: id.String(), Reader: "tok-1", Role: RoleInspector, Route: "/v1/cases/{id}"},
		CaseNumbered{CaseID: id, Station: "S01", Year: 2026, Number: 123},
		PersonalDataErased{Reason: "retention", Trigger: "exit", AgeAtIntake: &age, DeathChecklistDone: []string{"police_notified"}},
	}
}

// fastNames lists the types with a fast decoder in a fixed order.
func fastNames() []string {
	names := make([]string, 0, len(fastDecoders))
	for n := range fastDecoders {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func FuzzFastDecodeEqualsEncodingJSON(f *testing.F) {
	names := fastNames()
	for _, ev := range fullEvents() {
		b, err := json.Marshal(ev)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(slices.Index(names, ev.EventType())), b)
	}
	for _, s := range []string{`{}`, ` { } `, `{"notes":null}`, `{"notes":"\u00e9"}`, `{"notes":"é"}`, `{"Notes":"x"}`,
		`{"notes":"a","notes":"b"}`, `{"items":[]}`, `{"items":[ "a" , "b" ]}`, `{"items":[{"item":"a","qty":1.0}]}`,
		`{"items":[{"item":"a","qty":01}]}`, `{"cash_yuan":-0}`, `{"cash_yuan":99999999999999999999}`, `{"eligible":tru}`,
		`{"person":{"estimated_age":3,"contacts":[]}}`, `{"case_id":"018cc251f4007400800000000000002a"}`, `{"until":"2026-01-10T08:00:00+08:00"}`,
		`{"birth_date":""}`, `{"checked_by":{"sex":"male","sex":"female"}}`, `{} x`, `[]`, `{"notes":"a",}`, "{\"notes\":\"\xff\"}"} {
		for i := range names {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		decode := fastDecoders[names[int(which)%len(names)]]
		fast, ok := decode(b)
		zero, _ := decode([]byte(`{}`))
		std := reflect.New(reflect.TypeOf(zero))
		stdErr := json.Unmarshal(b, std.Interface())
		if !ok {
			return
		}
		if stdErr != nil {
			t.Fatalf("fast path accepted %q, encoding/json refused it: %v", b, stdErr)
		}
		if want := std.Elem().Interface(); !reflect.DeepEqual(fast, want) {
			t.Fatalf("%q:\nfast          %#v\nencoding/json %#v", b, fast, want)
		}
	})
}

// TestFastDecodersTakeEncodedEvents checks that what Encode writes takes
// the fast path, so that folding the log stays fast.
func TestFastDecodersTakeEncodedEvents(t *testing.T) {
	seen := map[string]bool{}
	for _, ev := range fullEvents() {
		name := ev.EventType()
		seen[name] = true
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := fastDecoders[name](b)
		if !ok {
			t.Errorf("%s: fast path refused %s", name, b)
			continue
		}
		if !reflect.DeepEqual(got, ev) {
			t.Errorf("%s: got %#v, want %#v", name, got, ev)
		}
		if Events.types[name].fast == nil {
			t.Errorf("%s: the Events registry does not use its fast decoder", name)
		}
	}
	for name := range fastDecoders {
		if !seen[name] {
			t.Errorf("%s has a fast decoder but no full event in this test", name)
		}
	}
}

// TestFastDecodeFallsBack checks that documents the fast path refuses are
// still decoded, by encoding/json, through the registry.
func TestFastDecodeFallsBack(t *testing.T) {
	for _, tc := range []struct {
		name string
		data string
		want Event
	}{
		{"escaped text", `{"hospital":"\u533b\u9662"}`, HospitalAdmitted{Hospital: "医院"}},
		{"differently cased key", `{"Hospital":"h"}`, HospitalAdmitted{Hospital: "h"}},
		{"repeated key", `{"hospital":"a","hospital":"b"}`, HospitalAdmitted{Hospital: "b"}},
		{"unknown key", `{"hospital":"h","ward":3}`, HospitalAdmitted{Hospital: "h"}},
		{"null", `{"hospital":null}`, HospitalAdmitted{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok := fastHospitalAdmitted([]byte(tc.data)); ok {
				t.Fatalf("fast path took %s", tc.data)
			}
			got, err := Events.types[TypeHospitalAdmitted].decodePayload([]byte(tc.data))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

// TestDecodeGenIsCurrent checks that decode_gen.go is what gendecode makes of the struct
// declarations today, so that no decoder falls behind its struct.
func TestDecodeGenIsCurrent(t *testing.T) {
	want, err := gendecode.Generate(".")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(gendecode.Output)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is not what the struct declarations make: run go generate ./domain", gendecode.Output)
	}
}

// TestEveryEventTypeHasADecoder checks that each registered event type has a generated
// fast decoder, which the registry uses, or is on gendecode's skip list.
func TestEveryEventTypeHasADecoder(t *testing.T) {
	for _, name := range Events.Types() {
		_, fast := fastDecoders[name]
		_, slow := slowDecoded[name]
		switch {
		case fast && slow:
			t.Errorf("%s has a fast decoder and is on the skip list", name)
		case !fast && !slow:
			t.Errorf("%s has no fast decoder and is not on gendecode's skip list", name)
		case fast && Events.types[name].fast == nil:
			t.Errorf("%s: the Events registry does not use its fast decoder", name)
		}
	}
	for name := range slowDecoded {
		if _, ok := Events.Version(name); !ok {
			t.Errorf("%s is on the skip list but not registered", name)
		}
	}
}
