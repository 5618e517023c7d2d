package domain

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// TextKind is the kind of a free-text field of a request, named by the
// field's `text` struct tag (text:"name"). It sets the most characters
// (Unicode code points, not bytes) the field may hold and how its value is
// cleaned before anything is recorded; the API description publishes Max
// as the field's maxLength. A string field with no tag is of kind "line".
//
// Every kind refuses text that is not valid UTF-8, control characters
// (tab and newline are allowed in multi-line kinds only), the invisible
// characters that reorder text (bidirectional embeddings, overrides and
// isolates: U+202A to U+202E, U+2066 to U+2069) and Unicode
// noncharacters, and normalises what it keeps to NFC, so that a name typed
// on two keyboards is stored one way. Beyond that:
//
//   - name: a person's or an organisation's name, 100 characters, one
//     line; surrounding spaces (ideographic spaces too) are trimmed.
//   - code: a code of the system (a station or region code), 32
//     characters, one line; it is refused, not trimmed, when it begins or
//     ends with a space, since a code has one spelling.
//   - ref: a document number or reference (a form number, an ID number, a
//     phone number, a bed), 64 characters, one line, trimmed.
//   - line: a short phrase (a place, a relationship, an item), 200
//     characters, one line, trimmed.
//   - reason: a stated reason, 2000 characters, one line, trimmed.
//   - notes: free notes, 4000 characters over several lines: tabs and
//     newlines are kept, a carriage return (CRLF, as browsers send a text
//     area) becomes a newline, nothing is trimmed.
type TextKind struct {
	Name      string
	Max       int  // the most characters
	Multiline bool // tabs and newlines are kept
	Trim      bool // one line: surrounding white space is trimmed (else refused)
}

// TextKinds lists every kind of text field, by name.
var TextKinds = map[string]TextKind{
	"name":   {Name: "name", Max: 100, Trim: true},
	"code":   {Name: "code", Max: 32},
	"ref":    {Name: "ref", Max: 64, Trim: true},
	"line":   {Name: "line", Max: 200, Trim: true},
	"reason": {Name: "reason", Max: 2000, Trim: true},
	"notes":  {Name: "notes", Max: 4000, Multiline: true},
}

// DefaultTextKind is the kind of a string field without a text tag.
const DefaultTextKind = "line"

// TextKindOf returns the kind a `text` tag names ("" is DefaultTextKind)
// and whether there is such a kind.
func TextKindOf(tag string) (TextKind, bool) {
	if tag == "" {
		tag = DefaultTextKind
	}
	k, ok := TextKinds[tag]
	return k, ok
}

// Clean returns s cleaned as k says, or an invalid Error naming field. The
// error's message never repeats the value.
func (k TextKind) Clean(field, s string) (string, error) {
	out, msg := k.CleanText(s)
	if msg != "" {
		return "", Invalid(field, "%s %s", field, msg)
	}
	return out, nil
}

// CleanText returns s cleaned as k says, or, when k refuses s, why, in
// words that follow the field's name ("is longer than 100 characters")
// and never repeat the value.
func (k TextKind) CleanText(s string) (string, string) {
	if !utf8.ValidString(s) {
		return "", "is not valid UTF-8 text"
	}
	if k.Multiline && strings.IndexByte(s, '\r') >= 0 {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		s = strings.ReplaceAll(s, "\r", "\n")
	}
	n := 0
	for _, r := range s {
		if msg := k.refuses(r); msg != "" {
			return "", msg
		}
		n++
	}
	if !k.Multiline {
		trimmed := strings.TrimFunc(s, unicode.IsSpace)
		if trimmed != s {
			if !k.Trim {
				return "", "must not begin or end with a space"
			}
			s = trimmed
			n = utf8.RuneCountInString(s)
		}
	}
	if !isNFC(s) {
		s = norm.NFC.String(s)
		n = utf8.RuneCountInString(s)
	}
	if n > k.Max {
		return "", "is longer than " + itoa(k.Max) + " characters"
	}
	return s, ""
}

// refuses says why k refuses the character r, or "" when it takes it.
func (k TextKind) refuses(r rune) string {
	switch {
	case r == '\t' || r == '\n':
		if k.Multiline {
			return ""
		}
		return "must be one line: tabs and line breaks are allowed in notes only"
	case r == '\u2028' || r == '\u2029':
		if k.Multiline {
			return ""
		}
		return "must be one line: line and paragraph separators are allowed in notes only"
	case r == 0:
		return "holds a NUL character"
	case unicode.IsControl(r):
		return "holds a control character"
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return "holds an invisible character that reorders text (bidirectional control)"
	case r >= '\ufdd0' && r <= '\ufdef', r&0xfffe == 0xfffe:
		return "holds a Unicode noncharacter"
	}
	return ""
}

// isNFC reports whether s is in NFC, quickly: ASCII is, and so is text
// that NFC's quick check passes whole (nearly all text, CJK included).
func isNFC(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return norm.NFC.QuickSpanString(s[i:]) == len(s)-i
		}
	}
	return true
}
