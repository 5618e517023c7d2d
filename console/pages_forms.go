package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/projections"
)

// formsRoutes serves the official records of 民发〔2014〕132号, filled
// from a case and its history, to print on A4.
func (c *Console) formsRoutes() {
	c.mux.Handle("GET /cases/{id}/forms/{form}", c.user(c.formPage))
}

// The official records, by their path names.
const (
	formIntakeRegister    = "intake-register"
	formStayExitRegister  = "stay-exit-register"
	formVoluntaryLeave    = "voluntary-leave"
	formRefusalNotice     = "refusal-notice"
	formTerminationNotice = "termination-notice"
)

// officialForms lists the records in the order of a case's life.
var officialForms = []string{formIntakeRegister, formStayExitRegister, formVoluntaryLeave, formRefusalNotice,
	formTerminationNotice}

// formDoc is one official record, laid out: a title, the issuing station,
// a number, and sections of labelled rows, sentences with blanks filled
// in, or tables; then the lines to sign on.
type formDoc struct {
	Name       string
	Case       caseState
	Station    string
	Number     string // the document's own number, when it has one
	Notice     string // said above the record (nothing recorded yet)
	Sections   []formSection
	Signatures []string
	Printed    time.Time
}

// formSection is a part of a record.
type formSection struct {
	Heading string
	Rows    []formRow
	Text    [][]piece
	Head    []string
	Table   [][]string
}

// formRow is a labelled value of a record.
type formRow struct {
	Label, Value string
}

// piece is a run of a sentence: text, or a value filled into its blank.
type piece struct {
	Text string
	Fill bool
}

// fillIn splits the message of key at its %s into text and the values,
// in order; an empty value leaves a blank to write on.
func fillIn(t tr, key string, values ...string) []piece {
	parts := strings.Split(t.T(key), "%s")
	var out []piece
	for i, p := range parts {
		if p != "" {
			out = append(out, piece{Text: p})
		}
		if i < len(parts)-1 {
			v := ""
			if i < len(values) {
				v = values[i]
			}
			out = append(out, piece{Text: v, Fill: true})
		}
	}
	return out
}

// formPage fills record form of a case from GET /v1/cases/{id} and its
// history: reads the API logs as it logs every read, so printing a
// record is on the access log.
func (c *Console) formPage(q *req) error {
	id, err := caseIDOf(q)
	if err != nil {
		return err
	}
	name := q.r.PathValue("form")
	if !slices.Contains(officialForms, name) {
		c.notFound(q.w, q.r)
		return nil
	}
	cs, h, err := c.loadCaseAndHistory(q, id)
	if err != nil {
		return err
	}
	station := cs.Station
	var st projections.StationInfo
	if _, err := c.api.call(q.r, "GET", "/v1/stations/"+url.PathEscape(cs.Station), nil, nil, &st); err == nil {
		station = st.Name
	}
	r := record{t: q.t, c: cs, now: c.now(), station: station, events: c.timeline(q, h.Events)}
	slices.Reverse(r.events) // oldest first
	doc := formDoc{Name: name, Case: cs, Station: station, Printed: r.now}
	switch name {
	case formIntakeRegister:
		r.intakeRegister(&doc)
	case formStayExitRegister:
		r.stayExitRegister(&doc)
	case formVoluntaryLeave:
		r.voluntaryLeave(&doc)
	case formRefusalNotice:
		r.refusalNotice(&doc)
	case formTerminationNotice:
		r.terminationNotice(&doc)
	}
	c.render(q, http.StatusOK, "forms", "forms."+name, doc)
	return nil
}

// record fills the records of one case.
type record struct {
	t       tr
	c       caseState
	now     time.Time
	station string
	events  []timelineEntry // oldest first
}

// last returns the latest event of type typ, or nil.
func (r record) last(typ string) *timelineEntry {
	for i := len(r.events) - 1; i >= 0; i-- {
		if r.events[i].Type == typ {
			return &r.events[i]
		}
	}
	return nil
}

// data decodes the data of e (nil: none) into out.
func data(e *timelineEntry, out any) {
	if e != nil {
		_ = json.Unmarshal(e.Data, out)
	}
}

// by is the name of who recorded e.
func by(e *timelineEntry) string {
	if e == nil {
		return ""
	}
	if e.Actor.Name != "" {
		return e.Actor.Name
	}
	return e.Actor.ID
}

