package domain

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Event is one fact of the model. EventType returns its stored name.
type Event interface {
	EventType() string
}

// Stored event names. They are what the event store keeps: never rename or
// reuse them; add new names instead.
const (
	TypeIntakeRegistered         = "case.intake_registered"
	TypeEligibilityDecided       = "case.eligibility_decided"
	TypeSecurityChecked          = "case.security_checked"
	TypeBelongingsDeposited      = "case.belongings_deposited"
	TypeBelongingsReturned       = "case.belongings_returned"
	TypeIdentityQueried          = "case.identity_queried"
	TypeIdentityVerified         = "case.identity_verified"
	TypeFamilySearchNoticePosted = "case.family_search_notice_published"
	TypeDNARequested             = "case.dna_requested"
	TypeDNAResultReceived        = "case.dna_result_received"
	TypeRelativesContacted       = "case.relatives_contacted"
	TypeMedicalReferred          = "case.medical_referred"
	TypeHospitalAdmitted         = "case.hospital_admitted"
	TypeHospitalDischarged       = "case.hospital_discharged"
	TypeMedicalReturned          = "case.medical_returned"
	TypeStayExtended             = "case.stay_extended"
	TypeLongStayStarted          = "case.long_stay_started"
	TypeSettlementRecorded       = "case.settlement_recorded"
	TypeGuardianshipTaken        = "case.guardianship_taken"
	TypePoliceReportFiled        = "case.police_report_filed"
	TypeTransferRequested        = "case.transfer_requested"
	TypeTransferAccepted         = "case.transfer_accepted"
	TypeTransferDeclined         = "case.transfer_declined"
	TypeEscortDeparted           = "case.escort_departed"
	TypeHandedOver               = "case.handed_over"
	TypeLeftVoluntarily          = "case.left_voluntarily"
	TypePickedUp                 = "case.picked_up"
	TypeEscortedReturn           = "case.escorted_return"
	TypeAbsconded                = "case.absconded"
	TypeTerminated               = "case.terminated"
	TypeDied                     = "case.died"
	TypeDeathChecklistUpdated    = "case.death_checklist_updated"
	TypeCaseClosed               = "case.closed"
	TypeCorrected                = "case.corrected"
	TypeStationRegistered        = "station.registered"
	TypeZonesChanged             = "station.zones_changed"
	TypeBedAssigned              = "station.bed_assigned"
	TypeBedReleased              = "station.bed_released"
	TypeTokenIssued              = "access.token_issued"
	TypeTokenRevoked             = "access.token_revoked"
)

// Referral says how a person came to the station (护送来站 / 求助).
// FormNo is the police handover form number when the police escorted them.
type Referral struct {
	Source     ReferralSource `json:"source" doc:"How the person came: walk_in, hotline, police_escort, urban_management, hospital, outreach (patrol), public_report or other."`
	FormNo     string         `json:"form_no,omitempty" personal:"true" text:"ref" doc:"Number of the police handover form (护送单); required when the police escorted the person."`
	ReferredBy string         `json:"referred_by,omitempty" personal:"true" text:"name" doc:"Who brought or referred the person: the officer, unit, hospital or caller (name and unit)."`
	FoundAt    string         `json:"found_at,omitempty" personal:"true" text:"line" doc:"Where the person was found or picked up (street, bridge, station...)."`
}

// IntakeRegistered opens a case: the referral, the initial inspection and
// the registration of the person. MotherCaseID links a child to the case of
// the mother they arrived with. Schema version 2; version 1 stored a single
// person.age number (see the upcaster).
type IntakeRegistered struct {
	CaseID       uuid.UUID  `json:"case_id" correctable:"false"`
	Station      string     `json:"station" correctable:"false" text:"code"`
	Referral     Referral   `json:"referral"`
	Person       Person     `json:"person"`
	Inspection   Inspection `json:"inspection" personal:"true"`
	MotherCaseID uuid.UUID  `json:"mother_case_id,omitzero" correctable:"false"`
	Notes        string     `json:"notes,omitempty" personal:"true" text:"notes"`
}

