package projections

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
)

// PersonCases returns case id and every case linked to it by the person
// index (the same ID number, or the same name, birth date and household
// registration place, followed from case to case), in intake order, from
// the live views; false when there is no such case. Erased cases have no
// person keys left, so they link to nothing.
func (r *Runner) PersonCases(id uuid.UUID) ([]uuid.UUID, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	m := r.live
	start := m.cases[id]
	if start == nil || !start.opened() {
		return nil, false
	}
	seen := map[*caseEntry]bool{start: true}
	queue := []*caseEntry{start}
	for len(queue) > 0 {
		ce := queue[0]
		queue = queue[1:]
		for _, k := range ce.keys {
			for _, other := range m.persons[k] {
				if !seen[other] {
					seen[other] = true
					queue = append(queue, other)
				}
			}
		}
	}
	list := make([]*caseEntry, 0, len(seen))
	for ce := range seen {
		list = append(list, ce)
	}
	slices.SortFunc(list, func(a, b *caseEntry) int { return a.seq - b.seq })
	out := make([]uuid.UUID, len(list))
	for i, ce := range list {
		out[i] = ce.c.ID
	}
	return out, true
}

// ErasureDue is a closed case whose retention period has ended.
type ErasureDue struct {
	CaseID   uuid.UUID `json:"case_id" doc:"The case due for erasure."`
	Station  string    `json:"station" doc:"Code of its station."`
	Region   string    `json:"region,omitempty" doc:"Code of the station's region."`
	ClosedAt time.Time `json:"closed_at" doc:"When the case was closed."`
	DueAt    time.Time `json:"due_at" doc:"When its retention period ended."`
}

// DueForErasure lists, from the live views, the cases whose personal data
// is due for erasure at now under retention (after closure; see
// domain.DueForErasure), oldest closure first. A retention of zero lists
// nothing.
func (r *Runner) DueForErasure(retention time.Duration, now time.Time) []ErasureDue {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := []ErasureDue{}
	if retention <= 0 {
		return out
	}
	for _, ce := range r.live.order {
		if ce.opened() && domain.DueForErasure(ce.c, retention, now) {
			out = append(out, ErasureDue{CaseID: ce.c.ID, Station: ce.c.Station, Region: r.live.region(ce.c.Station),
				ClosedAt: ce.c.ClosedAt, DueAt: ce.c.ClosedAt.Add(retention)})
		}
	}
	slices.SortStableFunc(out, func(a, b ErasureDue) int { return a.ClosedAt.Compare(b.ClosedAt) })
	return out
}

// ErasedCases returns the cases whose personal data erasure the live views
// have folded, so that a key store can check that none of their keys
// survived an interrupted erasure.
func (r *Runner) ErasedCases() []uuid.UUID {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []uuid.UUID
	for _, ce := range r.live.order {
		if ce.opened() && ce.c.PersonalDataErased() {
			out = append(out, ce.c.ID)
		}
	}
	return out
}

// erasedPaths returns the personal paths (domain.PersonalPaths) of an
// event of type typ whose value in data, as the event store reads it, is
// null: what the sealed store shows for a personal value whose data key
// was destroyed. Absent paths are not listed (nothing was recorded there).
// It is meant for the events of an erased case recorded before its
// erasure; a personal value recorded as null (a correction's old value of
// a field that had none) cannot be told apart from an erased one and is
// listed too.
func erasedPaths(typ string, data []byte) []string {
	var out []string
	for _, p := range domain.PersonalPaths(typ, data) {
		if v, ok := jsonPath(data, p); ok && bytes.Equal(bytes.TrimSpace(v), null) {
			out = append(out, p)
		}
	}
	return out
}

var null = []byte("null")

// jsonPath returns the JSON value at the dotted path p in the object doc,
// and whether there is one.
func jsonPath(doc []byte, p string) (json.RawMessage, bool) {
	v := json.RawMessage(doc)
	for key := range strings.SplitSeq(p, ".") {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(v, &obj); err != nil || obj == nil {
			return nil, false
		}
		var ok bool
		if v, ok = obj[key]; !ok {
			return nil, false
		}
	}
	return v, true
}
