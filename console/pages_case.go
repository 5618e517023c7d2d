package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
	"waystation/projections"
)

// caseState is a case as GET /v1/cases/{id} answers.
type caseState struct {
	domain.Case
	Flags              []string      `json:"flags"`
	PersonalDataErased bool          `json:"personal_data_erased"`
	AllowedSteps       []domain.Step `json:"allowed_steps"`
}

// actorInfo is an actor as GET /v1/actors/{id} answers.
type actorInfo struct {
	ID      string      `json:"id"`
	Name    string      `json:"name"`
	Role    domain.Role `json:"role"`
	Station string      `json:"station"`
}

// timelineEntry is one event of a case's history, for the timeline.
type timelineEntry struct {
	projections.HistoryEvent
	Actor   actorInfo
	Fields  []shownField
	Correct bool // a correction may start from it
}

// shownField is one value of an event, labelled.
type shownField struct {
	Key   string
	Path  string
	Value string
	raw   any // the JSON value
}

type casePage struct {
	Case     caseState
	Now      time.Time
	Timeline []timelineEntry
	Steps    []domain.Step
	Worklist []workItem
	Age      string
}

// caseID reads the {id} of the path.
func caseIDOf(q *req) (uuid.UUID, error) {
	id, err := uuid.Parse(q.r.PathValue("id"))
	if err != nil {
		return id, domain.NotFound("no such case")
	}
	return id, nil
}

// loadCase reads case id's state as the user may see it (a read the API
// logs as it logs every read).
func (c *Console) loadCase(q *req, id uuid.UUID) (caseState, error) {
	var cs caseState
	_, err := c.api.call(q.r, "GET", "/v1/cases/"+id.String(), nil, nil, &cs)
	return cs, err
}

// loadCaseAndHistory reads case id's state and its whole history.
func (c *Console) loadCaseAndHistory(q *req, id uuid.UUID) (caseState, projections.History, error) {
	var h projections.History
	cs, err := c.loadCase(q, id)
	if err != nil {
		return cs, h, err
	}
	_, err = c.api.call(q.r, "GET", "/v1/cases/"+id.String()+"/history", nil, nil, &h)
	return cs, h, err
}

// casePage shows a case: its summary, what is due, its timeline and the
// steps allowed now.
func (c *Console) casePage(q *req) error {
	id, err := caseIDOf(q)
	if err != nil {
		return err
	}
	cs, h, err := c.loadCaseAndHistory(q, id)
	if err != nil {
		return err
	}
	p := casePage{Case: cs, Now: c.now(), Steps: cs.AllowedSteps, Age: ageOf(q.t, cs.Person, c.now())}
	p.Steps = slices.DeleteFunc(slices.Clone(p.Steps), func(s domain.Step) bool { return s == domain.StepCorrection })
	p.Timeline = c.timeline(q, h.Events)
	var wl struct {
		Items []workItem `json:"items"`
	}
	if _, err := c.api.call(q.r, "GET", "/v1/worklist", url.Values{"station": {cs.Station}}, nil, &wl); err == nil {
		for _, it := range wl.Items {
			if it.CaseID == id {
				p.Worklist = append(p.Worklist, it)
			}
		}
	}
	c.render(q, http.StatusOK, "case", "case.title", p)
	return nil
}

// timeline labels the events of a history, newest first; each names its
// actor as the history does (the account's display name, actor_name).
func (c *Console) timeline(q *req, events []projections.HistoryEvent) []timelineEntry {
	out := make([]timelineEntry, 0, len(events))
	for i := len(events) - 1; i >= 0; i-- {
		e := events[i]
		a := actorInfo{ID: e.Actor, Name: e.ActorName, Role: e.Role, Station: e.Station}
		out = append(out, timelineEntry{HistoryEvent: e, Actor: a, Fields: shownFields(q.t, e.Type, e.Data),
			Correct: len(domain.CorrectableFieldsOf(e.Type)) > 0})
	}
	return out
}

// eventShape is what the console knows of an event type's fields: their
// order and kinds, from the event's Go type.
type eventShape struct {
	fields map[string]field  // dotted path -> the field's input
	order  map[string]int    // catalogue key -> position
	enums  map[string]string // catalogue key -> enum catalogue prefix
	times  map[string]bool   // catalogue key -> a time
}