// EligibilityDecided records screening (甄别): eligible, not eligible with a
// written notice, or assisted first because the person cannot state their
// details.
type EligibilityDecided struct {
	Eligible    bool   `json:"eligible" correctable:"false"`
	AssistFirst bool   `json:"assist_first,omitempty" correctable:"false"`
	Reason      string `json:"reason,omitempty" personal:"true" text:"reason"`
	NoticeNo    string `json:"notice_no,omitempty" text:"ref"`
	Notes       string `json:"notes,omitempty" personal:"true" text:"notes"`
}

// Checker is the staff member who did a security check.
type Checker struct {
	StaffID string `json:"staff_id" text:"ref" doc:"Staff number of the staff member who did the check."`
	Sex     Sex    `json:"sex" doc:"Sex of that staff member: a woman must be checked by a woman."`
}

// SecurityChecked records the security check; Refused means the person
// refused it, which ends assistance. ItemsToPolice lists dangerous items
// handed to the police.
type SecurityChecked struct {
	CheckedBy     Checker  `json:"checked_by"`
	Refused       bool     `json:"refused,omitempty" correctable:"false"`
	ItemsToPolice []string `json:"items_to_police,omitempty" text:"line"`
	Notes         string   `json:"notes,omitempty" personal:"true" text:"notes"`
}

// Item is one kind of deposited belonging.
type Item struct {
	Item string `json:"item" text:"line" doc:"What the item is (e.g. ID card, cash, phone)."`
	Qty  int    `json:"qty" doc:"How many, at least 1 (for cash, the amount in yuan)."`
}

// BelongingsDeposited lists belongings taken into safekeeping.
type BelongingsDeposited struct {
	Items []Item `json:"items"`
	Notes string `json:"notes,omitempty" personal:"true" text:"notes"`
}

// BelongingsReturned lists deposited items handed back, by item name.
type BelongingsReturned struct {
	Items []string `json:"items" text:"line"`
	Notes string   `json:"notes,omitempty" personal:"true" text:"notes"`
}

// IdentityQueried records an identity query (quick check, police query,
// face match) and its outcome.
type IdentityQueried struct {
	Channel   QueryChannel `json:"channel"`
	Result    QueryResult  `json:"result,omitempty" personal:"true"`
	Reference string       `json:"reference,omitempty" personal:"true" text:"ref"`
	Notes     string       `json:"notes,omitempty" personal:"true" text:"notes"`
}

// IdentityVerified records that the person's identity is established, with
// the verified details (they replace the registered ones that are given).
type IdentityVerified struct {
	Method     VerificationMethod `json:"method"`
	Name       string             `json:"name,omitempty" personal:"true" text:"name"`
	IDType     IDType             `json:"id_type,omitempty"`
	IDNumber   string             `json:"id_number,omitempty" personal:"true" text:"ref"`
	BirthDate  Date               `json:"birth_date,omitzero" personal:"true"`
	HukouPlace string             `json:"hukou_place,omitempty" personal:"true" text:"line"`
	Reference  string             `json:"reference,omitempty" personal:"true" text:"ref"`
	Notes      string             `json:"notes,omitempty" personal:"true" text:"notes"`
}

// FamilySearchNoticePublished records a family-search notice (寻亲公告).
type FamilySearchNoticePublished struct {
	Channel   string `json:"channel" text:"line"`
	Reference string `json:"reference,omitempty" personal:"true" text:"ref"`
	Notes     string `json:"notes,omitempty" personal:"true" text:"notes"`
}

// DNARequested records a DNA sample sent for matching.
type DNARequested struct {
	SampleRef string `json:"sample_ref,omitempty" personal:"true" text:"ref"`
	Lab       string `json:"lab,omitempty" text:"name"`
	Notes     string `json:"notes,omitempty" personal:"true" text:"notes"`
}

// DNAResultReceived records the DNA match result.
type DNAResultReceived struct {
	Matched   bool   `json:"matched" personal:"true"`
	Reference string `json:"reference,omitempty" personal:"true" text:"ref"`
	Notes     string `json:"notes,omitempty" personal:"true" text:"notes"`
}

// RelativesContacted records contact with the person's relatives.
type RelativesContacted struct {
	Relationship string `json:"relationship,omitempty" personal:"true" text:"line"`
	Channel      string `json:"channel,omitempty" text:"line"`
	Outcome      string `json:"outcome,omitempty" personal:"true" text:"reason"`
	Notes        string `json:"notes,omitempty" personal:"true" text:"notes"`
}

