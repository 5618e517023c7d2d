package domain

import (
	"encoding"
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// OccurredAtField is the field a correction names to change when an event's
// step happened (its metadata's occurred_at).
const OccurredAtField = "occurred_at"

// notCorrectable lists, per event type, the fields no correction changes:
// the case's identity and station, and the facts that decided the course
// of the case (eligible, a refused check, a settlement stage, the stations
// of a transfer). A wrong course is fixed by the next step, not by a
// correction. Corrections and erasures are not corrected at all.
var notCorrectable = map[string][]string{
	TypeIntakeRegistered:   {"case_id", "station", "mother_case_id"},
	TypeEligibilityDecided: {"eligible", "assist_first"},
	TypeSecurityChecked:    {"refused"},
	TypeSettlementRecorded: {"stage"},
	TypeTransferRequested:  {"from", "to"},
	TypeTransferAccepted:   {"from", "to"},
	TypeTransferDeclined:   {"from", "to"},
	TypeEscortDeparted:     {"from", "to"},
	TypeHandedOver:         {"from", "to"},
}

// fieldCatalog is, per correctable case event type, the Go type of every
// field a correction may name: each leaf JSON path of the payload (nested
// objects are walked, embedded structs flattened; arrays, dates, times and
// IDs are whole values) and occurred_at.
var fieldCatalog = sync.OnceValue(func() map[string]map[string]reflect.Type {
	out := map[string]map[string]reflect.Type{}
	for name, t := range Events.types {
		if !strings.HasPrefix(name, "case.") || name == TypeCorrected || name == TypePersonalDataErased {
			continue
		}
		ev, err := t.decode([]byte("{}"))
		if err != nil {
			continue
		}
		fields := map[string]reflect.Type{OccurredAtField: reflect.TypeFor[time.Time]()}
		jsonPaths(reflect.TypeOf(ev), "", fields)
		for _, f := range notCorrectable[name] {
			delete(fields, f)
		}
		out[name] = fields
	}
	return out
})

var (
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
)

// jsonPaths adds the leaf JSON paths of struct type t below prefix.
func jsonPaths(t reflect.Type, prefix string, out map[string]reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		ft := f.Type
		leaf := ft.Kind() != reflect.Struct || ft.Implements(textMarshaler) || ft.Implements(jsonMarshaler)
		switch {
		case f.Anonymous && name == "" && !leaf:
			jsonPaths(ft, prefix, out)
		case !leaf:
			if name == "" {
				name = f.Name
			}
			jsonPaths(ft, prefix+name+".", out)
		default:
			if name == "" {
				name = f.Name
			}
			out[prefix+name] = ft
		}
	}
}

// fieldTextKinds is, per correctable case event type, the text kind
// (TextKind, from the field's text tag) of each field of the catalog
// that holds text or a list of text, so that a correction's new value is
// cleaned and bounded as the step's own value was.
var fieldTextKinds = sync.OnceValue(func() map[string]map[string]TextKind {
	out := map[string]map[string]TextKind{}
	for name, fields := range fieldCatalog() {
		ev, err := Events.types[name].decode([]byte("{}"))
		if err != nil {
			continue
		}
		kinds := map[string]TextKind{}
		textPaths(reflect.TypeOf(ev), "", kinds)
		for f := range kinds {
			if _, ok := fields[f]; !ok {
				delete(kinds, f)
			}
		}
		out[name] = kinds
	}
	return out
})

// textPaths adds the text kinds of the plain string and []string leaves
// of struct type t below prefix, walked as jsonPaths walks them.
func textPaths(t reflect.Type, prefix string, out map[string]TextKind) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		ft := f.Type
		leaf := ft.Kind() != reflect.Struct || ft.Implements(textMarshaler) || ft.Implements(jsonMarshaler)
		switch {
		case f.Anonymous && !leaf:
			textPaths(ft, prefix, out)
		case !leaf:
			textPaths(ft, prefix+name+".", out)
		case ft == reflect.TypeFor[string]() || ft == reflect.TypeFor[[]string]():
			if k, ok := TextKindOf(f.Tag.Get("text")); ok {
				out[prefix+name] = k
			}
		}
	}
}

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

