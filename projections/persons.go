package projections

import (
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"

	"waystation/domain"
)

// PersonCase is one case of a person, as the person index shows it.
type PersonCase struct {
	CaseID   uuid.UUID       `json:"case_id" doc:"The case's ID."`
	Station  string          `json:"station" doc:"Code of the station the case is at."`
	Stations []string        `json:"stations" doc:"Codes of every station the person stayed at in this case."`
	Status   domain.Status   `json:"status" doc:"Where the case stands."`
	OpenedAt time.Time       `json:"opened_at" doc:"When the person arrived."`
	ExitedAt time.Time       `json:"exited_at,omitzero" doc:"When the person left."`
	ExitType domain.ExitType `json:"exit_type,omitempty" doc:"How the person left."`
	// TransferTo is the station a transfer in flight is addressed to, empty
	// when none is: with Station, all that domain.Authorize reads of a case
	// to decide a read. It is not part of the answer.
	TransferTo string `json:"-"`
}

// Person returns every case linked to case id's person, id's own included,
// oldest first: cases that share the resident ID number, or the
// normalised name with the birth date and household registration place.
// An unknown case is not_found.
func (r *Runner) Person(id uuid.UUID) ([]PersonCase, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	ce := r.live.cases[id]
	if ce == nil || !ce.opened() {
		return nil, domain.NotFound("no case %s", id)
	}
	return personCases(r.live.linked(ce)), nil
}

// Matches returns the cases the person index links to person p, as it
// would link a new case of p (the same resident ID number, or the same
// name, birth date and household registration place), oldest first: the
// earlier stays of someone about to be registered. A person with too
// little to go on (no ID number, nor name, birth date and place) matches
// nothing.
func (r *Runner) Matches(p domain.Person) []PersonCase {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var found []*caseEntry
	for _, k := range personKeys(p) {
		for _, ce := range r.live.persons[k] {
			if !slices.Contains(found, ce) {
				found = append(found, ce)
			}
		}
	}
	slices.SortFunc(found, func(a, b *caseEntry) int { return a.seq - b.seq })
	return personCases(found)
}

// linked returns the cases that share a person key with ce, and ce, in
// intake order.
func (m *model) linked(ce *caseEntry) []*caseEntry {
	set := []*caseEntry{ce}
	for _, k := range ce.keys {
		for _, p := range m.persons[k] {
			if !slices.Contains(set, p) {
				set = append(set, p)
			}
		}
	}
	slices.SortFunc(set, func(a, b *caseEntry) int { return a.seq - b.seq })
	return set
}

func personCases(list []*caseEntry) []PersonCase {
	out := make([]PersonCase, 0, len(list))
	for _, p := range list {
		pc := PersonCase{
			CaseID:   p.c.ID,
			Station:  p.c.Station,
			Status:   p.c.Status,
			OpenedAt: p.c.OpenedAt,
			ExitedAt: p.c.ExitedAt,
			ExitType: p.c.ExitType,
		}
		if p.c.Transfer != nil {
			pc.TransferTo = p.c.Transfer.To
		}
		for _, s := range p.stays {
			if !slices.Contains(pc.Stations, s.Station) {
				pc.Stations = append(pc.Stations, s.Station)
			}
		}
		out = append(out, pc)
	}
	return out
}

// personKeys returns the keys that link cases of one person: the ID
// number, and the normalised name with the birth date and household
// registration place when all three are known.
func personKeys(p domain.Person) []string {
	var keys []string
	if p.IDNumber != "" {
		t := p.IDType
		if t == "" {
			t = domain.IDResidentCard
		}
		keys = append(keys, "id:"+string(t)+":"+strings.ToUpper(strings.TrimSpace(p.IDNumber)))
	}
	if born := birthDate(p); !born.IsZero() && p.Name != "" && p.HukouPlace != "" {
		name, hukou := normalise(p.Name), normalise(p.HukouPlace)
		if name != "" && hukou != "" {
			keys = append(keys, "nb:"+name+"|"+born.String()+"|"+hukou)
		}
	}
	return keys
}

// birthDate returns the person's exact birth date: the registered one, or
// the one inside a resident ID number; zero when only an estimate is known.
func birthDate(p domain.Person) domain.Date {
	if !p.BirthDate.IsZero() {
		return p.BirthDate
	}
	if p.IDNumber != "" && (p.IDType == "" || p.IDType == domain.IDResidentCard) {
		if d, err := domain.CheckResidentID(p.IDNumber); err == nil {
			return d
		}
	}
	return domain.Date{}
}

// normalise folds full-width forms to ASCII, lower-cases, and drops spaces
// and punctuation, so that "Zhang San", "zhang  san" and "ＺＨＡＮＧ·SAN"
// compare equal.
func normalise(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case 'a' <= r && r <= 'z' || '0' <= r && r <= '9':
			b.WriteByte(byte(r))
			continue
		case 'A' <= r && r <= 'Z':
			b.WriteByte(byte(r) + 'a' - 'A')
			continue
		case r >= 0xFF01 && r <= 0xFF5E:
			r -= 0xFEE0
		}
		if unicode.IsSpace(r) || unicode.IsPunct(r) || r == '·' {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
