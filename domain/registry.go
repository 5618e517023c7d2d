package domain

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/google/uuid"

	"waystation/eventstore"
)

// Stream names. A case stream "case-<uuid>" holds one case (it moves with
// the person between stations), a station stream "station-<code>" a
// station's registration, zones and the allocation of every bed, and the
// single "access" stream the access tokens.
const (
	CaseStreamPrefix    = "case-"
	StationStreamPrefix = "station-"
	AccessStream        = "access"
)

// CaseStream returns the stream name of case id.
func CaseStream(id uuid.UUID) string { return CaseStreamPrefix + id.String() }

// StationStream returns the stream name of the station with code.
func StationStream(code string) string { return StationStreamPrefix + code }

// CaseIDOf returns the case ID of a case stream name and true, or false for
// any other stream.
func CaseIDOf(stream string) (uuid.UUID, bool) {
	rest, ok := strings.CutPrefix(stream, CaseStreamPrefix)
	if !ok {
		return uuid.UUID{}, false
	}
	id, err := uuid.Parse(rest)
	return id, err == nil
}

// StationCodeOf returns the station code of a station stream name and true,
// or false for any other stream.
func StationCodeOf(stream string) (string, bool) {
	return strings.CutPrefix(stream, StationStreamPrefix)
}

// Metadata travels with every event as its metadata JSON document.
// OccurredAt is when the step happened (every clock runs from it);
// RecordedAt when the service took it in. Actor, Role, Station and Region
// say who acted; LegalBasis is the ground for processing sensitive data;
// RequestHash fingerprints the request that wrote the event so that a reused
// idempotency key with another request is detected. Field names are stored:
// never rename them.
type Metadata struct {
	SchemaVersion int        `json:"schema_version"`
	OccurredAt    time.Time  `json:"occurred_at"`
	RecordedAt    time.Time  `json:"recorded_at"`
	Actor         string     `json:"actor"`
	Role          Role       `json:"role"`
	Station       string     `json:"station,omitempty"`
	Region        string     `json:"region,omitempty"`
	CorrelationID string     `json:"correlation_id,omitempty"`
	CausationID   string     `json:"causation_id,omitempty"`
	LegalBasis    LegalBasis `json:"legal_basis,omitempty"`
	RequestHash   string     `json:"request_hash,omitempty"`
	// Imported, on an event an import wrote, names its source.
	Imported *Imported `json:"imported,omitempty"`
}

// Imported says where an imported event came from: the source's record
// ID (and case ID), when and by whom the source recorded it (the event's
// own RecordedAt, Actor and Role are the import's) and the export it came
// in.
type Imported struct {
	SourceID   string    `json:"source_id"`
	SourceCase string    `json:"source_case,omitempty"` // the source's case ID, for a case's events
	RecordedAt time.Time `json:"recorded_at"`
	Role       Role      `json:"role,omitempty"`    // the role of whoever recorded it at the source
	Station    string    `json:"station,omitempty"` // their station
	Export     string    `json:"export,omitempty"`
}

// Envelope is a decoded stored event: where it is, its metadata and its
// payload in the current schema.
type Envelope struct {
	Stream     string
	Revision   uint64
	Position   eventstore.Position
	ID         uuid.UUID
	RecordedAt time.Time
	Meta       Metadata
	Event      Event
}

// Upcaster turns an event payload stored at one schema version into the
// payload of the next version. It may read the event's metadata.
type Upcaster func(data []byte, meta Metadata) ([]byte, error)

type eventType struct {
	version int
	decode  func([]byte) (Event, error)
	fast    func([]byte) (Event, bool) // nil, or a fast path that decode equals
	fields  eventFields                // what the struct's tags declare
}

// decodePayload decodes a payload of the current schema version: by the
// fast path when it takes the document, else by encoding/json.
func (t eventType) decodePayload(b []byte) (Event, error) {
	if t.fast != nil {
		if ev, ok := t.fast(b); ok {
			return ev, nil
		}
	}
	return t.decode(b)
}

type upcastKey struct {
	typ     string
	version int
}

// Registry maps stored event names to Go types and current schema versions,
// and holds the upcasters that bring old payloads up to date. It is built
// once and then only read, so it is safe for concurrent use.
type Registry struct {
	types     map[string]eventType
	upcasters map[upcastKey]Upcaster
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{types: map[string]eventType{}, upcasters: map[upcastKey]Upcaster{}}
}

