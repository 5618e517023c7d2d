package domain

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Common holds what every command may carry: when the step happened
// (default: now), free-text notes, and the legal basis for processing
// sensitive data (default: statutory duty).
type Common struct {
	OccurredAt *time.Time `json:"occurred_at,omitempty" doc:"When the step really happened (RFC 3339 with a zone); leave it out for now. Clocks and deadlines run from it, not from when it was typed in. Not before 2003-08-01 (Beijing time)."`
	Notes      string     `json:"notes,omitempty" text:"notes" doc:"Free notes of the staff member about this step; several lines allowed."`
	LegalBasis LegalBasis `json:"legal_basis,omitempty" doc:"The legal ground for processing the person's sensitive data in this step; statutory_duty when left out. Use guardian_consent only when the guardian is not civil affairs itself."`
}

func (c *Common) common() *Common { return c }

func (c *Common) validate() error {
	if c.OccurredAt != nil {
		if err := CheckTimeBounds("occurred_at", *c.OccurredAt); err != nil {
			return err
		}
	}
	if c.LegalBasis != "" && !c.LegalBasis.Valid() {
		return Invalid("legal_basis", "unknown legal basis")
	}
	return nil
}

// Command is a request to take one step. Commands are plain structs whose
// JSON tags match docs/api.md's request bodies; they are used as pointers.
// Validate checks the request in itself (required fields, enums, ID number
// check digits, ages) and returns an invalid Error naming the field; rules
// that depend on the case's state are the deciders' business.
type Command interface {
	Step() Step
	Validate() error
	common() *Common
}

// OccurredAt returns when cmd's step happened: its OccurredAt when given
// (the zero time included), or now.
func OccurredAt(cmd Command, now time.Time) time.Time {
	if t := cmd.common().OccurredAt; t != nil {
		return *t
	}
	return now
}

// NewCommand returns a fresh command for step, to decode a request body
// into, and whether the step is known.
func NewCommand(step Step) (Command, bool) {
	f, ok := commandFactories[step]
	if !ok {
		return nil, false
	}
	return f(), true
}

// CaseSteps returns the steps that act on an existing case, in docs/api.md's order.
func CaseSteps() []Step { return append([]Step(nil), caseSteps...) }

var caseSteps = []Step{
	StepEligibility, StepSecurityCheck, StepBelongings, StepBed, StepBedRelease,
	StepIdentityQuery, StepIdentityVerified, StepFamilySearchNotice, StepDNARequest,
	StepDNAResult, StepRelativesContacted, StepMedicalReferral, StepHospitalAdmission,
	StepHospitalDischarge, StepMedicalReturn, StepExtension, StepLongStay, StepSettlement,
	StepGuardianship, StepPoliceReport, StepTransferRequest, StepTransferAccept,
	StepTransferDecline, StepEscortDeparture, StepHandover, StepVoluntaryLeave, StepPickup,
	StepEscortedReturn, StepAbsconding, StepTermination, StepDeath, StepClosure, StepCorrection,
}

var commandFactories = map[Step]func() Command{
	StepIntake:             func() Command { return &Intake{} },
	StepEligibility:        func() Command { return &EligibilityCmd{} },
	StepSecurityCheck:      func() Command { return &SecurityCheckCmd{} },
	StepBelongings:         func() Command { return &Belongings{} },
	StepBed:                func() Command { return &AssignBed{} },
	StepBedRelease:         func() Command { return &ReleaseBed{} },
	StepIdentityQuery:      func() Command { return &IdentityQuery{} },
	StepIdentityVerified:   func() Command { return &IdentityVerification{} },
	StepFamilySearchNotice: func() Command { return &FamilySearchNotice{} },
	StepDNARequest:         func() Command { return &DNARequest{} },
	StepDNAResult:          func() Command { return &DNAResult{} },
	StepRelativesContacted: func() Command { return &RelativesContact{} },
	StepMedicalReferral:    func() Command { return &MedicalReferral{} },
	StepHospitalAdmission:  func() Command { return &HospitalAdmission{} },
	StepHospitalDischarge:  func() Command { return &HospitalDischarge{} },
	StepMedicalReturn:      func() Command { return &MedicalReturn{} },
	StepExtension:          func() Command { return &Extension{} },
	StepLongStay:           func() Command { return &LongStayCmd{} },
	StepSettlement:         func() Command { return &SettlementCmd{} },
	StepGuardianship:       func() Command { return &GuardianshipCmd{} },
	StepPoliceReport:       func() Command { return &PoliceReportCmd{} },
	StepTransferRequest:    func() Command { return &TransferRequest{} },
	StepTransferAccept:     func() Command { return &TransferAccept{} },
	StepTransferDecline:    func() Command { return &TransferDecline{} },
	StepEscortDeparture:    func() Command { return &EscortDeparture{} },
	StepHandover:           func() Command { return &HandoverCmd{} },
	StepVoluntaryLeave:     func() Command { return &VoluntaryLeave{} },
	StepPickup:             func() Command { return &Pickup{} },
	StepEscortedReturn:     func() Command { return &EscortedReturnCmd{} },
	StepAbsconding:         func() Command { return &Absconding{} },
	StepTermination:        func() Command { return &Termination{} },
	StepDeath:              func() Command { return &DeathCmd{} },
	StepClosure:            func() Command { return &Closure{} },
	StepCorrection:         func() Command { return &Correct{} },
	StepRegisterStation:    func() Command { return &RegisterStation{} },
	StepChangeZones:        func() Command { return &ChangeZones{} },
	StepIssueToken:         func() Command { return &IssueToken{} },
	StepRevokeToken:        func() Command { return &RevokeToken{} },
}

