package domain_test

import (
	"encoding/json"
	"fmt"
	mathrand "math/rand"
	"math/rand/v2"
	"testing"
	"testing/quick"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
)

// world drives random command sequences through the service and checks
// the invariants after every step.
type world struct {
	f     *fixture
	rng   *rand.Rand
	cases []uuid.UUID
}

func (w *world) pick() uuid.UUID { return w.cases[w.rng.IntN(len(w.cases))] }

var pool = []domain.Person{man, woman, boy10, girl17, elderly}

// next returns a random command, its target case and the actor.
func (w *world) next() (domain.Command, uuid.UUID, domain.Actor) {
	r := w.rng
	if len(w.cases) == 0 || r.IntN(8) == 0 {
		in := &domain.Intake{Station: "S01", Referral: walkIn, Person: pool[r.IntN(len(pool))]}
		if r.IntN(6) == 0 {
			in.Inspection.SuspectedInfectious = true
		}
		if len(w.cases) > 0 && r.IntN(5) == 0 {
			in.Person = child4
			in.MotherCaseID = w.pick()
		}
		return in, uuid.UUID{}, staff1
	}
	id := w.pick()
	if r.IntN(3) > 0 {
		if c, err := w.f.svc.Case(w.f.ctx, id); err == nil {
			if cmd, actor := progress(c, w.f.clock.Now(), r); cmd != nil {
				return cmd, id, actor
			}
		}
	}
	zones := []domain.Zone{domain.ZoneAdultMale, domain.ZoneAdultFemale, domain.ZoneMinors, domain.ZoneMotherChild, domain.ZoneCare, domain.ZoneIsolation}
	var cmd domain.Command
	switch r.IntN(24) {
	case 0, 1:
		switch r.IntN(3) {
		case 0:
			cmd = &domain.EligibilityCmd{Eligible: ptr(true)}
		case 1:
			cmd = &domain.EligibilityCmd{AssistFirst: true}
		default:
			cmd = &domain.EligibilityCmd{Eligible: ptr(false), Reason: "r", NoticeNo: "n"}
		}
	case 2, 3:
		sex := domain.Female
		if r.IntN(3) == 0 {
			sex = domain.Male
		}
		cmd = &domain.SecurityCheckCmd{CheckedBy: domain.Checker{StaffID: "c", Sex: sex}, Refused: r.IntN(15) == 0}
	case 4, 5, 6, 7:
		z := zones[r.IntN(len(zones))]
		bed := ""
		if r.IntN(2) == 0 {
			bed = domain.BedName(z, 1+r.IntN(2))
		}
		cmd = &domain.AssignBed{Zone: z, Bed: bed}
	case 8:
		cmd = &domain.ReleaseBed{}
	case 9:
		cmd = &domain.MedicalReferral{Hospital: "H"}
	case 10:
		cmd = &domain.HospitalAdmission{}
	case 11:
		cmd = &domain.HospitalDischarge{}
	case 12:
		cmd = &domain.MedicalReturn{}
	case 13:
		cmd = &domain.TransferRequest{ToStation: "S02", Reason: "r"}
	case 14:
		return &domain.TransferAccept{}, id, staff2
	case 15:
		cmd = &domain.EscortDeparture{Escorts: []string{"e"}}
	case 16:
		return &domain.HandoverCmd{ReceivedBy: "r"}, id, staff2
	case 17:
		cmd = &domain.VoluntaryLeave{DeclarationRef: "d", CashYuan: r.IntN(25), ReceiptRef: "rc"}
	case 18:
		cmd = &domain.Pickup{Collector: domain.Collector{Name: "n", IDType: domain.IDPassport, IDNumber: "p", Relationship: "r"}}
	case 19:
		cmd = &domain.Absconding{}
	case 20:
		cmd = &domain.DeathCmd{Place: "p"}
	case 21:
		switch r.IntN(3) {
		case 0:
			cmd = &domain.Closure{}
		case 1:
			cmd = &domain.PublishNotice{Shows: []domain.NoticeField{domain.NoticeSex, domain.NoticeAge}}
		default:
			cmd = &domain.WithdrawNotice{}
		}
	case 22:
		cmd = &domain.Termination{Reason: "r"}
	default:
		c, err := w.f.svc.Case(w.f.ctx, id)
		if err != nil {
			return &domain.Absconding{}, id, admin
		}
		old, _ := json.Marshal(c.Person.Name)
		cmd = &domain.Correct{EventID: firstEventID(w, id), Field: "person.name", Old: old, New: json.RawMessage(`"Renamed"`), Reason: "typo"}
	}
	return cmd, id, admin
}

