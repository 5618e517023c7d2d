package domain

import (
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Hand-written payload decoders for the event types a projection folds most
// often. Each one takes the documents that Encode writes (an object of
// known keys, each once, holding plain strings, booleans, integers, nested
// objects and arrays) and reports false for anything else: escapes, nulls,
// floats, unknown or differently cased keys, repeated keys, invalid UTF-8.
// The caller then decodes with encoding/json, whose result a fast decoder
// always equals when it reports true (FuzzFastDecodeEqualsEncodingJSON).

// fastDecoders maps stored names to their fast decoders. Types that are
// rare or hold raw JSON (corrections, deaths, stations, tokens) have none.
var fastDecoders = map[string]func([]byte) (Event, bool){
	TypeIntakeRegistered:         fastIntakeRegistered,
	TypeEligibilityDecided:       fastEligibilityDecided,
	TypeSecurityChecked:          fastSecurityChecked,
	TypeBelongingsDeposited:      fastBelongingsDeposited,
	TypeBelongingsReturned:       fastBelongingsReturned,
	TypeIdentityQueried:          fastIdentityQueried,
	TypeIdentityVerified:         fastIdentityVerified,
	TypeFamilySearchNoticePosted: fastFamilySearchNoticePublished,
	TypeDNARequested:             fastDNARequested,
	TypeDNAResultReceived:        fastDNAResultReceived,
	TypeRelativesContacted:       fastRelativesContacted,
	TypeMedicalReferred:          fastMedicalReferred,
	TypeHospitalAdmitted:         fastHospitalAdmitted,
	TypeHospitalDischarged:       fastHospitalDischarged,
	TypeMedicalReturned:          fastMedicalReturned,
	TypeStayExtended:             fastStayExtended,
	TypeLongStayStarted:          fastLongStayStarted,
	TypeSettlementRecorded:       fastSettlementRecorded,
	TypeGuardianshipTaken:        fastGuardianshipTaken,
	TypeTransferRequested:        fastTransferRequested,
	TypeTransferAccepted:         fastTransferAccepted,
	TypeEscortDeparted:           fastEscortDeparted,
	TypeHandedOver:               fastHandedOver,
	TypeLeftVoluntarily:          fastLeftVoluntarily,
	TypePickedUp:                 fastPickedUp,
	TypeEscortedReturn:           fastEscortedReturn,
	TypeAbsconded:                fastAbsconded,
	TypeCaseClosed:               fastCaseClosed,
	TypeBedAssigned:              fastBedAssigned,
	TypeBedReleased:              fastBedReleased,
}

// scan reads one JSON document; i is the next byte to read.
type scan struct {
	b []byte
	i int
}

func (s *scan) space() { s.i = skipSpace(s.b, s.i) }

// object walks the keys of one JSON object. Each call of next moves s to
// the next key's value (after the previous value was read), or past the
// closing brace, where ok reports a well-formed object. A key that appears
// twice ends the walk with ok false.
type object struct {
	keys    [16][]byte
	n       int
	key     []byte
	started bool
	ok      bool
}

func (o *object) next(s *scan) bool {
	s.space()
	if !o.started {
		o.started = true
		if s.i >= len(s.b) || s.b[s.i] != '{' {
			return false
		}
		s.i++
		s.space()
		if s.i < len(s.b) && s.b[s.i] == '}' {
			s.i++
			o.ok = true
			return false
		}
	} else {
		if s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case '}':
			s.i++
			o.ok = true
			return false
		case ',':
			s.i++
			s.space()
		default:
			return false
		}
	}
	key, next, ok := plainString(s.b, s.i)
	if !ok || o.n == len(o.keys) {
		return false
	}
	for _, k := range o.keys[:o.n] {
		if string(k) == string(key) {
			return false
		}
	}
	o.keys[o.n] = key
	o.n++
	s.i = skipSpace(s.b, next)
	if s.i >= len(s.b) || s.b[s.i] != ':' {
		return false
	}
	s.i = skipSpace(s.b, s.i+1)
	o.key = key
	return true
}

