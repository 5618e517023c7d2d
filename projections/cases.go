package projections

import (
	"time"

	"github.com/google/uuid"

	"waystation/domain"
)

// CaseView is a case's current state: the domain's fold with the bed it
// holds (nil when none), its region and its flags now.
//
// PersonalDataErased is true once the person's personal data was erased:
// the personal values (name, ID number, birth date, health details...)
// then read as absent because they were erased, not because they were
// never recorded. In a history, or any view of the case as of a past
// moment or version, it says whether they are erased now, even when the
// view shows the case before its erasure: an erased value reads as erased
// in every view of the past too.
type CaseView struct {
	domain.Case
	Region             string   `json:"region,omitempty" doc:"Code of the region of the case's station."`
	Flags              []string `json:"flags" doc:"What the person needs care for at that moment (minor, under_16, elderly...)."`
	PersonalDataErased bool     `json:"personal_data_erased,omitempty" doc:"True when the person's personal data has been erased (now, even in a view of the past)."`
}

func caseView(m *model, ce *caseEntry, at time.Time) CaseView {
	v := CaseView{
		Case: ce.c, Region: m.region(ce.c.Station), Flags: ce.c.Flags(at), PersonalDataErased: ce.c.PersonalDataErased(),
	}
	v.Bed, v.CaseNumber = nil, ce.number
	if ce.bed != nil {
		v.Bed = &domain.Bed{Zone: ce.bed.Zone, Bed: ce.bed.Bed}
	}
	if v.Flags == nil {
		v.Flags = []string{}
	}
	return v
}

// Case returns the current state of case id from the live views, and
// whether the case exists.
func (r *Runner) Case(id uuid.UUID) (CaseView, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	ce := r.live.cases[id]
	if ce == nil || !ce.opened() {
		return CaseView{}, false
	}
	return caseView(r.live, ce, r.opts.Now()), true
}
