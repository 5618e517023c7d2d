package domain

import "slices"

// Actor is who takes a step: a token's ID and role, and the station (staff)
// or region (coordinator, inspector) it is bound to.
type Actor struct {
	ID      string `json:"id"`
	Role    Role   `json:"role"`
	Station string `json:"station,omitempty"`
	Region  string `json:"region,omitempty"`
}

// Step names one thing an actor can do. The case steps are the path
// segments of docs/api.md (POST /v1/cases/{id}/<step>). Never rename them.
type Step string

// The steps.
const (
	StepIntake             Step = "intake"
	StepEligibility        Step = "eligibility"
	StepSecurityCheck      Step = "security-check"
	StepBelongings         Step = "belongings"
	StepBed                Step = "bed"
	StepBedRelease         Step = "bed-release"
	StepIdentityQuery      Step = "identity-query"
	StepIdentityVerified   Step = "identity-verified"
	StepFamilySearchNotice Step = "family-search-notice"
	StepDNARequest         Step = "dna-request"
	StepDNAResult          Step = "dna-result"
	StepRelativesContacted Step = "relatives-contacted"
	StepMedicalReferral    Step = "medical-referral"
	StepHospitalAdmission  Step = "hospital-admission"
	StepHospitalDischarge  Step = "hospital-discharge"
	StepMedicalReturn      Step = "medical-return"
	StepExtension          Step = "extension"
	StepLongStay           Step = "long-stay"
	StepSettlement         Step = "settlement"
	StepGuardianship       Step = "guardianship"
	StepPoliceReport       Step = "police-report"
	StepTransferRequest    Step = "transfer-request"
	StepTransferAccept     Step = "transfer-accept"
	StepTransferDecline    Step = "transfer-decline"
	StepEscortDeparture    Step = "escort-departure"
	StepHandover           Step = "handover"
	StepVoluntaryLeave     Step = "voluntary-leave"
	StepPickup             Step = "pickup"
	StepEscortedReturn     Step = "escorted-return"
	StepAbsconding         Step = "absconding"
	StepTermination        Step = "termination"
	StepDeath              Step = "death"
	StepClosure            Step = "closure"
	StepCorrection         Step = "correction"

	StepRegisterStation Step = "register-station"
	StepChangeZones     Step = "change-zones"
	StepIssueToken      Step = "issue-token"
	StepRevokeToken     Step = "revoke-token"

	// StepErasure is erasing a person's personal data.
	StepErasure Step = "erasure"

	// StepRead is reading a case (state or history).
	StepRead Step = "read"
)

// receivingSide reports whether step belongs to the receiving station of a
// transfer.
func (s Step) receivingSide() bool {
	return s == StepTransferAccept || s == StepTransferDecline || s == StepHandover
}

// adminOnly reports whether step is station or token administration.
func (s Step) adminOnly() bool {
	return s == StepRegisterStation || s == StepChangeZones || s == StepIssueToken || s == StepRevokeToken
}

// Authorize says whether actor may take step on case c. For an intake pass a
// Case holding only the target Station; for station and token
// administration pass nil. regionOf returns a station's region. The policy:
// admins may do everything; inspectors only read (their region, or every
// region when they have none); staff act on their own station's cases, and
// the receiving station's staff accept, decline and confirm the handover of
// transfers addressed to them (the sending station's staff may not);
// coordinators act on cases at their region's stations (no intake), read
// transfers addressed to their region, and accept, decline and confirm
// the handover only of transfers whose receiving station is in their
// region (a coordinator of the sending region only may not); only admins
// erase personal data (StepErasure, with a nil case; the retention job acts
// as an admin). A refusal is a forbidden Error.
func Authorize(actor Actor, step Step, c *Case, regionOf func(code string) (string, bool)) error {
	if step == StepErasure {
		if actor.Role == RoleAdmin {
			return nil
		}
		return Forbidden("only admins erase personal data")
	}
	inRegion := func(code string) bool {
		if code == "" || actor.Region == "" {
			return false
		}
		r, ok := regionOf(code)
		return ok && r == actor.Region
	}
	switch actor.Role {
	case RoleAdmin:
		return nil
	case RoleInspector:
		if step != StepRead {
			return Forbidden("inspectors are read-only")
		}
		if actor.Region == "" || (c != nil && inRegion(c.Station)) {
			return nil
		}
		return Forbidden("the case is outside the inspector's region")
	case RoleStaff, RoleCoordinator:
	default:
		return Forbidden("unknown role")
	}
	if step.adminOnly() {
		return Forbidden("only admins manage stations and tokens")
	}
	if c == nil {
		return Forbidden("no case to act on")
	}
	incoming := c.Transfer != nil && step.receivingSide()
	if actor.Role == RoleStaff {
		if actor.Station == "" {
			return Forbidden("staff token without a station")
		}
		switch {
		case incoming:
			if c.Transfer.To == actor.Station {
				return nil
			}
			return Forbidden("only the receiving station answers a transfer")
		case step == StepRead && c.Transfer != nil && c.Transfer.To == actor.Station:
			return nil
		case c.Station == actor.Station:
			return nil
		}
		return Forbidden("the case is at another station")
	}
	// Coordinator.
	if step == StepIntake {
		return Forbidden("intakes are recorded by the station's staff")
	}
	if incoming {
		if inRegion(c.Transfer.To) {
			return nil
		}
		return Forbidden("only the receiving region's coordinator answers a transfer")
	}
	if inRegion(c.Station) {
		return nil
	}
	if c.Transfer != nil && step == StepRead && inRegion(c.Transfer.To) {
		return nil
	}
	return Forbidden("the case is outside the coordinator's region")
}

// The service's own actors: the IDs the service records as the actor of
// what it does by itself, not on behalf of a token or an account. Stored
// in events' metadata: never rename or reuse them.
const (
	// ServiceActorID records what the server does on its own: case
	// numbers, beds freed on reconciliation, session uses, failed logins.
	ServiceActorID = "waystation"
	// BootstrapAdminID is the bootstrap admin token
	// (WAYSTATION_ADMIN_TOKEN).
	BootstrapAdminID = "bootstrap-admin"
	// CommandLineActorID records the admin commands of the command line
	// (waystation account create).
	CommandLineActorID = "system:command-line"
	// ActivationActorID records an account's activation: the person proves
	// themselves by the activation code, not yet as the account.
	ActivationActorID = "activation"
)

// ServiceActor is one of the service's own actors as people read it.
type ServiceActor struct {
	ID   string
	Name string
	Role Role // empty for the activation, which acts with no role
}

// serviceActors are the service's own actors, with their fixed names.
var serviceActors = []ServiceActor{
	{ID: ServiceActorID, Name: "Waystation (the service itself)", Role: RoleAdmin},
	{ID: BootstrapAdminID, Name: "Bootstrap administrator (WAYSTATION_ADMIN_TOKEN)", Role: RoleAdmin},
	{ID: CommandLineActorID, Name: "Command line (waystation account)", Role: RoleAdmin},
	{ID: RetentionActor, Name: "Retention job", Role: RoleAdmin},
	{ID: ActivationActorID, Name: "Account activation (by its code)"},
}

// ServiceActorOf returns the service's own actor with id, and whether id
// is one.
func ServiceActorOf(id string) (ServiceActor, bool) {
	for _, a := range serviceActors {
		if a.ID == id {
			return a, true
		}
	}
	return ServiceActor{}, false
}

// ServiceActors returns the service's own actors.
func ServiceActors() []ServiceActor { return slices.Clone(serviceActors) }
