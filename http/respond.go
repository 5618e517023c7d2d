package http

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"waystation/domain"
	"waystation/eventstore"
)

// Header values that every JSON answer carries, shared so that setting
// them allocates nothing. net/http copies or appends to header values and
// never writes into them, so sharing is safe; nothing else may modify them.
var (
	jsonContentType    = []string{"application/json"}
	problemContentType = []string{"application/problem+json"}
	noStore            = []string{"no-store"}
)

// writeJSON answers v as JSON with status.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Cache-Control"] = noStore
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		s.logger.DebugContext(r.Context(), "writing an answer failed", logAttrs(r)...)
	}
}

// etag is the entity tag of a case at version.
func etag(version uint64) string { return `"` + strconv.FormatUint(version, 10) + `"` }

// requestOptions reads Idempotency-Key and If-Match.
func requestOptions(r *http.Request) (Options, error) {
	o := Options{
		IdempotencyKey: strings.TrimSpace(r.Header.Get("Idempotency-Key")),
		CorrelationID:  requestIDOf(r.Context()),
	}
	if len(o.IdempotencyKey) > 200 {
		return o, errorf(domain.CodeInvalid, "Idempotency-Key", "Idempotency-Key is longer than 200 characters")
	}
	im, err := ifMatch(r.Header.Values("If-Match"))
	if err != nil {
		return o, err
	}
	o.IfMatch = im
	return o, nil
}

// ifMatch reads If-Match header lines as RFC 9110 (section 13.1.1) has
// them: "*" (no precondition: the target exists, which every step
// requires anyway) or a comma-separated list of entity tags, compared
// strongly. A case's or station's entity tag is its version, quoted
// ("3"); a bare version (3) is read as its quoted form. A tag that is
// well-formed but cannot be a current version (a weak tag W/"3", "0",
// "abc") matches nothing, so a list of only such tags answers 412, not
// 400; only a header that is not a list of entity tags is invalid. No
// header at all is a nil set.
func ifMatch(lines []string) (*domain.VersionSet, error) {
	var versions []uint64
	seen := false
	for _, line := range lines {
		for part := range strings.SplitSeq(line, ",") {
			tag := strings.TrimSpace(part)
			if tag == "" {
				continue // RFC 9110 5.6.1: empty list elements are ignored
			}
			seen = true
			if tag == "*" {
				return nil, nil
			}
			weak := strings.HasPrefix(tag, "W/")
			opaque := strings.TrimPrefix(tag, "W/")
			if len(opaque) >= 2 && opaque[0] == '"' && opaque[len(opaque)-1] == '"' {
				opaque = opaque[1 : len(opaque)-1]
			} else if weak || !isDigits(opaque) {
				return nil, errorf(domain.CodeInvalid, "If-Match", `If-Match must be "*" or a list of entity tags such as "3"`)
			}
			if !validETagChars(opaque) {
				return nil, errorf(domain.CodeInvalid, "If-Match", `If-Match must be "*" or a list of entity tags such as "3"`)
			}
			if weak {
				continue // weak tags never match strongly
			}
			if v, err := strconv.ParseUint(opaque, 10, 64); err == nil && v > 0 && isDigits(opaque) {
				versions = append(versions, v)
			}
		}
	}
	if !seen {
		return nil, nil
	}
	return domain.Versions(versions...), nil
}

// isDigits reports whether s is one or more ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validETagChars reports whether s holds only etagc characters (RFC 9110
// 8.8.3: %x21 / %x23-7E / obs-text), so no quote, space or control byte.
func validETagChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' || c < 0x21 || c == 0x7f {
			return false
		}
	}
	return true
}

// boundedWaiter is implemented by views that can wait for a position
// within a duration without a context of their own (one timer, armed only
// when they have to wait).
type boundedWaiter interface {
	// WaitWithin is WaitFor bounded by d as well as by ctx.
	WaitWithin(ctx context.Context, pos eventstore.Position, d time.Duration) error
}

// waitForViews waits, bounded by the read-your-writes timeout, until the
// views have folded the log up to pos, so that the client's next read sees
// its write. A view that is slow does not fail the write: it was recorded.
func (s *Server) waitForViews(r *http.Request, pos eventstore.Position) {
	if pos.IsZero() {
		return
	}
	var err error
	if bw, ok := s.cfg.Views.(boundedWaiter); ok {
		err = bw.WaitWithin(r.Context(), pos, s.wait)
	} else {
		ctx, cancel := context.WithTimeout(r.Context(), s.wait)
		err = s.cfg.Views.WaitFor(ctx, pos)
		cancel()
	}
	if err != nil {
		s.logger.WarnContext(r.Context(), "views did not reach a write in time",
			append(logAttrs(r), "position", pos.String(), "err", err)...)
	}
}

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