func required(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return Invalid(field, "%s is required", field)
	}
	return nil
}

// Enum is implemented by the domain's enumerated string types: Values
// lists every value the type takes (what its Valid accepts), in display
// order. The API description lists them as the enum of every field of
// such a type.
type Enum interface {
	Values() []string
	Valid() bool
}

// oneOf refuses a value of an enumerated type that is not one of its
// values, naming field and listing the values.
func oneOf[T Enum](field string, v T) error {
	if v.Valid() {
		return nil
	}
	return Invalid(field, "%s must be one of %s", field, strings.Join(v.Values(), ", "))
}

// strs returns vs as strings.
func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// Intake opens a case: POST /v1/cases. MotherCaseID links a child to their
// mother's open case at the same station.
type Intake struct {
	Common
	Station      string     `json:"station" text:"code" doc:"Code of the station that receives the person (e.g. S01)."`
	Referral     Referral   `json:"referral" doc:"How the person came to the station (护送来站 / 求助)."`
	Person       Person     `json:"person" doc:"Who the person is, as registered at arrival (登记)."`
	Inspection   Inspection `json:"inspection" doc:"What the initial inspection at arrival found (检视)."`
	MotherCaseID uuid.UUID  `json:"mother_case_id,omitzero" doc:"For a child arriving with their mother: the ID of the mother's open case at the same station, so they may share the mother-and-child room."`
}

// Step returns StepIntake.
func (*Intake) Step() Step { return StepIntake }

// Validate checks the station, referral and person.
func (c *Intake) Validate() error {
	if err := firstErr(c.Common.validate(), CheckCode("station", c.Station)); err != nil {
		return err
	}
	if !c.Referral.Source.Valid() {
		return Invalid("referral.source", "unknown referral source")
	}
	if c.Referral.Source == SourcePoliceEscort && strings.TrimSpace(c.Referral.FormNo) == "" {
		return Invalid("referral.form_no", "a police escort needs the handover form number")
	}
	return c.Person.Validate("person", OccurredAt(c, time.Time{}))
}

// EligibilityCmd records screening (step "eligibility"): {"eligible":true},
// {"eligible":false,"reason":...,"notice_no":...}, or {"assist_first":true}.
type EligibilityCmd struct {
	Common
	Eligible    *bool  `json:"eligible,omitempty" doc:"Whether the person is eligible for assistance (甄别): true, or false to refuse with a reason and a written notice."`
	AssistFirst bool   `json:"assist_first,omitempty" doc:"True when the person cannot state their details (elderly, child, disabled, ill): help first, screen later."`
	Reason      string `json:"reason,omitempty" text:"reason" doc:"Why the person is refused assistance; required when eligible is false."`
	NoticeNo    string `json:"notice_no,omitempty" text:"ref" doc:"Number of the written refusal notice handed to the person; required when eligible is false."`
}

// Step returns StepEligibility.
func (*EligibilityCmd) Step() Step { return StepEligibility }

// Validate requires an outcome, and a reason and notice number for a refusal.
func (c *EligibilityCmd) Validate() error {
	if err := c.Common.validate(); err != nil {
		return err
	}
	if c.Eligible == nil && !c.AssistFirst {
		return Invalid("eligible", "eligible or assist_first is required")
	}
	if c.Eligible != nil && !*c.Eligible {
		if c.AssistFirst {
			return Invalid("assist_first", "a person assisted first is not refused")
		}
		return firstErr(required("reason", c.Reason), required("notice_no", c.NoticeNo))
	}
	return nil
}

// SecurityCheckCmd records the security check (step "security-check").
type SecurityCheckCmd struct {
	Common
	CheckedBy     Checker  `json:"checked_by" doc:"The staff member who did the security check; a woman is checked by a female staff member."`
	Refused       bool     `json:"refused,omitempty" doc:"True when the person refused the security check, which ends assistance."`
	ItemsToPolice []string `json:"items_to_police,omitempty" text:"line" max:"50" doc:"Dangerous items found and handed to the police, one entry per item."`
}

// Step returns StepSecurityCheck.
func (*SecurityCheckCmd) Step() Step { return StepSecurityCheck }

// Validate requires the checker's staff ID and sex.
func (c *SecurityCheckCmd) Validate() error {
	if err := firstErr(c.Common.validate(), required("checked_by.staff_id", c.CheckedBy.StaffID)); err != nil {
		return err
	}
	if !c.CheckedBy.Sex.Valid() {
		return Invalid("checked_by.sex", "sex must be male or female")
	}
	return nil
}

