// Package loggen writes a realistic event log for benchmarks and tests:
// many stations in several regions, and cases that go through the whole
// lifecycle (intake, screening, beds, identity and family search, medical
// care, extensions, transfers, long stay and settlement, every kind of
// exit, closure, late paperwork), as valid domain events written straight
// to the store.
package loggen

import (
	"container/heap"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
)

// Options shape the generated log.
type Options struct {
	// Events is about how many events to write; cases in flight when it
	// is reached are finished, so a few more may be written.
	Events int
	// Stations (40 when zero) are spread over Regions (8 when zero).
	Stations int
	Regions  int
	// Start is when the first case arrives (2024-01-01 UTC when zero).
	Start time.Time
	// Seed makes the log reproducible.
	Seed uint64
	// Writers append concurrently, each for its own stations (8 when zero).
	Writers int
}

// Result says what was written.
type Result struct {
	Events   int       `json:"events"`
	Cases    int       `json:"cases"`
	Stations int       `json:"stations"`
	End      time.Time `json:"end"` // the latest occurred-at time written
}

// Generate writes a log to store. It appends to whatever is there.
func Generate(ctx context.Context, store eventstore.Store, opts Options) (Result, error) {
	if opts.Stations <= 0 {
		opts.Stations = 40
	}
	if opts.Regions <= 0 {
		opts.Regions = 8
	}
	if opts.Writers <= 0 {
		opts.Writers = 8
	}
	opts.Writers = min(opts.Writers, opts.Stations)
	if opts.Start.IsZero() {
		opts.Start = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	g := &gen{store: store, opts: opts}
	for i := range opts.Stations {
		code := fmt.Sprintf("S%03d", i+1)
		g.stations = append(g.stations, code)
		if err := g.append(ctx, 0, domain.StationStream(code), opts.Start.Add(-24*time.Hour), domain.StationRegistered{
			Code: code, Name: "Assistance station " + code, Region: fmt.Sprintf("R%02d", i%opts.Regions+1),
			Kind: domain.KindStation, Zones: zones,
		}); err != nil {
			return Result{}, err
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, opts.Writers)
	for w := range opts.Writers {
		var mine []string
		for i := w; i < len(g.stations); i += opts.Writers {
			mine = append(mine, g.stations[i])
		}
		wg.Go(func() {
			if err := g.run(ctx, w+1, mine); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return Result{}, err
	}
	return Result{
		Events:   int(g.events.Load()),
		Cases:    int(g.cases.Load()),
		Stations: opts.Stations,
		End:      time.Unix(0, g.end.Load()).UTC(),
	}, nil
}

var zones = []domain.ZoneBeds{
	{Zone: domain.ZoneAdultMale, Beds: 24, Seasonal: 6},
	{Zone: domain.ZoneAdultFemale, Beds: 12},
	{Zone: domain.ZoneMinors, Beds: 8},
	{Zone: domain.ZoneCare, Beds: 6},
	{Zone: domain.ZoneIsolation, Beds: 2},
}

type gen struct {
	store    eventstore.Store
	opts     Options
	stations []string
	events   atomic.Int64
	cases    atomic.Int64
	end      atomic.Int64
	ids      atomic.Uint64
}

// newID returns a unique, time-ordered event or case ID.
func (g *gen) newID(writer int, at time.Time) uuid.UUID {
	var u uuid.UUID
	ms := uint64(at.UnixMilli())
	u[0], u[1], u[2], u[3], u[4], u[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	u[6] = 0x70 | byte(writer&0x0f)
	u[7] = byte(writer >> 4)
	binary.BigEndian.PutUint64(u[8:], g.ids.Add(1))
	u[8] = 0x80 | u[8]&0x3f
	return u
}

func (g *gen) append(ctx context.Context, writer int, stream string, at time.Time, ev domain.Event) error {
	rec := at.Add(time.Duration(writer%7+1) * time.Minute)
	meta := domain.Metadata{
		OccurredAt: at,
		RecordedAt: rec,
		Actor:      fmt.Sprintf("tok-w%d", writer),
		Role:       domain.RoleStaff,
		LegalBasis: domain.BasisStatutoryDuty,
	}
	data, err := domain.Encode(g.newID(writer, at), ev, meta)
	if err != nil {
		return err
	}
	if _, err := g.store.Append(ctx, stream, eventstore.Any, data); err != nil {
		return fmt.Errorf("loggen: append: %w", err)
	}
	g.events.Add(1)
	for {
		old := g.end.Load()
		if at.UnixNano() <= old || g.end.CompareAndSwap(old, at.UnixNano()) {
			break
		}
	}
	return nil
}

// step is one scheduled action of a case.
type step struct {
	at  time.Time
	c   *simCase
	seq int
	do  func(s *sim) error
}

type queue []*step

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(*step)) }
func (q *queue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

type simCase struct {
	id      uuid.UUID
	station string
	person  domain.Person
	minor   bool
	zone    domain.Zone
	bed     string
	bedAt   string // station holding the bed
}

// sim runs the cases of one writer's stations in time order.
type sim struct {
	g      *gen
	ctx    context.Context
	writer int
	rnd    *rand.Rand
	q      queue
	seq    int
	beds   map[string]map[string]bool // station -> bed -> taken
	people []domain.Person
}

func (s *sim) at(t time.Time, c *simCase, do func(s *sim) error) {
	s.seq++
	heap.Push(&s.q, &step{at: t, c: c, seq: s.seq, do: do})
}

func (g *gen) run(ctx context.Context, writer int, stations []string) error {
	s := &sim{
		g:      g,
		ctx:    ctx,
		writer: writer,
		rnd:    rand.New(rand.NewPCG(g.opts.Seed, uint64(writer))),
		beds:   map[string]map[string]bool{},
	}
	for _, st := range stations {
		s.beds[st] = map[string]bool{}
	}
	// Each station receives a case about every 8 hours.
	next := map[string]time.Time{}
	for i, st := range stations {
		next[st] = g.opts.Start.Add(time.Duration(i) * time.Hour)
		s.scheduleArrival(st, next[st])
	}
	for s.q.Len() > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		st := heap.Pop(&s.q).(*step)
		if err := st.do(s); err != nil {
			return err
		}
	}
	return nil
}

func (s *sim) scheduleArrival(station string, t time.Time) {
	s.at(t, nil, func(s *sim) error {
		if int(s.g.events.Load()) >= s.g.opts.Events {
			return nil // enough: no more arrivals
		}
		if err := s.intake(station, t); err != nil {
			return err
		}
		s.scheduleArrival(station, t.Add(time.Duration(4+s.rnd.IntN(8))*time.Hour))
		return nil
	})
}

func (s *sim) caseEvent(c *simCase, t time.Time, ev domain.Event) error {
	return s.g.append(s.ctx, s.writer, domain.CaseStream(c.id), t, ev)
}

func (s *sim) person() domain.Person {
	// One in eight arrivals is someone seen before.
	if len(s.people) > 20 && s.rnd.IntN(8) == 0 {
		return s.people[s.rnd.IntN(len(s.people))]
	}
	sex := domain.Male
	if s.rnd.IntN(4) == 0 {
		sex = domain.Female
	}
	age := 18 + s.rnd.IntN(60)
	if s.rnd.IntN(10) == 0 {
		age = 3 + s.rnd.IntN(15)
	}
	born := s.g.opts.Start.AddDate(-age, 0, -s.rnd.IntN(365))
	p := domain.Person{
		Name:       fmt.Sprintf("P%d-%d", s.writer, len(s.people)),
		Sex:        sex,
		BirthDate:  domain.DateOf(born),
		HukouPlace: fmt.Sprintf("County %d", s.rnd.IntN(300)),
	}
	if s.rnd.IntN(3) == 0 {
		first := fmt.Sprintf("%06d%s%03d", 110000+s.rnd.IntN(500000), born.Format("20060102"), s.rnd.IntN(1000))
		if ch, err := domain.ResidentIDCheckChar(first); err == nil {
			p.IDNumber = first + string(ch)
			p.IDType = domain.IDResidentCard
		}
	}
	if s.rnd.IntN(6) == 0 {
		p.BirthDate = domain.Date{}
		if p.IDNumber == "" {
			p.EstimatedAge = &age
		}
	}
	s.people = append(s.people, p)
	return p
}

func (s *sim) takeBed(c *simCase, t time.Time) error {
	taken := s.beds[c.station]
	for _, zb := range zones {
		if zb.Zone != c.zone {
			continue
		}
		for n := 1; n <= zb.Beds+zb.Seasonal; n++ {
			b := domain.BedName(zb.Zone, n)
			if !taken[b] {
				taken[b] = true
				c.bed, c.bedAt = b, c.station
				return s.g.append(
					s.ctx, s.writer, domain.StationStream(c.station), t, domain.BedAssigned{CaseID: c.id, Zone: c.zone, Bed: b},
				)
			}
		}
	}
	return nil // the zone is full: the person waits without a bed
}

func (s *sim) freeBed(c *simCase, t time.Time, reason string) error {
	if c.bed == "" {
		return nil
	}
	delete(s.beds[c.bedAt], c.bed)
	b, at := c.bed, c.bedAt
	c.bed, c.bedAt = "", ""
	return s.g.append(
		s.ctx, s.writer, domain.StationStream(at), t, domain.BedReleased{CaseID: c.id, Zone: c.zone, Bed: b, Reason: reason},
	)
}

// intake opens a case and schedules its whole story.
func (s *sim) intake(station string, t time.Time) error {
	s.g.cases.Add(1)
	p := s.person()
	c := &simCase{id: s.g.newID(s.writer, t), station: station, person: p}
	age, _ := p.AgeOn(t)
	c.minor = age < domain.AdultAge
	in := domain.Inspection{}
	switch s.rnd.IntN(20) {
	case 0:
		in.SuspectedMentalDisorder = true
	case 1:
		in.SuspectedInfectious = true
	case 2:
		in.PhysicalDisability = true
	}
	switch {
	case c.minor:
		c.zone = domain.ZoneMinors
	case age >= 70 || in.PhysicalDisability:
		c.zone = domain.ZoneCare
	case p.Sex == domain.Female:
		c.zone = domain.ZoneAdultFemale
	default:
		c.zone = domain.ZoneAdultMale
	}
	if err := s.caseEvent(c, t, domain.IntakeRegistered{CaseID: c.id, Station: station,
		Referral: domain.Referral{Source: domain.SourceWalkIn}, Person: p, Inspection: in}); err != nil {
		return err
	}
	h := time.Hour
	if s.rnd.IntN(40) == 0 {
		s.at(t.Add(10*time.Minute), c, func(s *sim) error {
			if err := s.caseEvent(
				c, t.Add(10*time.Minute), domain.EligibilityDecided{Eligible: false, Reason: "has means", NoticeNo: "N"},
			); err != nil {
				return err
			}
			return s.caseEvent(c, t.Add(20*time.Minute), domain.CaseClosed{})
		})
		return nil
	}
	s.at(t.Add(10*time.Minute), c, func(s *sim) error {
		checker := domain.Checker{StaffID: "staff", Sex: p.Sex}
		if err := s.caseEvent(c, t.Add(10*time.Minute), domain.EligibilityDecided{Eligible: true}); err != nil {
			return err
		}
		if err := s.caseEvent(c, t.Add(15*time.Minute), domain.SecurityChecked{CheckedBy: checker}); err != nil {
			return err
		}
		if err := s.caseEvent(
			c, t.Add(20*time.Minute), domain.BelongingsDeposited{Items: []domain.Item{{Item: "bag", Qty: 1}}},
		); err != nil {
			return err
		}
		return s.takeBed(c, t.Add(30*time.Minute))
	})
	s.at(t.Add(2*h), c, func(s *sim) error {
		return s.caseEvent(c, t.Add(2*h), domain.IdentityQueried{Channel: domain.QueryPolice, Result: domain.QueryPending})
	})
	if c.minor {
		s.at(t.Add(6*h), c, func(s *sim) error {
			return s.caseEvent(c, t.Add(6*h), domain.GuardianshipTaken{Basis: "art. 92"})
		})
	}
	identified := p.IDNumber != "" || s.rnd.IntN(2) == 0
	s.at(t.Add(12*h), c, func(s *sim) error {
		return s.caseEvent(c, t.Add(12*h), domain.FamilySearchNoticePublished{Channel: "national_platform"})
	})
	stay := time.Duration(2+s.rnd.IntN(9)) * 24 * h
	if identified {
		s.at(t.Add(20*h), c, func(s *sim) error {
			if err := s.caseEvent(c, t.Add(20*h), domain.IdentityVerified{Method: "police"}); err != nil {
				return err
			}
			return s.caseEvent(c, t.Add(22*h), domain.RelativesContacted{Channel: "phone", Outcome: "reached"})
		})
	} else {
		s.at(t.Add(5*24*h), c, func(s *sim) error {
			return s.caseEvent(c, t.Add(5*24*h), domain.DNARequested{Lab: "police lab"})
		})
		s.at(t.Add(20*24*h), c, func(s *sim) error {
			return s.caseEvent(c, t.Add(20*24*h), domain.DNAResultReceived{Matched: false})
		})
		stay = time.Duration(11+s.rnd.IntN(120)) * 24 * h
		s.at(t.Add(9*24*h), c, func(s *sim) error {
			return s.caseEvent(
				c, t.Add(9*24*h), domain.StayExtended{Until: t.Add(stay + 24*h), ApprovedBy: "head", Reason: "unidentified"},
			)
		})
		if stay > 11*24*h {
			s.at(t.Add(11*24*h), c, func(s *sim) error {
				return s.caseEvent(c, t.Add(11*24*h), domain.LongStayStarted{Kind: domain.LongStayInStation})
			})
		}
		if stay > 91*24*h {
			s.at(t.Add(89*24*h), c, func(s *sim) error {
				return s.caseEvent(c, t.Add(89*24*h), domain.SettlementRecorded{Stage: domain.SettlementApplied})
			})
		}
	}
	if in.SuspectedInfectious || in.SuspectedMentalDisorder || s.rnd.IntN(12) == 0 {
		s.at(t.Add(3*h), c, func(s *sim) error {
			if err := s.caseEvent(c, t.Add(3*h), domain.MedicalReferred{Hospital: "designated"}); err != nil {
				return err
			}
			if err := s.caseEvent(c, t.Add(4*h), domain.HospitalAdmitted{Hospital: "designated"}); err != nil {
				return err
			}
			return s.freeBed(c, t.Add(4*h), domain.ReleaseHospital)
		})
		s.at(t.Add(30*h), c, func(s *sim) error {
			if err := s.caseEvent(c, t.Add(30*h), domain.HospitalDischarged{}); err != nil {
				return err
			}
			if err := s.caseEvent(c, t.Add(33*h), domain.MedicalReturned{}); err != nil {
				return err
			}
			return s.takeBed(c, t.Add(33*h))
		})
	}
	end := t.Add(stay)
	if len(s.beds) > 1 && stay >= 4*24*h && s.rnd.IntN(12) == 0 {
		// A transfer to another station of this writer, before the end.
		var to string
		for st := range s.beds {
			if st != c.station {
				to = st
				break
			}
		}
		tt := t.Add(stay / 2)
		s.at(tt, c, func(s *sim) error {
			from := c.station
			evs := []domain.Event{
				domain.TransferRequested{From: from, To: to, Reason: "hometown"},
				domain.TransferAccepted{From: from, To: to},
				domain.EscortDeparted{From: from, To: to, Escorts: []string{"e1", "e2"}},
				domain.HandedOver{From: from, To: to, ReceivedBy: "staff"},
			}
			for i, ev := range evs {
				if err := s.caseEvent(c, tt.Add(time.Duration(i*3)*h), ev); err != nil {
					return err
				}
			}
			if err := s.freeBed(c, tt.Add(9*h), domain.ReleaseHandover); err != nil {
				return err
			}
			c.station = to
			return s.takeBed(c, tt.Add(10*h))
		})
	}
	s.at(end, c, func(s *sim) error { return s.exit(c, end, identified) })
	return nil
}

func (s *sim) exit(c *simCase, t time.Time, identified bool) error {
	var ev domain.Event
	switch n := s.rnd.IntN(100); {
	case n < 2:
		ev = domain.Absconded{LastSeen: "gate"}
	case n < 3:
		ev = domain.Died{
			Place: "hospital", DeathChecklist: domain.DeathChecklist{CertifiedBy: "hospital", PoliceNotified: ptr(true)},
		}
	case c.minor || n < 30:
		ev = domain.PickedUp{Collector: domain.Collector{Name: "relative", IDNumber: "x", Relationship: "parent"}}
	case n < 55:
		ev = domain.EscortedReturn{Destination: c.person.HukouPlace}
	case !identified && n < 60:
		ev = domain.SettlementRecorded{Stage: domain.SettlementSettled}
	default:
		ev = domain.LeftVoluntarily{DeclarationRef: "D", CashYuan: 20, ReceiptRef: "R"}
	}
	if err := s.caseEvent(c, t, ev); err != nil {
		return err
	}
	if err := s.freeBed(c, t, domain.ReleaseExit); err != nil {
		return err
	}
	if _, died := ev.(domain.Died); died {
		s.at(t.Add(48*time.Hour), c, func(s *sim) error {
			return s.caseEvent(c, t.Add(48*time.Hour), domain.DeathChecklistUpdated{DeathChecklist: domain.DeathChecklist{
				RelativesNotified: ptr(true), PublicNotice: "notice", BodyDisposition: "cremation"}})
		})
	}
	s.at(t.Add(time.Hour), c, func(s *sim) error {
		if s.rnd.IntN(10) > 0 {
			if err := s.caseEvent(c, t.Add(time.Hour), domain.BelongingsReturned{Items: []string{"bag"}}); err != nil {
				return err
			}
		}
		return s.caseEvent(c, t.Add(2*time.Hour), domain.CaseClosed{})
	})
	return nil
}

func ptr[T any](v T) *T { return &v }