var (
	shapesMu sync.Mutex
	shapes   = map[string]eventShape{}
)

// shapeOf returns the shape of stored event type typ (empty for a type
// the registry does not know).
func shapeOf(typ string) eventShape {
	shapesMu.Lock()
	defer shapesMu.Unlock()
	if sh, ok := shapes[typ]; ok {
		return sh
	}
	sh := eventShape{fields: map[string]field{}, order: map[string]int{}, enums: map[string]string{}, times: map[string]bool{}}
	env, err := domain.Events.Decode(eventstore.RecordedEvent{Type: typ, Data: []byte("{}"),
		Metadata: []byte(`{"schema":1}`), Stream: domain.CaseStream(uuid.Nil)})
	if err == nil && env.Event != nil {
		for i, f := range fieldsOf(reflect.TypeOf(env.Event)) {
			sh.fields[f.Path] = f
			if _, seen := sh.order[f.Key]; !seen {
				sh.order[f.Key] = i
			}
			if f.Enum != "" {
				sh.enums[f.Key] = f.Enum
			}
			if f.Kind == inDateTime {
				sh.times[f.Key] = true
			}
		}
	}
	shapes[typ] = sh
	return sh
}

// notShown are the values of an event the timeline leaves out: the case
// page already says whose case and which station it is.
var notShown = map[string]bool{"field.case_id": true, "field.station": true}

// shownFields lists the values of an event's data, labelled, in the order
// of the event's declaration, enumerated values and yes/no translated.
func shownFields(t tr, typ string, data json.RawMessage) []shownField {
	sh := shapeOf(typ)
	fields := flatten(data)
	out := fields[:0]
	for _, f := range fields {
		if notShown[f.Key] {
			continue
		}
		switch {
		case f.raw == true:
			f.Value = t.T("form.yes")
		case f.raw == false:
			f.Value = t.T("form.no")
		case sh.enums[f.Key] != "" && t.Has(sh.enums[f.Key]+"."+f.Value):
			f.Value = t.T(sh.enums[f.Key] + "." + f.Value)
		case sh.times[f.Key]:
			if at, err := time.Parse(time.RFC3339Nano, f.Value); err == nil {
				f.Value = t.Time(at)
			}
		case f.Key == "field.bed":
			f.Value = t.Bed(f.Value)
		}
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool {
		oi, iok := sh.order[out[i].Key]
		oj, jok := sh.order[out[j].Key]
		if iok != jok {
			return iok
		}
		return oi < oj
	})
	return out
}

// flatten lists the values of an event's data by dotted path, in path
// order.
func flatten(data json.RawMessage) []shownField {
	var v any
	if json.Unmarshal(data, &v) != nil {
		return nil
	}
	var out []shownField
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				walk(p, x[k])
			}
		case []any:
			if len(x) > 0 {
				if _, scalar := x[0].(map[string]any); !scalar {
					parts := make([]string, 0, len(x))
					for _, e := range x {
						parts = append(parts, scalarString(e))
					}
					out = append(out, shownField{Key: keyOf(prefix), Path: prefix, Value: strings.Join(parts, "、")})
					return
				}
			}
			for i, e := range x {
				walk(prefix+"."+itoa(i), e)
			}
		default:
			out = append(out, shownField{Key: keyOf(prefix), Path: prefix, Value: scalarString(x), raw: x})
		}
	}
	walk("", v)
	return out
}

func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// stepForm is the page of one step's form.
type stepForm struct {
	Case    caseState
	Step    domain.Step
	Fields  []field
	Key     string
	Message string
	Rule    string
	// Next is where to go once the step is recorded: a page of the console
	// (the transfers board), else the case.
	Next string
	// For a correction: the event corrected and its fields, and the field
	// chosen to correct ("" until one is).
	Event  *timelineEntry
	Chosen string
	Fixes  []string // the fields of the event a correction may name
}

// commandType is the Go type of step's command, when the step is a case
// step.
func commandType(step domain.Step) (reflect.Type, bool) {
	if !slices.Contains(domain.CaseSteps(), step) {
		return nil, false
	}
	cmd, ok := domain.NewCommand(step)
	if !ok {
		return nil, false
	}
	return reflect.TypeOf(cmd), true
}

