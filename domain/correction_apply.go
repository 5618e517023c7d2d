package domain

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// corrected returns c with correction e applied through the fold: the
// corrected event's payload (the field e names set to e's new value) or
// its time (for occurred_at) replaces the one c holds, and the case is
// folded again from its events. So a correction changes exactly what the
// event determines of the state: a part that a later event set again
// keeps that event's value (a person field that the identity verification
// gave is the verification's to correct), and the times, lists and rules
// that depend on the event follow it. The corrected payload stays in c's
// payloads, where later corrections and folds find it. A correction that
// names no event of c, or whose value does not fit the event, leaves c as
// it was (the decider refuses such corrections before they are stored).
// It panics when c keeps no payloads (WithoutPayloads).
func (c Case) corrected(e Corrected) Case {
	if c.noPayloads {
		panic("domain: a case without payloads cannot be folded again for a correction; fold it from its stream")
	}
	i := slices.IndexFunc(c.events, func(x caseEvent) bool { return x.id == e.EventID })
	if i < 0 {
		return c
	}
	target, payload := c.events[i], c.eventPayloads()[i]
	typ := payload.EventType()
	field := canonicalField(typ, e.Field)
	payload = pinned(payload, target.at())
	if field == OccurredAtField {
		var t time.Time
		if json.Unmarshal(e.New, &t) != nil {
			return c
		}
		target.setAt(t)
	} else {
		ev, ok := withField(payload, field, e.New)
		if !ok {
			return c
		}
		payload = ev
	}
	events, payloads := slices.Clone(c.events), slices.Clone(c.eventPayloads())
	events[i], payloads[i] = target, payload
	return c.refolded(events, payloads)
}

// refolded returns the case folded again from events and their payloads,
// the events of c with some payloads or times replaced. The bed, which is
// not folded from the case stream, and the version are c's.
func (c Case) refolded(events []caseEvent, payloads []Event) Case {
	n := max(len(events), typicalCaseEvents)
	kept := make([]Event, 0, n)
	d := Case{events: make([]caseEvent, 0, n), payloads: &kept}
	for i, e := range events {
		env := Envelope{Revision: uint64(i), ID: e.id, Meta: Metadata{OccurredAt: e.at()}, Event: payloads[i]}
		d.apply(env, true)
	}
	d.Version, d.Bed = c.Version, c.Bed
	return d
}

// pinned returns ev with what the fold derives from the event's time at
// written into it, so that a correction of the event's time does not move
// it: the date an intake's estimated age was estimated on.
func pinned(ev Event, at time.Time) Event {
	if e, ok := ev.(IntakeRegistered); ok && e.Person.EstimatedAge != nil && e.Person.AgeEstimatedOn.IsZero() {
		e.Person.AgeEstimatedOn = CivilDate(at)
		return e
	}
	return ev
}

// withField returns ev with the field at the dotted JSON path set to the
// JSON value raw, and whether the result is an event of ev's type. A
// birth date given to an intake's person replaces the estimated age.
func withField(ev Event, path string, raw json.RawMessage) (Event, bool) {
	t, ok := Events.types[ev.EventType()]
	if !ok {
		return ev, false
	}
	var doc map[string]any
	var v any
	if json.Unmarshal(rawOf(ev), &doc) != nil || json.Unmarshal(raw, &v) != nil {
		return ev, false
	}
	setPath(doc, path, v)
	out, err := t.decode(rawOf(doc))
	if err != nil {
		return ev, false
	}
	if in, ok := out.(IntakeRegistered); ok && path == "person.birth_date" && !in.Person.BirthDate.IsZero() {
		in.Person.EstimatedAge = nil
		out = in
	}
	return out, true
}

// withoutPersonal returns payloads with their personal values removed
// (PersonalPaths), as the event store reads them once the case's data key
// is destroyed, so that an erased case holds none in memory. A payload
// that cannot be rewritten is kept as it is.
func withoutPersonal(payloads []Event) []Event {
	out := slices.Clone(payloads)
	for i, ev := range out {
		t, ok := Events.types[ev.EventType()]
		if !ok {
			continue
		}
		data := rawOf(ev)
		paths := PersonalPaths(ev.EventType(), data)
		if len(paths) == 0 {
			continue
		}
		var doc map[string]any
		if json.Unmarshal(data, &doc) != nil {
			continue
		}
		for _, p := range paths {
			deletePath(doc, p)
		}
		if ev, err := t.decode(rawOf(doc)); err == nil {
			out[i] = ev
		}
	}
	return out
}

// deletePath removes the value at the dotted path of doc, if any.
func deletePath(doc map[string]any, path string) {
	for {
		head, rest, deep := strings.Cut(path, ".")
		if !deep {
			delete(doc, head)
			return
		}
		sub, ok := doc[head].(map[string]any)
		if !ok {
			return
		}
		doc, path = sub, rest
	}
}