// Belongings deposits or returns belongings.
type Belongings struct {
	Common
	Deposited []Item   `json:"deposited,omitempty" max:"100" doc:"Belongings taken into safekeeping, each with its quantity; give this or returned, not both."`
	Returned  []string `json:"returned,omitempty" text:"line" max:"100" doc:"Names of deposited items handed back to the person, as they were deposited; give this or deposited, not both."`
}

// Step returns StepBelongings.
func (*Belongings) Step() Step { return StepBelongings }

// Validate requires exactly one of deposited and returned, with named items.
func (c *Belongings) Validate() error {
	if err := c.Common.validate(); err != nil {
		return err
	}
	if (len(c.Deposited) == 0) == (len(c.Returned) == 0) {
		return Invalid("deposited", "give either deposited or returned items")
	}
	for i, it := range c.Deposited {
		if strings.TrimSpace(it.Item) == "" {
			return Invalid("deposited."+itoa(i)+".item", "item is required")
		}
		if it.Qty < 1 {
			return Invalid("deposited."+itoa(i)+".qty", "qty must be at least 1")
		}
	}
	for i, it := range c.Returned {
		if strings.TrimSpace(it) == "" {
			return Invalid("returned."+itoa(i), "item is required")
		}
	}
	return nil
}

// AssignBed places the case in a bed (step "bed"); without Bed the first
// free bed of the zone is taken.
type AssignBed struct {
	Common
	Zone Zone   `json:"zone" doc:"The zone of the bed: by sex, age and condition (minors in minors, a child under 6 with the mother in mother_child, suspected infectious disease in isolation)."`
	Bed  string `json:"bed,omitempty" text:"ref" doc:"The bed, named zone-n (e.g. adult_male-3); leave it out to take the zone's first free bed."`
}

// Step returns StepBed.
func (*AssignBed) Step() Step { return StepBed }

// Validate checks the zone and the bed's name.
func (c *AssignBed) Validate() error {
	if err := c.Common.validate(); err != nil {
		return err
	}
	if !c.Zone.Valid() {
		return Invalid("zone", "unknown zone")
	}
	if c.Bed != "" {
		rest, ok := strings.CutPrefix(c.Bed, string(c.Zone)+"-")
		if !ok || rest == "" || strings.Trim(rest, "0123456789") != "" || rest[0] == '0' {
			return Invalid("bed", "a bed is named <zone>-<n> with n from 1")
		}
	}
	return nil
}

// ReleaseBed frees the case's bed (step "bed-release").
type ReleaseBed struct{ Common }

// Step returns StepBedRelease.
func (*ReleaseBed) Step() Step { return StepBedRelease }

// Validate checks the common fields.
func (c *ReleaseBed) Validate() error { return c.Common.validate() }

// QueryChannel is how an identity query was made. Stored: never rename or
// reuse the values.
type QueryChannel string

// The identity-query channels.
const (
	QueryQuick     QueryChannel = "quick_check"
	QueryPolice    QueryChannel = "police"
	QueryFaceMatch QueryChannel = "face_match"
	QueryOther     QueryChannel = "other"
)

var queryChannels = []QueryChannel{QueryQuick, QueryPolice, QueryFaceMatch, QueryOther}

// Values lists the identity-query channels.
func (QueryChannel) Values() []string { return strs(queryChannels) }

// Valid reports whether c is a known channel.
func (c QueryChannel) Valid() bool { return slices.Contains(queryChannels, c) }

// QueryResult is what an identity query found. Stored: never rename or
// reuse the values.
type QueryResult string

// The identity-query results.
const (
	QueryMatched QueryResult = "matched"
	QueryNoMatch QueryResult = "no_match"
	QueryPending QueryResult = "pending"
)

var queryResults = []QueryResult{QueryMatched, QueryNoMatch, QueryPending}

// Values lists the identity-query results.
func (QueryResult) Values() []string { return strs(queryResults) }

// Valid reports whether r is a known result.
func (r QueryResult) Valid() bool { return slices.Contains(queryResults, r) }

// IdentityQuery records an identity query.
type IdentityQuery struct {
	Common
	Channel   QueryChannel `json:"channel" doc:"How the identity was queried: quick_check, police (police identity query), face_match or other."`
	Result    QueryResult  `json:"result,omitempty" doc:"What the query found; leave it out or pending while the answer is awaited."`
	Reference string       `json:"reference,omitempty" text:"ref" doc:"Reference of the query, such as the police query number."`
}

// Step returns StepIdentityQuery.
func (*IdentityQuery) Step() Step { return StepIdentityQuery }

// Validate checks the channel and result.
func (c *IdentityQuery) Validate() error {
	if err := firstErr(c.Common.validate(), oneOf("channel", c.Channel)); err != nil {
		return err
	}
	if c.Result != "" {
		return oneOf("result", c.Result)
	}
	return nil
}

// VerificationMethod is how a person's identity was established. Stored:
// never rename or reuse the values.
type VerificationMethod string

// The verification methods.
const (
	VerifiedByPolice    VerificationMethod = "police_query"
	VerifiedByDNA       VerificationMethod = "dna"
	VerifiedByRelatives VerificationMethod = "relatives"
	VerifiedByDocuments VerificationMethod = "documents"
	VerifiedByFaceMatch VerificationMethod = "face_match"
	VerifiedBySelf      VerificationMethod = "self_statement"
)

