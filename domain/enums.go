package domain

import "slices"

// Status is where a case stands (docs/api.md's status values). Stored and shown
// to clients: never rename or reuse them.
type Status string

// The statuses of a case.
const (
	StatusReceived   Status = "received"
	StatusInStation  Status = "in_station"
	StatusInHospital Status = "in_hospital"
	StatusLongStay   Status = "long_stay"
	StatusInTransit  Status = "in_transit"
	StatusExited     Status = "exited"
	StatusRefused    Status = "refused"
	StatusClosed     Status = "closed"
)

var statuses = []Status{
	StatusReceived, StatusInStation, StatusInHospital, StatusLongStay,
	StatusInTransit, StatusExited, StatusRefused, StatusClosed,
}

// Values lists the statuses, in the order a case goes through them.
func (Status) Values() []string { return strs(statuses) }

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return slices.Contains(statuses, s) }

// Ended reports whether the case has left the system (exited, refused or
// closed).
func (s Status) Ended() bool {
	return s == StatusExited || s == StatusRefused || s == StatusClosed
}

// Zone is a part of a station with its own beds. Stored values: never
// rename or reuse them.
type Zone string

// The zones of docs/api.md.
const (
	ZoneAdultMale   Zone = "adult_male"
	ZoneAdultFemale Zone = "adult_female"
	ZoneMinors      Zone = "minors"
	ZoneMotherChild Zone = "mother_child"
	ZoneCare        Zone = "care"
	ZoneObservation Zone = "observation"
	ZoneIsolation   Zone = "isolation"
)

// Zones lists every zone in display order.
var Zones = []Zone{
	ZoneAdultMale, ZoneAdultFemale, ZoneMinors, ZoneMotherChild, ZoneCare, ZoneObservation, ZoneIsolation,
}

// Values lists the zones in display order.
func (Zone) Values() []string { return strs(Zones) }

// Valid reports whether z is a known zone.
func (z Zone) Valid() bool { return slices.Contains(Zones, z) }

// Adult reports whether z is meant for adults only; a minor placed there is
// a safety signal.
func (z Zone) Adult() bool { return z == ZoneAdultMale || z == ZoneAdultFemale || z == ZoneCare }

// StationKind is what kind of institution a station is.
type StationKind string

// The station kinds of docs/api.md. Stored values: never rename or reuse them.
const (
	KindStation        StationKind = "station"
	KindRegionalCenter StationKind = "regional_center"
	KindMinorsCenter   StationKind = "minors_center"
)

var stationKinds = []StationKind{KindStation, KindRegionalCenter, KindMinorsCenter}

// Values lists the station kinds.
func (StationKind) Values() []string { return strs(stationKinds) }

// Valid reports whether k is a known kind.
func (k StationKind) Valid() bool { return slices.Contains(stationKinds, k) }

// ReferralSource is how a person came to the station. Stored values: never
// rename or reuse them.
type ReferralSource string

// The referral sources of docs/api.md.
const (
	SourceWalkIn          ReferralSource = "walk_in"
	SourceHotline         ReferralSource = "hotline"
	SourcePoliceEscort    ReferralSource = "police_escort"
	SourceUrbanManagement ReferralSource = "urban_management"
	SourceHospital        ReferralSource = "hospital"
	SourceOutreach        ReferralSource = "outreach"
	SourcePublicReport    ReferralSource = "public_report"
	SourceOther           ReferralSource = "other"
)

var referralSources = []ReferralSource{
	SourceWalkIn, SourceHotline, SourcePoliceEscort, SourceUrbanManagement, SourceHospital,
	SourceOutreach, SourcePublicReport, SourceOther,
}

// Values lists the referral sources.
func (ReferralSource) Values() []string { return strs(referralSources) }

// Valid reports whether s is a known source.
func (s ReferralSource) Valid() bool { return slices.Contains(referralSources, s) }

// ExitType is how a case left the system; statistics count exits by it.
// Stored values: never rename or reuse them.
type ExitType string

// The ways a case ends.
const (
	ExitVoluntaryLeave       ExitType = "voluntary_leave"
	ExitPickup               ExitType = "pickup"
	ExitEscortedReturn       ExitType = "escorted_return"
	ExitAbsconding           ExitType = "absconding"
	ExitTermination          ExitType = "termination"
	ExitDeath                ExitType = "death"
	ExitSettlement           ExitType = "settlement"
	ExitNotEligible          ExitType = "not_eligible"
	ExitSecurityCheckRefused ExitType = "security_check_refused"
)

var exitTypes = []ExitType{
	ExitVoluntaryLeave, ExitPickup, ExitEscortedReturn, ExitAbsconding, ExitTermination, ExitDeath,
	ExitSettlement, ExitNotEligible, ExitSecurityCheckRefused,
}

// Values lists the ways a case ends.
func (ExitType) Values() []string { return strs(exitTypes) }

// Valid reports whether t is a known way a case ends.
func (t ExitType) Valid() bool { return slices.Contains(exitTypes, t) }

// LegalBasis is the ground for processing sensitive personal data recorded
// with every step. Stored values: never rename or reuse them.
type LegalBasis string

// The legal bases the model knows.
const (
	BasisStatutoryDuty   LegalBasis = "statutory_duty"
	BasisConsent         LegalBasis = "consent"
	BasisGuardianConsent LegalBasis = "guardian_consent"
	BasisVitalInterests  LegalBasis = "vital_interests"
)

var legalBases = []LegalBasis{BasisStatutoryDuty, BasisConsent, BasisGuardianConsent, BasisVitalInterests}

// Values lists the legal bases.
func (LegalBasis) Values() []string { return strs(legalBases) }

// Valid reports whether b is a known basis.
func (b LegalBasis) Valid() bool { return slices.Contains(legalBases, b) }

// Role is what an actor may do. Stored values: never rename or reuse them.
type Role string

// The roles of docs/api.md.
const (
	RoleAdmin       Role = "admin"
	RoleStaff       Role = "staff"
	RoleCoordinator Role = "coordinator"
	RoleInspector   Role = "inspector"
)

var roles = []Role{RoleAdmin, RoleStaff, RoleCoordinator, RoleInspector}

// Values lists the roles.
func (Role) Values() []string { return strs(roles) }

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(roles, r) }

// Transfer states (Case.Transfer.State). Stored and shown: never rename.
const (
	TransferStateRequested = "requested"
	TransferStateAccepted  = "accepted"
	TransferStateDeparted  = "departed"
)

// Medical states (Case.Medical.State). Stored and shown: never rename.
const (
	MedicalStateReferred   = "referred"
	MedicalStateAdmitted   = "admitted"
	MedicalStateDischarged = "discharged"
	MedicalStateReturned   = "returned"
)

// Bed release reasons (BedReleased.Reason). Stored: never rename or reuse.
const (
	ReleaseByStaff    = "released"
	ReleaseMoved      = "moved"
	ReleaseExit       = "exit"
	ReleaseHospital   = "hospital_admission"
	ReleaseHoldExpiry = "hospital_hold_expired"
	ReleaseHandover   = "handover"
	ReleaseInTransit  = "in_transit"
	ReleaseReconciled = "reconciled"
)
