package domain

import (
	"encoding/json"
	"reflect"
	"strings"
	"time"
)

// cleanNewText cleans the new value of a text field (a string, or a list
// of strings) as kind says, or refuses it naming new.
func cleanNewText(kind TextKind, raw json.RawMessage) (json.RawMessage, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, Invalid("new", "new is not JSON")
	}
	clean := func(s string) (string, error) {
		out, msg := kind.CleanText(s)
		if msg != "" {
			return "", Invalid("new", "new %s", msg)
		}
		return out, nil
	}
	switch x := v.(type) {
	case string:
		out, err := clean(x)
		if err != nil || out == x {
			return raw, err
		}
		return rawOf(out), nil
	case []any:
		changed := false
		for i, e := range x {
			if s, ok := e.(string); ok {
				out, err := clean(s)
				if err != nil {
					return nil, err
				}
				changed = changed || out != s
				x[i] = out
			}
		}
		if changed {
			return rawOf(x), nil
		}
	}
	return raw, nil
}

// canonicalField returns the name of field for an event of type typ: the
// first release named the fields of an identity verification as the
// person's ("person.name"); they are the event's own ("name").
func canonicalField(typ, field string) string {
	if typ == TypeIdentityVerified {
		if rest, ok := strings.CutPrefix(field, "person."); ok {
			return rest
		}
	}
	return field
}

// decodeAs decodes raw into a new value of type t; JSON null (or nothing)
// is the zero value.
func decodeAs(t reflect.Type, raw json.RawMessage) (reflect.Value, error) {
	v := reflect.New(t)
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, v.Interface()); err != nil {
			return reflect.Value{}, err
		}
	}
	return v.Elem(), nil
}