// progress returns the natural next step of case c, or nil.
func progress(c domain.Case, now time.Time, r *rand.Rand) (domain.Command, domain.Actor) {
	switch {
	case c.Status == domain.StatusReceived:
		return &domain.EligibilityCmd{AssistFirst: true}, admin
	case c.Status.Ended():
		return &domain.Closure{}, admin
	case !c.SecurityCheck.Done:
		return &domain.SecurityCheckCmd{CheckedBy: domain.Checker{StaffID: "c", Sex: c.Person.Sex}}, admin
	case c.Transfer != nil && c.Transfer.State == domain.TransferStateRequested:
		return &domain.TransferAccept{}, staff2
	case c.Transfer != nil && c.Transfer.State == domain.TransferStateAccepted:
		return &domain.EscortDeparture{Escorts: []string{"e"}}, admin
	case c.Transfer != nil:
		return &domain.HandoverCmd{ReceivedBy: "r"}, staff2
	case c.Medical.State == domain.MedicalStateReferred:
		return &domain.HospitalAdmission{}, admin
	case c.Medical.State == domain.MedicalStateAdmitted:
		return &domain.HospitalDischarge{}, admin
	case c.Medical.State == domain.MedicalStateDischarged:
		return &domain.MedicalReturn{}, admin
	case c.Bed == nil:
		age, _ := c.AgeOn(now)
		z := domain.ZoneAdultFemale
		switch {
		case c.Inspection.SuspectedInfectious:
			z = domain.ZoneIsolation
		case age < 6:
			z = domain.ZoneMotherChild
		case age < 18:
			z = domain.ZoneMinors
		case age >= 60:
			z = domain.ZoneCare
		case c.Person.Sex == domain.Male:
			z = domain.ZoneAdultMale
		}
		return &domain.AssignBed{Zone: z}, admin
	case r.IntN(3) == 0:
		return &domain.TransferRequest{ToStation: "S02", Reason: "r"}, admin
	}
	return nil, admin
}

func firstEventID(w *world, id uuid.UUID) uuid.UUID {
	for rec, err := range w.f.store.ReadStream(w.f.ctx, domain.CaseStream(id), eventstore.ReadStreamOptions{Limit: 1}) {
		if err == nil {
			return rec.ID
		}
	}
	return uuid.UUID{}
}

// check verifies the invariants: one bed per person, one person per bed
// (a child under 6 may share their mother's), and no exited, departed or
// hospitalized case in a bed.
func (w *world) check() error {
	holder := map[uuid.UUID]string{}
	for _, code := range []string{"S01", "S02"} {
		st, err := w.f.svc.Station(w.f.ctx, code)
		if err != nil {
			return err
		}
		for _, p := range st.Placements() {
			if where, dup := holder[p.CaseID]; dup {
				return fmt.Errorf("case in two beds: %s and %s/%s", where, code, p.Bed)
			}
			holder[p.CaseID] = code + "/" + p.Bed
			c, err := w.f.svc.Case(w.f.ctx, p.CaseID)
			if err != nil {
				return err
			}
			if !c.Active() || c.Station != code || c.Status == domain.StatusInHospital {
				return fmt.Errorf("case %s (%s at %s) holds %s/%s", p.CaseID, c.Status, c.Station, code, p.Bed)
			}
			if occ := st.Occupants(p.Bed); len(occ) > 1 {
				for _, o := range occ[1:] {
					op, _ := st.BedOf(o)
					if op.MotherCaseID != occ[0] {
						return fmt.Errorf("bed %s/%s held by %d people", code, p.Bed, len(occ))
					}
				}
			}
			if c.Inspection.SuspectedInfectious && p.Zone != domain.ZoneIsolation {
				return fmt.Errorf("a suspected infectious case in %s", p.Zone)
			}
			if age, _ := c.AgeOn(p.Since); age < domain.AdultAge && p.Zone.Adult() {
				return fmt.Errorf("a minor placed in %s", p.Zone)
			}
		}
	}
	return nil
}

func TestRandomCommandSequencesKeepTheInvariants(t *testing.T) {
	done := map[domain.Step]int{}
	run := func(seed uint64) bool {
		w := &world{f: newFixture(t), rng: rand.New(rand.NewPCG(seed, 7))}
		for step := range 70 {
			cmd, id, actor := w.next()
			w.f.clock.Advance(time.Duration(w.rng.IntN(60)) * time.Minute)
			var err error
			if in, ok := cmd.(*domain.Intake); ok {
				var r domain.Result
				if r, err = w.f.svc.Intake(w.f.ctx, actor, in, domain.Options{}); err == nil {
					w.cases = append(w.cases, uuid.MustParse(r.ID))
				}
			} else {
				_, err = w.f.svc.Execute(w.f.ctx, actor, id, cmd, domain.Options{})
			}
			if err == nil {
				done[cmd.Step()]++
			}
			if code := domain.ErrorCode(err); code == domain.CodeInternal || code == domain.CodeConflict {
				t.Errorf("seed %d step %d %s: %v", seed, step, cmd.Step(), err)
				return false
			}
			if err := w.check(); err != nil {
				t.Errorf("seed %d step %d after %s: %v", seed, step, cmd.Step(), err)
				return false
			}
		}
		return true
	}
	if err := quick.Check(run, &quick.Config{MaxCount: 30, Rand: mathrand.New(mathrand.NewSource(1))}); err != nil {
		t.Fatal(err)
	}
	t.Logf("steps taken: %v", done)
	// The sequences must reach the states the invariants are about.
	for _, s := range []domain.Step{domain.StepBed, domain.StepHospitalAdmission, domain.StepHandover, domain.StepVoluntaryLeave, domain.StepClosure} {
		if done[s] == 0 {
			t.Errorf("no random sequence took the step %s", s)
		}
	}
}