var verificationMethods = []VerificationMethod{
	VerifiedByPolice, VerifiedByDNA, VerifiedByRelatives, VerifiedByDocuments, VerifiedByFaceMatch, VerifiedBySelf,
}

// Values lists the verification methods.
func (VerificationMethod) Values() []string { return strs(verificationMethods) }

// Valid reports whether m is a known method.
func (m VerificationMethod) Valid() bool { return slices.Contains(verificationMethods, m) }

// IdentityVerification records that the identity is established (step
// "identity-verified").
type IdentityVerification struct {
	Common
	Method     VerificationMethod `json:"method" doc:"How the identity was established."`
	Name       string             `json:"name,omitempty" text:"name" doc:"The verified name; replaces the registered one."`
	IDType     IDType             `json:"id_type,omitempty" doc:"Kind of the verified identity document; resident_id when left out and an ID number is given."`
	IDNumber   string             `json:"id_number,omitempty" text:"ref" doc:"Number of the verified identity document; a resident ID number is checked, check digit included."`
	BirthDate  Date               `json:"birth_date,omitzero" doc:"The verified date of birth (YYYY-MM-DD); must agree with a resident ID number."`
	HukouPlace string             `json:"hukou_place,omitempty" text:"line" doc:"The verified place of household registration (户籍地)."`
	Reference  string             `json:"reference,omitempty" text:"ref" doc:"Reference of the verification, such as the police reply or the DNA report number."`
}

// Step returns StepIdentityVerified.
func (*IdentityVerification) Step() Step { return StepIdentityVerified }

// Validate checks the method and any ID number.
func (c *IdentityVerification) Validate() error {
	if err := firstErr(c.Common.validate(), oneOf("method", c.Method)); err != nil {
		return err
	}
	if c.IDType != "" && !c.IDType.Valid() {
		return Invalid("id_type", "unknown id_type")
	}
	if c.IDNumber != "" && (c.IDType == "" || c.IDType == IDResidentCard) {
		born, err := CheckResidentID(c.IDNumber)
		if err != nil {
			return Invalid("id_number", "%v", err)
		}
		if !c.BirthDate.IsZero() && born != c.BirthDate {
			return Invalid("id_number", "the birth date inside the ID number differs from birth_date")
		}
	}
	return nil
}

// FamilySearchNotice records a published family-search notice.
type FamilySearchNotice struct {
	Common
	Channel   string `json:"channel,omitempty" text:"line" doc:"Where the family-search notice (寻亲公告) was published, such as a newspaper or the national platform."`
	Reference string `json:"reference,omitempty" text:"ref" doc:"Reference or link of the published notice."`
}

// Step returns StepFamilySearchNotice.
func (*FamilySearchNotice) Step() Step { return StepFamilySearchNotice }

// Validate checks the common fields.
func (c *FamilySearchNotice) Validate() error { return c.Common.validate() }

// DNARequest records a DNA sample sent for matching.
type DNARequest struct {
	Common
	SampleRef string `json:"sample_ref,omitempty" text:"ref" doc:"Reference of the DNA sample sent for matching."`
	Lab       string `json:"lab,omitempty" text:"name" doc:"Laboratory or police unit the sample was sent to."`
}

// Step returns StepDNARequest.
func (*DNARequest) Step() Step { return StepDNARequest }

// Validate checks the common fields.
func (c *DNARequest) Validate() error { return c.Common.validate() }

// DNAResult records the result of a DNA request.
type DNAResult struct {
	Common
	Matched   *bool  `json:"matched" doc:"Whether the DNA sample matched a relative; required."`
	Reference string `json:"reference,omitempty" text:"ref" doc:"Reference of the DNA result."`
}

// Step returns StepDNAResult.
func (*DNAResult) Step() Step { return StepDNAResult }

// Validate requires matched.
func (c *DNAResult) Validate() error {
	if err := c.Common.validate(); err != nil {
		return err
	}
	if c.Matched == nil {
		return Invalid("matched", "matched is required")
	}
	return nil
}

// RelativesContact records contact with relatives (step
// "relatives-contacted").
type RelativesContact struct {
	Common
	Relationship string `json:"relationship,omitempty" text:"line" doc:"How the relative contacted is related to the person (e.g. sister)."`
	Channel      string `json:"channel,omitempty" text:"line" doc:"How the relatives were reached (phone, visit, local civil affairs...)."`
	Outcome      string `json:"outcome,omitempty" text:"reason" doc:"What came of the contact, such as whether they will come to collect the person."`
}

// Step returns StepRelativesContacted.
func (*RelativesContact) Step() Step { return StepRelativesContacted }

// Validate checks the common fields.
func (c *RelativesContact) Validate() error { return c.Common.validate() }

// MedicalReferral refers the person to a designated hospital.
type MedicalReferral struct {
	Common
	Hospital string `json:"hospital" text:"name" doc:"The designated hospital (定点医院) the person is referred to; required."`
	Reason   string `json:"reason,omitempty" text:"reason" doc:"Why the person is referred to hospital."`
}