func (r record) yesNo(b bool) string {
	if b {
		return r.t.T("form.yes")
	}
	return r.t.T("form.no")
}

// person is the rows that name the person.
func (r record) person() []formRow {
	t, p := r.t, r.c.Person
	rows := []formRow{
		{t.T("field.person.name"), p.Name},
		{t.T("field.person.sex"), t.Enum("enum.sex", p.Sex)},
	}
	switch {
	case !p.BirthDate.IsZero():
		rows = append(rows, formRow{t.T("field.person.birth_date"), t.Date(p.BirthDate.Time())})
	case p.EstimatedAge != nil:
		rows = append(rows, formRow{t.T("field.person.estimated_age"), strconv.Itoa(*p.EstimatedAge)})
	default:
		rows = append(rows, formRow{t.T("case.age"), ""})
	}
	rows = append(rows,
		formRow{t.T("field.person.id_type"), t.Enum("enum.id_type", p.IDType)},
		formRow{t.T("field.person.id_number"), p.IDNumber},
		formRow{t.T("field.person.hukou_place"), p.HukouPlace},
	)
	return rows
}

func (r record) intakeRegister(d *formDoc) {
	t, c := r.t, r.c
	intake := r.last(domain.TypeIntakeRegistered)
	p := c.Person
	who := append(r.person(),
		formRow{t.T("field.person.dialect"), p.Dialect},
		formRow{t.T("field.person.can_state_identity"), yesNoPtr(r, p.CanStateIdentity)},
		formRow{t.T("field.person.street_reason"), p.StreetReason},
	)
	d.Sections = append(d.Sections,
		formSection{Heading: t.T("forms.arrival"), Rows: []formRow{
			{t.T("forms.arrived_at"), t.Time(c.OpenedAt)},
			{t.T("field.referral.source"), t.Enum("enum.referral_source", c.Referral.Source)},
			{t.T("field.referral.form_no"), c.Referral.FormNo},
			{t.T("field.referral.referred_by"), c.Referral.ReferredBy},
			{t.T("field.referral.found_at"), c.Referral.FoundAt},
		}},
		formSection{Heading: t.T("forms.person"), Rows: who},
	)
	contacts := formSection{Heading: t.T("field.person.contacts"), Head: []string{t.T("field.person.contacts.name"),
		t.T("field.person.contacts.relationship"), t.T("field.person.contacts.phone")}}
	for _, k := range p.Contacts {
		contacts.Table = append(contacts.Table, []string{k.Name, k.Relationship, k.Phone})
	}
	if len(contacts.Table) == 0 {
		contacts.Table = [][]string{{"", "", ""}}
	}
	d.Sections = append(d.Sections, contacts)
	in := c.Inspection
	var found []string
	for _, f := range []struct {
		key string
		on  bool
	}{
		{"injuries", in.Injuries}, {"intoxicated", in.Intoxicated}, {"suspected_infectious", in.SuspectedInfectious},
		{"suspected_mental_disorder", in.SuspectedMentalDisorder},
		{"intellectual_disability", in.IntellectualDisability}, {"physical_disability", in.PhysicalDisability},
		{"seriously_ill", in.SeriouslyIll}, {"signs_of_harm", in.SignsOfHarm},
		{"suspected_trafficked", in.SuspectedTrafficked}, {"suspected_lost", in.SuspectedLost},
		{"abandoned", in.Abandoned},
	} {
		if f.on {
			found = append(found, t.T("field.inspection."+f.key))
		}
	}
	findings := t.T("forms.nothing_found")
	if len(found) > 0 {
		findings = strings.Join(found, t.T("forms.list_sep"))
	}
	d.Sections = append(d.Sections, formSection{Heading: t.T("field.inspection"), Rows: []formRow{
		{t.T("forms.findings"), findings},
		{t.T("field.inspection.notes"), in.Notes},
	}}, formSection{Heading: t.T("forms.registration"), Rows: []formRow{
		{t.T("forms.registered_by"), by(intake)},
		{t.T("forms.recorded_at"), recordedAt(t, intake)},
	}})
	d.Signatures = []string{t.T("forms.sign_person"), t.T("forms.sign_staff")}
}

func yesNoPtr(r record, b *bool) string {
	if b == nil {
		return ""
	}
	return r.yesNo(*b)
}

func recordedAt(t tr, e *timelineEntry) string {
	if e == nil {
		return ""
	}
	return t.Time(e.RecordedAt)
}