// sameValue reports whether a and b, of one type, are the same value:
// times at the same instant, empty and missing lists alike.
func sameValue(a, b reflect.Value) bool {
	if ta, ok := a.Interface().(time.Time); ok {
		return ta.Equal(b.Interface().(time.Time))
	}
	if a.Kind() == reflect.Slice && a.Len() == 0 && b.Len() == 0 {
		return true
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}

// setPath sets the dotted path of doc to v, making the objects on the way.
func setPath(doc map[string]any, path string, v any) {
	for {
		head, rest, deep := strings.Cut(path, ".")
		if !deep {
			doc[head] = v
			return
		}
		sub, ok := doc[head].(map[string]any)
		if !ok {
			sub = map[string]any{}
			doc[head] = sub
		}
		doc, path = sub, rest
	}
}

func rawOf(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

// correctedDoc returns the payload of target as a JSON document and its
// occurred_at, with every earlier correction of c to that event applied in
// order.
func correctedDoc(c Case, target Envelope) (map[string]any, json.RawMessage, error) {
	var doc map[string]any
	b, err := json.Marshal(target.Event)
	if err != nil {
		return nil, nil, err
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, nil, err
	}
	occurred := rawOf(target.Meta.OccurredAt)
	typ := target.Event.EventType()
	for _, k := range c.Corrections {
		if k.EventID != target.ID {
			continue
		}
		f := canonicalField(typ, k.Field)
		if f == OccurredAtField {
			occurred = k.New
			continue
		}
		var v any
		if json.Unmarshal(k.New, &v) == nil {
			setPath(doc, f, v)
		}
	}
	return doc, occurred, nil
}

// decideCorrection decides a correction of the event v.Target: the field
// must be one that event type records and may be corrected, old must be
// the event's value of it (with the earlier corrections of that event
// applied), and new must fit the field and leave the event valid.
func decideCorrection(c Case, v *Correct, now time.Time) ([]Event, error) {
	if c.PersonalDataErased() {
		// Checked first: the erased case shows cleared values, so the
		// other checks would only say that old does not match.
		return nil, Violation(RulePersonalDataErased, "the person's personal data was erased; "+
			"a correction would record personal data again (its reason, and the values of most fields)")
	}
	typ, ok := c.EventType(v.EventID)
	if !ok {
		return nil, Violation(RuleCorrectionUnknownEvent, "the case has no such event")
	}
	field := canonicalField(typ, v.Field)
	ft, ok := Events.types[typ].fields.correctable[field]
	if !ok {
		return nil, Violation(RuleCorrectionFieldNotInEvent,
			"that event does not record the field, or the field is not corrected")
	}
	if v.Target == nil || v.Target.ID != v.EventID || v.Target.Event == nil {
		return nil, Internal(nil, "the corrected event was not loaded")
	}
	doc, occurred, err := correctedDoc(c, *v.Target)
	if err != nil {
		return nil, Internal(err, "the corrected event cannot be read")
	}
	curRaw := occurred
	if field != OccurredAtField {
		curRaw = rawOf(valueAt(doc, field))
	}
	cur, err := decodeAs(ft, curRaw)
	if err != nil {
		return nil, Internal(err, "the corrected event's field cannot be read")
	}
	old, err := decodeAs(ft, v.Old)
	if err != nil {
		return nil, Invalid("old", "old does not fit the field")
	}
	if !sameValue(cur, old) {
		return nil, Violation(RuleCorrectionOldValueMismatch, "old is not the event's value of the field")
	}
	nv, err := decodeAs(ft, v.New)
	if err != nil {
		return nil, Invalid("new", "new does not fit the field")
	}
	if kind, ok := Events.types[typ].fields.texts[field]; ok {
		cleaned, err := cleanNewText(kind, v.New)
		if err != nil {
			return nil, err
		}
		v.New = cleaned
	}
	if field == OccurredAtField {
		t := nv.Interface().(time.Time)
		if err := CheckTimeBounds("new", t); err != nil {
			return nil, err
		}
		if t.After(now.Add(FutureTolerance)) {
			return nil, Violation(RuleOccurredInFuture, "the step cannot have happened in the future")
		}
		if err := c.checkStepOrder(v.EventID, t); err != nil {
			return nil, err
		}
		var until time.Time
		if typ == TypeStayExtended {
			if u, err := decodeAs(reflect.TypeFor[time.Time](), rawOf(valueAt(doc, "until"))); err == nil {
				until = u.Interface().(time.Time)
			}
		}
		d := c.corrected(Corrected{EventID: v.EventID, CorrectedType: typ, Field: field, New: v.New})
		if err := keepsRules(c, d, v.EventID, until, until); err != nil {
			return nil, err
		}
	} else {
		var nval any
		if err := json.Unmarshal(v.New, &nval); err != nil {
			return nil, Invalid("new", "new is not JSON")
		}
		setPath(doc, field, nval)
		if err := checkCorrectedEvent(c, typ, field, doc); err != nil {
			return nil, err
		}
		if typ == TypeStayExtended && field == "until" {
			d := c.corrected(Corrected{EventID: v.EventID, CorrectedType: typ, Field: field, New: v.New})
			if err := keepsRules(c, d, v.EventID, cur.Interface().(time.Time), nv.Interface().(time.Time)); err != nil {
				return nil, err
			}
		}
	}
	return one(Corrected{
		EventID: v.EventID, CorrectedType: typ, Field: field,
		Old: compact(v.Old), New: compact(v.New), Reason: v.Reason,
	})
}

// checkCorrectedEvent checks that the event of type typ, as the corrected
// document doc says, is still valid.
func checkCorrectedEvent(c Case, typ, field string, doc map[string]any) error {
	t, ok := Events.types[typ]
	if !ok {
		return Internal(nil, "unknown event type")
	}
	if typ == TypeIntakeRegistered && field == "person.birth_date" {
		if p, ok := doc["person"].(map[string]any); ok && p["birth_date"] != "" && p["birth_date"] != nil {
			delete(p, "estimated_age") // a birth date replaces an estimate
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return Invalid("new", "new does not fit the field")
	}
	ev, err := t.decode(b)
	if err != nil {
		return Invalid("new", "new does not fit the field")
	}
	switch e := ev.(type) {
	case IntakeRegistered:
		if err := e.Person.Validate("new", c.OpenedAt); err != nil {
			return Invalid("new", "the corrected person is not valid")
		}
		if !e.Referral.Source.Valid() {
			return Invalid("new", "unknown referral source")
		}
	case IdentityVerified:
		p := c.Person
		p.Name, p.HukouPlace = firstNonEmpty(e.Name, p.Name), firstNonEmpty(e.HukouPlace, p.HukouPlace)
		if e.IDNumber != "" {
			p.IDNumber, p.IDType = e.IDNumber, e.IDType
		}
		if !e.BirthDate.IsZero() {
			p.BirthDate, p.EstimatedAge = e.BirthDate, nil
		}
		if err := p.Validate("new", c.OpenedAt); err != nil {
			return Invalid("new", "the corrected person is not valid")
		}
	case SecurityChecked:
		if !e.CheckedBy.Sex.Valid() {
			return Invalid("new", "sex must be male or female")
		}
		if c.Person.Sex == Female && e.CheckedBy.Sex != Female {
			return Violation(RuleFemaleCheckedByFemaleStaff, "a woman is security-checked by female staff")
		}
	case PoliceReportFiled:
		if err := (&PoliceReportCmd{Reason: e.Reason}).Validate(); err != nil {
			return Invalid("new", "unknown police report reason")
		}
	case StayExtended:
		if !e.Until.After(c.OpenedAt) {
			return Violation(RuleExtensionNotLater, "the new limit must be later than the stay began")
		}
	}
	return nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