// caseStepOf reads the case ID and the step of the path, and the step's
// command type.
func caseStepOf(q *req) (uuid.UUID, domain.Step, reflect.Type, error) {
	id, err := caseIDOf(q)
	if err != nil {
		return id, "", nil, err
	}
	step := domain.Step(q.r.PathValue("step"))
	t, ok := commandType(step)
	if !ok {
		return id, step, nil, domain.NotFound("no such step")
	}
	return id, step, t, nil
}

// stepPage shows the form of a step on a case.
func (c *Console) stepPage(q *req) error {
	id, step, t, err := caseStepOf(q)
	if err != nil {
		return err
	}
	cs, err := c.loadCase(q, id)
	if err != nil {
		return err
	}
	f := stepForm{Case: cs, Step: step, Fields: fieldsOf(t), Key: idempotencyKey(), Next: nextOf(q.r.URL.Query().Get("next"))}
	if step == domain.StepCorrection {
		if err := c.correctionTarget(q, &f, q.r.URL.Query().Get("event")); err != nil {
			return err
		}
	}
	c.render(q, http.StatusOK, "step", "step.title", f)
	return nil
}

// correctionTarget finds the corrected event in the case's history and
// narrows the form's field choice to that event's correctable fields.
func (c *Console) correctionTarget(q *req, f *stepForm, event string) error {
	eid, err := uuid.Parse(event)
	if err != nil {
		return domain.Invalid("event_id", "choose the event to correct from the timeline")
	}
	var h projections.History
	if _, err := c.api.call(q.r, "GET", "/v1/cases/"+f.Case.ID.String()+"/history", nil, nil, &h); err != nil {
		return err
	}
	for _, e := range h.Events {
		if e.EventID != eid {
			continue
		}
		entries := c.timeline(q, []projections.HistoryEvent{e})
		f.Event = &entries[0]
		options := domain.CorrectableFieldsOf(e.Type)
		chosen := q.r.FormValue("field")
		f.Fixes = options
		if slices.Contains(options, chosen) {
			f.Chosen = chosen
		}
		for i := range f.Fields {
			switch f.Fields[i].Path {
			case "field":
				f.Fields[i].Kind, f.Fields[i].Enum, f.Fields[i].Options = inSelect, "", options
				f.Fields[i].Value = f.Chosen
			case "new":
				if slices.Contains(options, chosen) {
					// The correct value is typed as the field itself is.
					f.Fields[i] = newValueField(e.Type, chosen, f.Fields[i])
				}
			}
		}
		return nil
	}
	return domain.Invalid("event_id", "no such event in this case")
}

// newValueField is the input of a correction's new value of field of
// event type typ: the field's own kind (a choice, yes/no, a date, a
// time, a number, lines), labelled as the correction's; like, the form's
// "new" input, when the console knows no more of the field.
func newValueField(typ, name string, like field) field {
	if name == domain.OccurredAtField {
		like.Kind = inDateTime
		return like
	}
	if f, ok := shapeOf(typ).fields[name]; ok {
		f.Path, f.Key = like.Path, like.Key
		return f
	}
	return like
}

// step records a step from its form and goes back to the case, or shows
// the form again with what the API refused.
func (c *Console) step(q *req) error {
	id, step, t, err := caseStepOf(q)
	if err != nil {
		return err
	}
	if err := q.r.ParseForm(); err != nil {
		return domain.Invalid("form", "unreadable form")
	}
	v := q.r.PostForm
	cs, err := c.loadCase(q, id)
	if err != nil {
		return err
	}
	f := stepForm{Case: cs, Step: step, Fields: fieldsOf(t), Key: v.Get("idempotency_key"), Next: nextOf(v.Get("next"))}
	if f.Key == "" {
		f.Key = idempotencyKey()
	}
	if step == domain.StepCorrection {
		if err := c.correctionTarget(q, &f, v.Get("event_id")); err != nil {
			return err
		}
	}
	fill(f.Fields, v)
	body, err := bodyOf(t, f.Fields, v)
	if err == nil && step == domain.StepCorrection {
		err = correctionBody(body, f.Event, f.Fields, v)
	}
	if err == nil {
		hdr := http.Header{"Idempotency-Key": {f.Key}}
		_, err = c.api.callWith(q.r.Context(), q.r, hdr, "POST", "/v1/cases/"+id.String()+"/"+string(step), nil, body, nil)
	}
	if err != nil {
		status := c.refused(q, err, f.Fields, &f.Message, &f.Rule)
		if status == 0 {
			return err
		}
		c.render(q, status, "step", "step.title", f)
		return nil
	}
	next := f.Next
	if next == "" {
		next = "/cases/" + id.String()
		if step == domain.StepTransferDecline || step == domain.StepHandover {
			// The case may be another station's now: the user goes back
			// to their board.
			if _, err := c.loadCase(q, id); err != nil {
				next = "/"
			}
		}
	}
	http.Redirect(q.w, q.r, next, http.StatusSeeOther)
	return nil
}