func (r record) stayExitRegister(d *formDoc) {
	t, c := r.t, r.c
	end := r.now
	if !c.ExitedAt.IsZero() {
		end = c.ExitedAt
	}
	days := int(end.Sub(c.OpenedAt).Hours()/24) + 1
	d.Sections = append(d.Sections, formSection{Heading: t.T("forms.person"), Rows: append(r.person(),
		formRow{t.T("forms.arrived_at"), t.Time(c.OpenedAt)},
		formRow{t.T("forms.days"), strconv.Itoa(days)},
	)})
	log := formSection{Heading: t.T("forms.services"), Head: []string{t.T("forms.when"), t.T("forms.what"),
		t.T("forms.details"), t.T("forms.by")}}
	for _, e := range r.events {
		var parts []string
		for _, f := range e.Fields {
			if f.Value == "" || strings.HasSuffix(f.Path, "notes") || f.Path == "case_id" || f.Path == "station" {
				continue
			}
			if _, err := uuid.Parse(f.Value); err == nil {
				continue
			}
			parts = append(parts, t.Maybe(f.Key, f.Path)+t.T("forms.colon")+r.shown(f))
		}
		log.Table = append(log.Table, []string{t.Time(e.OccurredAt), t.T("event." + e.Type),
			strings.Join(parts, t.T("forms.list_sep")), by(&e)})
	}
	d.Sections = append(d.Sections, log)
	belongings := formSection{Heading: t.T("forms.belongings"), Head: []string{t.T("forms.item"), t.T("forms.qty"),
		t.T("forms.returned")}}
	for _, b := range c.Belongings {
		belongings.Table = append(belongings.Table, []string{b.Item, strconv.Itoa(b.Qty), r.yesNo(b.Returned)})
	}
	if len(belongings.Table) == 0 {
		belongings.Table = [][]string{{t.T("forms.none"), "", ""}}
	}
	d.Sections = append(d.Sections, belongings)
	exit := formSection{Heading: t.T("forms.exit"), Rows: []formRow{
		{t.T("forms.exited_at"), t.Time(c.ExitedAt)},
		{t.T("forms.exit_type"), t.Enum("enum.exit_type", c.ExitType)},
	}}
	for _, e := range r.events {
		if e.Type == exitEvent(c.ExitType) {
			for _, f := range e.Fields {
				if !strings.HasSuffix(f.Path, "notes") {
					exit.Rows = append(exit.Rows, formRow{t.Maybe(f.Key, f.Path), f.Value})
				}
			}
			exit.Rows = append(exit.Rows, formRow{t.T("forms.by"), by(&e)})
		}
	}
	d.Sections = append(d.Sections, exit)
	d.Signatures = []string{t.T("forms.sign_person"), t.T("forms.sign_staff"), t.T("forms.sign_head")}
}

// enumOfField names the enumerated type of an event's field by the
// field's last name, for the values the register shows in words.
var enumOfField = map[string]string{"sex": "enum.sex", "zone": "enum.zone", "source": "enum.referral_source",
	"id_type": "enum.id_type", "legal_basis": "enum.legal_basis"}

// shown is f's value in words where it is a code or a yes or no.
func (r record) shown(f shownField) string {
	name := f.Path[strings.LastIndexByte(f.Path, '.')+1:]
	switch {
	case f.Value == "true" || f.Value == "false":
		return r.yesNo(f.Value == "true")
	case enumOfField[name] != "" && r.t.Has(enumOfField[name]+"."+f.Value):
		return r.t.T(enumOfField[name] + "." + f.Value)
	}
	return f.Value
}

// exitEvent is the event type that records an exit of type et.
func exitEvent(et domain.ExitType) string {
	switch et {
	case domain.ExitVoluntaryLeave:
		return domain.TypeLeftVoluntarily
	case domain.ExitPickup:
		return domain.TypePickedUp
	case domain.ExitEscortedReturn:
		return domain.TypeEscortedReturn
	case domain.ExitAbsconding:
		return domain.TypeAbsconded
	case domain.ExitTermination:
		return domain.TypeTerminated
	case domain.ExitDeath:
		return domain.TypeDied
	case domain.ExitSettlement:
		return domain.TypeSettlementRecorded
	case domain.ExitNotEligible:
		return domain.TypeEligibilityDecided
	case domain.ExitSecurityCheckRefused:
		return domain.TypeSecurityChecked
	}
	return ""
}

