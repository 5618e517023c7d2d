package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/projections"
)

// moment is a point of a case's life an inspector asks for: a time (in
// one of the two meanings of as-of), a version, or now.
type moment struct {
	At      time.Time
	Known   bool // with At: only what had been recorded by then
	Version int
	// ByVersion is true when Version was asked for (0 is before the
	// intake).
	ByVersion bool
}

// IsNow reports whether m is the present.
func (m moment) IsNow() bool { return m.At.IsZero() && !m.ByVersion }

// Local is m's time as a datetime-local input shows it (Beijing time).
func (m moment) Local() string { return localInput(m.At) }

// historyQuery is the query of GET /v1/cases/{id}/history for m.
func (m moment) historyQuery() url.Values {
	switch {
	case m.ByVersion:
		return url.Values{"version": {strconv.Itoa(m.Version)}}
	case !m.At.IsZero():
		v := url.Values{"as_of": {m.At.Format(time.RFC3339)}}
		if m.Known {
			v.Set("known", "true")
		}
		return v
	}
	return nil
}

// query is m as this page's own query parameters, prefixed (for the
// moment compared with).
func (m moment) query(prefix string, v url.Values) {
	switch {
	case m.ByVersion:
		v.Set(prefix+"version", strconv.Itoa(m.Version))
	case !m.At.IsZero():
		v.Set(prefix+"at", m.At.In(domain.CivilZone).Format("2006-01-02T15:04:05"))
		if m.Known {
			v.Set(prefix+"known", "true")
		}
	}
}

// localInput formats t for a datetime-local input, Beijing time.
func localInput(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(domain.CivilZone)
	if t.Second() != 0 {
		return t.Format("2006-01-02T15:04:05")
	}
	return t.Format("2006-01-02T15:04")
}

// parseMoment reads a moment from the page's query: prefix+"version", else
// prefix+"at" (datetime-local in Beijing time, or RFC 3339) with
// prefix+"known". ok is false when none is given.
func parseMoment(v url.Values, prefix string) (m moment, ok bool, err error) {
	if s := strings.TrimSpace(v.Get(prefix + "version")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return m, false, domain.Invalid(prefix+"version", "a version is a whole number, 0 or more")
		}
		return moment{Version: n, ByVersion: true}, true, nil
	}
	s := strings.TrimSpace(v.Get(prefix + "at"))
	if s == "" {
		return m, false, nil
	}
	at, err := parseLocal(s)
	if err != nil {
		return m, false, domain.Invalid(prefix+"at", "give a date and a time")
	}
	return moment{At: at, Known: v.Get(prefix+"known") == "true"}, true, nil
}

// parseLocal reads a datetime-local value (Beijing time, with or without
// seconds) or an RFC 3339 time.
func parseLocal(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, domain.CivilZone); err == nil {
			return t, nil
		}
	}
	return time.Parse(time.RFC3339, s)
}

// inspectEvent is a timeline entry with what the moment says of it.
type inspectEvent struct {
	timelineEntry
	// RecordedLater: it happened by the moment but was recorded after it
	// (what staff could not have known then).
	RecordedLater bool
}

// caseAt is the case as it stood at one moment.
type caseAt struct {
	Moment moment
	// Before is true at version 0: before the intake, nothing.
	Before  bool
	History projections.History
	Age     string
}

// inspectCasePage is /inspect/cases/{id}.
type inspectCasePage struct {
	Case     caseState // now: its number, station and version
	Now      time.Time
	At       caseAt
	Timeline []inspectEvent
	// Compare is the other moment and what differs, when asked.
	Compare *caseAt
	Changes []change
	changed map[string]bool
	// KnownLink compares the moment's two meanings at its time.
	KnownLink string
	NowLocal  string
}

// Changed reports whether the state field at path, or one under it,
// differs between the two moments.
func (p inspectCasePage) Changed(path string) bool { return p.changed[path] }

// Slider is the version the slider stands at.
func (p inspectCasePage) Slider() int {
	if p.At.Moment.ByVersion {
		return p.At.Moment.Version
	}
	return int(p.At.History.Version)
}

func (c *Console) inspectCasePage(q *req) error {
	id, err := caseIDOf(q)
	if err != nil {
		return err
	}
	v := q.r.URL.Query()
	m, _, err := parseMoment(v, "")
	if err != nil {
		return err
	}
	cs, err := c.loadCase(q, id)
	if err != nil {
		return err
	}
	p := inspectCasePage{Case: cs, Now: c.now(), NowLocal: localInput(c.now())}
	if p.At, err = c.caseAt(q, id, m); err != nil {
		return err
	}
	for _, e := range c.timeline(q, p.At.History.Events) {
		late := !m.At.IsZero() && !m.Known && e.RecordedAt.After(m.At)
		p.Timeline = append(p.Timeline, inspectEvent{timelineEntry: e, RecordedLater: late})
	}
	if !m.At.IsZero() {
		other := url.Values{}
		moment{At: m.At}.query("", other)
		moment{At: m.At, Known: true}.query("cmp_", other)
		p.KnownLink = "/inspect/cases/" + id.String() + "?" + other.Encode()
	}
	cm, ok, err := parseMoment(v, "cmp_")
	if err != nil {
		return err
	}
	if ok {
		other, err := c.caseAt(q, id, cm)
		if err != nil {
			return err
		}
		p.Compare = &other
		p.Changes = diffStates(q.t, stateOf(p.At), stateOf(other))
		p.changed = changedPaths(p.Changes)
	}
	c.render(q, http.StatusOK, "inspect_case", "inspect.case_title", p)
	return nil
}

// caseAt reads case id at moment m (GET /v1/cases/{id}/history, a read
// the API logs).
func (c *Console) caseAt(q *req, id uuid.UUID, m moment) (caseAt, error) {
	out := caseAt{Moment: m}
	if m.ByVersion && m.Version == 0 {
		out.Before = true
		return out, nil
	}
	path := "/v1/cases/" + id.String() + "/history"
	_, err := c.api.call(q.r, "GET", path, m.historyQuery(), nil, &out.History)
	if p, ok := problemOf(err); ok && p.Status == http.StatusNotFound && !m.At.IsZero() {
		// The case exists (its page read it): at that moment it had not
		// begun, or nothing of it had been recorded yet.
		out.Before = true
		return out, nil
	}
	if err != nil {
		return out, err
	}
	at := m.At
	if at.IsZero() {
		at = c.now()
		if n := len(out.History.Events); m.ByVersion && n > 0 {
			at = out.History.Events[n-1].OccurredAt
		}
	}
	out.Age = ageOf(q.t, out.History.State.Person, at)
	return out, nil
}

// stateOf is the state of a, nil before the intake.
func stateOf(a caseAt) any {
	if a.Before {
		return nil
	}
	return a.History.State
}

// Hidden is the moment shown, as hidden fields of the compare form.
func (p inspectCasePage) Hidden() url.Values {
	v := url.Values{}
	p.At.Moment.query("", v)
	return v
}

// CmpHidden is the moment compared with, as hidden fields of the forms
// that choose the moment shown (so that the comparison stays).
func (p inspectCasePage) CmpHidden() url.Values {
	v := url.Values{}
	if p.Compare != nil {
		p.Compare.Moment.query("cmp_", v)
	}
	return v
}

// CmpMoment is the moment compared with, or none.
func (p inspectCasePage) CmpMoment() moment {
	if p.Compare == nil {
		return moment{}
	}
	return p.Compare.Moment
}