// MedicalReferred records a referral to a designated hospital (定点医院).
type MedicalReferred struct {
	Hospital string `json:"hospital" personal:"true" text:"name"`
	Reason   string `json:"reason,omitempty" personal:"true" text:"reason"`
	Notes    string `json:"notes,omitempty" personal:"true" text:"notes"`
}

// HospitalAdmitted records admission to hospital.
type HospitalAdmitted struct {
	Hospital string `json:"hospital" personal:"true" text:"name"`
	Notes    string `json:"notes,omitempty" personal:"true" text:"notes"`
}

// HospitalDischarged records discharge from hospital.
type HospitalDischarged struct {
	Hospital string `json:"hospital,omitempty" personal:"true" text:"name"`
	Notes    string `json:"notes,omitempty" personal:"true" text:"notes"`
}

// MedicalReturned records the person's return to the station from hospital.
type MedicalReturned struct {
	Notes string `json:"notes,omitempty" personal:"true" text:"notes"`
}

// StayExtended moves the stay limit to Until, approved by ApprovedBy.
type StayExtended struct {
	Until      time.Time `json:"until"`
	ApprovedBy string    `json:"approved_by" text:"name"`
	Reason     string    `json:"reason" personal:"true" text:"reason"`
	Notes      string    `json:"notes,omitempty" personal:"true" text:"notes"`
}

// LongStayKind is the kind of long-stay care (LongStayStarted.Kind).
// Stored: never rename or reuse the values.
type LongStayKind string

// The long-stay kinds.
const (
	LongStayInStation LongStayKind = "in_station"
	LongStayOffSite   LongStayKind = "off_site"
	LongStayPoverty   LongStayKind = "extreme_poverty_support"
)

var longStayKinds = []LongStayKind{LongStayInStation, LongStayOffSite, LongStayPoverty}

// Values lists the long-stay kinds.
func (LongStayKind) Values() []string { return strs(longStayKinds) }

// Valid reports whether k is a known kind.
func (k LongStayKind) Valid() bool { return slices.Contains(longStayKinds, k) }

// LongStayStarted records long-stay care (滞留) for an unidentified person:
// in the station, off-site (站外托养) or extreme-poverty support (特困供养).
type LongStayStarted struct {
	Kind  LongStayKind `json:"kind"`
	Place string       `json:"place,omitempty" personal:"true" text:"line"`
	Notes string       `json:"notes,omitempty" personal:"true" text:"notes"`
}

// SettlementStage is how far household registration and settlement has
// gone (SettlementRecorded.Stage). Stored: never rename the values.
type SettlementStage string

// The settlement stages.
const (
	SettlementApplied SettlementStage = "applied"
	SettlementSettled SettlementStage = "settled"
)

var settlementStages = []SettlementStage{SettlementApplied, SettlementSettled}

// Values lists the settlement stages.
func (SettlementStage) Values() []string { return strs(settlementStages) }

// Valid reports whether s is a known stage.
func (s SettlementStage) Valid() bool { return slices.Contains(settlementStages, s) }

// SettlementRecorded records household registration and settlement (落户安置):
// the application, then the settlement itself, which ends the case.
type SettlementRecorded struct {
	Stage     SettlementStage `json:"stage" correctable:"false"`
	Place     string          `json:"place,omitempty" personal:"true" text:"line"`
	Reference string          `json:"reference,omitempty" personal:"true" text:"ref"`
	Notes     string          `json:"notes,omitempty" personal:"true" text:"notes"`
}

// GuardianshipTaken records civil affairs taking temporary guardianship of a
// minor whose guardian cannot be found (未成年人保护法 art. 92).
type GuardianshipTaken struct {
	Basis    string `json:"basis" text:"line"`
	Guardian string `json:"guardian,omitempty" personal:"true" text:"name"`
	Notes    string `json:"notes,omitempty" personal:"true" text:"notes"`
}

// ReportReason is why the police were told (PoliceReportFiled.Reason).
// Stored: never rename the values.
type ReportReason string

