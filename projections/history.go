package projections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
)

// HistoryEvent is one event of a case's timeline: an event of the case's
// stream, or a station event about the case (its bed). EventID is the
// event's ID, the one a correction names (docs/api.md: correction's event_id);
// Position is its place in the global log; Version is the revision of the
// event in its own stream, plus one. Erased lists the dotted JSON paths of
// the event's personal values (domain.PersonalPaths) that read as erased:
// recorded, then erased with the case's personal data, so that Data shows
// them absent or empty. It is empty for a case whose personal data was not
// erased, for the events recorded after the erasure (they hold no
// personal values) and for station events. ActorName is left empty here:
// it is no part of the stored event, and the server fills it in from the
// access stream's accounts when it serves a history.
type HistoryEvent struct {
	EventID    uuid.UUID           `json:"event_id" doc:"The event's ID: the one a correction names."`
	Position   eventstore.Position `json:"position" doc:"The event's position in the global log."`
	Stream     string              `json:"stream" doc:"The stream it belongs to (the case's, or the station's for bed events)."`
	Version    uint64              `json:"version" doc:"Its revision in its stream, plus one."`
	Type       string              `json:"type" doc:"Its stored type (e.g. case.intake_registered)."`
	OccurredAt time.Time           `json:"occurred_at" doc:"When the step happened."`
	RecordedAt time.Time           `json:"recorded_at" doc:"When it was recorded."`
	Actor      string              `json:"actor" doc:"ID of the account, token or service actor that recorded it."`
	ActorName  string              `json:"actor_name,omitempty" doc:"The display name of the account that recorded it, as the accounts hold it now; absent for a token or the service."`
	Role       domain.Role         `json:"role,omitempty" doc:"Role of that actor."`
	Station    string              `json:"station,omitempty" doc:"Station of that actor, for staff."`
	Data       json.RawMessage     `json:"data" doc:"The event's data as it reads now."`
	Erased     []string            `json:"erased,omitempty" doc:"Dotted paths of the personal values erased since (they read as absent in data)."`
}

// History is a case's timeline up to a moment or a version, in global log
// order, and the case's state at that point. When the case's personal data
// has been erased (by now, whatever the moment shown), the state's
// PersonalDataErased is true and each event lists the personal values
// that read as erased (HistoryEvent.Erased).
type History struct {
	ID      uuid.UUID      `json:"id" doc:"The case's ID."`
	AsOf    time.Time      `json:"as_of,omitzero" doc:"The moment shown, when as_of was given."`
	Known   bool           `json:"known,omitempty" doc:"True when only what had been recorded by as_of is shown."`
	Version uint64         `json:"version" doc:"The case's version at that point."`
	State   CaseView       `json:"state" doc:"The case as it stood at that point."`
	Events  []HistoryEvent `json:"events" doc:"The case's events up to that point, in log order."`
}