// elements walks the elements of one JSON array like object walks keys; empty
// reports an empty array, for which encoding/json makes an empty, non-nil
// slice.
type elements struct {
	started bool
	ok      bool
	empty   bool
}

func (l *elements) next(s *scan) bool {
	s.space()
	if !l.started {
		l.started = true
		if s.i >= len(s.b) || s.b[s.i] != '[' {
			return false
		}
		s.i++
		s.space()
		if s.i < len(s.b) && s.b[s.i] == ']' {
			s.i++
			l.ok, l.empty = true, true
			return false
		}
		return true
	}
	if s.i >= len(s.b) {
		return false
	}
	switch s.b[s.i] {
	case ']':
		s.i++
		l.ok = true
		return false
	case ',':
		s.i++
		s.space()
		return true
	}
	return false
}

// text reads a string without escapes or control characters, in valid
// UTF-8, and returns its contents.
func (s *scan) text() ([]byte, bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	ascii := true
	for j := s.i + 1; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			v := s.b[s.i+1 : j]
			if !ascii && !utf8.Valid(v) {
				return nil, false
			}
			s.i = j + 1
			return v, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= 0x80:
			ascii = false
		}
	}
	return nil, false
}

// str reads a string into p.
func str[T ~string](s *scan, p *T) bool {
	v, ok := s.text()
	if ok {
		*p = T(internString(v))
	}
	return ok
}

// token reads a string into p that is one of few values shared by many
// events (a zone, a bed, a station code, a channel), keeping one copy of
// each. Personal data never goes through here: the table outlives erasure.
func token[T ~string](s *scan, p *T) bool {
	v, ok := s.text()
	if ok {
		*p = T(tokens.get(v))
	}
	return ok
}

// tokens holds the shared strings of token, up to maxTokens of them.
var tokens tokenTable

const maxTokens = 4096

type tokenTable struct {
	mu sync.RWMutex
	m  map[string]string // guarded by mu
}

func (t *tokenTable) get(b []byte) string {
	t.mu.RLock()
	v, ok := t.m[string(b)]
	t.mu.RUnlock()
	if ok {
		return v
	}
	v = string(b)
	t.mu.Lock()
	if t.m == nil {
		t.m = map[string]string{}
	}
	if len(t.m) < maxTokens {
		t.m[v] = v
	}
	t.mu.Unlock()
	return v
}

func (s *scan) boolean(p *bool) bool {
	switch {
	case len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "true":
		*p = true
		s.i += 4
	case len(s.b)-s.i >= 5 && string(s.b[s.i:s.i+5]) == "false":
		*p = false
		s.i += 5
	default:
		return false
	}
	return true
}

// integer reads a JSON number without fraction or exponent that fits an
// int.
func (s *scan) integer(p *int) bool {
	j := s.i
	if j < len(s.b) && s.b[j] == '-' {
		j++
	}
	start := j
	for j < len(s.b) && s.b[j] >= '0' && s.b[j] <= '9' {
		j++
	}
	if j == start || (s.b[start] == '0' && j-start > 1) || (j < len(s.b) && (s.b[j] == '.' || s.b[j] == 'e' || s.b[j] == 'E')) {
		return false
	}
	n, err := strconv.Atoi(string(s.b[s.i:j]))
	if err != nil {
		return false
	}
	*p = n
	s.i = j
	return true
}

func (s *scan) id(p *uuid.UUID) bool {
	v, ok := s.text()
	if !ok {
		return false
	}
	id, err := uuid.ParseBytes(v)
	if err != nil {
		return false
	}
	*p = id
	return true
}

func (s *scan) time(p *time.Time) bool {
	v, ok := s.text()
	return ok && p.UnmarshalText(v) == nil
}

func (s *scan) date(p *Date) bool {
	v, ok := s.text()
	return ok && p.UnmarshalText(v) == nil
}

func (s *scan) boolPtr(p **bool) bool {
	var v bool
	if !s.boolean(&v) {
		return false
	}
	*p = &v
	return true
}