// Step returns StepMedicalReferral.
func (*MedicalReferral) Step() Step { return StepMedicalReferral }

// Validate requires the hospital.
func (c *MedicalReferral) Validate() error {
	return firstErr(c.Common.validate(), required("hospital", c.Hospital))
}

// HospitalAdmission records admission to hospital; the bed is freed (or
// held for the Service's configured hold).
type HospitalAdmission struct {
	Common
	Hospital string `json:"hospital,omitempty" text:"name" doc:"The hospital that admitted the person."`
}

// Step returns StepHospitalAdmission.
func (*HospitalAdmission) Step() Step { return StepHospitalAdmission }

// Validate checks the common fields.
func (c *HospitalAdmission) Validate() error { return c.Common.validate() }

// HospitalDischarge records discharge from hospital.
type HospitalDischarge struct {
	Common
	Hospital string `json:"hospital,omitempty" text:"name" doc:"The hospital that discharged the person."`
}

// Step returns StepHospitalDischarge.
func (*HospitalDischarge) Step() Step { return StepHospitalDischarge }

// Validate checks the common fields.
func (c *HospitalDischarge) Validate() error { return c.Common.validate() }

// MedicalReturn records the return to the station after discharge.
type MedicalReturn struct{ Common }

// Step returns StepMedicalReturn.
func (*MedicalReturn) Step() Step { return StepMedicalReturn }

// Validate checks the common fields.
func (c *MedicalReturn) Validate() error { return c.Common.validate() }

// Extension extends the stay limit to Until.
type Extension struct {
	Common
	Until      time.Time `json:"until" doc:"The new end of the stay (RFC 3339 with a zone); must be later than the current limit."`
	ApprovedBy string    `json:"approved_by" text:"name" doc:"Who approved staying longer than the limit (name or post)."`
	Reason     string    `json:"reason" text:"reason" doc:"Why the person stays longer than the limit."`
}

// Step returns StepExtension.
func (*Extension) Step() Step { return StepExtension }

// Validate requires the new limit, the approver and the reason.
func (c *Extension) Validate() error {
	if err := c.Common.validate(); err != nil {
		return err
	}
	if c.Until.IsZero() {
		return Invalid("until", "until is required")
	}
	return firstErr(required("approved_by", c.ApprovedBy), required("reason", c.Reason))
}

// LongStayCmd starts long-stay care (step "long-stay").
type LongStayCmd struct {
	Common
	Kind  LongStayKind `json:"kind" doc:"Kind of long-stay care (滞留): in_station, off_site (站外托养) or extreme_poverty_support (特困供养)."`
	Place string       `json:"place,omitempty" text:"line" doc:"Where the person is cared for, for off-site care."`
}

// Step returns StepLongStay.
func (*LongStayCmd) Step() Step { return StepLongStay }

// Validate checks the kind.
func (c *LongStayCmd) Validate() error {
	return firstErr(c.Common.validate(), oneOf("kind", c.Kind))
}

// SettlementCmd records a settlement application or the settlement itself.
type SettlementCmd struct {
	Common
	Stage     SettlementStage `json:"stage" doc:"applied when household registration and settlement (落户安置) is applied for, settled when it is done (which ends the case)."`
	Place     string          `json:"place,omitempty" text:"line" doc:"Where the person is registered and settled."`
	Reference string          `json:"reference,omitempty" text:"ref" doc:"Reference of the application or decision."`
}

// Step returns StepSettlement.
func (*SettlementCmd) Step() Step { return StepSettlement }

// Validate checks the stage.
func (c *SettlementCmd) Validate() error {
	return firstErr(c.Common.validate(), oneOf("stage", c.Stage))
}

// GuardianshipCmd records civil affairs taking temporary guardianship.
type GuardianshipCmd struct {
	Common
	Basis    string `json:"basis" text:"line" doc:"The legal basis on which civil affairs takes temporary guardianship (e.g. 未成年人保护法 art. 92); required."`
	Guardian string `json:"guardian,omitempty" text:"name" doc:"The body or person acting as guardian."`
}

// Step returns StepGuardianship.
func (*GuardianshipCmd) Step() Step { return StepGuardianship }

// Validate requires the basis.
func (c *GuardianshipCmd) Validate() error {
	return firstErr(c.Common.validate(), required("basis", c.Basis))
}

// PoliceReportCmd records a report to the police.
type PoliceReportCmd struct {
	Common
	Reason   ReportReason `json:"reason" doc:"Why the police were told: harm to a minor, suspected trafficking, a lost or abandoned person, dangerous items, an absconding, a death, or other."`
	ReportNo string       `json:"report_no,omitempty" text:"ref" doc:"Number of the police report or receipt."`
	Agency   string       `json:"agency,omitempty" text:"name" doc:"Police station or unit the report was made to."`
}

// Step returns StepPoliceReport.
func (*PoliceReportCmd) Step() Step { return StepPoliceReport }

// Validate checks the reason.
func (c *PoliceReportCmd) Validate() error {
	return firstErr(c.Common.validate(), oneOf("reason", c.Reason))
}