// History returns the timeline of case id and its state: all of it, or as
// of asOf (see AsOf), or up to the case's version when version > 0. An
// unknown case, or one that had not begun by asOf, is not_found; a version
// beyond the case's is invalid.
func (r *Runner) History(id uuid.UUID, asOf AsOf, version int) (History, error) {
	if version < 0 {
		return History{}, domain.Invalid("version", "version must be positive")
	}
	r.mu.RLock()
	ce := r.live.cases[id]
	var refs []bedRef
	if ce != nil {
		refs = ce.beds[:len(ce.beds):len(ce.beds)]
	}
	r.mu.RUnlock()
	if ce == nil {
		return History{}, domain.NotFound("no case %s", id)
	}
	ctx := context.Background()
	var events []domain.Envelope
	var data [][]byte // the events' data as read, erased values as null
	erasure := -1     // the index of the case's erasure in events, if any
	for rec, err := range r.store.ReadStream(ctx, domain.CaseStream(id), eventstore.ReadStreamOptions{}) {
		if err != nil {
			if errorsIsNotFound(err) {
				return History{}, domain.NotFound("no case %s", id)
			}
			return History{}, domain.Internal(err, "reading the case failed")
		}
		env, err := domain.Decode(rec)
		if err != nil {
			return History{}, domain.Internal(err, "decoding an event of the case failed")
		}
		if rec.Type == domain.TypePersonalDataErased && erasure < 0 {
			erasure = len(events)
		}
		events = append(events, env)
		data = append(data, rec.Data)
	}
	// Only the events before the erasure can hold erased values: the
	// sealed store takes no personal value for an erased case.
	erased := make(map[uuid.UUID][]string)
	for i := range erasure {
		if paths := erasedPaths(events[i].Event.EventType(), data[i]); len(paths) > 0 {
			erased[events[i].ID] = paths
		}
	}
	if version > len(events) {
		return History{}, domain.Invalid("version", "version must be at most the case's version, %d", len(events))
	}
	// The cut: the last case event kept, by version or by time.
	limit := eventstore.End
	if version > 0 {
		limit = events[version-1].Position
	}
	if !asOf.Position.IsZero() && asOf.Position.Before(limit) {
		limit = asOf.Position
	}
	beds := make([]domain.Envelope, 0, len(refs))
	for _, ref := range refs {
		env, err := r.readEvent(ctx, ref)
		if err != nil {
			return History{}, domain.Internal(err, "reading a bed event of the case failed")
		}
		beds = append(beds, env)
	}
	merged := mergeByPosition(events, beds)
	h := History{ID: id, AsOf: asOf.At, Known: asOf.Known && !asOf.At.IsZero(), Events: []HistoryEvent{}}
	m := newModel()
	var keep func(domain.Envelope) bool
	if !asOf.At.IsZero() {
		keep = asOf.happened
	}
	read := r.readCase(ctx, keep)
	for _, env := range merged {
		if limit.Before(env.Position) {
			break
		}
		if !asOf.At.IsZero() && !asOf.keeps(env) {
			continue
		}
		if err := m.apply(env, read); err != nil {
			return History{}, domain.Internal(err, "folding the case failed")
		}
		he := historyEvent(env)
		he.Erased = erased[env.ID] // none for a station event
		h.Events = append(h.Events, he)
	}
	st := m.cases[id]
	if st == nil || !st.opened() {
		return History{}, domain.NotFound("case %s had not begun by then", id)
	}
	at := asOf.At
	if at.IsZero() {
		at = r.opts.Now()
	}
	h.State = caseView(m, st, at)
	h.State.Region = r.regionOf(st.c.Station)
	// A case keeps its number for good: the live views' (a history does not
	// read the register), shown as of any moment, even before it was given.
	h.State.CaseNumber = r.caseNumberOf(id)
	h.State.PersonalDataErased = erasure >= 0
	h.Version = st.c.Version
	return h, nil
}

// readEvent reads and decodes the station event that ref names.
func (r *Runner) readEvent(ctx context.Context, ref bedRef) (domain.Envelope, error) {
	for rec, err := range r.store.ReadStream(ctx, ref.stream, eventstore.ReadStreamOptions{From: ref.revision, Limit: 1}) {
		if err != nil {
			return domain.Envelope{}, err
		}
		if rec.Revision != ref.revision {
			break
		}
		return domain.Decode(rec)
	}
	return domain.Envelope{}, fmt.Errorf("projections: %s has no event at revision %d", ref.stream, ref.revision)
}

func (r *Runner) regionOf(code string) string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.live.region(code)
}

// caseNumberOf returns case id's number from the live views, or "".
func (r *Runner) caseNumberOf(id uuid.UUID) string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if ce := r.live.cases[id]; ce != nil {
		return ce.number
	}
	return ""
}

func mergeByPosition(a, b []domain.Envelope) []domain.Envelope {
	out := make([]domain.Envelope, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		if j == len(b) || (i < len(a) && a[i].Position.Before(b[j].Position)) {
			out = append(out, a[i])
			i++
		} else {
			out = append(out, b[j])
			j++
		}
	}
	return out
}

func historyEvent(env domain.Envelope) HistoryEvent {
	data, err := json.Marshal(env.Event)
	if err != nil {
		data = []byte("null")
	}
	rec := env.Meta.RecordedAt
	if rec.IsZero() {
		rec = env.RecordedAt
	}
	return HistoryEvent{
		EventID: env.ID, Position: env.Position, Stream: env.Stream, Version: env.Revision + 1,
		Type: env.Event.EventType(), OccurredAt: env.Meta.OccurredAt, RecordedAt: rec,
		Actor: env.Meta.Actor, Role: env.Meta.Role, Station: env.Meta.Station, Data: data,
	}
}

func errorsIsNotFound(err error) bool {
	return errors.Is(err, eventstore.ErrStreamNotFound) || errors.Is(err, eventstore.ErrStreamDeleted)
}