// The police-report reasons.
const (
	ReportHarmToMinor         ReportReason = "harm_to_minor"
	ReportSuspectedTrafficked ReportReason = "suspected_trafficked"
	ReportSuspectedLost       ReportReason = "suspected_lost"
	ReportAbandoned           ReportReason = "abandoned"
	ReportDangerousItems      ReportReason = "dangerous_items"
	ReportAbsconding          ReportReason = "absconding"
	ReportDeath               ReportReason = "death"
	ReportOther               ReportReason = "other"
)

var reportReasons = []ReportReason{ReportHarmToMinor, ReportSuspectedTrafficked, ReportSuspectedLost, ReportAbandoned,
	ReportDangerousItems, ReportAbsconding, ReportDeath, ReportOther}

// Values lists the police-report reasons.
func (ReportReason) Values() []string { return strs(reportReasons) }

// Valid reports whether r is a known reason.
func (r ReportReason) Valid() bool { return slices.Contains(reportReasons, r) }

// PoliceReportFiled records a report to the police.
type PoliceReportFiled struct {
	Reason   ReportReason `json:"reason" personal:"true"`
	ReportNo string       `json:"report_no,omitempty" personal:"true" text:"ref"`
	Agency   string       `json:"agency,omitempty" text:"name"`
	Notes    string       `json:"notes,omitempty" personal:"true" text:"notes"`
}

// TransferRequested opens a transfer from the case's station to To.
type TransferRequested struct {
	From   string `json:"from" correctable:"false" text:"code"`
	To     string `json:"to" correctable:"false" text:"code"`
	Reason string `json:"reason" personal:"true" text:"reason"`
	Notes  string `json:"notes,omitempty" personal:"true" text:"notes"`
}

// TransferAccepted records the receiving station's acceptance.
type TransferAccepted struct {
	From  string `json:"from" correctable:"false" text:"code"`
	To    string `json:"to" correctable:"false" text:"code"`
	Notes string `json:"notes,omitempty" personal:"true" text:"notes"`
}

// TransferDeclined records the receiving station's refusal; the transfer
// ends and the case stays where it is.
type TransferDeclined struct {
	From   string `json:"from" correctable:"false" text:"code"`
	To     string `json:"to" correctable:"false" text:"code"`
	Reason string `json:"reason,omitempty" personal:"true" text:"reason"`
	Notes  string `json:"notes,omitempty" personal:"true" text:"notes"`
}

// EscortDeparted records the escort leaving with the person; the case is in
// transit until the handover.
type EscortDeparted struct {
	From      string   `json:"from" correctable:"false" text:"code"`
	To        string   `json:"to" correctable:"false" text:"code"`
	Escorts   []string `json:"escorts" text:"name"`
	Transport string   `json:"transport,omitempty" text:"line"`
	Notes     string   `json:"notes,omitempty" personal:"true" text:"notes"`
}

// HandedOver records the receiving station taking the person in; from then
// on the case belongs to To.
type HandedOver struct {
	From       string `json:"from" correctable:"false" text:"code"`
	To         string `json:"to" correctable:"false" text:"code"`
	ReceivedBy string `json:"received_by" text:"name"`
	Notes      string `json:"notes,omitempty" personal:"true" text:"notes"`
}

// LeftVoluntarily is a voluntary leave, with the signed declaration and any
// cash handed out against a receipt.
type LeftVoluntarily struct {
	DeclarationRef string `json:"declaration_ref" text:"ref"`
	CashYuan       int    `json:"cash_yuan,omitempty"`
	ReceiptRef     string `json:"receipt_ref,omitempty" text:"ref"`
	Notes          string `json:"notes,omitempty" personal:"true" text:"notes"`
}

// Collector is who picks a person up.
type Collector struct {
	Name         string `json:"name" text:"name" doc:"The collector's full name."`
	IDType       IDType `json:"id_type,omitempty" doc:"Kind of the collector's identity document; resident_id when left out."`
	IDNumber     string `json:"id_number" text:"ref" doc:"Number of the collector's identity document; a resident ID number is checked, check digit included."`
	Relationship string `json:"relationship" text:"line" doc:"How the collector is related to the person (e.g. son, guardian)."`
}

// PickedUp is a pickup by relatives or a guardian, with the collector's ID.
type PickedUp struct {
	Collector Collector `json:"collector" personal:"true"`
	Notes     string    `json:"notes,omitempty" personal:"true" text:"notes"`
}

