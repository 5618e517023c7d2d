package http

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"waystation/domain"
	"waystation/eventstore"
)

// timeParam reads an optional RFC 3339 query parameter.
func timeParam(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	// A "+" of a zone offset that the client did not escape arrives as a
	// space.
	t, err := time.Parse(time.RFC3339Nano, strings.ReplaceAll(v, " ", "+"))
	if err != nil {
		return time.Time{}, errorf(domain.CodeInvalid, name, name+" must be an RFC 3339 time with a zone")
	}
	return t, nil
}

// asOfParams reads the moment a board or history is shown at: name (at,
// or as_of on a history) with known, or position. position (a log
// position, as /v1/events shows them) shows the world as the log stood
// right after that event, evaluated now; it excludes name and known. A
// moment before domain.EarliestTime (the zero time among them) is invalid.
func asOfParams(r *http.Request, name string) (AsOf, error) {
	at, err := timeParam(r, name)
	if err != nil {
		return AsOf{}, err
	}
	if r.URL.Query().Get(name) != "" {
		// A moment given is a moment, the zero time included: never now.
		if err := domain.CheckTimeBounds(name, at); err != nil {
			return AsOf{}, err
		}
	}
	known, err := boolParam(r, "known")
	if err != nil {
		return AsOf{}, err
	}
	pos, err := positionParam(r, "position")
	if err != nil {
		return AsOf{}, err
	}
	if r.URL.Query().Has("position") && pos.IsZero() {
		return AsOf{}, errorf(domain.CodeInvalid, "position", "position must be a log position after the start (1 or more)")
	}
	if !pos.IsZero() && !at.IsZero() {
		return AsOf{}, errorf(domain.CodeInvalid, "position", "give "+name+" or position, not both")
	}
	if known && at.IsZero() {
		return AsOf{}, errorf(domain.CodeInvalid, "known", "known=true needs "+name)
	}
	return AsOf{At: at, Known: known, Position: pos}, nil
}

func boolParam(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, errorf(domain.CodeInvalid, name, name+" must be true or false")
	}
	return b, nil
}

// uintParam reads an optional non-negative integer query parameter, at
// most max.
func uintParam(r *http.Request, name string, def, max uint64) (uint64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n > max {
		return 0, errorf(domain.CodeInvalid, name, name+" must be an integer from 0 to "+strconv.FormatUint(max, 10))
	}
	return n, nil
}

// limitParam reads the optional page size ?limit=: from 0 to max, an
// absent or zero limit being def.
func limitParam(r *http.Request, def, max uint64) (uint64, error) {
	n, err := uintParam(r, "limit", def, max)
	if err == nil && n == 0 {
		n = def
	}
	return n, err
}

// positionParam reads an optional log position.
func positionParam(r *http.Request, name string) (eventstore.Position, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return eventstore.Start, nil
	}
	p, err := eventstore.ParsePosition(v)
	if err != nil {
		return p, errorf(domain.CodeInvalid, name, name+" must be a log position")
	}
	return p, nil
}

// The kinds of value civilParam reads.
const (
	noValue = iota
	dateValue
	timeValue
)

// civilParam reads an optional query parameter that takes a civil date
// (2026-11-01, its start in Beijing time, domain.CivilZone) or an RFC 3339
// time with a zone, and says which it was given (noValue when absent).
func civilParam(r *http.Request, name string) (time.Time, int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, noValue, nil
	}
	if len(v) == len(time.DateOnly) {
		if d, err := domain.ParseDate(v); err == nil {
			return d.Time(), dateValue, nil
		}
	} else if t, err := timeParam(r, name); err == nil {
		return t, timeValue, nil
	}
	return time.Time{}, noValue, errorf(domain.CodeInvalid, name, name+" must be a date such as 2026-11-01 "+
		"(Beijing time) or an RFC 3339 time with a zone such as 2026-11-01T08:00:00+08:00")
}