// Register adds event type T at schema version (1 or more), under its
// stored name (T's EventType), with what T's struct tags declare of its
// fields (personal, correctable). It refuses a name that is already
// registered.
func Register[T Event](r *Registry, version int) error {
	var zero T
	name := zero.EventType()
	if name == "" || version < 1 {
		return fmt.Errorf("domain: register %T: empty name or version below 1", zero)
	}
	if _, dup := r.types[name]; dup {
		return fmt.Errorf("domain: event type %q registered twice", name)
	}
	t := eventType{version: version, fields: fieldsOf(name, reflect.TypeFor[T]())}
	t.decode = func(b []byte) (Event, error) {
		var v T
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, err
		}
		return v, nil
	}
	// The fast decoder of the name is used only when it makes a T.
	if f := fastDecoders[name]; f != nil {
		if ev, ok := f([]byte("{}")); ok {
			if _, same := ev.(T); same {
				t.fast = f
			}
		}
	}
	r.types[name] = t
	return nil
}

// AddUpcaster registers up to turn payloads of typ at schema version from
// into version from+1. It refuses a duplicate, an unknown type, or a version
// that is not older than the type's current one.
func (r *Registry) AddUpcaster(typ string, from int, up Upcaster) error {
	t, ok := r.types[typ]
	if !ok {
		return fmt.Errorf("domain: upcaster for unknown event type %q", typ)
	}
	if from < 1 || from >= t.version {
		return fmt.Errorf("domain: upcaster for %q from version %d: current version is %d", typ, from, t.version)
	}
	k := upcastKey{typ, from}
	if _, dup := r.upcasters[k]; dup {
		return fmt.Errorf("domain: upcaster for %q version %d registered twice", typ, from)
	}
	r.upcasters[k] = up
	return nil
}

// Version returns the current schema version of typ and whether typ is
// registered.
func (r *Registry) Version(typ string) (int, bool) {
	t, ok := r.types[typ]
	return t.version, ok
}

// Types returns every registered stored name.
func (r *Registry) Types() []string {
	out := make([]string, 0, len(r.types))
	for n := range r.types {
		out = append(out, n)
	}
	return out
}

// Decode reads a stored event: its metadata, then its payload brought up to
// the current schema by the upcasters. An unknown type or bad JSON is an
// error (the event is never silently dropped).
func (r *Registry) Decode(rec eventstore.RecordedEvent) (Envelope, error) {
	return r.DecodeIf(rec, nil)
}

// DecodeIf is Decode for a reader that needs only some events: after the
// metadata, it calls keep (when not nil) with the envelope so far (no
// Event yet), and when keep returns false it returns that envelope with a
// nil Event and no error, without reading the payload. An unknown type or
// bad metadata is an error whatever keep would say.
func (r *Registry) DecodeIf(rec eventstore.RecordedEvent, keep func(Envelope) bool) (Envelope, error) {
	env := Envelope{
		Stream: rec.Stream, Revision: rec.Revision, Position: rec.Position, ID: rec.ID, RecordedAt: rec.RecordedAt,
	}
	t, ok := r.types[rec.Type]
	if !ok {
		return env, fmt.Errorf("domain: unknown event type %q at %s", rec.Type, rec.Position)
	}
	// The fast path keeps env off the heap; encoding/json would not.
	if len(rec.Metadata) > 0 && !fastMetadata(rec.Metadata, &env.Meta) {
		m := new(Metadata)
		err := decodeMetadata(rec.Metadata, m)
		env.Meta = *m
		if err != nil {
			return env, fmt.Errorf("domain: metadata of %s at %s: %w", rec.Type, rec.Position, err)
		}
	}
	if keep != nil && !keep(env) {
		return env, nil
	}
	data := rec.Data
	v := env.Meta.SchemaVersion
	if v == 0 {
		v = 1
	}
	for ; v < t.version; v++ {
		up, ok := r.upcasters[upcastKey{rec.Type, v}]
		if !ok {
			return env, fmt.Errorf("domain: no upcaster for %s version %d", rec.Type, v)
		}
		var err error
		if data, err = up(data, env.Meta); err != nil {
			return env, fmt.Errorf("domain: upcast %s version %d at %s: %w", rec.Type, v, rec.Position, err)
		}
	}
	if v > t.version {
		return env, fmt.Errorf("domain: %s at %s has schema version %d, newer than this program's %d",
			rec.Type, rec.Position, v, t.version)
	}
	env.Meta.SchemaVersion = t.version
	ev, err := t.decodePayload(data)
	if err != nil {
		return env, fmt.Errorf("domain: payload of %s at %s: %w", rec.Type, rec.Position, err)
	}
	env.Event = ev
	return env, nil
}

