package domain

import (
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Bed is where a case sleeps: a zone and a bed named "<zone>-<n>".
type Bed struct {
	Zone Zone   `json:"zone" doc:"The zone of the bed."`
	Bed  string `json:"bed" doc:"The bed, named zone-n."`
}

// Eligibility is the outcome of screening.
type Eligibility struct {
	Decided     bool      `json:"decided" doc:"Whether screening has been recorded."`
	Eligible    bool      `json:"eligible" doc:"Whether the person was found eligible."`
	AssistFirst bool      `json:"assist_first,omitempty" doc:"Whether the person is helped first and screened later."`
	At          time.Time `json:"at,omitzero" doc:"When screening happened."`
}

// SecurityCheck is the outcome of the security check.
type SecurityCheck struct {
	Done    bool      `json:"done" doc:"Whether the security check has been recorded."`
	Refused bool      `json:"refused,omitempty" doc:"Whether the person refused it (assistance then ends)."`
	At      time.Time `json:"at,omitzero" doc:"When the check happened."`
}

// Belonging is one deposited item and whether it was handed back.
type Belonging struct {
	Item     string `json:"item" doc:"What the item is."`
	Qty      int    `json:"qty" doc:"How many were deposited."`
	Returned bool   `json:"returned" doc:"Whether it was handed back."`
}

// Identity is the state of the identity and family search.
type Identity struct {
	Verified             bool               `json:"verified" doc:"Whether the identity is established."`
	VerifiedAt           time.Time          `json:"verified_at,omitzero" doc:"When the identity was established."`
	Method               VerificationMethod `json:"method,omitempty" doc:"How it was established."`
	Queries              int                `json:"queries" doc:"How many identity queries were made."`
	LastQueryAt          time.Time          `json:"last_query_at,omitzero" doc:"When the last identity query was made."`
	NoticeAt             time.Time          `json:"notice_at,omitzero" doc:"When a family-search notice was first published."`
	DNARequestedAt       time.Time          `json:"dna_requested_at,omitzero" doc:"When a DNA sample was last sent for matching."`
	DNAResultAt          time.Time          `json:"dna_result_at,omitzero" doc:"When the last DNA result came back."`
	DNAMatched           bool               `json:"dna_matched,omitempty" doc:"Whether the DNA result was a match."`
	RelativesContactedAt time.Time          `json:"relatives_contacted_at,omitzero" doc:"When relatives were last contacted."`
}

// Medical is the state of medical care; State is "" or one of the MedicalState*
// constants.
type Medical struct {
	State        string    `json:"state,omitempty" doc:"Where medical care stands: referred, admitted, discharged or returned; absent when none."`
	Hospital     string    `json:"hospital,omitempty" doc:"The hospital."`
	ReferredAt   time.Time `json:"referred_at,omitzero" doc:"When the person was referred to hospital."`
	AdmittedAt   time.Time `json:"admitted_at,omitzero" doc:"When the person was admitted."`
	DischargedAt time.Time `json:"discharged_at,omitzero" doc:"When the person was discharged."`
	ReturnedAt   time.Time `json:"returned_at,omitzero" doc:"When the person came back to the station."`
	AdmissionID  uuid.UUID `json:"admission_id,omitzero" doc:"ID of the admission event, which the bed hold refers to."`
}

// Transfer is a transfer in flight; State is one of the TransferState*
// constants.
type Transfer struct {
	From        string    `json:"from" doc:"Code of the sending station."`
	To          string    `json:"to" doc:"Code of the receiving station."`
	Reason      string    `json:"reason,omitempty" doc:"Why the transfer was requested."`
	State       string    `json:"state" doc:"Where the transfer stands: requested, accepted or departed."`
	RequestedAt time.Time `json:"requested_at" doc:"When it was requested."`
	AcceptedAt  time.Time `json:"accepted_at,omitzero" doc:"When the receiving station accepted it."`
	DepartedAt  time.Time `json:"departed_at,omitzero" doc:"When the escort left."`
}

// Handover is a completed transfer.
type Handover struct {
	From string    `json:"from" doc:"Code of the station the person left."`
	To   string    `json:"to" doc:"Code of the station that took the person in."`
	At   time.Time `json:"at" doc:"When the handover happened."`
}

// LongStay is long-stay care; Kind is one of the LongStay* constants.
type LongStay struct {
	Kind  LongStayKind `json:"kind" doc:"Kind of long-stay care."`
	Since time.Time    `json:"since" doc:"When long-stay care began."`
}

// Settlement is the state of household registration and settlement.
type Settlement struct {
	Stage     SettlementStage `json:"stage" doc:"applied or settled."`
	AppliedAt time.Time       `json:"applied_at,omitzero" doc:"When settlement was applied for."`
	SettledAt time.Time       `json:"settled_at,omitzero" doc:"When the person was settled."`
}

// Guardianship is civil affairs' temporary guardianship of a minor.
type Guardianship struct {
	Basis    string    `json:"basis" doc:"The legal basis of the guardianship."`
	Guardian string    `json:"guardian,omitempty" doc:"Who acts as guardian."`
	Since    time.Time `json:"since" doc:"When guardianship was taken."`
}

// PoliceReport is a filed police report.
type PoliceReport struct {
	Reason   ReportReason `json:"reason" doc:"Why the police were told."`
	ReportNo string       `json:"report_no,omitempty" doc:"Number of the police report."`
	At       time.Time    `json:"at" doc:"When the report was made."`
}

// Death is a recorded death with its checklist. ErasedItemsDone names
// (by their JSON names) the checklist items that were done with a value
// that was later erased with the person's personal data: they count as
// done though their values read as empty.
type Death struct {
	At    time.Time `json:"at" doc:"When the person died."`
	Place string    `json:"place" doc:"Where the person died."`
	DeathChecklist
	ErasedItemsDone []string `json:"erased_items_done,omitempty" doc:"Checklist items done whose values were erased with the person's personal data: they count as done."`
}

// Death checklist items, by their JSON names (Death.Missing). Stored in
// erasure events: never rename or reuse them.
const (
	ChecklistCertifiedBy       = "certified_by"
	ChecklistPoliceNotified    = "police_notified"
	ChecklistRelativesNotified = "relatives_notified"
	ChecklistPublicNotice      = "public_notice"
	ChecklistBodyDisposition   = "body_disposition"
)

// ChecklistComplete reports whether every death checklist item is done:
// certifier, police notified, relatives notified, public notice, body
// disposition (Missing is empty).
func (d Death) ChecklistComplete() bool { return len(d.Missing()) == 0 }

// Missing returns the death checklist items not done yet, by their JSON
// names (the Checklist* constants), in the checklist's order. An item whose
// value was erased with the person's personal data is done when
// ErasedItemsDone names it.
func (d Death) Missing() []string {
	var out []string
	text := func(item, v string) {
		if v == "" && !slices.Contains(d.ErasedItemsDone, item) {
			out = append(out, item)
		}
	}
	yes := func(item string, v *bool) {
		if v == nil || !*v {
			out = append(out, item)
		}
	}
	text(ChecklistCertifiedBy, d.CertifiedBy)
	yes(ChecklistPoliceNotified, d.PoliceNotified)
	yes(ChecklistRelativesNotified, d.RelativesNotified)
	text(ChecklistPublicNotice, d.PublicNotice)
	text(ChecklistBodyDisposition, d.BodyDisposition)
	return out
}

// sealedItemsDone returns the checklist items held as sealed values (the
// certifier, the public notice, the body disposition) that are done, by
// their JSON names.
func (d Death) sealedItemsDone() []string {
	var out []string
	for _, it := range []struct {
		item, v string
	}{
		{ChecklistCertifiedBy, d.CertifiedBy},
		{ChecklistPublicNotice, d.PublicNotice},
		{ChecklistBodyDisposition, d.BodyDisposition},
	} {
		if it.v != "" || slices.Contains(d.ErasedItemsDone, it.item) {
			out = append(out, it.item)
		}
	}
	return out
}

// Correction is an applied correction.
type Correction struct {
	EventID uuid.UUID       `json:"event_id" doc:"ID of the corrected event."`
	Field   string          `json:"field" doc:"The corrected field."`
	Old     json.RawMessage `json:"old" doc:"The value before the correction."`
	New     json.RawMessage `json:"new" doc:"The corrected value."`
	Reason  string          `json:"reason" doc:"Why it was corrected."`
	At      time.Time       `json:"at" doc:"When the correction was made."`
}

// BedRelease says that a case event requires freeing the case's bed at a
// station: Cause is the event's ID, from which the release event's ID is
// derived, so completing the release is idempotent.
//
// Beds are decided on the station stream (DecideBed, appended with the
// station stream's revision as the expected revision), so two concurrent
// assignments of one bed, or more assignments than a zone has beds, cannot
// both succeed; a case's bed is read from its station (Service.Case fills
// Case.Bed in; Evolve leaves it nil). A case step that ends the claim to a
// bed (an exit, a hospital admission, a handover) is a pair of writes: the
// case event, then a station.bed_released whose ID is derived from the
// placement and the case event's ID. The Service completes the second
// write at once; if that fails (Result.BedReleasePending), it is completed
// by repeating the request with its idempotency key, by Service.Reconcile
// (ops calls it for every station at start), or when an assignment finds
// the zone full. An assignment that races with an exit reads the case
// again after writing and frees the bed if the case may no longer hold it,
// so no interleaving leaves an exited case in a bed.
type BedRelease struct {
	Cause   uuid.UUID `json:"cause"`
	Station string    `json:"station"`
	Reason  string    `json:"reason"`
	At      time.Time `json:"at"`
}

// caseEvent is one event of the case as the case keeps it: its ID, the
// code of its stored type, when it happened (its occurred_at with the
// corrections of it applied) and whether it was the exit. Its payload is
// kept apart (Case.payloads), so that a case without payloads
// (WithoutPayloads) is small.
type caseEvent struct {
	id   uuid.UUID
	sec  int64 // occurred_at as Unix seconds and nanoseconds
	nsec int32
	zone int16 // occurred_at's offset from UTC in minutes
	typ  uint8 // index in eventTypes' names; 0 for a type not registered in Events
	exit bool  // the event ended the case (an exit, a refusal or a refused check)
}

// at returns when the event happened, in a zone of the offset it was
// given with (UTC for none).
func (e caseEvent) at() time.Time {
	t := time.Unix(e.sec, int64(e.nsec))
	if e.zone == 0 {
		return t.UTC()
	}
	return t.In(time.FixedZone("", int(e.zone)*60))
}

// setAt sets when the event happened to t.
func (e *caseEvent) setAt(t time.Time) {
	e.sec, e.nsec, e.zone = t.Unix(), int32(t.Nanosecond()), 0
	if t.Location() != time.UTC {
		_, off := t.Zone()
		e.zone = int16(off / 60)
	}
}

// typicalCaseEvents is the room a case's event list starts with.
const typicalCaseEvents = 16

// otherEvent is an event of a type that Events does not register (only
// possible for envelopes built in code, never for stored events).
type otherEvent struct {
	id  uuid.UUID
	typ string
}

// eventTypes returns the stored names of Events' types, sorted, after an
// empty entry for unregistered types, and its inverse. It is built on first
// use, once every init function has registered its types; a type
// registered later is kept as an otherEvent.
var eventTypes = sync.OnceValues(func() ([]string, map[string]uint8) {
	names := []string{""}
	for name := range Events.types {
		names = append(names, name)
	}
	slices.Sort(names[1:])
	if len(names) > 256 {
		panic("domain: more than 255 event types do not fit a case's event list")
	}
	codes := make(map[string]uint8, len(names))
	for i, name := range names[1:] {
		codes[name] = uint8(i + 1)
	}
	return names, codes
})

// hasEventOfType reports whether the case has an event of stored type typ.
func (c Case) hasEventOfType(typ string) bool {
	_, codes := eventTypes()
	if code, ok := codes[typ]; ok {
		return slices.ContainsFunc(c.events, func(e caseEvent) bool { return e.typ == code })
	}
	return slices.ContainsFunc(c.others, func(e otherEvent) bool { return e.typ == typ })
}

// Case is the state of one case folded from its stream by Evolve. Version is
// the number of events in the stream (docs/api.md's version). Bed is not folded
// from the case stream: bed allocation lives on the station stream, and the
// Service fills Bed in from there (nil when the case holds no bed); nor is
// CaseNumber, which the Service fills in from the case's register.
type Case struct {
	ID            uuid.UUID      `json:"id" doc:"The case's ID."`
	Version       uint64         `json:"version" doc:"Number of events of the case; pass it in If-Match to make sure nobody changed the case meanwhile."`
	Station       string         `json:"station" doc:"Code of the station the case is at now."`
	Status        Status         `json:"status" doc:"Where the case stands."`
	Person        Person         `json:"person" doc:"Who the case is about, with verified details and corrections applied."`
	Referral      Referral       `json:"referral" doc:"How the person came to the station."`
	Inspection    Inspection     `json:"inspection" doc:"What the initial inspection found."`
	MotherCaseID  uuid.UUID      `json:"mother_case_id,omitzero" doc:"The case of the mother a child arrived with."`
	Bed           *Bed           `json:"bed" doc:"The bed the person holds now, or null when none."`
	CaseNumber    string         `json:"case_number,omitempty" doc:"The case's number, unique per station and year of the intake and without gaps (S01-2026-000123); absent in the moment between the intake and its numbering."`
	OpenedAt      time.Time      `json:"opened_at" doc:"When the person arrived (the intake's occurred_at): the stay clock starts here."`
	ExitedAt      time.Time      `json:"exited_at,omitzero" doc:"When the person left the system."`
	ExitType      ExitType       `json:"exit_type,omitempty" doc:"How the person left."`
	ClosedAt      time.Time      `json:"closed_at,omitzero" doc:"When the case was closed."`
	Eligibility   Eligibility    `json:"eligibility" doc:"The outcome of screening."`
	SecurityCheck SecurityCheck  `json:"security_check" doc:"The outcome of the security check."`
	Belongings    []Belonging    `json:"belongings,omitempty" doc:"Deposited belongings and whether each was handed back."`
	Identity      Identity       `json:"identity" doc:"The state of the identity and family search."`
	Medical       Medical        `json:"medical" doc:"The state of medical care."`
	StayLimit     time.Time      `json:"stay_limit,omitzero" doc:"The end of the stay as the last extension set it; absent before any extension (the limit is then 10 days after arrival, where it applies)."`
	Extended      bool           `json:"extended,omitempty" doc:"Whether the stay was extended."`
	noPayloads    bool           // the case keeps no payloads (WithoutPayloads)
	LongStay      *LongStay      `json:"long_stay,omitempty" doc:"Long-stay care, when it began."`
	Settlement    *Settlement    `json:"settlement,omitempty" doc:"Household registration and settlement, when applied for."`
	Guardianship  *Guardianship  `json:"guardianship,omitempty" doc:"Temporary guardianship by civil affairs, when taken."`
	PoliceReports []PoliceReport `json:"police_reports,omitempty" doc:"Reports made to the police."`
	Transfer      *Transfer      `json:"transfer,omitempty" doc:"The transfer in flight, if any."`
	Handovers     []Handover     `json:"handovers,omitempty" doc:"Completed transfers, oldest first."`
	Death         *Death         `json:"death,omitempty" doc:"The recorded death and its checklist."`
	Corrections   []Correction   `json:"corrections,omitempty" doc:"Corrections made to the case's events, oldest first."`
	// ReleaseDue is the last case event that required freeing a bed; the
	// Service completes it on the station stream.
	ReleaseDue *BedRelease `json:"-"`

	// firstLimit is the new limit of the first extension of the stay, with
	// the corrections of it applied (zero before any extension): the one
	// limit that is bounded by the intake (10 days after it).
	firstLimit time.Time
	// lastStepAt is when the latest step of the case happened (the greatest
	// occurred_at), late paperwork left out: no exit can precede it.
	lastStepAt time.Time

	// events lists every event of the case in stream order, for EventType
	// and corrections; others holds the few of them whose type is not
	// registered.
	events []caseEvent
	others []otherEvent
	// payloads points to the payload of each of events, with the
	// corrections of it applied, from which a correction folds the case
	// again (corrected); nil before the first event and in a case without
	// payloads (WithoutPayloads), which saves the views' cases a size
	// class. A copy of the case taken before Apply shares it and may find
	// more entries than it has events; own gives a case its own, and
	// eventPayloads reads only the case's.
	payloads *[]Event
	// public is what the case's public notices, photos and leads are
	// (foldPublic); nil for a case that has none.
	public *publicState
}

// eventPayloads returns the payload of each of c's events (nil when c
// keeps none).
func (c Case) eventPayloads() []Event {
	if c.payloads == nil {
		return nil
	}
	return (*c.payloads)[:len(c.events)]
}

// WithoutPayloads returns c keeping no payloads of its events, now or when
// it is advanced by Apply or Evolve: a fold that holds every case in
// memory (the views) keeps only the state, which takes a fraction of the
// memory. Such a case cannot fold itself again for a correction, which
// needs the payloads of the case's earlier events: Apply and Evolve of a
// Corrected event, and Decide of a Correct, panic on it. Fold the case
// from its stream instead (Fold, through the correction), and take that
// state WithoutPayloads.
func (c Case) WithoutPayloads() Case {
	c.payloads, c.noPayloads = nil, true
	return c
}

// Exists reports whether the case has been opened.
func (c Case) Exists() bool { return c.Version > 0 }

// EventType returns the stored type of the case's event id and whether the
// case has such an event.
func (c Case) EventType(id uuid.UUID) (string, bool) {
	for i := len(c.events) - 1; i >= 0; i-- {
		if e := c.events[i]; e.id == id {
			if e.typ != 0 {
				names, _ := eventTypes()
				return names[e.typ], true
			}
			for _, o := range c.others {
				if o.id == id {
					return o.typ, true
				}
			}
		}
	}
	return "", false
}

// revisionOf returns the stream revision of the case's event id.
func (c Case) revisionOf(id uuid.UUID) (uint64, bool) {
	for i := len(c.events) - 1; i >= 0; i-- {
		if c.events[i].id == id {
			return uint64(i), true
		}
	}
	return 0, false
}

// AgeOn returns the person's age on at, and whether it is known.
func (c Case) AgeOn(at time.Time) (int, bool) { return c.Person.AgeOn(at) }

// Disabled reports whether the case carries a mental or intellectual
// disability flag (a suspected mental disorder counts), which makes the
// person part of a special group.
func (c Case) Disabled() bool {
	return c.Inspection.SuspectedMentalDisorder || c.Inspection.IntellectualDisability
}

// StayLimitApplies reports whether the 10-day stay limit applies on at:
// aged 16 or over with no mental or intellectual disability flag.
func (c Case) StayLimitApplies(at time.Time) bool {
	age, ok := c.AgeOn(at)
	return ok && age >= VoluntaryLeaveAge && !c.Disabled()
}

// StayDeadline returns the end of the allowed stay: the extended limit when
// there is one, else 10 days after the intake.
func (c Case) StayDeadline() time.Time {
	if c.Extended {
		return c.StayLimit
	}
	return c.unextendedDeadline()
}

// unextendedDeadline returns the end of the stay before any extension: 10
// days after the intake.
func (c Case) unextendedDeadline() time.Time {
	return c.OpenedAt.Add(StayLimitDays * 24 * time.Hour)
}

// PoliceReportsDue returns the reasons (Report* constants) for which the
// case needs a police report that has not been filed, in a fixed order:
// harm_to_minor for a minor (at intake) with signs of harm,
// suspected_trafficked, suspected_lost and abandoned for a person the
// inspection says so of. A filed report clears only its own reason: a
// report of dangerous items does not stand for a report of trafficking.
func (c Case) PoliceReportsDue() []ReportReason {
	var due []ReportReason
	need := func(reason ReportReason) {
		if !slices.ContainsFunc(c.PoliceReports, func(r PoliceReport) bool { return r.Reason == reason }) {
			due = append(due, reason)
		}
	}
	in := c.Inspection
	if in.SignsOfHarm {
		if age, ok := c.AgeOn(c.OpenedAt); ok && age < AdultAge {
			need(ReportHarmToMinor)
		}
	}
	if in.SuspectedTrafficked {
		need(ReportSuspectedTrafficked)
	}
	if in.SuspectedLost {
		need(ReportSuspectedLost)
	}
	if in.Abandoned {
		need(ReportAbandoned)
	}
	return due
}

// PoliceReportDue reports whether the case needs a police report that has
// not been filed (PoliceReportsDue is not empty).
func (c Case) PoliceReportDue() bool { return len(c.PoliceReportsDue()) > 0 }

// BelongingsDeposited is how many deposited belongings have not been
// returned.
func (c Case) BelongingsDeposited() int {
	n := 0
	for _, b := range c.Belongings {
		if !b.Returned {
			n++
		}
	}
	return n
}

// Active reports whether the case is still receiving assistance.
func (c Case) Active() bool { return c.Exists() && !c.Status.Ended() }

// Flags returns the case's flags as of at, in a fixed order: the age flags
// (minor, under_16, under_14, under_6, elderly or age_unknown), the
// condition flags from the inspection, cannot_state_identity, unidentified,
// guardianship and police_report_due.
func (c Case) Flags(at time.Time) []string {
	var f []string
	if age, ok := c.AgeOn(at); ok {
		if age < AdultAge {
			f = append(f, FlagMinor)
		}
		if age < VoluntaryLeaveAge {
			f = append(f, FlagUnder16)
		}
		if age < SensitiveChildAge {
			f = append(f, FlagUnder14)
		}
		if age < MotherChildMaxAge {
			f = append(f, FlagUnder6)
		}
		if age >= ElderlyAge {
			f = append(f, FlagElderly)
		}
	} else {
		f = append(f, FlagAgeUnknown)
	}
	in := c.Inspection
	if in.SuspectedInfectious {
		f = append(f, FlagSuspectedInfectious)
	}
	if in.SuspectedMentalDisorder {
		f = append(f, FlagSuspectedMentalDisorder)
	}
	if in.IntellectualDisability {
		f = append(f, FlagIntellectualDisability)
	}
	if in.PhysicalDisability {
		f = append(f, FlagPhysicalDisability)
	}
	if c.Person.CanStateIdentity != nil && !*c.Person.CanStateIdentity {
		f = append(f, FlagCannotStateIdentity)
	}
	if !c.Identity.Verified {
		f = append(f, FlagUnidentified)
	}
	if c.Guardianship != nil {
		f = append(f, FlagGuardianship)
	}
	if c.PoliceReportDue() {
		f = append(f, FlagPoliceReportDue)
	}
	return f
}

// HasFlag reports whether Flags(at) contains flag.
func (c Case) HasFlag(flag string, at time.Time) bool { return slices.Contains(c.Flags(at), flag) }

// Evolve returns the case after env, one of its stream's events. It never
// modifies c's slices in place, so an earlier state stays valid. Events of
// other streams' types are ignored (the version still counts them).
func Evolve(c Case, env Envelope) Case {
	c.own()
	c.Apply(env)
	return c
}

// own makes c's state its own before a fold advances it with Apply: after
// it, Apply copies the slices it appends to instead of writing into spare
// capacity that a state c was copied from (a cached one) may share.
func (c *Case) own() {
	c.events = slices.Clip(c.events)
	c.others = slices.Clip(c.others)
	if c.payloads != nil {
		p := slices.Clip(c.eventPayloads())
		c.payloads = &p
	}
}

// Apply advances c in place by env, one of its stream's events, to the
// state Evolve returns. It may append to c's slices within their spare
// capacity, so a copy of c taken before stays valid but must be advanced
// with Evolve, never with Apply: two states advanced in place from one
// copy would write the same memory. Apply is for a fold that owns its
// state alone.
func (c *Case) Apply(env Envelope) { c.apply(env, false) }

// apply is Apply; refolding says that c is being folded again from events
// whose payloads already hold their corrections (see corrected), so a
// correction is only recorded, not applied again.
func (c *Case) apply(env Envelope, refolding bool) {
	c.Version = env.Revision + 1
	typ := env.Event.EventType()
	_, codes := eventTypes()
	code := codes[typ]
	if cap(c.events) == 0 {
		// Most cases have fewer events than this: one allocation, not five.
		c.events = make([]caseEvent, 0, typicalCaseEvents)
	}
	at := env.Meta.OccurredAt
	ev := caseEvent{id: env.ID, typ: code}
	ev.setAt(at)
	c.events = append(c.events, ev)
	if !c.noPayloads {
		if c.payloads == nil {
			p := make([]Event, 0, typicalCaseEvents)
			c.payloads = &p
		}
		*c.payloads = append(*c.payloads, env.Event)
	}
	if code == 0 {
		c.others = append(c.others, otherEvent{id: env.ID, typ: typ})
	}
	c.foldPublic(env.Event, at)
	wasEnded := c.Status.Ended()
	if !lateEvent(env.Event) && at.After(c.lastStepAt) {
		c.lastStepAt = at
	}
	exit := func(t ExitType) {
		// An exit ends any transfer in flight (the decider lets only
		// absconding and death happen during one); the bed is still held
		// at the sending station, which the release frees.
		c.Transfer = nil
		c.Status = StatusExited
		c.ExitType = t
		c.ExitedAt = at
		c.ReleaseDue = &BedRelease{Cause: env.ID, Station: c.Station, Reason: ReleaseExit, At: at}
	}
	switch e := env.Event.(type) {
	case IntakeRegistered:
		c.ID = e.CaseID
		c.Station = e.Station
		c.Status = StatusReceived
		c.Person = e.Person
		if c.Person.EstimatedAge != nil && c.Person.AgeEstimatedOn.IsZero() {
			c.Person.AgeEstimatedOn = CivilDate(at)
		}
		c.Referral = e.Referral
		c.Inspection = e.Inspection
		c.MotherCaseID = e.MotherCaseID
		c.OpenedAt = at
	case EligibilityDecided:
		c.Eligibility = Eligibility{Decided: true, Eligible: e.Eligible, AssistFirst: e.AssistFirst, At: at}
		if e.Eligible || e.AssistFirst {
			if c.Status == StatusReceived {
				c.Status = StatusInStation
			}
		} else {
			c.Status = StatusRefused
			c.Transfer = nil
			c.ExitType = ExitNotEligible
			c.ExitedAt = at
			c.ReleaseDue = &BedRelease{Cause: env.ID, Station: c.Station, Reason: ReleaseExit, At: at}
		}
	case SecurityChecked:
		c.SecurityCheck = SecurityCheck{Done: true, Refused: e.Refused, At: at}
		if e.Refused {
			c.Status = StatusRefused
			c.Transfer = nil
			c.ExitType = ExitSecurityCheckRefused
			c.ExitedAt = at
			c.ReleaseDue = &BedRelease{Cause: env.ID, Station: c.Station, Reason: ReleaseExit, At: at}
		}
	case BelongingsDeposited:
		b := slices.Clip(c.Belongings)
		for _, it := range e.Items {
			b = append(b, Belonging{Item: it.Item, Qty: it.Qty})
		}
		c.Belongings = b
	case BelongingsReturned:
		b := slices.Clone(c.Belongings)
		for _, name := range e.Items {
			for i := range b {
				if b[i].Item == name && !b[i].Returned {
					b[i].Returned = true
					break
				}
			}
		}
		c.Belongings = b
	case IdentityQueried:
		c.Identity.Queries++
		c.Identity.LastQueryAt = at
	case IdentityVerified:
		c.Identity.Verified = true
		c.Identity.VerifiedAt = at
		c.Identity.Method = e.Method
		if e.Name != "" {
			c.Person.Name = e.Name
		}
		if e.IDNumber != "" {
			c.Person.IDNumber = e.IDNumber
			c.Person.IDType = e.IDType
		}
		if !e.BirthDate.IsZero() {
			c.Person.BirthDate = e.BirthDate
			c.Person.EstimatedAge = nil
			c.Person.AgeEstimatedOn = Date{}
		}
		if e.HukouPlace != "" {
			c.Person.HukouPlace = e.HukouPlace
		}
	case FamilySearchNoticePublished:
		c.Identity.NoticeAt = at
	case DNARequested:
		c.Identity.DNARequestedAt = at
		c.Identity.DNAResultAt = time.Time{}
	case DNAResultReceived:
		c.Identity.DNAResultAt = at
		c.Identity.DNAMatched = e.Matched
	case RelativesContacted:
		c.Identity.RelativesContactedAt = at
	case MedicalReferred:
		c.Medical = Medical{State: MedicalStateReferred, Hospital: e.Hospital, ReferredAt: at}
	case HospitalAdmitted:
		c.Medical.State = MedicalStateAdmitted
		c.Medical.Hospital = e.Hospital
		c.Medical.AdmittedAt = at
		c.Medical.AdmissionID = env.ID
		c.Status = StatusInHospital
		c.ReleaseDue = &BedRelease{Cause: env.ID, Station: c.Station, Reason: ReleaseHospital, At: at}
	case HospitalDischarged:
		c.Medical.State = MedicalStateDischarged
		c.Medical.DischargedAt = at
	case MedicalReturned:
		c.Medical.State = MedicalStateReturned
		c.Medical.ReturnedAt = at
		c.Status = c.presentStatus()
	case StayExtended:
		if !c.Extended {
			c.firstLimit = e.Until
		}
		c.Extended = true
		c.StayLimit = e.Until
	case LongStayStarted:
		c.LongStay = &LongStay{Kind: e.Kind, Since: at}
		if c.Status == StatusInStation {
			c.Status = StatusLongStay
		}
	case SettlementRecorded:
		s := Settlement{}
		if c.Settlement != nil {
			s = *c.Settlement
		}
		s.Stage = e.Stage
		if e.Stage == SettlementApplied {
			s.AppliedAt = at
		} else {
			s.SettledAt = at
		}
		c.Settlement = &s
		if e.Stage == SettlementSettled {
			exit(ExitSettlement)
		}
	case GuardianshipTaken:
		c.Guardianship = &Guardianship{Basis: e.Basis, Guardian: e.Guardian, Since: at}
	case PoliceReportFiled:
		c.PoliceReports = append(slices.Clip(c.PoliceReports), PoliceReport{Reason: e.Reason, ReportNo: e.ReportNo, At: at})
	case TransferRequested:
		c.Transfer = &Transfer{From: e.From, To: e.To, Reason: e.Reason, State: TransferStateRequested, RequestedAt: at}
	case TransferAccepted:
		if c.Transfer != nil {
			t := *c.Transfer
			t.State = TransferStateAccepted
			t.AcceptedAt = at
			c.Transfer = &t
		}
	case TransferDeclined:
		c.Transfer = nil
	case EscortDeparted:
		if c.Transfer != nil {
			t := *c.Transfer
			t.State = TransferStateDeparted
			t.DepartedAt = at
			c.Transfer = &t
		}
		c.Status = StatusInTransit
	case HandedOver:
		c.ReleaseDue = &BedRelease{Cause: env.ID, Station: e.From, Reason: ReleaseHandover, At: at}
		c.Handovers = append(slices.Clip(c.Handovers), Handover{From: e.From, To: e.To, At: at})
		c.Station = e.To
		c.Transfer = nil
		c.Status = c.presentStatus()
	case LeftVoluntarily:
		exit(ExitVoluntaryLeave)
	case PickedUp:
		exit(ExitPickup)
	case EscortedReturn:
		exit(ExitEscortedReturn)
	case Absconded:
		exit(ExitAbsconding)
	case Terminated:
		exit(ExitTermination)
	case Died:
		c.Death = &Death{At: at, Place: e.Place, DeathChecklist: e.DeathChecklist}
		exit(ExitDeath)
	case DeathChecklistUpdated:
		if c.Death != nil {
			d := *c.Death
			d.DeathChecklist = mergeChecklist(d.DeathChecklist, e.DeathChecklist)
			c.Death = &d
		}
	case CaseClosed:
		c.Status = StatusClosed
		c.ClosedAt = at
	case Corrected:
		c.Corrections = append(slices.Clip(c.Corrections), Correction{
			EventID: e.EventID, Field: e.Field, Old: e.Old, New: e.New, Reason: e.Reason, At: at,
		})
		if !refolding {
			*c = c.corrected(e)
		}
	case PersonalDataErased:
		*c = c.withPersonalDataErased(e)
		if !refolding {
			p := withoutPersonal(c.eventPayloads())
			c.payloads = &p
		}
	}
	if !wasEnded && (c.Status == StatusExited || c.Status == StatusRefused) {
		c.events[len(c.events)-1].exit = true
	}
}

// lateEvent reports whether e is late paperwork, which may be recorded
// after the person left and so does not bound when they left: corrections,
// police reports, belongings returned, death checklist items, closure and
// erasure.
func lateEvent(e Event) bool {
	switch e.(type) {
	case Corrected, PoliceReportFiled, BelongingsReturned, DeathChecklistUpdated, CaseClosed, PersonalDataErased:
		return true
	}
	return false
}

// presentStatus is the status of a person back in the station: received
// while eligibility is not decided ("treat first, assist after"), long stay
// when long-stay care was started, else in station.
func (c Case) presentStatus() Status {
	if !c.Eligibility.Decided {
		return StatusReceived
	}
	if c.LongStay != nil {
		return StatusLongStay
	}
	return StatusInStation
}

func mergeChecklist(d, u DeathChecklist) DeathChecklist {
	if u.CertifiedBy != "" {
		d.CertifiedBy = u.CertifiedBy
	}
	if u.PoliceNotified != nil {
		d.PoliceNotified = u.PoliceNotified
	}
	if u.RelativesNotified != nil {
		d.RelativesNotified = u.RelativesNotified
	}
	if u.PublicNotice != "" {
		d.PublicNotice = u.PublicNotice
	}
	if u.BodyDisposition != "" {
		d.BodyDisposition = u.BodyDisposition
	}
	return d
}

// Fold folds a case's events, in stream order, from the empty state.
func Fold(events []Envelope) Case {
	var c Case
	for _, e := range events {
		c.Apply(e)
	}
	return c
}