func (s *scan) intPtr(p **int) bool {
	var v int
	if !s.integer(&v) {
		return false
	}
	*p = &v
	return true
}

func (s *scan) strings(p *[]string) bool {
	var l elements
	for l.next(s) {
		var v string
		if !str(s, &v) {
			return false
		}
		*p = append(*p, v)
	}
	if l.empty {
		*p = []string{}
	}
	return l.ok
}

func (s *scan) items(p *[]Item) bool {
	var l elements
	for l.next(s) {
		var v Item
		if !s.item(&v) {
			return false
		}
		*p = append(*p, v)
	}
	if l.empty {
		*p = []Item{}
	}
	return l.ok
}

func (s *scan) contacts(p *[]Contact) bool {
	var l elements
	for l.next(s) {
		var v Contact
		if !s.contact(&v) {
			return false
		}
		*p = append(*p, v)
	}
	if l.empty {
		*p = []Contact{}
	}
	return l.ok
}

func fastIntakeRegistered(b []byte) (Event, bool) {
	var e IntakeRegistered
	s := &scan{b: b}
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "case_id":
			ok = s.id(&e.CaseID)
		case "station":
			ok = token(s, &e.Station)
		case "referral":
			ok = s.referral(&e.Referral)
		case "person":
			ok = s.person(&e.Person)
		case "inspection":
			ok = s.inspection(&e.Inspection)
		case "mother_case_id":
			ok = s.id(&e.MotherCaseID)
		case "notes":
			ok = str(s, &e.Notes)
		}
		if !ok {
			return nil, false
		}
	}
	if !o.ok || skipSpace(b, s.i) != len(b) {
		return nil, false
	}
	return e, true
}

func fastEligibilityDecided(b []byte) (Event, bool) {
	var e EligibilityDecided
	s := &scan{b: b}
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "eligible":
			ok = s.boolean(&e.Eligible)
		case "assist_first":
			ok = s.boolean(&e.AssistFirst)
		case "reason":
			ok = str(s, &e.Reason)
		case "notice_no":
			ok = str(s, &e.NoticeNo)
		case "notes":
			ok = str(s, &e.Notes)
		}
		if !ok {
			return nil, false
		}
	}
	if !o.ok || skipSpace(b, s.i) != len(b) {
		return nil, false
	}
	return e, true
}

func fastSecurityChecked(b []byte) (Event, bool) {
	var e SecurityChecked
	s := &scan{b: b}
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "checked_by":
			ok = s.checker(&e.CheckedBy)
		case "refused":
			ok = s.boolean(&e.Refused)
		case "items_to_police":
			ok = s.strings(&e.ItemsToPolice)
		case "notes":
			ok = str(s, &e.Notes)
		}
		if !ok {
			return nil, false
		}
	}
	if !o.ok || skipSpace(b, s.i) != len(b) {
		return nil, false
	}
	return e, true
}

func fastBelongingsDeposited(b []byte) (Event, bool) {
	var e BelongingsDeposited
	s := &scan{b: b}
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "items":
			ok = s.items(&e.Items)
		case "notes":
			ok = str(s, &e.Notes)
		}
		if !ok {
			return nil, false
		}
	}
	if !o.ok || skipSpace(b, s.i) != len(b) {
		return nil, false
	}
	return e, true
}

func fastBelongingsReturned(b []byte) (Event, bool) {
	var e BelongingsReturned
	s := &scan{b: b}
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "items":
			ok = s.strings(&e.Items)
		case "notes":
			ok = str(s, &e.Notes)
		}
		if !ok {
			return nil, false
		}
	}
	if !o.ok || skipSpace(b, s.i) != len(b) {
		return nil, false
	}
	return e, true
}

