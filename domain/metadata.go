package domain

import (
	"encoding/json"
	"strconv"
)

// decodeMetadata reads a metadata document. Metadata is decoded for every
// event a projection folds, so the flat documents that Encode writes take a
// hand-written path; anything else (escapes, non-ASCII text, unknown or
// differently cased keys, nested values) falls back to encoding/json, whose
// result the fast path always equals.
func decodeMetadata(b []byte, m *Metadata) error {
	if fastMetadata(b, m) {
		return nil
	}
	*m = Metadata{}
	return json.Unmarshal(b, m)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// plainByte says which bytes a plain string holds: printable ASCII other
// than the quote and the backslash.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// plainString scans a JSON string at b[i] (the opening quote) that holds
// only printable ASCII without escapes and returns its contents and the
// index after the closing quote.
func plainString(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	j := i + 1
	for j < len(b) && plainByte[b[j]] {
		j++
	}
	if j < len(b) && b[j] == '"' {
		return b[i+1 : j], j + 1, true
	}
	return nil, 0, false
}

// known strings are shared instead of allocated for every event.
func internString(s []byte) string {
	switch string(s) {
	case "staff":
		return "staff"
	case "admin":
		return "admin"
	case "coordinator":
		return "coordinator"
	case "inspector":
		return "inspector"
	case "statutory_duty":
		return "statutory_duty"
	}
	return string(s)
}

func fastMetadata(b []byte, m *Metadata) bool {
	*m = Metadata{}
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return skipSpace(b, i+1) == len(b)
	}
	for {
		key, next, ok := plainString(b, i)
		if !ok {
			return false
		}
		i = skipSpace(b, next)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipSpace(b, i+1)
		if i >= len(b) {
			return false
		}
		if b[i] == 'n' {
			if len(b)-i < 4 || string(b[i:i+4]) != "null" {
				return false
			}
			switch string(key) {
			case "schema_version", "occurred_at", "recorded_at", "actor", "role", "station", "region",
				"correlation_id", "causation_id", "legal_basis", "request_hash":
			default:
				return false
			}
			i += 4
		} else if string(key) == "schema_version" {
			j := i
			if j < len(b) && b[j] == '-' {
				j++
			}
			start := j
			for j < len(b) && b[j] >= '0' && b[j] <= '9' {
				j++
			}
			if j == start || (b[start] == '0' && j-start > 1) || (j < len(b) && (b[j] == '.' || b[j] == 'e' || b[j] == 'E')) {
				return false
			}
			n, err := strconv.Atoi(string(b[i:j]))
			if err != nil {
				return false
			}
			m.SchemaVersion = n
			i = j
		} else {
			val, next, ok := plainString(b, i)
			if !ok {
				return false
			}
			switch string(key) {
			case "occurred_at":
				if m.OccurredAt.UnmarshalText(val) != nil {
					return false
				}
			case "recorded_at":
				if m.RecordedAt.UnmarshalText(val) != nil {
					return false
				}
			case "actor":
				// Actor IDs are token IDs, never personal data, and few
				// tokens write most events: keep one copy of each.
				m.Actor = tokens.get(val)
			case "role":
				m.Role = Role(internString(val))
			case "station":
				m.Station = tokens.get(val)
			case "region":
				m.Region = tokens.get(val)
			case "correlation_id":
				m.CorrelationID = string(val)
			case "causation_id":
				m.CausationID = string(val)
			case "legal_basis":
				m.LegalBasis = LegalBasis(internString(val))
			case "request_hash":
				m.RequestHash = string(val)
			default:
				return false
			}
			i = next
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return false
		}
		if b[i] == '}' {
			return skipSpace(b, i+1) == len(b)
		}
		if b[i] != ',' {
			return false
		}
		i = skipSpace(b, i+1)
	}
}