// TransferRequest asks another station to take the case.
type TransferRequest struct {
	Common
	ToStation string `json:"to_station" text:"code" doc:"Code of the station asked to take the case."`
	Reason    string `json:"reason" text:"reason" doc:"Why the case should move to that station; required."`
}

// Step returns StepTransferRequest.
func (*TransferRequest) Step() Step { return StepTransferRequest }

// Validate requires the receiving station and the reason.
func (c *TransferRequest) Validate() error {
	return firstErr(c.Common.validate(), CheckCode("to_station", c.ToStation), required("reason", c.Reason))
}

// TransferAccept accepts a requested transfer.
type TransferAccept struct{ Common }

// Step returns StepTransferAccept.
func (*TransferAccept) Step() Step { return StepTransferAccept }

// Validate checks the common fields.
func (c *TransferAccept) Validate() error { return c.Common.validate() }

// TransferDecline declines a requested transfer.
type TransferDecline struct {
	Common
	Reason string `json:"reason,omitempty" text:"reason" doc:"Why the receiving station declines the transfer."`
}

// Step returns StepTransferDecline.
func (*TransferDecline) Step() Step { return StepTransferDecline }

// Validate checks the common fields.
func (c *TransferDecline) Validate() error { return c.Common.validate() }

// EscortDeparture records the escort leaving for the receiving station.
type EscortDeparture struct {
	Common
	Escorts   []string `json:"escorts" text:"name" max:"10" doc:"Names of the staff escorting the person; at least one."`
	Transport string   `json:"transport,omitempty" text:"line" doc:"How they travel (vehicle, train...)."`
}

// Step returns StepEscortDeparture.
func (*EscortDeparture) Step() Step { return StepEscortDeparture }

// Validate requires at least one escort.
func (c *EscortDeparture) Validate() error {
	if err := c.Common.validate(); err != nil {
		return err
	}
	if len(c.Escorts) == 0 {
		return Invalid("escorts", "at least one escort is required")
	}
	for i, e := range c.Escorts {
		if strings.TrimSpace(e) == "" {
			return Invalid("escorts."+itoa(i), "escort is required")
		}
	}
	return nil
}

// HandoverCmd confirms the receiving station took the person in (step
// "handover").
type HandoverCmd struct {
	Common
	ReceivedBy string `json:"received_by" text:"name" doc:"Who at the receiving station took the person in; required."`
}

// Step returns StepHandover.
func (*HandoverCmd) Step() Step { return StepHandover }

// Validate requires who received the person.
func (c *HandoverCmd) Validate() error {
	return firstErr(c.Common.validate(), required("received_by", c.ReceivedBy))
}

// VoluntaryLeave records a person leaving of their own will.
type VoluntaryLeave struct {
	Common
	DeclarationRef string `json:"declaration_ref" text:"ref" doc:"Reference of the person's signed declaration that they leave of their own will; required."`
	CashYuan       int    `json:"cash_yuan,omitempty" doc:"Cash handed to the person, in yuan: 0 to 20, against a signed receipt."`
	ReceiptRef     string `json:"receipt_ref,omitempty" text:"ref" doc:"Reference of the signed receipt for the cash."`
}

// Step returns StepVoluntaryLeave.
func (*VoluntaryLeave) Step() Step { return StepVoluntaryLeave }

// Validate requires the declaration and a non-negative cash amount.
func (c *VoluntaryLeave) Validate() error {
	if err := firstErr(c.Common.validate(), required("declaration_ref", c.DeclarationRef)); err != nil {
		return err
	}
	if c.CashYuan < 0 {
		return Invalid("cash_yuan", "cash cannot be negative")
	}
	return nil
}

// Pickup records relatives or a guardian collecting the person.
type Pickup struct {
	Common
	Collector Collector `json:"collector" doc:"The relative or guardian who collects the person, with their identity document."`
}

// Step returns StepPickup.
func (*Pickup) Step() Step { return StepPickup }

// Validate requires the collector's name, ID number and relationship and
// checks a resident ID number.
func (c *Pickup) Validate() error {
	if err := firstErr(c.Common.validate(), required("collector.name", c.Collector.Name),
		required("collector.id_number", c.Collector.IDNumber),
		required("collector.relationship", c.Collector.Relationship)); err != nil {
		return err
	}
	switch c.Collector.IDType {
	case "", IDResidentCard:
		if _, err := CheckResidentID(c.Collector.IDNumber); err != nil {
			return Invalid("collector.id_number", "%v", err)
		}
	default:
		if !c.Collector.IDType.Valid() {
			return Invalid("collector.id_type", "unknown id_type")
		}
	}
	return nil
}

// EscortedReturnCmd records an escorted return home (step
// "escorted-return").
type EscortedReturnCmd struct {
	Common
	Destination string   `json:"destination" text:"line" doc:"Where the person is escorted home to; required."`
	Escorts     []string `json:"escorts,omitempty" text:"name" max:"10" doc:"Names of the staff escorting the person."`
	Transport   string   `json:"transport,omitempty" text:"line" doc:"How they travel."`
	ReceivedBy  string   `json:"received_by,omitempty" text:"name" doc:"Who received the person at the destination."`
}