func fastIdentityQueried(b []byte) (Event, bool) {
	var e IdentityQueried
	s := &scan{b: b}
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "channel":
			ok = token(s, &e.Channel)
		case "result":
			ok = token(s, &e.Result)
		case "reference":
			ok = str(s, &e.Reference)
		case "notes":
			ok = str(s, &e.Notes)
		}
		if !ok {
			return nil, false
		}
	}
	if !o.ok || skipSpace(b, s.i) != len(b) {
		return nil, false
	}
	return e, true
}

func fastIdentityVerified(b []byte) (Event, bool) {
	var e IdentityVerified
	s := &scan{b: b}
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "method":
			ok = token(s, &e.Method)
		case "name":
			ok = str(s, &e.Name)
		case "id_type":
			ok = token(s, &e.IDType)
		case "id_number":
			ok = str(s, &e.IDNumber)
		case "birth_date":
			ok = s.date(&e.BirthDate)
		case "hukou_place":
			ok = str(s, &e.HukouPlace)
		case "reference":
			ok = str(s, &e.Reference)
		case "notes":
			ok = str(s, &e.Notes)
		}
		if !ok {
			return nil, false
		}
	}
	if !o.ok || skipSpace(b, s.i) != len(b) {
		return nil, false
	}
	return e, true
}

func fastFamilySearchNoticePublished(b []byte) (Event, bool) {
	var e FamilySearchNoticePublished
	s := &scan{b: b}
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "channel":
			ok = token(s, &e.Channel)
		case "reference":
			ok = str(s, &e.Reference)
		case "notes":
			ok = str(s, &e.Notes)
		}
		if !ok {
			return nil, false
		}
	}
	if !o.ok || skipSpace(b, s.i) != len(b) {
		return nil, false
	}
	return e, true
}

func fastDNARequested(b []byte) (Event, bool) {
	var e DNARequested
	s := &scan{b: b}
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "sample_ref":
			ok = str(s, &e.SampleRef)
		case "lab":
			ok = token(s, &e.Lab)
		case "notes":
			ok = str(s, &e.Notes)
		}
		if !ok {
			return nil, false
		}
	}
	if !o.ok || skipSpace(b, s.i) != len(b) {
		return nil, false
	}
	return e, true
}

func fastDNAResultReceived(b []byte) (Event, bool) {
	var e DNAResultReceived
	s := &scan{b: b}
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "matched":
			ok = s.boolean(&e.Matched)
		case "reference":
			ok = str(s, &e.Reference)
		case "notes":
			ok = str(s, &e.Notes)
		}
		if !ok {
			return nil, false
		}
	}
	if !o.ok || skipSpace(b, s.i) != len(b) {
		return nil, false
	}
	return e, true
}

func fastRelativesContacted(b []byte) (Event, bool) {
	var e RelativesContacted
	s := &scan{b: b}
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "relationship":
			ok = token(s, &e.Relationship)
		case "channel":
			ok = token(s, &e.Channel)
		case "outcome":
			ok = token(s, &e.Outcome)
		case "notes":
			ok = str(s, &e.Notes)
		}
		if !ok {
			return nil, false
		}
	}
	if !o.ok || skipSpace(b, s.i) != len(b) {
		return nil, false
	}
	return e, true
}

func fastMedicalReferred(b []byte) (Event, bool) {
	var e MedicalReferred
	s := &scan{b: b}
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "hospital":
			ok = token(s, &e.Hospital)
		case "reason":
			ok = str(s, &e.Reason)
		case "notes":
			ok = str(s, &e.Notes)
		}
		if !ok {
			return nil, false
		}
	}
	if !o.ok || skipSpace(b, s.i) != len(b) {
		return nil, false
	}
	return e, true
}

func fastHospitalAdmitted(b []byte) (Event, bool) {
	var e HospitalAdmitted
	s := &scan{b: b}
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "hospital":
			ok = token(s, &e.Hospital)
		case "notes":
			ok = str(s, &e.Notes)
		}
		if !ok {
			return nil, false
		}
	}
	if !o.ok || skipSpace(b, s.i) != len(b) {
		return nil, false
	}
	return e, true
}