// Encode turns an event and its metadata into an event to append, with the
// type's current schema version in the metadata.
func (r *Registry) Encode(id uuid.UUID, ev Event, meta Metadata) (eventstore.EventData, error) {
	t, ok := r.types[ev.EventType()]
	if !ok {
		return eventstore.EventData{}, fmt.Errorf("domain: encode unregistered event type %q", ev.EventType())
	}
	meta.SchemaVersion = t.version
	data, err := json.Marshal(ev)
	if err != nil {
		return eventstore.EventData{}, fmt.Errorf("domain: encode %s: %w", ev.EventType(), err)
	}
	md, err := json.Marshal(meta)
	if err != nil {
		return eventstore.EventData{}, fmt.Errorf("domain: encode metadata of %s: %w", ev.EventType(), err)
	}
	return eventstore.EventData{ID: id, Type: ev.EventType(), Data: data, Metadata: md}, nil
}

// Events is the registry of every event type of the model with its
// upcasters. Decode and Encode use it.
var Events = mustEvents()

// Decode decodes a stored event with the Events registry.
func Decode(rec eventstore.RecordedEvent) (Envelope, error) { return Events.Decode(rec) }

// DecodeIf decodes a stored event with the Events registry, reading its
// payload only when keep says so (see Registry.DecodeIf).
func DecodeIf(rec eventstore.RecordedEvent, keep func(Envelope) bool) (Envelope, error) {
	return Events.DecodeIf(rec, keep)
}

// Encode encodes an event with the Events registry.
func Encode(id uuid.UUID, ev Event, meta Metadata) (eventstore.EventData, error) {
	return Events.Encode(id, ev, meta)
}

func mustEvents() *Registry {
	r := NewRegistry()
	regs := []error{
		Register[IntakeRegistered](r, 2),
		Register[EligibilityDecided](r, 1),
		Register[SecurityChecked](r, 1),
		Register[BelongingsDeposited](r, 1),
		Register[BelongingsReturned](r, 1),
		Register[IdentityQueried](r, 1),
		Register[IdentityVerified](r, 1),
		Register[FamilySearchNoticePublished](r, 1),
		Register[DNARequested](r, 1),
		Register[DNAResultReceived](r, 1),
		Register[RelativesContacted](r, 1),
		Register[MedicalReferred](r, 1),
		Register[HospitalAdmitted](r, 1),
		Register[HospitalDischarged](r, 1),
		Register[MedicalReturned](r, 1),
		Register[StayExtended](r, 1),
		Register[LongStayStarted](r, 1),
		Register[SettlementRecorded](r, 1),
		Register[GuardianshipTaken](r, 1),
		Register[PoliceReportFiled](r, 1),
		Register[TransferRequested](r, 1),
		Register[TransferAccepted](r, 1),
		Register[TransferDeclined](r, 1),
		Register[EscortDeparted](r, 1),
		Register[HandedOver](r, 1),
		Register[LeftVoluntarily](r, 1),
		Register[PickedUp](r, 1),
		Register[EscortedReturn](r, 1),
		Register[Absconded](r, 1),
		Register[Terminated](r, 1),
		Register[Died](r, 1),
		Register[DeathChecklistUpdated](r, 1),
		Register[CaseClosed](r, 1),
		Register[Corrected](r, 1),
		Register[StationRegistered](r, 1),
		Register[ZonesChanged](r, 1),
		Register[BedAssigned](r, 1),
		Register[BedReleased](r, 1),
		Register[TokenIssued](r, 1),
		Register[TokenRevoked](r, 1),
		r.AddUpcaster(TypeIntakeRegistered, 1, upcastIntakeV1),
	}
	for _, err := range regs {
		if err != nil {
			panic(err)
		}
	}
	return r
}

// upcastIntakeV1 turns a version 1 intake, whose person had a single "age"
// number, into version 2: the age becomes estimated_age, estimated on the
// intake's date.
func upcastIntakeV1(data []byte, meta Metadata) ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	raw, ok := doc["person"]
	if !ok {
		return data, nil
	}
	var person map[string]json.RawMessage
	if err := json.Unmarshal(raw, &person); err != nil {
		return nil, err
	}
	age, ok := person["age"]
	if !ok {
		return data, nil
	}
	delete(person, "age")
	if string(age) != "null" {
		var n float64
		if err := json.Unmarshal(age, &n); err != nil {
			return nil, fmt.Errorf("person.age: %w", err)
		}
		person["estimated_age"], _ = json.Marshal(int(n))
		if _, has := person["age_estimated_on"]; !has && !meta.OccurredAt.IsZero() {
			person["age_estimated_on"], _ = json.Marshal(CivilDate(meta.OccurredAt))
		}
	}
	p, err := json.Marshal(person)
	if err != nil {
		return nil, err
	}
	doc["person"] = p
	return json.Marshal(doc)
}