// Step returns StepEscortedReturn.
func (*EscortedReturnCmd) Step() Step { return StepEscortedReturn }

// Validate requires the destination.
func (c *EscortedReturnCmd) Validate() error {
	return firstErr(c.Common.validate(), required("destination", c.Destination))
}

// Absconding records the person leaving without notice.
type Absconding struct {
	Common
	LastSeen string `json:"last_seen,omitempty" text:"line" doc:"Where and when the person was last seen."`
}

// Step returns StepAbsconding.
func (*Absconding) Step() Step { return StepAbsconding }

// Validate checks the common fields.
func (c *Absconding) Validate() error { return c.Common.validate() }

// Termination ends assistance for a reason.
type Termination struct {
	Common
	Reason string `json:"reason" text:"reason" doc:"Why assistance ends (e.g. no longer eligible, breaking the station's rules); required."`
}

// Step returns StepTermination.
func (*Termination) Step() Step { return StepTermination }

// Validate requires the reason.
func (c *Termination) Validate() error {
	return firstErr(c.Common.validate(), required("reason", c.Reason))
}

// DeathCmd records a death, or, on a case that already records one, the
// death checklist items done since (step "death").
type DeathCmd struct {
	Common
	Place string `json:"place,omitempty" text:"line" doc:"Where the person died; required when the death is first recorded."`
	DeathChecklist
}

// Step returns StepDeath.
func (*DeathCmd) Step() Step { return StepDeath }

// Validate checks the common fields; the place is required by the decider
// when the death is first recorded.
func (c *DeathCmd) Validate() error { return c.Common.validate() }

// Closure closes an exited case.
type Closure struct{ Common }

// Step returns StepClosure.
func (*Closure) Step() Step { return StepClosure }

// Validate checks the common fields.
func (c *Closure) Validate() error { return c.Common.validate() }

// Correct corrects one field recorded by an earlier event (step
// "correction"): {"event_id","field","old","new","reason"}. Field is a
// dotted JSON path of the corrected event's payload (CorrectableFieldsOf
// lists them per event type) or occurred_at, when the step happened; old
// is the event's value of it, with earlier corrections of that event
// applied. A new occurred_at keeps the order of steps the deciders enforce
// when a step is recorded: no step before the intake, no exit before an
// earlier step, no step before one it follows (a DNA result its request,
// a closure the exit...), and the other way round (rules
// occurred_before_case_began, occurred_before_previous_step and
// occurred_after_next_step); other late paperwork (police reports,
// belongings returned, death checklist items) only by the intake. Nor may
// it make a step break a rule it kept that depends on how long after the
// intake the step happened or on the person's age then, with the rule the
// decider of the step uses: long-stay care 10 days or more after the intake
// (long_stay_too_early), a settlement application 90 days or more after
// it (settlement_too_early), an extension while a stay limit applies
// (no_stay_limit) and before its new limit, the first one's limit more
// than 10 days after the intake (extension_not_later),
// guardianship of a minor (guardianship_only_for_minors), a voluntary leave
// or termination of a person aged 16 or over with no disability flag
// (minor_cannot_leave_alone, special_group_cannot_leave_alone), a refused
// eligibility of a person not helped first (assist_first_required). A
// new limit of an extension (until) keeps the last of these too, and the
// intake is not moved before the person's birth date (invalid "new").
type Correct struct {
	Common
	EventID uuid.UUID       `json:"event_id" doc:"ID of the event to correct, as the case history shows it (event_id)."`
	Field   string          `json:"field" doc:"The corrected field: a dotted path of the event's data (e.g. person.birth_date), or occurred_at."`
	Old     json.RawMessage `json:"old" doc:"The field's value as the event records it now (any JSON value), earlier corrections included."`
	New     json.RawMessage `json:"new" doc:"The correct value (any JSON value of the field's type)."`
	Reason  string          `json:"reason" text:"reason" doc:"Why the value is corrected; required."`
	// Target is the corrected event as stored, metadata included. It is
	// not part of the request: the Service reads it from the case's stream
	// before deciding, and Decide needs it.
	Target *Envelope `json:"-"`
}

// Step returns StepCorrection.
func (*Correct) Step() Step { return StepCorrection }

// Validate requires every field and a field name that some case event
// records and that may be corrected; whether the named event records it
// is the decider's check.
func (c *Correct) Validate() error {
	if err := c.Common.validate(); err != nil {
		return err
	}
	if c.EventID == (uuid.UUID{}) {
		return Invalid("event_id", "event_id is required")
	}
	if !correctableAnywhere(c.Field) {
		return Invalid("field", "the field cannot be corrected; correctable fields are listed in the API description")
	}
	if len(c.Old) == 0 {
		return Invalid("old", "old is required")
	}
	if len(c.New) == 0 {
		return Invalid("new", "new is required")
	}
	if !json.Valid(c.Old) {
		return Invalid("old", "old is not JSON")
	}
	if !json.Valid(c.New) {
		return Invalid("new", "new is not JSON")
	}
	return required("reason", c.Reason)
}

var code = regexp.MustCompile(`^[A-Z0-9][A-Z0-9_-]{0,31}$`)