func fastHospitalDischarged(b []byte) (Event, bool) {
	var e HospitalDischarged
	s := &scan{b: b}
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "hospital":
			ok = token(s, &e.Hospital)
		case "notes":
			ok = str(s, &e.Notes)
		}
		if !ok {
			return nil, false
		}
	}
	if !o.ok || skipSpace(b, s.i) != len(b) {
		return nil, false
	}
	return e, true
}

func fastMedicalReturned(b []byte) (Event, bool) {
	var e MedicalReturned
	s := &scan{b: b}
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "notes":
			ok = str(s, &e.Notes)
		}
		if !ok {
			return nil, false
		}
	}
	if !o.ok || skipSpace(b, s.i) != len(b) {
		return nil, false
	}
	return e, true
}

func fastStayExtended(b []byte) (Event, bool) {
	var e StayExtended
	s := &scan{b: b}
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "until":
			ok = s.time(&e.Until)
		case "approved_by":
			ok = str(s, &e.ApprovedBy)
		case "reason":
			ok = str(s, &e.Reason)
		case "notes":
			ok = str(s, &e.Notes)
		}
		if !ok {
			return nil, false
		}
	}
	if !o.ok || skipSpace(b, s.i) != len(b) {
		return nil, false
	}
	return e, true
}

func fastLongStayStarted(b []byte) (Event, bool) {
	var e LongStayStarted
	s := &scan{b: b}
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "kind":
			ok = token(s, &e.Kind)
		case "place":
			ok = str(s, &e.Place)
		case "notes":
			ok = str(s, &e.Notes)
		}
		if !ok {
			return nil, false
		}
	}
	if !o.ok || skipSpace(b, s.i) != len(b) {
		return nil, false
	}
	return e, true
}

func fastSettlementRecorded(b []byte) (Event, bool) {
	var e SettlementRecorded
	s := &scan{b: b}
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "stage":
			ok = token(s, &e.Stage)
		case "place":
			ok = str(s, &e.Place)
		case "reference":
			ok = str(s, &e.Reference)
		case "notes":
			ok = str(s, &e.Notes)
		}
		if !ok {
			return nil, false
		}
	}
	if !o.ok || skipSpace(b, s.i) != len(b) {
		return nil, false
	}
	return e, true
}

func fastGuardianshipTaken(b []byte) (Event, bool) {
	var e GuardianshipTaken
	s := &scan{b: b}
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "basis":
			ok = token(s, &e.Basis)
		case "guardian":
			ok = str(s, &e.Guardian)
		case "notes":
			ok = str(s, &e.Notes)
		}
		if !ok {
			return nil, false
		}
	}
	if !o.ok || skipSpace(b, s.i) != len(b) {
		return nil, false
	}
	return e, true
}

func fastTransferRequested(b []byte) (Event, bool) {
	var e TransferRequested
	s := &scan{b: b}
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "from":
			ok = token(s, &e.From)
		case "to":
			ok = token(s, &e.To)
		case "reason":
			ok = str(s, &e.Reason)
		case "notes":
			ok = str(s, &e.Notes)
		}
		if !ok {
			return nil, false
		}
	}
	if !o.ok || skipSpace(b, s.i) != len(b) {
		return nil, false
	}
	return e, true
}

func fastTransferAccepted(b []byte) (Event, bool) {
	var e TransferAccepted
	s := &scan{b: b}
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "from":
			ok = token(s, &e.From)
		case "to":
			ok = token(s, &e.To)
		case "notes":
			ok = str(s, &e.Notes)
		}
		if !ok {
			return nil, false
		}
	}
	if !o.ok || skipSpace(b, s.i) != len(b) {
		return nil, false
	}
	return e, true
}

func fastEscortDeparted(b []byte) (Event, bool) {
	var e EscortDeparted
	s := &scan{b: b}
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "from":
			ok = token(s, &e.From)
		case "to":
			ok = token(s, &e.To)
		case "escorts":
			ok = s.strings(&e.Escorts)
		case "transport":
			ok = token(s, &e.Transport)
		case "notes":
			ok = str(s, &e.Notes)
		}
		if !ok {
			return nil, false
		}
	}
	if !o.ok || skipSpace(b, s.i) != len(b) {
		return nil, false
	}
	return e, true
}