// EscortedReturn is a return home with escorts (护送返乡).
type EscortedReturn struct {
	Destination string   `json:"destination" personal:"true" text:"line"`
	Escorts     []string `json:"escorts,omitempty" text:"name"`
	Transport   string   `json:"transport,omitempty" text:"line"`
	ReceivedBy  string   `json:"received_by,omitempty" personal:"true" text:"name"`
	Notes       string   `json:"notes,omitempty" personal:"true" text:"notes"`
}

// Absconded records that the person left without notice.
type Absconded struct {
	LastSeen string `json:"last_seen,omitempty" personal:"true" text:"line"`
	Notes    string `json:"notes,omitempty" personal:"true" text:"notes"`
}

// Terminated ends assistance for a stated reason (for example the person
// no longer qualifies or breaks the station's rules).
type Terminated struct {
	Reason string `json:"reason" personal:"true" text:"reason"`
	Notes  string `json:"notes,omitempty" personal:"true" text:"notes"`
}

// DeathChecklist is what must be done after a death. A nil field is not
// done or not known yet.
type DeathChecklist struct {
	CertifiedBy       string `json:"certified_by,omitempty" personal:"true" text:"name" doc:"Who certified the death (hospital or doctor)."`
	PoliceNotified    *bool  `json:"police_notified,omitempty" doc:"Whether the police have been told of the death."`
	RelativesNotified *bool  `json:"relatives_notified,omitempty" doc:"Whether the relatives have been told of the death."`
	PublicNotice      string `json:"public_notice,omitempty" personal:"true" text:"line" doc:"Reference of the public notice of the death, for a person whose relatives are not known."`
	BodyDisposition   string `json:"body_disposition,omitempty" personal:"true" text:"line" doc:"What was done with the body (e.g. cremated at, handed to the family)."`
}

// Died records a death and the checklist items known at the time.
type Died struct {
	Place string `json:"place" personal:"true" text:"line"`
	DeathChecklist
	Notes string `json:"notes,omitempty" personal:"true" text:"notes"`
}

// DeathChecklistUpdated records checklist items done after the death.
type DeathChecklistUpdated struct {
	DeathChecklist
	Notes string `json:"notes,omitempty" personal:"true" text:"notes"`
}

// CaseClosed closes an exited or refused case; nothing but corrections and
// late paperwork follows.
type CaseClosed struct {
	Notes string `json:"notes,omitempty" personal:"true" text:"notes"`
}

// Corrected fixes a recorded fact without editing history: it names the
// corrected event and its stored type, the field (a dotted JSON path of
// the event's payload such as "person.birth_date", or "occurred_at"), the
// old and new values and the reason. CorrectedType, the corrected event's
// stored type, is empty in corrections recorded before it was kept.
type Corrected struct {
	EventID       uuid.UUID       `json:"event_id"`
	CorrectedType string          `json:"event_type,omitempty" text:"line"`
	Field         string          `json:"field" text:"line"`
	Old           json.RawMessage `json:"old"`
	New           json.RawMessage `json:"new"`
	Reason        string          `json:"reason" personal:"true" text:"reason"`
}

// ZoneBeds is one zone of a station with its numbered beds: Beds permanent
// ones and Seasonal extra ones for winter-warmth and summer-cooling
// campaigns. Beds are named "<zone>-<n>", n from 1 to Beds+Seasonal.
type ZoneBeds struct {
	Zone     Zone `json:"zone" doc:"The zone."`
	Beds     int  `json:"beds" doc:"Number of permanent beds in the zone, 0 to 10000; they are named zone-1 to zone-n."`
	Seasonal int  `json:"seasonal,omitempty" doc:"Extra beds for winter-warmth and summer-cooling campaigns, numbered after the permanent ones."`
}

// StationRegistered opens a station stream.
type StationRegistered struct {
	Code   string      `json:"code" text:"code"`
	Name   string      `json:"name" text:"name"`
	Region string      `json:"region" text:"code"`
	Kind   StationKind `json:"kind"`
	Zones  []ZoneBeds  `json:"zones"`
}

// ZonesChanged replaces a station's zones and bed counts.
type ZonesChanged struct {
	Zones []ZoneBeds `json:"zones"`
}

