package domain

import (
	"encoding/json"
	"strings"
)

// Which values of each stored event are personal data (PIPL) is declared
// by the personal:"true" tags of the event structs (eventFields): the event
// store encrypts them with the data key of the case they belong to, and
// destroying that key erases them (docs/privacy.md). The sealing itself is
// eventstore/sealed's.
//
// What stays in clear, and why it is not identifying on its own: sex, the
// estimated age and the date it was estimated on, the ID document's type,
// whether the person can state their identity, the referral's source,
// station codes, zones and beds, statuses, exit types, the death
// checklist's yes/no notifications, item lists, the name of a corrected
// field (which field, not its values) and every time. These are what the
// statistics, the safety board's deadlines and the rules need; none names,
// locates or singles out a person without the sealed values. The erasure
// event keeps only the age at intake (in whole years), so that the
// statistics still count the person in the same age band, and which death
// checklist items were done, so that a completed checklist stays complete.
//
// Health details are sealed (PIPL art. 28): the whole initial inspection
// (every flag and the notes, as one value, so that which flags are set
// cannot be told from which keys are present), the police report's reason
// (harm to a minor, suspected trafficking...), the DNA result's match, the
// hospital of a referral, admission or discharge, and the death's place,
// certifier, public notice and body disposition. The rules that read them
// (medical and absconding alerts, police reports due, stay limits, zones)
// read them opened while the case is open; erasure comes after the exit,
// and from then on they read as not set (a flag erased is not a flag
// raised), which the fold and the rules take as unknown, never as true.
//
// The erasure event itself holds nothing sealed: its key is the one the
// erasure destroys. Its reason is a code from a closed list (ErasureReasons)
// and its trigger another; free text is refused, so that no one can write
// "at the request of <name>" into a record that can never be erased.

// clearCorrections is the corrected fields whose old and new values stay
// in clear when a correction does not name the corrected event's type
// (recorded before event_type was kept): the statistical facts kept in
// clear at intake. The inspection's flags are health details and no longer
// among them; corrections of them stored in clear before stay so.
var clearCorrections = map[string]bool{
	"person.sex": true, "person.estimated_age": true, "person.id_type": true,
	"person.can_state_identity": true, "referral.source": true,
}

// PersonalPaths returns the dotted JSON paths of the personal values of
// one stored event: those its type's struct tags declare (none for
// station and erasure events, see above, and for access events only a
// confirmed TOTP secret); a path names a whole
// value (string, object or array) and a missing one is simply absent;
// plus, for a correction, its old and new values unless
// the corrected field is kept in clear: a field of the corrected event's
// type (event_type) that is neither a personal path of that type nor below
// one, or occurred_at; for corrections recorded without event_type, one of
// the clear statistical facts of the intake. A correction that cannot be
// read is treated as personal. It is the policy the sealed store applies
// on every append. The caller must not modify the result.
func PersonalPaths(eventType string, data []byte) []string {
	paths := Events.types[eventType].fields.personal
	if eventType != TypeCorrected {
		return paths
	}
	var c struct {
		EventType string `json:"event_type"`
		Field     string `json:"field"`
	}
	if err := json.Unmarshal(data, &c); err == nil && correctionInClear(c.EventType, c.Field) {
		return paths
	}
	return append([]string{"old", "new"}, paths...)
}

// correctionInClear reports whether a correction of field of an event of
// type typ keeps its old and new values in clear.
func correctionInClear(typ, field string) bool {
	if typ == "" {
		return clearCorrections[field]
	}
	if field == OccurredAtField {
		return true
	}
	personal := Events.types[typ].fields.personal
	if len(personal) == 0 || field == "" {
		return false
	}
	for _, p := range personal {
		if field == p || strings.HasPrefix(field, p+".") || strings.HasPrefix(p, field+".") {
			return false
		}
	}
	return true
}

// DataSubject returns the stream whose data key seals the personal values
// of an event of stream, and whether the stream holds personal data: a
// case stream is its own subject (one key per case); the access stream is
// its own too, for the accounts' TOTP secrets (the only personal values it
// holds: the sealed store chooses a key by stream, so the accounts share
// one, which is never destroyed, since the server must open every secret
// to check codes); other streams hold none.
func DataSubject(stream string) (string, bool) {
	if strings.HasPrefix(stream, CaseStreamPrefix) || stream == AccessStream {
		return stream, true
	}
	if id, ok := photoStreamCase(stream); ok {
		return CaseStream(id), true
	}
	return "", false
}