// CheckCode refuses v, the value of field, unless it is a code in its one
// spelling: 1 to 32 capital letters A-Z, digits, "-" or "_", beginning with
// a letter or digit. Station and region codes are compared byte for byte,
// so a code with a lowercase letter, a space, a full-width or look-alike
// letter or an invisible character would be another station or region
// beside the one meant; such codes are refused, never folded.
func CheckCode(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return Invalid(field, "%s is required", field)
	}
	if !code.MatchString(v) {
		return Invalid(field, "%s must be 1 to 32 capital letters A-Z, digits, - or _ (such as S01)", field)
	}
	return nil
}

func validateZones(zones []ZoneBeds) error {
	seen := map[Zone]bool{}
	for i, z := range zones {
		p := "zones." + itoa(i)
		if !z.Zone.Valid() {
			return Invalid(p+".zone", "unknown zone")
		}
		if seen[z.Zone] {
			return Invalid(p+".zone", "zone listed twice")
		}
		seen[z.Zone] = true
		if z.Beds < 0 || z.Beds > 10000 {
			return Invalid(p+".beds", "beds must be 0 to 10000")
		}
		if z.Seasonal < 0 || z.Seasonal > 10000 {
			return Invalid(p+".seasonal", "seasonal must be 0 to 10000")
		}
	}
	return nil
}

// RegisterStation registers a station with its zones (POST /v1/stations).
type RegisterStation struct {
	Common
	Code   string      `json:"code" text:"code" doc:"The station's code: 1 to 32 letters, digits, - or _ (e.g. S01)."`
	Name   string      `json:"name" text:"name" doc:"The station's name."`
	Region string      `json:"region" text:"code" doc:"Code of the region the station belongs to (e.g. R1)."`
	Kind   StationKind `json:"kind" doc:"What kind of institution it is: station, regional_center or minors_center."`
	Zones  []ZoneBeds  `json:"zones" max:"7" doc:"Every zone of the station with its number of beds, each zone once."`
}

// Step returns StepRegisterStation.
func (*RegisterStation) Step() Step { return StepRegisterStation }

// Validate checks the code, name, region, kind and zones.
func (c *RegisterStation) Validate() error {
	if err := c.Common.validate(); err != nil {
		return err
	}
	if err := firstErr(CheckCode("code", c.Code), required("name", c.Name), CheckCode("region", c.Region)); err != nil {
		return err
	}
	if !c.Kind.Valid() {
		return Invalid("kind", "kind must be station, regional_center or minors_center")
	}
	return validateZones(c.Zones)
}

// ChangeZones replaces a station's zones and bed counts.
type ChangeZones struct {
	Common
	Zones []ZoneBeds `json:"zones" max:"7" doc:"Every zone the station keeps with its beds: a zone left out is removed."`
}

// Step returns StepChangeZones.
func (*ChangeZones) Step() Step { return StepChangeZones }

// Validate checks the zones.
func (c *ChangeZones) Validate() error {
	return firstErr(c.Common.validate(), validateZones(c.Zones))
}

// IssueToken records a new access token. The caller generates the secret,
// shows it once and passes only its SHA-256 hash (64 hex digits) and an ID.
type IssueToken struct {
	Common
	ID      string `json:"id" text:"ref" doc:"The token's ID."`
	Name    string `json:"name,omitempty" text:"name" doc:"Who or what the token is for."`
	Role    Role   `json:"role" doc:"The token's role."`
	Station string `json:"station,omitempty" text:"code" doc:"The station a staff token is bound to."`
	Region  string `json:"region,omitempty" text:"code" doc:"The region a coordinator's or inspector's token is bound to."`
	Hash    string `json:"hash" text:"ref" doc:"SHA-256 of the token, 64 lowercase hex digits."`
}

// Step returns StepIssueToken.
func (*IssueToken) Step() Step { return StepIssueToken }

// Validate checks the role and its binding, the ID and the hash.
func (c *IssueToken) Validate() error {
	if err := firstErr(c.Common.validate(), required("id", c.ID)); err != nil {
		return err
	}
	if !c.Role.Valid() {
		return Invalid("role", "role must be admin, staff, coordinator or inspector")
	}
	if c.Role == RoleStaff || c.Station != "" {
		if err := CheckCode("station", c.Station); err != nil {
			return err
		}
	}
	if c.Role == RoleCoordinator || (c.Role == RoleInspector && c.Region != "") {
		if err := CheckCode("region", c.Region); err != nil {
			return err
		}
	}
	if len(c.Hash) != 64 || strings.Trim(c.Hash, "0123456789abcdef") != "" {
		return Invalid("hash", "hash must be 64 lowercase hex digits")
	}
	return nil
}

// RevokeToken revokes a token by ID.
type RevokeToken struct {
	Common
	ID string `json:"id" text:"ref" doc:"The ID of the token to revoke."`
}

// Step returns StepRevokeToken.
func (*RevokeToken) Step() Step { return StepRevokeToken }

// Validate requires the ID.
func (c *RevokeToken) Validate() error { return firstErr(c.Common.validate(), required("id", c.ID)) }