// BedAssigned places a case in a bed. MotherCaseID is set when a child
// under 6 shares the bed of their mother's case in the mother-and-child room.
type BedAssigned struct {
	CaseID       uuid.UUID `json:"case_id"`
	Zone         Zone      `json:"zone"`
	Bed          string    `json:"bed" text:"ref"`
	MotherCaseID uuid.UUID `json:"mother_case_id,omitzero"`
}

// BedReleased frees a case's bed. Cause is the ID of the case event that
// made the release necessary (exit, hospital admission, handover), if any.
type BedReleased struct {
	CaseID uuid.UUID `json:"case_id"`
	Zone   Zone      `json:"zone"`
	Bed    string    `json:"bed" text:"ref"`
	Reason string    `json:"reason" text:"reason"`
	Cause  uuid.UUID `json:"cause,omitzero"`
}

// TokenIssued records an access token; only its SHA-256 hash is stored.
type TokenIssued struct {
	ID      string `json:"id" text:"ref"`
	Name    string `json:"name,omitempty" text:"name"`
	Role    Role   `json:"role"`
	Station string `json:"station,omitempty" text:"code"`
	Region  string `json:"region,omitempty" text:"code"`
	Hash    string `json:"hash" text:"ref"`
}

// TokenRevoked revokes a token by ID.
type TokenRevoked struct {
	ID string `json:"id" text:"ref"`
}

// EventType implementations: the stored names above.
func (IntakeRegistered) EventType() string            { return TypeIntakeRegistered }
func (EligibilityDecided) EventType() string          { return TypeEligibilityDecided }
func (SecurityChecked) EventType() string             { return TypeSecurityChecked }
func (BelongingsDeposited) EventType() string         { return TypeBelongingsDeposited }
func (BelongingsReturned) EventType() string          { return TypeBelongingsReturned }
func (IdentityQueried) EventType() string             { return TypeIdentityQueried }
func (IdentityVerified) EventType() string            { return TypeIdentityVerified }
func (FamilySearchNoticePublished) EventType() string { return TypeFamilySearchNoticePosted }
func (DNARequested) EventType() string                { return TypeDNARequested }
func (DNAResultReceived) EventType() string           { return TypeDNAResultReceived }
func (RelativesContacted) EventType() string          { return TypeRelativesContacted }
func (MedicalReferred) EventType() string             { return TypeMedicalReferred }
func (HospitalAdmitted) EventType() string            { return TypeHospitalAdmitted }
func (HospitalDischarged) EventType() string          { return TypeHospitalDischarged }
func (MedicalReturned) EventType() string             { return TypeMedicalReturned }
func (StayExtended) EventType() string                { return TypeStayExtended }
func (LongStayStarted) EventType() string             { return TypeLongStayStarted }
func (SettlementRecorded) EventType() string          { return TypeSettlementRecorded }
func (GuardianshipTaken) EventType() string           { return TypeGuardianshipTaken }
func (PoliceReportFiled) EventType() string           { return TypePoliceReportFiled }
func (TransferRequested) EventType() string           { return TypeTransferRequested }
func (TransferAccepted) EventType() string            { return TypeTransferAccepted }
func (TransferDeclined) EventType() string            { return TypeTransferDeclined }
func (EscortDeparted) EventType() string              { return TypeEscortDeparted }
func (HandedOver) EventType() string                  { return TypeHandedOver }
func (LeftVoluntarily) EventType() string             { return TypeLeftVoluntarily }
func (PickedUp) EventType() string                    { return TypePickedUp }
func (EscortedReturn) EventType() string              { return TypeEscortedReturn }
func (Absconded) EventType() string                   { return TypeAbsconded }
func (Terminated) EventType() string                  { return TypeTerminated }
func (Died) EventType() string                        { return TypeDied }
func (DeathChecklistUpdated) EventType() string       { return TypeDeathChecklistUpdated }
func (CaseClosed) EventType() string                  { return TypeCaseClosed }
func (Corrected) EventType() string                   { return TypeCorrected }
func (StationRegistered) EventType() string           { return TypeStationRegistered }
func (ZonesChanged) EventType() string                { return TypeZonesChanged }
func (BedAssigned) EventType() string                 { return TypeBedAssigned }
func (BedReleased) EventType() string                 { return TypeBedReleased }
func (TokenIssued) EventType() string                 { return TypeTokenIssued }
func (TokenRevoked) EventType() string                { return TypeTokenRevoked }