func (r record) voluntaryLeave(d *formDoc) {
	t, c := r.t, r.c
	var left domain.LeftVoluntarily
	e := r.last(domain.TypeLeftVoluntarily)
	data(e, &left)
	if e == nil {
		d.Notice = t.T("forms.voluntary.not_yet")
	}
	d.Number = left.DeclarationRef
	cash := ""
	if e != nil {
		cash = strconv.Itoa(left.CashYuan)
	}
	leftAt := ""
	if e != nil {
		leftAt = t.Time(e.OccurredAt)
	}
	d.Sections = append(d.Sections, formSection{Text: [][]piece{
		fillIn(t, "forms.voluntary.body", c.Person.Name, t.Enum("enum.sex", c.Person.Sex), r.ageText(),
			c.Person.IDNumber, t.Time(c.OpenedAt), r.station),
		fillIn(t, "forms.voluntary.will", r.station),
		fillIn(t, "forms.voluntary.cash", cash, left.ReceiptRef),
		fillIn(t, "forms.voluntary.left_at", leftAt),
	}})
	d.Signatures = []string{t.T("forms.sign_declarant"), t.T("forms.sign_staff"), t.T("forms.sign_witness")}
}

// ageText is the person's age as the record states it.
func (r record) ageText() string {
	p := r.c.Person
	if p.BirthDate.IsZero() && p.EstimatedAge == nil {
		return ""
	}
	return ageOf(r.t, p, r.now)
}

func (r record) refusalNotice(d *formDoc) {
	t, c := r.t, r.c
	var dec domain.EligibilityDecided
	e := r.last(domain.TypeEligibilityDecided)
	data(e, &dec)
	if e == nil || dec.Eligible || dec.AssistFirst {
		d.Notice, e, dec = t.T("forms.refusal.none"), nil, domain.EligibilityDecided{}
	}
	d.Number = dec.NoticeNo
	decided := ""
	if e != nil {
		decided = t.Date(e.OccurredAt)
	}
	d.Sections = append(d.Sections, formSection{Text: [][]piece{
		fillIn(t, "forms.refusal.to", c.Person.Name),
		fillIn(t, "forms.refusal.body", t.Time(c.OpenedAt), r.station),
		fillIn(t, "forms.refusal.reason", dec.Reason),
		fillIn(t, "forms.refusal.help"),
		fillIn(t, "forms.issuer", r.station, decided),
	}})
	d.Signatures = []string{t.T("forms.sign_received"), t.T("forms.sign_staff")}
}

func (r record) terminationNotice(d *formDoc) {
	t, c := r.t, r.c
	var term domain.Terminated
	e := r.last(domain.TypeTerminated)
	data(e, &term)
	ended := ""
	if e == nil {
		d.Notice = t.T("forms.termination.none")
	} else {
		ended = t.Time(e.OccurredAt)
	}
	d.Sections = append(d.Sections, formSection{Text: [][]piece{
		fillIn(t, "forms.termination.to", c.Person.Name),
		fillIn(t, "forms.termination.body", t.Time(c.OpenedAt), r.station, term.Reason, ended),
		fillIn(t, "forms.termination.belongings"),
		fillIn(t, "forms.issuer", r.station, dateOf(t, e)),
	}})
	d.Signatures = []string{t.T("forms.sign_received"), t.T("forms.sign_staff")}
}

func dateOf(t tr, e *timelineEntry) string {
	if e == nil {
		return ""
	}
	return t.Date(e.OccurredAt)
}

// caseForms is what the case page's forms section offers: every record,
// the notices marked when the case records what they notify.
type caseFormLink struct {
	Name     string
	Recorded bool
}

// FormsOf lists the records of a case for the case page.
func (p casePage) FormsOf() []caseFormLink {
	out := make([]caseFormLink, 0, len(officialForms))
	for _, f := range officialForms {
		rec := true
		switch f {
		case formVoluntaryLeave:
			rec = p.Case.ExitType == domain.ExitVoluntaryLeave
		case formRefusalNotice:
			rec = p.Case.ExitType == domain.ExitNotEligible
		case formTerminationNotice:
			rec = p.Case.ExitType == domain.ExitTermination
		}
		out = append(out, caseFormLink{Name: f, Recorded: rec})
	}
	return out
}