func fastHandedOver(b []byte) (Event, bool) {
	var e HandedOver
	s := &scan{b: b}
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "from":
			ok = token(s, &e.From)
		case "to":
			ok = token(s, &e.To)
		case "received_by":
			ok = str(s, &e.ReceivedBy)
		case "notes":
			ok = str(s, &e.Notes)
		}
		if !ok {
			return nil, false
		}
	}
	if !o.ok || skipSpace(b, s.i) != len(b) {
		return nil, false
	}
	return e, true
}

func fastLeftVoluntarily(b []byte) (Event, bool) {
	var e LeftVoluntarily
	s := &scan{b: b}
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "declaration_ref":
			ok = str(s, &e.DeclarationRef)
		case "cash_yuan":
			ok = s.integer(&e.CashYuan)
		case "receipt_ref":
			ok = str(s, &e.ReceiptRef)
		case "notes":
			ok = str(s, &e.Notes)
		}
		if !ok {
			return nil, false
		}
	}
	if !o.ok || skipSpace(b, s.i) != len(b) {
		return nil, false
	}
	return e, true
}

func fastPickedUp(b []byte) (Event, bool) {
	var e PickedUp
	s := &scan{b: b}
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "collector":
			ok = s.collector(&e.Collector)
		case "notes":
			ok = str(s, &e.Notes)
		}
		if !ok {
			return nil, false
		}
	}
	if !o.ok || skipSpace(b, s.i) != len(b) {
		return nil, false
	}
	return e, true
}

func fastEscortedReturn(b []byte) (Event, bool) {
	var e EscortedReturn
	s := &scan{b: b}
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "destination":
			ok = str(s, &e.Destination)
		case "escorts":
			ok = s.strings(&e.Escorts)
		case "transport":
			ok = token(s, &e.Transport)
		case "received_by":
			ok = str(s, &e.ReceivedBy)
		case "notes":
			ok = str(s, &e.Notes)
		}
		if !ok {
			return nil, false
		}
	}
	if !o.ok || skipSpace(b, s.i) != len(b) {
		return nil, false
	}
	return e, true
}

func fastAbsconded(b []byte) (Event, bool) {
	var e Absconded
	s := &scan{b: b}
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "last_seen":
			ok = str(s, &e.LastSeen)
		case "notes":
			ok = str(s, &e.Notes)
		}
		if !ok {
			return nil, false
		}
	}
	if !o.ok || skipSpace(b, s.i) != len(b) {
		return nil, false
	}
	return e, true
}

func fastCaseClosed(b []byte) (Event, bool) {
	var e CaseClosed
	s := &scan{b: b}
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "notes":
			ok = str(s, &e.Notes)
		}
		if !ok {
			return nil, false
		}
	}
	if !o.ok || skipSpace(b, s.i) != len(b) {
		return nil, false
	}
	return e, true
}

func fastBedAssigned(b []byte) (Event, bool) {
	var e BedAssigned
	s := &scan{b: b}
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "case_id":
			ok = s.id(&e.CaseID)
		case "zone":
			ok = token(s, &e.Zone)
		case "bed":
			ok = token(s, &e.Bed)
		case "mother_case_id":
			ok = s.id(&e.MotherCaseID)
		}
		if !ok {
			return nil, false
		}
	}
	if !o.ok || skipSpace(b, s.i) != len(b) {
		return nil, false
	}
	return e, true
}

func fastBedReleased(b []byte) (Event, bool) {
	var e BedReleased
	s := &scan{b: b}
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "case_id":
			ok = s.id(&e.CaseID)
		case "zone":
			ok = token(s, &e.Zone)
		case "bed":
			ok = token(s, &e.Bed)
		case "reason":
			ok = token(s, &e.Reason)
		case "cause":
			ok = s.id(&e.Cause)
		}
		if !ok {
			return nil, false
		}
	}
	if !o.ok || skipSpace(b, s.i) != len(b) {
		return nil, false
	}
	return e, true
}