// nextOf returns next when it is a path of this console, else "".
func nextOf(next string) string {
	if next == "" || safeNext(next) != next {
		return ""
	}
	return next
}

// correctionBody completes a correction: the event, the old value read
// from it, and the new value typed as the field is (the form's "new"
// input has the field's kind, newValueField).
func correctionBody(body map[string]any, e *timelineEntry, fields []field, v url.Values) error {
	name, _ := body["field"].(string)
	if e == nil || name == "" {
		return domain.Invalid("field", "choose the field to correct")
	}
	body["event_id"] = e.EventID.String()
	var old any
	if name == domain.OccurredAtField {
		old = e.OccurredAt.Format(time.RFC3339Nano)
	} else {
		var data map[string]any
		_ = json.Unmarshal(e.Data, &data)
		old = lookup(data, strings.Split(name, "."))
	}
	body["old"] = old
	var input field
	for _, f := range fields {
		if f.Path == "new" {
			input = f
		}
	}
	if input.Kind == inText && input.Enum == "" {
		// A field the console knows no kind of: its value as JSON when
		// it reads as JSON of the old value's type, else as text.
		raw := strings.TrimSpace(v.Get("new"))
		var n any
		if _, isText := old.(string); !isText && old != nil && json.Unmarshal([]byte(raw), &n) == nil {
			body["new"] = n
		} else {
			body["new"] = raw
		}
		return nil
	}
	typed, err := bodyOf(nil, []field{input}, v)
	if err != nil {
		return err
	}
	nv, ok := typed["new"]
	if !ok {
		return domain.Invalid("new", "give the correct value")
	}
	body["new"] = nv
	return nil
}

func lookup(m map[string]any, path []string) any {
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[p]
	}
	return v
}

// refused puts what the API refused next to its field (or in message) and
// returns the status to answer with; 0 when err is not a refusal to show
// on the form.
func (c *Console) refused(q *req, err error, fields []field, message, rule *string) int {
	p, ok := problemOf(err)
	if !ok {
		var de *domain.Error
		if !asDomain(err, &de) {
			return 0
		}
		p = &problem{Status: http.StatusBadRequest, Code: de.Code, Rule: de.Rule}
		if de.Field != "" {
			p.Errors = append(p.Errors, struct {
				Field   string `json:"field"`
				Message string `json:"message"`
			}{de.Field, de.Message})
		}
	}
	if p.Status == http.StatusUnauthorized || p.Status == http.StatusNotFound || p.Status >= 500 {
		return 0
	}
	*rule = p.Rule
	*message = explainField(q.t, p)
	for _, fe := range p.Errors {
		for i := range fields {
			if fields[i].Path == fe.Field {
				fields[i].Error, fields[i].Rule = *message, p.Rule
				*message = ""
			}
		}
	}
	if *message == "" && len(p.Errors) == 0 {
		*message = explainField(q.t, p)
	}
	return p.Status
}

// ageOf tells the person's age now: from the birth date, else the
// estimate (so marked).
func ageOf(t tr, p domain.Person, now time.Time) string {
	switch {
	case !p.BirthDate.IsZero():
		return t.F("board.age", p.BirthDate.YearsOn(now))
	case p.EstimatedAge != nil:
		return t.F("case.age_estimated", *p.EstimatedAge)
	}
	return t.T("case.unknown")
}