// CorrectableFields returns every field a correction may name, sorted: the
// union over case event types of their correctable fields.
func CorrectableFields() []string {
	seen := map[string]bool{}
	for _, fields := range fieldCatalog() {
		for f := range fields {
			seen[f] = true
		}
	}
	out := make([]string, 0, len(seen))
	for f := range seen {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// CorrectableFieldsOf returns the fields a correction of an event of stored
// type eventType may name, sorted (none for a type that is not corrected).
func CorrectableFieldsOf(eventType string) []string {
	fields := fieldCatalog()[eventType]
	out := make([]string, 0, len(fields))
	for f := range fields {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// correctableAnywhere reports whether some case event type has field.
func correctableAnywhere(field string) bool {
	for _, fields := range fieldCatalog() {
		if _, ok := fields[field]; ok {
			return true
		}
	}
	return false
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
		return nil, Violation(RulePersonalDataErased, "the person's personal data was erased; a correction would record personal data again (its reason, and the values of most fields)")
	}
	typ, ok := c.EventType(v.EventID)
	if !ok {
		return nil, Violation(RuleCorrectionUnknownEvent, "the case has no such event")
	}
	field := canonicalField(typ, v.Field)
	ft, ok := fieldCatalog()[typ][field]
	if !ok {
		return nil, Violation(RuleCorrectionFieldNotInEvent, "that event does not record the field, or the field is not corrected")
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
	if kind, ok := fieldTextKinds()[typ][field]; ok {
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
		d := c
		d.retime(typ, v.EventID, occurred, v.New)
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
			d := applyCorrection(c, Corrected{EventID: v.EventID, CorrectedType: typ, Field: field, Old: v.Old, New: v.New})
			if err := keepsRules(c, d, v.EventID, cur.Interface().(time.Time), nv.Interface().(time.Time)); err != nil {
				return nil, err
			}
		}
	}
	return one(Corrected{EventID: v.EventID, CorrectedType: typ, Field: field, Old: compact(v.Old), New: compact(v.New), Reason: v.Reason})
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

// Verified person fields: the bits of Case.verified, set when the identity
// verification gave the field, after which the intake's value no longer
// determines the person.
const (
	verifiedName uint8 = 1 << iota
	verifiedIDNumber
	verifiedBirthDate
	verifiedHukouPlace
)

// setByVerification reports whether the intake's person field f no longer
// determines the person because the identity verification gave it.
func (c Case) setByVerification(f string) bool {
	switch f {
	case "person.name":
		return c.verified&verifiedName != 0
	case "person.id_number", "person.id_type":
		return c.verified&verifiedIDNumber != 0
	case "person.birth_date", "person.estimated_age", "person.age_estimated_on":
		return c.verified&verifiedBirthDate != 0
	case "person.hukou_place":
		return c.verified&verifiedHukouPlace != 0
	}
	return false
}

// nthOfType returns how many events of type typ the case has before event
// id (so the index of id's entry in a list built one per event of typ), and
// whether id is the latest event of its type.
func (c Case) nthOfType(typ string, id uuid.UUID) (n int, latest bool) {
	_, codes := eventTypes()
	code := codes[typ]
	found := false
	latest = true
	for _, e := range c.events {
		if e.typ != code || code == 0 {
			continue
		}
		switch {
		case e.id == id:
			found = true
		case found:
			latest = false
		default:
			n++
		}
	}
	return n, latest && found
}

// replace sets *p to new when *p is still old: the corrected event's value
// still determines that part of the state.
func replace[T any](p *T, old, new json.RawMessage) {
	var o, n T
	if json.Unmarshal(old, &o) != nil || json.Unmarshal(new, &n) != nil {
		return
	}
	if sameValue(reflect.ValueOf(*p), reflect.ValueOf(o)) {
		*p = n
	}
}

// applyCorrection folds correction e into c, where the corrected field
// still determines the state: the person, referral and inspection of the
// intake (a person field the identity verification gave is the
// verification's to correct), the verified details, the times of steps
// (occurred_at), the stay limit, deposited and returned belongings, the
// death and its checklist, police reports, the transfer's reason,
// guardianship, long stay, medical care and the DNA result. A part of the
// state that a later event has set again keeps that event's value. A value
// that does not decode leaves c as it was (the decider refuses such
// corrections before they are stored).
func applyCorrection(c Case, e Corrected) Case {
	typ := e.CorrectedType
	if typ == "" {
		typ, _ = c.EventType(e.EventID)
	}
	field := canonicalField(typ, e.Field)
	d := c
	if field == OccurredAtField {
		d.retime(typ, e.EventID, e.Old, e.New)
		return d
	}
	nth, latest := c.nthOfType(typ, e.EventID)
	switch typ {
	case TypeIntakeRegistered:
		if !strings.HasPrefix(field, "person.") && !strings.HasPrefix(field, "referral.") && !strings.HasPrefix(field, "inspection.") {
			return c
		}
		if c.setByVerification(field) {
			return c
		}
		var s, t struct {
			Person     Person     `json:"person"`
			Referral   Referral   `json:"referral"`
			Inspection Inspection `json:"inspection"`
		}
		s.Person, s.Referral, s.Inspection = c.Person, c.Referral, c.Inspection
		var doc map[string]any
		var nv any
		if json.Unmarshal(rawOf(s), &doc) != nil || json.Unmarshal(e.New, &nv) != nil {
			return c
		}
		setPath(doc, field, nv)
		if json.Unmarshal(rawOf(doc), &t) != nil {
			return c
		}
		d.Person, d.Referral, d.Inspection = t.Person, t.Referral, t.Inspection
		if field == "person.birth_date" && !d.Person.BirthDate.IsZero() {
			d.Person.EstimatedAge = nil
		}
	case TypeIdentityVerified:
		switch field {
		case "method":
			replace(&d.Identity.Method, e.Old, e.New)
		case "name":
			replace(&d.Person.Name, e.Old, e.New)
		case "id_type":
			replace(&d.Person.IDType, e.Old, e.New)
		case "id_number":
			replace(&d.Person.IDNumber, e.Old, e.New)
		case "hukou_place":
			replace(&d.Person.HukouPlace, e.Old, e.New)
		case "birth_date":
			replace(&d.Person.BirthDate, e.Old, e.New)
			if !d.Person.BirthDate.IsZero() {
				d.Person.EstimatedAge = nil
			}
		}
	case TypeStayExtended:
		if field == "until" && latest {
			replace(&d.StayLimit, e.Old, e.New)
		}
		if field == "until" && nth == 0 {
			replace(&d.firstLimit, e.Old, e.New)
		}
	case TypeBelongingsDeposited, TypeBelongingsReturned:
		if field == "items" {
			d.Belongings = correctBelongings(c.Belongings, typ, e.Old, e.New)
		}
	case TypeDied, TypeDeathChecklistUpdated:
		if c.Death == nil {
			return c
		}
		death := *c.Death
		switch field {
		case "place":
			replace(&death.Place, e.Old, e.New)
		case "certified_by":
			replace(&death.CertifiedBy, e.Old, e.New)
		case "police_notified":
			replace(&death.PoliceNotified, e.Old, e.New)
		case "relatives_notified":
			replace(&death.RelativesNotified, e.Old, e.New)
		case "public_notice":
			replace(&death.PublicNotice, e.Old, e.New)
		case "body_disposition":
			replace(&death.BodyDisposition, e.Old, e.New)
		}
		d.Death = &death
	case TypePoliceReportFiled:
		if nth < len(c.PoliceReports) {
			reports := slices.Clone(c.PoliceReports)
			switch field {
			case "reason":
				replace(&reports[nth].Reason, e.Old, e.New)
			case "report_no":
				replace(&reports[nth].ReportNo, e.Old, e.New)
			}
			d.PoliceReports = reports
		}
	case TypeTransferRequested:
		if field == "reason" && latest && c.Transfer != nil {
			t := *c.Transfer
			replace(&t.Reason, e.Old, e.New)
			d.Transfer = &t
		}
	case TypeGuardianshipTaken:
		if c.Guardianship != nil {
			g := *c.Guardianship
			switch field {
			case "basis":
				replace(&g.Basis, e.Old, e.New)
			case "guardian":
				replace(&g.Guardian, e.Old, e.New)
			}
			d.Guardianship = &g
		}
	case TypeLongStayStarted:
		if field == "kind" && latest && c.LongStay != nil {
			l := *c.LongStay
			replace(&l.Kind, e.Old, e.New)
			d.LongStay = &l
		}
	case TypeMedicalReferred, TypeHospitalAdmitted:
		if field == "hospital" && latest {
			replace(&d.Medical.Hospital, e.Old, e.New)
		}
	case TypeDNAResultReceived:
		if field == "matched" && latest {
			replace(&d.Identity.DNAMatched, e.Old, e.New)
		}
	}
	return d
}

// correctBelongings returns the belongings after a correction of the items
// of a deposit (each old item is replaced by the new one at its place, or
// removed, and new ones added) or of a return (the old items are no longer
// returned, the new ones are).
func correctBelongings(b []Belonging, typ string, old, new json.RawMessage) []Belonging {
	b = slices.Clone(b)
	if typ == TypeBelongingsReturned {
		var o, n []string
		if json.Unmarshal(old, &o) != nil || json.Unmarshal(new, &n) != nil {
			return b
		}
		for _, name := range o {
			for i := len(b) - 1; i >= 0; i-- {
				if b[i].Item == name && b[i].Returned {
					b[i].Returned = false
					break
				}
			}
		}
		for _, name := range n {
			for i := range b {
				if b[i].Item == name && !b[i].Returned {
					b[i].Returned = true
					break
				}
			}
		}
		return b
	}
	var o, n []Item
	if json.Unmarshal(old, &o) != nil || json.Unmarshal(new, &n) != nil {
		return b
	}
	for i, it := range o {
		j := slices.IndexFunc(b, func(x Belonging) bool { return x.Item == it.Item && x.Qty == it.Qty })
		if j < 0 {
			continue
		}
		if i < len(n) {
			b[j].Item, b[j].Qty = n[i].Item, n[i].Qty
		} else {
			b = slices.Delete(b, j, j+1)
		}
	}
	for i := len(o); i < len(n); i++ {
		b = append(b, Belonging{Item: n[i].Item, Qty: n[i].Qty})
	}
	return b
}

// latestStepTime returns the time of the state that the latest event of
// type typ sets, for the identity and medical steps that may happen more
// than once; nil for any other type.
func (c *Case) latestStepTime(typ string) *time.Time {
	switch typ {
	case TypeIdentityQueried:
		return &c.Identity.LastQueryAt
	case TypeFamilySearchNoticePosted:
		return &c.Identity.NoticeAt
	case TypeDNARequested:
		return &c.Identity.DNARequestedAt
	case TypeDNAResultReceived:
		return &c.Identity.DNAResultAt
	case TypeRelativesContacted:
		return &c.Identity.RelativesContactedAt
	case TypeMedicalReferred:
		return &c.Medical.ReferredAt
	case TypeHospitalAdmitted:
		return &c.Medical.AdmittedAt
	case TypeHospitalDischarged:
		return &c.Medical.DischargedAt
	case TypeMedicalReturned:
		return &c.Medical.ReturnedAt
	}
	return nil
}

// lateTypes is the stored types of late paperwork (see lateEvent).
var lateTypes = map[string]bool{
	TypeCorrected: true, TypePoliceReportFiled: true, TypeBelongingsReturned: true,
	TypeDeathChecklistUpdated: true, TypeCaseClosed: true, TypePersonalDataErased: true,
}

// late reports whether e is late paperwork (see lateEvent).
func (e caseEvent) late() bool {
	names, _ := eventTypes()
	return e.typ != 0 && lateTypes[names[e.typ]]
}

// follows maps a stored type to the type of the step it follows: the
// deciders refuse it before the latest event of that type (a DNA result
// before its request, an admission before the referral, a discharge before
// the admission, a return before the discharge, an acceptance or a decline
// before the transfer request, the escort's departure before the
// acceptance, the handover before the departure).
var follows = map[string]string{
	TypeDNAResultReceived:  TypeDNARequested,
	TypeHospitalAdmitted:   TypeMedicalReferred,
	TypeHospitalDischarged: TypeHospitalAdmitted,
	TypeMedicalReturned:    TypeHospitalDischarged,
	TypeTransferAccepted:   TypeTransferRequested,
	TypeTransferDeclined:   TypeTransferRequested,
	TypeEscortDeparted:     TypeTransferAccepted,
	TypeHandedOver:         TypeEscortDeparted,
}

// stepFollowed returns the index in c.events of the step that event i
// follows, which the deciders refuse it before: for a closure the exit, for
// a type in follows the latest event of the followed type before it; -1
// when there is none.
func (c Case) stepFollowed(i int) int {
	names, codes := eventTypes()
	typ := names[c.events[i].typ]
	if typ == TypeCaseClosed {
		for j := i - 1; j >= 0; j-- {
			if c.events[j].exit {
				return j
			}
		}
		return -1
	}
	prev, ok := follows[typ]
	if !ok || c.events[i].typ == 0 {
		return -1
	}
	for j := i - 1; j >= 0; j-- {
		if c.events[j].typ == codes[prev] {
			return j
		}
	}
	return -1
}

// checkStepOrder refuses a correction that moves when the case's event id
// happened to t, where the step would then break the order that the
// deciders enforce when a step is recorded:
//   - no step before the intake (rule occurred_before_case_began), and so
//     the intake after no other event of the case, late paperwork included
//     (rule occurred_after_next_step);
//   - an exit (a leave, pickup, escorted return, absconding, termination,
//     death, settlement, refused eligibility or security check) before no
//     earlier step, and so no step after the exit that follows it, late
//     paperwork aside (it may be recorded after the person left);
//   - a step before none of the steps it follows (a DNA result its request,
//     an admission the referral, a discharge the admission, a return the
//     discharge, an acceptance or a decline the transfer request, the
//     escort's departure the acceptance, the handover the departure, a
//     closure the exit), and so after none of the steps that follow it.
//
// A step moved earlier than an earlier bound breaks rule
// occurred_before_previous_step, later than a later bound rule
// occurred_after_next_step. Other steps are not ordered among themselves:
// the deciders take them in any order of time, as staff catch up on
// paperwork.
func (c Case) checkStepOrder(id uuid.UUID, t time.Time) error {
	i := slices.IndexFunc(c.events, func(e caseEvent) bool { return e.id == id })
	if i < 0 {
		return Internal(nil, "the corrected event is not in the case")
	}
	names, codes := eventTypes()
	e := c.events[i]
	name := func(j int) string { return names[c.events[j].typ] }
	before := func(j int) error {
		return Violation(RuleOccurredBeforePreviousStep, "the step cannot have happened before the earlier step %s", name(j))
	}
	after := func(j int) error {
		return Violation(RuleOccurredAfterNextStep, "the step cannot have happened after the later step %s", name(j))
	}
	if e.typ == codes[TypeIntakeRegistered] {
		for j := range c.events {
			if j != i && t.After(c.events[j].at()) {
				return after(j)
			}
		}
		return nil
	}
	if t.Before(c.OpenedAt) {
		return Violation(RuleOccurredBeforeCaseBegan, "the step cannot have happened before the case began")
	}
	if e.exit {
		for j := range i {
			if !c.events[j].late() && t.Before(c.events[j].at()) {
				return before(j)
			}
		}
	}
	if j := c.stepFollowed(i); j >= 0 && t.Before(c.events[j].at()) {
		return before(j)
	}
	for j := i + 1; j < len(c.events); j++ {
		later := c.events[j]
		if ((later.exit && !e.late()) || c.stepFollowed(j) == i) && t.After(later.at()) {
			return after(j)
		}
	}
	return nil
}

// retime folds a correction of when event id, of type typ, happened: each
// time of the state that the event set and that no later event has set
// again moves from old to new, and so does the event's own time; the
// latest step's time is then the latest of the steps' times, late
// paperwork aside, so it moves earlier when the latest step does.
func (c *Case) retime(typ string, id uuid.UUID, oldRaw, newRaw json.RawMessage) {
	var old, now time.Time
	if json.Unmarshal(oldRaw, &old) != nil || json.Unmarshal(newRaw, &now) != nil {
		return
	}
	if i := slices.IndexFunc(c.events, func(e caseEvent) bool { return e.id == id }); i >= 0 {
		// A copy: an earlier state may share the list.
		c.events = slices.Clone(c.events)
		c.events[i].setAt(now)
	}
	move := func(p *time.Time) {
		if p.Equal(old) {
			*p = now
		}
	}
	nth, latest := c.nthOfType(typ, id)
	exitTime := func() {
		if c.Status.Ended() || c.Status == StatusClosed {
			move(&c.ExitedAt)
		}
	}
	switch typ {
	case TypeIntakeRegistered:
		move(&c.OpenedAt)
	case TypeEligibilityDecided:
		move(&c.Eligibility.At)
		if c.ExitType == ExitNotEligible {
			move(&c.ExitedAt)
		}
	case TypeSecurityChecked:
		move(&c.SecurityCheck.At)
		if c.ExitType == ExitSecurityCheckRefused {
			move(&c.ExitedAt)
		}
	case TypeIdentityVerified:
		move(&c.Identity.VerifiedAt)
	case TypeLongStayStarted:
		if c.LongStay != nil && latest {
			l := *c.LongStay
			move(&l.Since)
			c.LongStay = &l
		}
	case TypeSettlementRecorded:
		if c.Settlement != nil {
			s := *c.Settlement
			move(&s.AppliedAt)
			move(&s.SettledAt)
			c.Settlement = &s
		}
		if c.ExitType == ExitSettlement {
			move(&c.ExitedAt)
		}
	case TypeGuardianshipTaken:
		if c.Guardianship != nil {
			g := *c.Guardianship
			move(&g.Since)
			c.Guardianship = &g
		}
	case TypePoliceReportFiled:
		if nth < len(c.PoliceReports) {
			r := slices.Clone(c.PoliceReports)
			move(&r[nth].At)
			c.PoliceReports = r
		}
	case TypeTransferRequested, TypeTransferAccepted, TypeEscortDeparted:
		if c.Transfer != nil && latest {
			t := *c.Transfer
			switch typ {
			case TypeTransferRequested:
				move(&t.RequestedAt)
			case TypeTransferAccepted:
				move(&t.AcceptedAt)
			default:
				move(&t.DepartedAt)
			}
			c.Transfer = &t
		}
	case TypeHandedOver:
		if nth < len(c.Handovers) {
			h := slices.Clone(c.Handovers)
			move(&h[nth].At)
			c.Handovers = h
		}
	case TypeLeftVoluntarily, TypePickedUp, TypeEscortedReturn, TypeAbsconded, TypeTerminated:
		exitTime()
	case TypeDied:
		exitTime()
		if c.Death != nil {
			d := *c.Death
			move(&d.At)
			c.Death = &d
		}
	case TypeCaseClosed:
		move(&c.ClosedAt)
	default:
		if p := c.latestStepTime(typ); p != nil && latest {
			move(p)
		}
	}
	if c.ReleaseDue != nil && c.ReleaseDue.Cause == id {
		r := *c.ReleaseDue
		move(&r.At)
		c.ReleaseDue = &r
	}
	c.lastStepAt = time.Time{}
	for _, e := range c.events {
		if at := e.at(); !e.late() && at.After(c.lastStepAt) {
			c.lastStepAt = at
		}
	}
}