func (s *scan) referral(p *Referral) bool {
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "source":
			ok = token(s, &p.Source)
		case "form_no":
			ok = str(s, &p.FormNo)
		case "referred_by":
			ok = str(s, &p.ReferredBy)
		case "found_at":
			ok = str(s, &p.FoundAt)
		}
		if !ok {
			return false
		}
	}
	return o.ok
}

func (s *scan) person(p *Person) bool {
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "name":
			ok = str(s, &p.Name)
		case "sex":
			ok = token(s, &p.Sex)
		case "birth_date":
			ok = s.date(&p.BirthDate)
		case "estimated_age":
			ok = s.intPtr(&p.EstimatedAge)
		case "age_estimated_on":
			ok = s.date(&p.AgeEstimatedOn)
		case "id_type":
			ok = token(s, &p.IDType)
		case "id_number":
			ok = str(s, &p.IDNumber)
		case "hukou_place":
			ok = str(s, &p.HukouPlace)
		case "dialect":
			ok = str(s, &p.Dialect)
		case "can_state_identity":
			ok = s.boolPtr(&p.CanStateIdentity)
		case "street_reason":
			ok = str(s, &p.StreetReason)
		case "photo_ref":
			ok = str(s, &p.PhotoRef)
		case "fingerprint_ref":
			ok = str(s, &p.FingerprintRef)
		case "contacts":
			ok = s.contacts(&p.Contacts)
		}
		if !ok {
			return false
		}
	}
	return o.ok
}

func (s *scan) inspection(p *Inspection) bool {
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "injuries":
			ok = s.boolean(&p.Injuries)
		case "intoxicated":
			ok = s.boolean(&p.Intoxicated)
		case "suspected_infectious":
			ok = s.boolean(&p.SuspectedInfectious)
		case "suspected_mental_disorder":
			ok = s.boolean(&p.SuspectedMentalDisorder)
		case "intellectual_disability":
			ok = s.boolean(&p.IntellectualDisability)
		case "physical_disability":
			ok = s.boolean(&p.PhysicalDisability)
		case "seriously_ill":
			ok = s.boolean(&p.SeriouslyIll)
		case "signs_of_harm":
			ok = s.boolean(&p.SignsOfHarm)
		case "suspected_trafficked":
			ok = s.boolean(&p.SuspectedTrafficked)
		case "suspected_lost":
			ok = s.boolean(&p.SuspectedLost)
		case "abandoned":
			ok = s.boolean(&p.Abandoned)
		case "notes":
			ok = str(s, &p.Notes)
		}
		if !ok {
			return false
		}
	}
	return o.ok
}

func (s *scan) checker(p *Checker) bool {
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "staff_id":
			ok = str(s, &p.StaffID)
		case "sex":
			ok = token(s, &p.Sex)
		}
		if !ok {
			return false
		}
	}
	return o.ok
}

func (s *scan) collector(p *Collector) bool {
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "name":
			ok = str(s, &p.Name)
		case "id_type":
			ok = token(s, &p.IDType)
		case "id_number":
			ok = str(s, &p.IDNumber)
		case "relationship":
			ok = str(s, &p.Relationship)
		}
		if !ok {
			return false
		}
	}
	return o.ok
}

func (s *scan) contact(p *Contact) bool {
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "name":
			ok = str(s, &p.Name)
		case "relationship":
			ok = str(s, &p.Relationship)
		case "phone":
			ok = str(s, &p.Phone)
		}
		if !ok {
			return false
		}
	}
	return o.ok
}

func (s *scan) item(p *Item) bool {
	var o object
	for o.next(s) {
		ok := false
		switch string(o.key) {
		case "item":
			ok = str(s, &p.Item)
		case "qty":
			ok = s.integer(&p.Qty)
		}
		if !ok {
			return false
		}
	}
	return o.ok
}
