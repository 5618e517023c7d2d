package http

import (
	"net/http"
	"strconv"
	"strings"

	"waystation/domain"
)

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
